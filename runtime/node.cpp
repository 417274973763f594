#include "runtime/node.hpp"

#include "actors/api/register.hpp"
#include "actors/catalog/sqlite_catalog.hpp"
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

namespace souk::runtime {

namespace {
/// The demo catalog's seed: the same products on every node and every fresh start.
constexpr std::uint64_t demo_seed = 20261122;
} // namespace

struct node::parts {
  std::unique_ptr<persistence::store> store;
  std::unique_ptr<actors::catalog::sqlite_catalog> catalog;
  caf::actor_system_config actor_config;
  std::unique_ptr<caf::actor_system> actors;
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

  // 4. The HTTP edge, last.
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
