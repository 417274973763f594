#pragma once

#include <caf/fwd.hpp>

namespace souk::actors {

/// Registers every souk message type and the souk error category with `cfg`. The runtime,
/// tests and examples all call this one function before building an actor system.
void register_types(caf::actor_system_config& cfg);

} // namespace souk::actors
