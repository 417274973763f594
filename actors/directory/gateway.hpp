#pragma once

#include "actors/api/gateway.hpp"

#include <chrono>
#include <cstddef>
#include <memory>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// How the gateway spreads its calls (config: `[actors] gateway_*`).
struct gateway_limits {
  /// Long-lived worker actors; calls are dealt to them in turn.
  std::size_t actors = 4;
  /// Calls one worker has open at most (CAF-NOTES.md: many open requests in one actor are
  /// quadratic); more wait in its queue, their deadline running.
  std::size_t window = 128;
  /// How often a worker with open calls checks their deadlines: a call ends in `timeout` at
  /// most this long after its deadline.
  std::chrono::milliseconds tick{10};
};

/// The gateway of a node: a few long-lived worker actors send each call to the entity through
/// `directory` and wait for its answer up to the call's deadline. No worker holds more than
/// `window` open requests, and the deadlines are the workers' own (one timer tick per worker,
/// not one CAF timeout per call). A call whose answer never comes holds its slot until the
/// worker, once half its window is held so, hands its queue to a fresh worker and stops.
/// When the directory stops, calls end `unavailable`. Callbacks run on CAF's worker threads,
/// never inside the call.
std::shared_ptr<entity_gateway> make_gateway(caf::actor_system& sys, caf::actor directory,
                                             gateway_limits limits = {});

} // namespace souk::actors
