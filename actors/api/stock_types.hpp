#pragma once

#include <cstdint>
#include <string>

namespace souk::actors {

/// The part of a reservation taken from one warehouse. Plain data shared by the stock rules,
/// the order saga and their messages (stock_api.hpp has its `inspect`).
struct allocation {
  std::string warehouse_id;
  std::int64_t qty = 0;

  friend bool operator==(const allocation& a, const allocation& b) {
    return a.warehouse_id == b.warehouse_id && a.qty == b.qty;
  }
};

} // namespace souk::actors
