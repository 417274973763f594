#pragma once

#include "actors/common/entity_context.hpp"

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Spawns the saga actor of order `order_id` (kind "order", contract actors/api/order_api.hpp):
/// an `order_state_machine` activated from its snapshot, whose commands it sends to the SKU,
/// payment and warehouse entities through the directory and whose answers, timers and buyer
/// requests it feeds back. Every event's state is durable before anyone hears of it. A saga
/// that is not finished resumes where its snapshot left it (re-sending its step's outstanding
/// commands: participants deduplicate by idempotency key).
caf::actor spawn_order_actor(caf::actor_system& sys, const std::string& order_id,
                             std::shared_ptr<const entity_context> ctx);

} // namespace souk::actors
