#include "actors/directory/node_entities.hpp"

#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/order_api.hpp"
#include "actors/api/warehouse_api.hpp"
#include "actors/cart/cart_actor.hpp"
#include "actors/directory/local_directory.hpp"
#include "actors/idempotency/idem_actor.hpp"
#include "actors/order/order_actor.hpp"
#include "actors/payment/payment_actor.hpp"
#include "actors/stock/stock_actor.hpp"
#include "actors/user/user_actor.hpp"
#include "actors/warehouse/warehouse_actor.hpp"

#include <functional>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

namespace souk::actors {

/// The wiring of both overloads below: `make_bank` gets the directory (the simulated bank sends
/// its callbacks through it).
static node_entities start_with(caf::actor_system& sys, entity_context ctx,
                                const std::function<caf::actor(const caf::actor&)>& make_bank) {
  auto factories = std::make_shared<entity_factories>();
  node_entities out;
  out.directory = spawn_local_directory(sys, factories, ctx.stop_timeout);
  out.bank = make_bank(out.directory);
  ctx.directory = out.directory;
  ctx.bank = out.bank;
  auto shared = std::make_shared<const entity_context>(std::move(ctx));
  out.ctx = shared;
  // Filled before any message is routed: the directory reads the map only when it routes.
  (*factories)["cart"] = [shared](caf::actor_system& s, const std::string& key) {
    return spawn_cart_actor(s, key, shared);
  };
  (*factories)["sku"] = [shared](caf::actor_system& s, const std::string& key) {
    return spawn_stock_actor(s, key, shared);
  };
  (*factories)["order"] = [shared](caf::actor_system& s, const std::string& key) {
    return spawn_order_actor(s, key, shared);
  };
  (*factories)["payment"] = [shared](caf::actor_system& s, const std::string& key) {
    return spawn_payment_actor(s, key, shared);
  };
  (*factories)["warehouse"] = [shared](caf::actor_system& s, const std::string& key) {
    return spawn_warehouse_actor(s, key, shared);
  };
  (*factories)["user"] = [shared](caf::actor_system& s, const std::string& key) {
    return spawn_user_actor(s, key, shared);
  };
  (*factories)["idem"] = [shared](caf::actor_system& s, const std::string& key) {
    return spawn_idem_actor(s, key, shared);
  };
  return out;
}

node_entities start_node_entities(caf::actor_system& sys, entity_context ctx, bank_faults bank) {
  return start_with(sys, std::move(ctx), [&sys, bank](const caf::actor& directory) {
    return spawn_bank_sim(sys, directory, bank);
  });
}

node_entities start_node_entities(caf::actor_system& sys, entity_context ctx, caf::actor bank) {
  return start_with(sys, std::move(ctx), [&bank](const caf::actor&) { return bank; });
}

std::size_t resume_unfinished_sagas(const node_entities& node) {
  // The snapshot's phase is a plain JSON string; a finished saga's is "done".
  auto all = node.ctx->store->keys_with("order", "\"phase\":");
  auto finished = node.ctx->store->keys_with("order", "\"phase\":\"done\"");
  std::size_t woken = 0;
  std::size_t j = 0;
  for (auto& key : all) { // both lists are in key order
    while (j < finished.size() && finished[j] < key)
      ++j;
    if (j < finished.size() && finished[j] == key)
      continue;
    caf::anon_send(node.directory, route_atom::value, entity_ref{"order", key},
                   caf::make_message(order_view_atom::value));
    ++woken;
  }
  for (auto& w : node.ctx->warehouses)
    caf::anon_send(node.directory, route_atom::value, entity_ref{"warehouse", w.id},
                   caf::make_message(warehouse_view_atom::value));
  return woken;
}

} // namespace souk::actors
