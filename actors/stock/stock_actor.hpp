#pragma once

#include "actors/common/entity_context.hpp"
#include "actors/stock/stock_ledger.hpp"
#include "persistence/snapshot.hpp"

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Spawns the stock actor of SKU `sku` (kind "sku", contract actors/api/stock_api.hpp): a
/// `stock_ledger` activated from its snapshot (or the catalog's initial stock), answering only
/// after the change it reports is durable, expiring unpaid holds on its own timer (a safety net
/// behind the saga's), and publishing availability to `ctx.availability` after each change.
/// The ledger a SKU snapshot holds: a head (warehouses and counters) with one part per
/// reservation, or, as written before snapshot parts existed, one document embedding them all
/// (every reservation then counts as changed, so the next write splits it up). Throws
/// nlohmann::json::exception on a malformed snapshot.
stock_ledger decode_stock_snapshot(const persistence::snapshot& snap);

caf::actor spawn_stock_actor(caf::actor_system& sys, const std::string& sku,
                             std::shared_ptr<const entity_context> ctx);

} // namespace souk::actors
