#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Spawns the actor of one entity of a kind, given its key; an invalid handle when it cannot.
using entity_factory = std::function<caf::actor(caf::actor_system&, const std::string& key)>;

/// Factories by kind ("sku", "order", ...). Filled by the runtime (or a test) after the
/// directory is spawned and before the first message is routed: entity contexts need the
/// directory's handle, and the directory needs their factories.
using entity_factories = std::map<std::string, entity_factory>;

/// Spawns the single-node directory (the protocol is in actors/api/directory.hpp): it keeps
/// one actor per active entity, activates entities on their first message, routes with
/// `delegate` so the entity answers the original sender, drops entities that stop or crash
/// (it monitors them), and grants passivation only when nothing was routed since the entity's
/// count. Told to exit, it stops activating, tells every entity to exit (each writes what is
/// still unwritten first) and exits itself once all have stopped, killing those still running
/// after `stop_timeout`: whoever waits for the directory to go down knows the entities' last
/// writes are submitted.
caf::actor spawn_local_directory(caf::actor_system& sys,
                                 std::shared_ptr<const entity_factories> factories,
                                 std::chrono::milliseconds stop_timeout = std::chrono::seconds(30));

} // namespace souk::actors
