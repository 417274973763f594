#pragma once

#include "actors/common/entity_context.hpp"

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Spawns the payment actor of order `order_id` (kind "payment", contract
/// actors/api/payment_api.hpp): it calls the provider (`ctx.bank`) with the saga's idempotency
/// keys, records the payment durably, deduplicates the bank's callbacks by event id, and tells
/// the order saga of every status change.
caf::actor spawn_payment_actor(caf::actor_system& sys, const std::string& order_id,
                               std::shared_ptr<const entity_context> ctx);

} // namespace souk::actors
