#pragma once

#include <string>
#include <tuple>

#include <caf/meta/type_name.hpp>

namespace souk::actors {

/// The address of an entity: its kind ("cart", "sku", "order", "payment", "warehouse", "user")
/// and its key within the kind. Actor code names other entities only this way, through the
/// directory, never by node or by handle, so an entity can move between nodes.
struct entity_ref {
  std::string kind;
  std::string key;

  friend bool operator==(const entity_ref& a, const entity_ref& b) {
    return a.kind == b.kind && a.key == b.key;
  }
  friend bool operator<(const entity_ref& a, const entity_ref& b) {
    return std::tie(a.kind, a.key) < std::tie(b.kind, b.key);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, entity_ref& x) {
  return f(caf::meta::type_name("entity_ref"), x.kind, x.key);
}

/// `kind/key`, as logs and the admin API show it.
inline std::string to_string(const entity_ref& x) {
  return x.kind + "/" + x.key;
}

} // namespace souk::actors
