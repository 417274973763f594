#pragma once

#include "actors/common/entity_context.hpp"
#include "actors/payment/bank_sim.hpp"

#include <cstddef>
#include <memory>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// The entity side of one node: its directory with every entity kind registered (cart, sku,
/// order, payment, warehouse, user, idem), the simulated bank, and the context they share.
struct node_entities {
  caf::actor directory;
  caf::actor bank;
  std::shared_ptr<const entity_context> ctx;
};

/// Spawns the directory and the bank and registers the entity kinds. `ctx` is everything but
/// the two handles, which this fills in. Used by the runtime, the tests and the benchmarks, so
/// all of them run the same wiring.
node_entities start_node_entities(caf::actor_system& sys, entity_context ctx, bank_faults bank);

/// The same with a payment provider of the caller's (e.g. spawn_bank_http_client): `bank` must
/// speak the provider calls of actors/api/payment_api.hpp. It is stopped with the node.
node_entities start_node_entities(caf::actor_system& sys, entity_context ctx, caf::actor bank);

/// After a restart: wakes every order whose saga is not finished (its snapshot says so), so it
/// resumes from its last durable step (deadlines and holds that passed meanwhile fire at once),
/// and every warehouse, so open pick lists move on their timers again. Returns how many orders
/// were woken.
std::size_t resume_unfinished_sagas(const node_entities& node);

} // namespace souk::actors
