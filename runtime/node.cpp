#include "runtime/node.hpp"

#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/register.hpp"
#include "actors/api/stock_api.hpp"
#include "actors/catalog/demo_catalog.hpp"
#include "actors/catalog/sqlite_catalog.hpp"
#include "actors/common/store_sink.hpp"
#include "actors/directory/node_entities.hpp"
#include "base/log.hpp"
#include "base/time.hpp"
#include "http/auth.hpp"
#include "http/router.hpp"
#include "http/routes/catalog_routes.hpp"
#include "http/routes/health.hpp"
#include "http/routes/seller_routes.hpp"
#include "http/server.hpp"
#include "persistence/migrations.hpp"
#include "persistence/store.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

namespace souk::runtime {

namespace {
/// The demo catalog's seed: the same products on every node and every fresh start.
constexpr std::uint64_t demo_seed = 20261122;

/// The SKU actors publish stock levels into the catalog's availability view (and its table).
class catalog_stock_listener : public actors::stock_listener {
public:
  explicit catalog_stock_listener(actors::catalog::sqlite_catalog& catalog) : catalog_(catalog) {}
  void stock_changed(const std::string& sku, const std::string& warehouse_id, std::int64_t on_hand,
                     std::int64_t reserved) override {
    catalog_.record_stock(sku, warehouse_id, on_hand, reserved);
  }

private:
  actors::catalog::sqlite_catalog& catalog_;
};

/// The entity context of this node from its settings and catalog.
actors::entity_context entity_context_of(const config::settings& s,
                                         actors::catalog::sqlite_catalog& catalog,
                                         std::shared_ptr<actors::snapshot_sink> sink) {
  actors::entity_context ctx;
  ctx.store = std::move(sink);
  ctx.availability = std::make_shared<catalog_stock_listener>(catalog);
  ctx.now_ms = [] { return base::unix_millis(std::chrono::system_clock::now()); };
  ctx.idle_timeout = s.entities.idle_timeout;
  ctx.stock_tombstone_ttl = s.entities.tombstone_ttl;
  ctx.saga.hold_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.orders.hold).count();
  ctx.saga.step_timeout_ms = s.orders.step_timeout.count();
  ctx.saga.max_attempts = s.orders.max_attempts;
  ctx.saga.backoff_max_ms = s.orders.backoff_max.count();
  ctx.saga.max_timeline = s.orders.max_timeline;
  ctx.wms_step = s.warehouse.step;
  ctx.cart.max_qty_per_line = s.cart.max_qty_per_line;
  ctx.cart.max_lines = static_cast<std::size_t>(s.cart.max_lines);
  ctx.cart_ttl = s.cart.ttl;
  ctx.cart_write_behind = s.cart.write_behind;
  for (auto& w : catalog.warehouses())
    ctx.warehouses.push_back({w.id, w.region});
  ctx.delivery_days = actors::catalog::demo_delivery_days;
  ctx.initial_stock_of = [&catalog](const std::string& sku) {
    std::vector<actors::initial_stock> out;
    for (auto& [wh, n] : catalog.on_hand_of(sku))
      out.push_back({wh, n});
    return out;
  };
  return ctx;
}

actors::bank_faults bank_faults_of(const config::bank_settings& b) {
  actors::bank_faults f;
  f.decline_rate = b.decline_percent / 100.0;
  f.refuse_rate = b.refuse_percent / 100.0;
  f.no_answer_rate = b.no_answer_percent / 100.0;
  f.lost_reply_rate = b.lost_reply_percent / 100.0;
  f.delay = b.delay;
  f.duplicate_callbacks = b.duplicate_callbacks;
  f.callback_delay = b.callback_delay;
  f.auto_approve = b.auto_approve;
  f.seed = b.seed;
  return f;
}
} // namespace

struct node::parts {
  std::unique_ptr<persistence::store> store;
  std::unique_ptr<actors::catalog::sqlite_catalog> catalog;
  caf::actor_system_config actor_config;
  std::unique_ptr<caf::actor_system> actors;
  std::shared_ptr<actors::store_sink> sink;
  actors::node_entities entities;
  std::uint16_t cluster_port = 0;
  http::router routes;
  std::unique_ptr<http::server> edge;
};

