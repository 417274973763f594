#include "runtime/node.hpp"

#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/errors.hpp"
#include "actors/api/payment_api.hpp"
#include "actors/api/register.hpp"
#include "actors/api/stock_api.hpp"
#include "actors/catalog/demo_catalog.hpp"
#include "actors/catalog/sqlite_catalog.hpp"
#include "actors/common/store_sink.hpp"
#include "actors/common/timer_wheel.hpp"
#include "actors/directory/gateway.hpp"
#include "actors/directory/node_entities.hpp"
#include "actors/payment/bank_http_client.hpp"
#include "bank/ledger.hpp"
#include "bank/routes.hpp"
#include "bank/service.hpp"
#include "base/log.hpp"
#include "base/thread.hpp"
#include "base/time.hpp"
#include "http/auth.hpp"
#include "http/password.hpp"
#include "http/router.hpp"
#include "http/routes/catalog_routes.hpp"
#include "http/routes/client_routes.hpp"
#include "http/routes/client_support.hpp"
#include "http/routes/health.hpp"
#include "http/routes/payment_routes.hpp"
#include "http/routes/seller_routes.hpp"
#include "http/server.hpp"
#include "persistence/migrations.hpp"
#include "persistence/store.hpp"

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
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
  bool stock_changed(const std::string& sku, const std::string& warehouse_id, std::int64_t on_hand,
                     std::int64_t reserved) override {
    return catalog_.record_stock(sku, warehouse_id, on_hand, reserved);
  }

private:
  actors::catalog::sqlite_catalog& catalog_;
};

/// The entity context of this node from its settings and catalog.
actors::entity_context entity_context_of(const config::settings& s,
                                         actors::catalog::sqlite_catalog& catalog,
                                         std::shared_ptr<actors::snapshot_sink> sink,
                                         std::shared_ptr<actors::order_event_listener> events) {
  actors::entity_context ctx;
  ctx.store = std::move(sink);
  ctx.availability = std::make_shared<catalog_stock_listener>(catalog);
  ctx.order_events = std::move(events);
  ctx.now_ms = [] { return base::unix_millis(std::chrono::system_clock::now()); };
  ctx.idle_timeout = s.entities.idle_timeout;
  ctx.stop_timeout = s.entities.stop_timeout;
  ctx.stock_tombstone_ttl = s.entities.tombstone_ttl;
  ctx.saga.hold_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.orders.hold).count();
  ctx.saga.step_timeout_ms = s.orders.step_timeout.count();
  ctx.saga.max_attempts = s.orders.max_attempts;
  ctx.saga.backoff_max_ms = s.orders.backoff_max.count();
  ctx.saga.max_timeline = s.orders.max_timeline;
  ctx.saga.retry_horizon_ms = s.orders.retry_horizon.count();
  ctx.wms_step = s.warehouse.step;
  ctx.cart.max_qty_per_line = s.cart.max_qty_per_line;
  ctx.cart.max_lines = static_cast<std::size_t>(s.cart.max_lines);
  ctx.cart_ttl = s.cart.ttl;
  ctx.cart_write_behind = s.cart.write_behind;
  ctx.wishlist_max = static_cast<std::size_t>(s.cart.wishlist_max);
  ctx.idempotency_ttl = s.entities.idempotency_ttl;
  ctx.idempotency_lease = s.entities.idempotency_lease;
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

