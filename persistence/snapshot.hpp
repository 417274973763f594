#pragma once

#include <cstdint>
#include <string>

namespace souk::persistence {

/// The stored state of one entity (kind, key). The store knows nothing of what `state` means:
/// actors/ owns its encoding and its schema number.
struct snapshot {
  std::string kind;            ///< "cart", "sku", "order", ...
  std::string key;             ///< the entity key within its kind
  std::int64_t version = 0;    ///< the entity's own version, increasing with every change
  std::int64_t epoch = 0;      ///< membership epoch of the owner that wrote it (fencing)
  std::string state;           ///< encoded state (bytes)
  std::int64_t updated_at = 0; ///< Unix milliseconds of the write
};

} // namespace souk::persistence
