#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace souk::persistence {

/// One named part of an entity's stored state, kept in a row of its own so that an entity with
/// many sub-records (a hot SKU's reservations) writes only what changed instead of re-encoding
/// everything. In a write it is a change (an upsert, or `erase`); in a read, a stored part.
struct snapshot_part {
  std::string name;   ///< unique within the entity, e.g. a reservation id
  std::string state;  ///< encoded part (bytes); empty when `erase`
  bool erase = false; ///< in a write: delete the stored part with this name
};

/// The stored state of one entity (kind, key). The store knows nothing of what `state` means:
/// actors/ owns its encoding and its schema number.
struct snapshot {
  std::string kind;            ///< "cart", "sku", "order", ...
  std::string key;             ///< the entity key within its kind
  std::int64_t version = 0;    ///< the entity's own version, increasing with every change
  std::int64_t epoch = 0;      ///< membership epoch of the owner that wrote it (fencing)
  std::string state;           ///< encoded state (bytes): the head when the entity has parts
  std::int64_t updated_at = 0; ///< Unix milliseconds of the write
  /// Written: the parts that changed since the last write, applied atomically with the head and
  /// fenced by its epoch. Read (`store::load_snapshot`): every stored part, ordered by name.
  std::vector<snapshot_part> parts = {};
};

} // namespace souk::persistence