/// Creates the admin account of API.md "Running a node" at first start: the configured (or
/// `SOUK_ADMIN_*`) e-mail and password, or a generated password logged once. An existing
/// account is left as it is. Blocks until the user entity answered.
std::string ensure_admin_account(const http::client_env& env, const config::admin_settings& a) {
  auto email = http::normalize_email(a.email);
  auto id = http::user_id_of_email(email);
  auto password = a.password;
  bool generated = password.empty();
  if (generated) {
    try {
      password = http::random_secret(12);
    } catch (const std::exception& e) {
      return std::string{"admin account: "} + e.what();
    }
  }
  actors::user_profile profile;
  profile.id = id;
  profile.email = email;
  profile.name = "Administrator";
  profile.region = "";
  profile.role = "admin";
  profile.password_hash = http::hash_password(password, env.passwords->iterations());
  std::promise<std::pair<actors::call_status, actors::user_answer>> answered;
  auto result = answered.get_future();
  env.gateway->user_create(profile, env.call_deadline,
                           [&answered](actors::call_status st, actors::user_answer ans) {
                             answered.set_value({std::move(st), std::move(ans)});
                           });
  auto [st, ans] = result.get();
  if (!st.ok())
    return "admin account: the user entity did not answer (" + st.error + ")";
  if (ans.code.empty()) {
    if (generated)
      base::log_warn("admin account created; its password is shown only now",
                     {{"email", email}, {"password", password}, {"user_id", id}});
    else
      base::log_info("admin account created", {{"email", email}, {"user_id", id}});
  }
  return {};
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

/// Where the HTTP payment provider finds the bank and where the bank sends callbacks, learnt
/// once the edge has its port (read from the provider's actor, written by start).
struct bank_link {
  std::mutex mtx;
  std::string base;     ///< http://host:port of the bank
  std::string callback; ///< the callback URL given with every create

  void set(std::string b, std::string c) {
    std::lock_guard<std::mutex> guard{mtx};
    base = std::move(b);
    callback = std::move(c);
  }
  std::string get_base() {
    std::lock_guard<std::mutex> guard{mtx};
    return base;
  }
  std::string get_callback() {
    std::lock_guard<std::mutex> guard{mtx};
    return callback;
  }
};

/// `http://HOST:PORT` of this process's edge as seen from the same machine (a wildcard listen
/// address is reached on loopback).
std::string loopback_url(const config::endpoint& listen, std::uint16_t port) {
  auto host = listen.host;
  if (host == "0.0.0.0")
    host = "127.0.0.1";
  else if (host == "::")
    host = "::1";
  return "http://" + config::endpoint{host, port}.to_string();
}

/// One bank callback on its way to the payment entity: a short-lived actor (CAF-NOTES: no
/// actor keeps unbounded open requests), which first checks that the payment entity knows
/// this payment id (else 404: the bank retries, e.g. when its callback overtook the create's
/// answer), then hands over the event and reports the outcome.
caf::behavior callback_relay(caf::event_based_actor* self, caf::actor directory,
                             std::chrono::milliseconds timeout, actors::bank_event ev,
                             std::function<void(http::delivery_outcome)> done) {
  using http::delivery_outcome;
  auto finish = [self, done](delivery_outcome out) {
    done(out);
    self->quit();
  };
  auto fail = [finish](caf::error& e) {
    finish(e == caf::sec::request_timeout      ? delivery_outcome::timeout
           : e == actors::errc::unknown_entity ? delivery_outcome::unknown
                                               : delivery_outcome::failed);
  };
  actors::entity_ref ref{"payment", ev.order_id};
  self->request(directory, timeout, actors::route_atom_v, ref,
                caf::make_message(actors::payment_view_atom::value))
      .then(
          [self, directory, timeout, ev, ref, finish, fail](const actors::payment_answer& known) {
            if (known.payment_id.empty() || known.payment_id != ev.payment_id)
              return finish(delivery_outcome::unknown);
            self->request(directory, timeout, actors::route_atom_v, ref,
                          caf::make_message(actors::bank_event_atom::value, ev))
                .then(
                    [finish](const std::string& answer) {
                      finish(answer == "duplicate" ? delivery_outcome::duplicate
                                                   : delivery_outcome::applied);
                    },
                    fail);
          },
          fail);
  return {[](const std::string&) {}};
}

/// The secret kept under `name` in `meta` (read, write), generated at the first start.
template <class Read, class Write>
std::string kept_secret(const std::string& name, Read read, Write write, std::string& out) {
  auto kept = read();
  if (!kept.empty()) {
    out = kept;
    return {};
  }
  try {
    out = http::random_secret(32);
  } catch (const std::exception& e) {
    return "cannot generate the " + name + ": " + e.what();
  }
  return write(out);
}
} // namespace

namespace {
void start_idempotency_sweeper(node::parts& p, std::chrono::seconds ttl);
} // namespace