node::node(config::settings settings) : settings_(std::move(settings)) {}

node::~node() {
  stop();
}

std::uint16_t node::http_port() const {
  return parts_ && parts_->edge ? parts_->edge->port() : 0;
}

std::uint16_t node::cluster_port() const {
  return parts_ ? parts_->cluster_port : 0;
}

std::string node::start() {
  if (parts_)
    return "node already started";
  parts_ = std::make_unique<parts>();
  auto& p = *parts_;
  auto fail = [this](std::string why) {
    stop();
    return why;
  };

  // 1. The store: the data folder, its lock, the schema.
  auto opened = persistence::store::open(settings_.node.data_dir, settings_.store);
  if (!opened)
    return fail(opened.error().message);
  p.store = std::move(*opened);
  auto owner = p.store->meta("node");
  if (!owner)
    return fail(owner.error().message);
  if (*owner && **owner != settings_.node.name)
    return fail("data folder " + settings_.node.data_dir + " belongs to node " + **owner +
                ", not " + settings_.node.name + "; use another --data or --node " + **owner);
  if (!*owner) {
    if (auto st = p.store->set_meta("node", settings_.node.name); !st.ok())
      return fail(st.message);
  }

  // The token secret: the cluster's from the settings, or this node's own, kept in its store.
  auto secret = settings_.auth.token_secret;
  if (secret.empty()) {
    auto kept = p.store->meta("token_secret");
    if (!kept)
      return fail(kept.error().message);
    secret = kept->value_or("");
    if (secret.empty()) {
      try {
        secret = http::random_secret(32);
      } catch (const std::exception& e) {
        return fail(std::string{"cannot generate the token secret: "} + e.what());
      }
      if (auto st = p.store->set_meta("token_secret", secret); !st.ok())
        return fail(st.message);
    }
  }

  // 2. The catalog read model, with the demo catalog on a new data folder.
  auto catalog =
      actors::catalog::sqlite_catalog::open(*p.store, settings_.store, settings_.catalog);
  if (!catalog)
    return fail("catalog: " + catalog.error().message);
  p.catalog = std::move(*catalog);
  if (p.catalog->product_count() == 0) {
    auto count = settings_.catalog.demo_products.value_or(p.store->created() ? 2000 : 0);
    if (count > 0) {
      auto started = std::chrono::steady_clock::now();
      if (auto st = p.catalog->load_demo(count, demo_seed); !st.ok())
        return fail("demo catalog: " + st.message);
      auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      base::log_info("demo catalog generated", {{"products", count}, {"seconds", secs}});
    }
  }

  // 3. The actor system, with the middleman listening for other nodes.
  p.actor_config.set("scheduler.max-threads", static_cast<std::size_t>(settings_.actors.threads));
  p.actor_config.set("logger.console-verbosity", caf::atom("quiet"));
  p.actor_config.set("logger.file-verbosity", caf::atom("quiet"));
  p.actor_config.load<caf::io::middleman>();
  actors::register_types(p.actor_config);
  p.actors = std::make_unique<caf::actor_system>(p.actor_config);
  auto& cl = settings_.cluster.listen;
  auto port = p.actors->middleman().open(cl.port, cl.host.c_str(), true);
  if (!port)
    return fail("cluster.listen " + cl.to_string() +
                ": cannot listen: " + p.actors->render(port.error()));
  p.cluster_port = *port;

  // 4. The entities: directory, bank, kinds; unfinished sagas resume from their snapshots.
  p.sink = std::make_shared<actors::store_sink>(*p.store);
  p.entities = actors::start_node_entities(
      *p.actors, entity_context_of(settings_, *p.catalog, p.sink), bank_faults_of(settings_.bank));
  auto resumed = actors::resume_unfinished_sagas(p.entities);
  if (resumed > 0)
    base::log_info("resuming unfinished orders", {{"orders", resumed}});
  // Stock set by sellers and ops goes to its SKU actor, the owner of the numbers.
  p.catalog->set_stock_owner([this](const std::string& sku, const std::string& warehouse_id,
                                    std::int64_t on_hand) -> actors::catalog_error {
    auto& q = *parts_;
    caf::scoped_actor self{*q.actors};
    actors::catalog_error out{"unavailable", "", "the stock of " + sku + " did not answer"};
    self->request(q.entities.directory, std::chrono::seconds(5), actors::route_atom::value,
                  actors::entity_ref{"sku", sku},
                  caf::make_message(actors::set_stock_atom::value, warehouse_id, on_hand))
        .receive(
            [&](const std::string& code) {
              if (code.empty())
                out = {};
              else if (code == "below_reserved")
                out = {code, "/on_hand", "on_hand cannot be lower than the units reserved"};
              else
                out = {"validation_failed", "/on_hand", "refused: " + code};
            },
            [&](caf::error& e) { out.detail += ": " + q.actors->render(e); });
    return out;
  });

  // 5. The HTTP edge, last.
  http::add_health_routes(p.routes, settings_.node.name, [this]() -> http::readiness {
    if (!ready_)
      return {false, "starting or draining"};
    return {true, {}};
  });
  http::add_catalog_routes(p.routes, *p.catalog);
  http::add_seller_routes(p.routes, *p.catalog, secret);
  p.edge = std::make_unique<http::server>(settings_.http, p.routes);
  if (auto err = p.edge->start(); !err.empty())
    return fail(err);

  ready_ = true;
  // Until accounts exist (POST /v1/sessions), ops reach the seller and admin routes with a
  // token printed here, as the admin password will be.
  auto now = std::chrono::system_clock::now();
  http::principal ops{"ops", "admin",
                      std::chrono::duration_cast<std::chrono::seconds>(
                          (now + settings_.auth.token_ttl).time_since_epoch())
                          .count()};
  base::log_warn("bootstrap admin token",
                 {{"token", http::sign_token(ops, secret)},
                  {"expires_at", base::format_rfc3339(now + settings_.auth.token_ttl)}});
  base::log_info(
      "node ready",
      {{"http", config::endpoint{settings_.http.listen.host, p.edge->port()}.to_string()},
       {"cluster", config::endpoint{cl.host, p.cluster_port}.to_string()},
       {"data", settings_.node.data_dir},
       {"store", p.store->path()},
       {"schema_version", persistence::latest_schema_version()},
       {"new_store", p.store->created()}});
  return {};
}

