#pragma once

#include "actors/common/entity_context.hpp"

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Spawns the idempotency record `key` (kind "idem", contract actors/api/idempotency_api.hpp).
/// A record older than `ctx.idempotency_ttl` counts as absent; a request still marked running
/// after `ctx.idempotency_lease` (its node died, or it was never finished) may be taken over by
/// a retry with the same fingerprint.
caf::actor spawn_idem_actor(caf::actor_system& sys, const std::string& key,
                            std::shared_ptr<const entity_context> ctx);

} // namespace souk::actors