struct node::parts {
  std::unique_ptr<persistence::store> store;
  std::unique_ptr<actors::catalog::sqlite_catalog> catalog;
  caf::actor_system_config actor_config;
  std::unique_ptr<caf::actor_system> actors;
  std::shared_ptr<actors::store_sink> sink;
  std::shared_ptr<actors::timer_wheel> timers; ///< null when actors.timer_tick_ms is 0
  actors::node_entities entities;
  std::uint16_t cluster_port = 0;
  http::router routes;
  std::unique_ptr<http::server> edge;
  std::shared_ptr<actors::entity_gateway> gateway;
  std::shared_ptr<http::event_hub> events;
  // Forgets idempotency records past their retention, every `sweep_every`.
  std::thread sweeper;
  std::mutex sweep_mtx;
  std::condition_variable sweep_cv;
  bool sweep_stop = false;
  std::shared_ptr<http::password_hasher> passwords;
  std::unique_ptr<bank::service> bank;    ///< the simulated bank, when this node serves it
  std::shared_ptr<bank_link> bank_target; ///< where the HTTP payment provider calls
};

namespace {
/// Idempotency records (kind "idem") live `entities.idempotency_ttl`: an expired one already
/// answers as absent, and this thread deletes their snapshots once an hour so the store does
/// not grow with every key ever used.
void start_idempotency_sweeper(node::parts& p, std::chrono::seconds ttl) {
  p.sweeper = std::thread{[&p, ttl] {
    base::name_this_thread("souk-idem-sweep");
    std::unique_lock<std::mutex> lock{p.sweep_mtx};
    while (!p.sweep_cv.wait_for(lock, std::chrono::hours(1), [&p] { return p.sweep_stop; })) {
      auto cutoff = base::unix_millis(std::chrono::system_clock::now() - ttl);
      persistence::write_request w;
      w.ops.push_back(persistence::custom_write{[cutoff](persistence::connection& db) {
        return db.exec("DELETE FROM snapshots WHERE kind = 'idem' AND updated_at < " +
                       std::to_string(cutoff));
      }});
      w.done = [](const persistence::status& st) {
        if (!st.ok())
          base::log_warn("idempotency sweep failed", {{"error", st.message}});
      };
      (void)p.store->writer().submit(std::move(w));
    }
  }};
}
} // namespace

namespace {
/// `soukd --bank-only`: the simulated bank alone, with /healthz, its ledger in the data folder.
std::string start_bank_only(node::parts& p, const config::settings& s) {
  std::error_code ec;
  std::filesystem::create_directories(s.node.data_dir, ec);
  if (ec)
    return "data folder " + s.node.data_dir + ": " + ec.message();
  auto path = s.node.data_dir + "/bank.db";
  auto secret = s.bank.webhook_secret;
  if (secret.empty()) {
    auto books = bank::ledger::open(path);
    if (!books)
      return "bank ledger " + path + ": " + books.error().message;
    auto err = kept_secret(
        "webhook secret", [&] { return (*books)->meta("webhook_secret").value_or(""); },
        [&](const std::string& v) { return (*books)->set_meta("webhook_secret", v).message; },
        secret);
    if (!err.empty())
      return err;
  }
  p.bank_target = std::make_shared<bank_link>();
  auto link = p.bank_target;
  auto svc = bank::service::open(path, s.bank, secret, [link] { return link->get_base(); });
  if (!svc)
    return "bank ledger " + path + ": " + svc.error().message;
  p.bank = std::move(*svc);
  http::add_health_routes(p.routes, s.node.name, [] { return http::readiness{true, {}}; });
  bank::add_bank_routes(p.routes, *p.bank);
  p.edge = std::make_unique<http::server>(s.http, p.routes);
  if (auto err = p.edge->start(); !err.empty())
    return err;
  link->set(loopback_url(s.http.listen, p.edge->port()), {});
  base::log_info("node ready",
                 {{"http", config::endpoint{s.http.listen.host, p.edge->port()}.to_string()},
                  {"mode", "bank-only"},
                  {"data", s.node.data_dir},
                  {"store", path}});
  return {};
}
} // namespace

node::node(config::settings settings) : settings_(std::move(settings)) {}

node::~node() {
  stop();
}