void node::stop() {
  if (!parts_)
    return;
  auto& p = *parts_;
  bool was_ready = ready_.exchange(false);
  if (was_ready)
    base::log_info("node stopping");
  // Reverse order of start: the edge first, so nothing new arrives while the rest stops.
  if (p.edge) {
    auto left = p.edge->stop(settings_.http.drain_timeout);
    if (left > 0)
      base::log_warn("drain timed out", {{"requests_in_flight", left}});
  }
  if (p.catalog)
    p.catalog->set_stock_owner({});
  if (p.actors && p.entities.directory) {
    // Entities are linked to the directory: they stop with it. Snapshot writes still queued
    // complete, but call nobody back once the sink is detached.
    caf::anon_send_exit(p.entities.directory, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(p.entities.bank, caf::exit_reason::user_shutdown);
    p.entities = {};
  }
  if (p.sink) {
    p.store->writer().flush();
    p.sink->detach();
  }
  if (p.actors) {
    // No explicit middleman().close(cluster_port): closing right after the port was opened (a
    // failed or short-lived start) races with the BASP broker adopting it, and CAF 0.17.6 then
    // leaks the doorman (LeakSanitizer). The system's shutdown closes the port with the broker.
    p.actors.reset(); // waits for every actor to finish, then closes the cluster port
  }
  p.edge.reset();
  p.catalog.reset(); // before the store: it writes through the store's writer
  if (p.store) {
    p.store->close(); // writes everything queued before it returns
    p.store.reset();
  }
  parts_.reset();
  if (was_ready)
    base::log_info("node stopped");
}

} // namespace souk::runtime
