#pragma once

#include "actors/common/entity_context.hpp"

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Spawns the actor of warehouse `warehouse_id` (kind "warehouse", contract
/// actors/api/warehouse_api.hpp). Pick lists move picking → packed → shipped → delivered, one
/// stage per `ctx.wms_step` (or per `advance`), each move durable before the order hears of it.
/// A cancel before shipment takes a list back; a cancel that arrives before its list leaves a
/// tombstone so the late list is refused.
caf::actor spawn_warehouse_actor(caf::actor_system& sys, const std::string& warehouse_id,
                                 std::shared_ptr<const entity_context> ctx);

} // namespace souk::actors