std::uint16_t node::http_port() const {
  return parts_ && parts_->edge ? parts_->edge->port() : 0;
}

std::vector<std::pair<std::string, std::string>> node::routes() const {
  return parts_ ? parts_->routes.routes() : std::vector<std::pair<std::string, std::string>>{};
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
  if (settings_.bank.only) {
    if (auto err = start_bank_only(p, settings_); !err.empty())
      return fail(err);
    ready_ = true;
    return {};
  }

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

  // The bank's webhook secret: shared with the bank from the settings, or this node's own.
  auto webhook_secret = settings_.bank.webhook_secret;
  if (webhook_secret.empty()) {
    auto err = kept_secret(
        "webhook secret",
        [&] {
          auto kept = p.store->meta("webhook_secret");
          return kept ? kept->value_or("") : std::string{};
        },
        [&](const std::string& v) { return p.store->set_meta("webhook_secret", v).message; },
        webhook_secret);
    if (!err.empty())
      return fail(err);
  }
  // The simulated bank on this node's edge (bank.mode = http), with its own ledger file.
  if (settings_.bank.mode == config::bank_mode::http) {
    auto path = settings_.node.data_dir + "/bank.db";
    auto svc = bank::service::open(path, settings_.bank, webhook_secret);
    if (!svc)
      return fail("bank ledger " + path + ": " + svc.error().message);
    p.bank = std::move(*svc);
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
  p.actor_config.set("scheduler.policy",
                     settings_.actors.scheduler == config::scheduler_policy::stealing
                         ? caf::atom("stealing")
                         : caf::atom("sharing"));
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
  p.events =
      std::make_shared<http::event_hub>(static_cast<std::size_t>(settings_.events.per_user),
                                        static_cast<std::size_t>(settings_.events.max_users));
  p.sink = std::make_shared<actors::store_sink>(*p.store);
  if (settings_.actors.timer_tick.count() > 0)
    p.timers = std::make_shared<actors::timer_wheel>(settings_.actors.timer_tick);
  auto context = [&] {
    auto ctx = entity_context_of(settings_, *p.catalog, p.sink, p.events);
    ctx.timers = p.timers;
    return ctx;
  };
  if (settings_.bank.mode == config::bank_mode::internal) {
    p.entities = actors::start_node_entities(*p.actors, context(), bank_faults_of(settings_.bank));
  } else {
    p.bank_target = std::make_shared<bank_link>();
    if (settings_.bank.mode == config::bank_mode::external)
      p.bank_target->set(settings_.bank.url, settings_.bank.callback_url);
    actors::bank_http_options bo;
    auto link = p.bank_target;
    bo.base_url = [link] { return link->get_base(); };
    bo.callback_url = [link] { return link->get_callback(); };
    bo.call_timeout = settings_.bank.call_timeout;
    bo.max_connections = static_cast<std::size_t>(settings_.bank.connections);
    p.entities = actors::start_node_entities(
        *p.actors, context(), actors::spawn_bank_http_client(*p.actors, std::move(bo)));
  }
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
  http::add_seller_routes(p.routes, *p.catalog, secret);
  actors::gateway_limits gateway_limits;
  gateway_limits.actors = settings_.actors.gateway_actors;
  gateway_limits.window = settings_.actors.gateway_window;
  gateway_limits.tick = settings_.actors.gateway_tick;
  p.gateway = actors::make_gateway(*p.actors, p.entities.directory, gateway_limits);
  p.passwords = std::make_shared<http::password_hasher>(
      settings_.auth.kdf_threads, settings_.auth.password_iterations,
      static_cast<std::size_t>(settings_.auth.kdf_max_pending));
  auto client = std::make_shared<http::client_env>();
  client->gateway = p.gateway;
  client->catalog = p.catalog.get();
  client->passwords = p.passwords;
  client->token_secret = secret;
  client->tokens = std::make_shared<http::token_cache>(settings_.auth.token_cache_entries);
  client->token_ttl = settings_.auth.token_ttl;
  client->call_deadline = settings_.entities.call_timeout;
  client->checkout_deadline = settings_.orders.checkout_wait;
  client->max_qty_per_line = settings_.cart.max_qty_per_line;
  client->max_lines = static_cast<std::size_t>(settings_.cart.max_lines);
  client->return_reason_max = settings_.orders.return_reason_max;
  if (auto err = ensure_admin_account(*client, settings_.admin); !err.empty())
    return fail(err);
  // Public reads answer for the region of the account whose token came (no 401 for a bad one:
  // the route needs no token, so it answers as for no token).
  http::add_catalog_routes(p.routes, *p.catalog, [client](const http::request_context& ctx) {
    http::token_error err = http::token_error::missing;
    auto token = http::bearer_of(ctx.req, err);
    if (token.empty())
      return std::string{};
    auto who = http::verify_token_cached(client->tokens.get(), token, client->token_secret,
                                         http::unix_now(), err);
    return who ? who->region : std::string{};
  });
  http::add_account_routes(p.routes, client);
  http::add_cart_routes(p.routes, client);
  http::add_order_routes(p.routes, client);
  http::add_event_routes(p.routes, client, p.events);
  start_idempotency_sweeper(p, settings_.entities.idempotency_ttl);
  http::add_payment_routes(
      p.routes, webhook_secret,
      [this](actors::bank_event ev, std::function<void(http::delivery_outcome)> done) {
        auto& q = *parts_;
        q.actors->spawn(callback_relay, q.entities.directory, settings_.orders.step_timeout,
                        std::move(ev), std::move(done));
      });
  if (p.bank)
    bank::add_bank_routes(p.routes, *p.bank);
  p.edge = std::make_unique<http::server>(settings_.http, p.routes);
  if (auto err = p.edge->start(); !err.empty())
    return fail(err);

  if (settings_.bank.mode == config::bank_mode::http) {
    auto own = loopback_url(settings_.http.listen, p.edge->port());
    p.bank_target->set(own, settings_.bank.callback_url.empty() ? own + "/v1/payments/callback"
                                                                : settings_.bank.callback_url);
  } else if (settings_.bank.mode == config::bank_mode::external &&
             settings_.bank.callback_url.empty()) {
    auto own = loopback_url(settings_.http.listen, p.edge->port());
    p.bank_target->set(settings_.bank.url, own + "/v1/payments/callback");
  }
  ready_ = true;
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
  if (p.sweeper.joinable()) {
    {
      std::lock_guard<std::mutex> guard{p.sweep_mtx};
      p.sweep_stop = true;
    }
    p.sweep_cv.notify_all();
    p.sweeper.join();
  }
  // Reverse order of start: the edge first, so nothing new arrives while the rest stops.
  if (p.bank)
    p.bank->stop(); // answers held back by the fault knobs go out now, not after the drain
  if (p.edge) {
    auto left = p.edge->stop(settings_.http.drain_timeout);
    if (left > 0)
      base::log_warn("drain timed out", {{"requests_in_flight", left}});
  }
  if (p.passwords)
    p.passwords->stop(); // before the actors: its callbacks call the gateway
  if (p.catalog)
    p.catalog->set_stock_owner({});
  if (p.actors && p.entities.directory) {
    // The directory stops every entity, then itself: each entity first writes what is still
    // unwritten (a cart's write-behind), so the directory is waited for before the writer is
    // flushed. Snapshot writes still queued after that complete, but call nobody back once
    // the sink is detached.
    {
      caf::scoped_actor waiter{*p.actors};
      waiter->monitor(p.entities.directory);
      caf::anon_send_exit(p.entities.directory, caf::exit_reason::user_shutdown);
      auto began = std::chrono::steady_clock::now();
      // The directory kills what is left after entities.stop_timeout; a little more here.
      bool down = false;
      waiter->receive([&down](const caf::down_msg&) { down = true; },
                      caf::after(settings_.entities.stop_timeout + std::chrono::seconds(5)) >>
                          [] {});
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - began)
                    .count();
      if (down)
        base::log_info("entities stopped", {{"ms", ms}});
      else
        base::log_warn("entities did not stop in time", {{"ms", ms}});
    }
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
  if (p.timers) {
    p.timers->stop(); // after the actors: the last reference is this one, on this thread
    p.timers.reset();
  }
  p.edge.reset();
  p.bank.reset();    // after the edge: its routes use it
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
