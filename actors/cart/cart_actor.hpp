#pragma once

#include "actors/common/entity_context.hpp"

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Spawns the cart of user (or guest) `key` (kind "cart", contract actors/api/cart_api.hpp).
/// Write-behind: answers go out at once and the snapshot is written within
/// `ctx.cart_write_behind` of a change; a checkout's freeze is durable before the order hears of
/// it, so a crash never leaves an order whose cart forgot it was taken. A cart frozen by a
/// checkout that has not been answered asks the order again when it is activated. An idle cart
/// older than `ctx.cart_ttl` is emptied on activation and on the idle check.
caf::actor spawn_cart_actor(caf::actor_system& sys, const std::string& key,
                            std::shared_ptr<const entity_context> ctx);

} // namespace souk::actors
