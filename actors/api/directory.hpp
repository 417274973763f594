#pragma once

#include "actors/api/entity.hpp"

#include <caf/atom.hpp>

namespace souk::actors {

// The directory: how any code reaches an entity by (kind, key), never by node or handle.
//
//   self->request(directory, timeout, route_atom_v, entity_ref{"sku", "s-1"}, make_message(...))
//
// delivers the inner message to the entity's actor, activating it from its latest snapshot when
// it is not running, and the entity answers the original sender directly. A plain `send` works
// the same way for one-way messages. The single-node directory (actors/directory/) routes to
// local actors; the cluster's directory (cluster/) will route to the owner node's directory.
// Errors: `errc::unknown_entity` for a kind the node does not know.

/// `(route_atom, entity_ref, caf::message)` → whatever the entity answers.
using route_atom = caf::atom_constant<caf::atom("route")>;
constexpr route_atom route_atom_v = route_atom{};

/// Entity → directory: `(passivate_atom, entity_ref, std::uint64_t routed)` asks to stop an
/// idle entity that has seen `routed` routed messages; the directory answers `true` (stop now:
/// nothing else was routed to it) or `false` (more arrived: stay).
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
constexpr passivate_atom passivate_atom_v = passivate_atom{};

/// `(stats_atom)` → `std::string`: JSON `{"active": {kind: count}, "routed": n,
/// "activations": n, "passivations": n}`.
using stats_atom = caf::atom_constant<caf::atom("stats")>;
constexpr stats_atom stats_atom_v = stats_atom{};

} // namespace souk::actors
