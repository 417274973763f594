#pragma once

#include "actors/api/gateway.hpp"

#include <memory>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// The gateway of a node: every call spawns one short-lived actor that sends the message to
/// the entity through `directory` and waits for its answer up to the call's deadline, so no
/// actor ever holds many open requests (CAF-NOTES.md) and a slow entity delays only its own
/// callers. Callbacks run on CAF's worker threads.
std::shared_ptr<entity_gateway> make_gateway(caf::actor_system& sys, caf::actor directory);

} // namespace souk::actors
