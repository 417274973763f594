// The order saga on one node, in-process and durable, on CAF's threaded scheduler with the real
// store_sink over the group-commit writer (config::store_settings{} defaults) and the entity
// timers on a timer wheel of 10 ms, as soukd runs them:
//   (a) reservations per second on ONE hot SKU: many driver actors, each with a bounded window
//       of open requests, send reserve_cmd with distinct reservation ids to ("sku", "hot")
//       through the directory; every answer comes after its snapshot is committed. Reports
//       ops/s, p50/p99 latency and the snapshot writes (how many reservations one write carried).
//   (b) full checkouts per second through the saga with the instant-approving simulated bank:
//       distinct orders of 1-2 lines over a few SKUs with ample stock, timed until each order
//       answers PENDING_PAYMENT and, in the same run, until its snapshot showing PAID is durable.
//   (c) bytes of memory per resident idle cart: RSS (/proc/self/statm) before and after
//       activating N carts through the directory (two cart_add each), divided by N, once their
//       write-behind snapshots are written and they are idle; beside it empty carts and idle SKU
//       actors.
// Each phase runs in a child process of its own, with its own actor system and store.
// Every phase is bounded in count and in time. Prints a Markdown table.
//
// Run: build/release/bench/souk_saga_bench [--threads 2] [--seconds 10]
//        [--reservations 200000] [--drivers 64] [--window 16]
//        [--checkouts 100000] [--checkout-drivers 32] [--checkout-window 16]
//        [--entities 100000] [--dir DIR] [--only abc] [--scheduler sharing|stealing]
//        [--anchor-ops X --anchor-p50 MS --anchor-p99 MS]   (bench/saga_vs_redis.sh passes these)
#include "actors/api/cart_api.hpp"
#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/order_api.hpp"
#include "actors/api/register.hpp"
#include "actors/api/stock_api.hpp"
#include "actors/common/entity_context.hpp"
#include "actors/common/store_sink.hpp"
#include "actors/common/timer_wheel.hpp"
#include "actors/directory/node_entities.hpp"
#include "actors/payment/bank_sim.hpp"
#include "config/settings.hpp"
#include "persistence/store.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

namespace {

using namespace souk;
using clock_type = std::chrono::steady_clock;

struct options {
  int threads = 2;
  std::string scheduler = "sharing"; // CAF's scheduler.policy, as soukd's actors.scheduler
  double seconds = 10;               // per load phase
  long reservations = 200'000;
  int drivers = 64;
  int window = 16;
  long checkouts = 100'000;
  int checkout_drivers = 32;
  int checkout_window = 16;
  long entities = 100'000;
  std::string dir;
  std::string only = "abc";
  double anchor_ops = 0, anchor_p50 = 0, anchor_p99 = 0;
};

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t since(clock_type::time_point t0, clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - t0).count();
}

long rss_bytes() {
  std::ifstream in{"/proc/self/statm"};
  long size = 0, resident = 0;
  in >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string loadavg() {
  std::ifstream in{"/proc/loadavg"};
  std::string one;
  in >> one;
  return one;
}

struct percentiles {
  double p50 = 0, p99 = 0, max = 0; // milliseconds
};

percentiles summarise(std::vector<std::int64_t> ns) {
  if (ns.empty())
    return {};
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    return static_cast<double>(ns[std::min(
               ns.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ns.size())))]) /
           1e6;
  };
  return {at(0.50), at(0.99), static_cast<double>(ns.back()) / 1e6};
}

// -- one node ------------------------------------------------------------------------------------

/// The store_sink, watched: when `watch_paid` was called, notes the moment each order's first
/// snapshot that records PAID is durable. Every save goes to the real store_sink unchanged.
class watched_sink : public actors::snapshot_sink {
public:
  explicit watched_sink(persistence::store& store) : inner_(store) {}

  /// Orders "o-0" .. "o-<n-1>"; times in ns since `origin`. Call before any order exists.
  void watch_paid(long n, clock_type::time_point origin) {
    paid_at_ = std::make_unique<std::atomic<std::int64_t>[]>(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i)
      paid_at_[static_cast<std::size_t>(i)] = 0;
    watched_ = n;
    origin_ = origin;
  }
  /// When order `ticket` was first durable as PAID; 0: not (yet).
  std::int64_t paid_at(long ticket) const {
    return paid_at_[static_cast<std::size_t>(ticket)].load();
  }
  long paid() const { return paid_.load(); }

  void save(persistence::snapshot s, std::function<void(bool)> done) override {
    long ticket = -1;
    // The timeline holds one [at, status, phase, note] entry per step: `,"PAID",` appears once
    // the order was PAID and stays (the top-level "resume_status":"PAID" does not match). An
    // order already seen PAID is not searched again (the search is the bench's, not souk's).
    if (watched_ > 0 && s.kind == "order" && s.key.rfind("o-", 0) == 0) {
      ticket = std::strtol(s.key.c_str() + 2, nullptr, 10);
      if (ticket < 0 || ticket >= watched_ ||
          paid_at_[static_cast<std::size_t>(ticket)].load(std::memory_order_relaxed) != 0 ||
          s.state.find(",\"PAID\",") == std::string::npos)
        ticket = -1;
    }
    if (ticket < 0) {
      inner_.save(std::move(s), std::move(done));
      return;
    }
    inner_.save(std::move(s), [this, ticket, done = std::move(done)](bool ok) {
      std::int64_t none = 0;
      if (ok && paid_at_[static_cast<std::size_t>(ticket)].compare_exchange_strong(
                    none, std::max<std::int64_t>(1, since(origin_, clock_type::now())))) {
        ++paid_;
      }
      done(ok);
    });
  }
  std::optional<persistence::snapshot> load(const std::string& kind,
                                            const std::string& key) override {
    return inner_.load(kind, key);
  }
  std::vector<std::string> keys_with(const std::string& kind, const std::string& needle) override {
    return inner_.keys_with(kind, needle);
  }

private:
  actors::store_sink inner_;
  long watched_ = 0; // set before the orders exist, read-only after
  clock_type::time_point origin_;
  std::unique_ptr<std::atomic<std::int64_t>[]> paid_at_;
  std::atomic<long> paid_{0};
};

caf::actor_system_config& configure(caf::actor_system_config& cfg, const options& opt) {
  cfg.set("scheduler.max-threads", opt.threads);
  cfg.set("scheduler.policy",
          opt.scheduler == "stealing" ? caf::atom("stealing") : caf::atom("sharing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  actors::register_types(cfg);
  return cfg;
}

/// A store, an actor system on the threaded scheduler and the node's entities over them.
class node {
public:
  node(const std::string& dir, const options& opt,
       std::map<std::string, std::vector<actors::initial_stock>> stock,
       std::function<std::vector<actors::initial_stock>(const std::string&)> fallback = {}) {
    std::filesystem::remove_all(dir);
    auto opened = persistence::store::open(dir, config::store_settings{});
    if (!opened.ok()) {
      std::fprintf(stderr, "cannot open store: %s\n", opened.error().message.c_str());
      std::exit(1);
    }
    store_ = std::move(*opened);
    sink = std::make_shared<watched_sink>(*store_);
    sys_ = std::make_unique<caf::actor_system>(configure(cfg_, opt));
    actors::entity_context ctx;
    ctx.store = sink;
    ctx.timers = timers_; // as soukd keeps them (actors.timer_tick_ms)
    ctx.now_ms = unix_ms;
    ctx.idle_timeout = std::chrono::minutes(10); // no passivation while measuring
    ctx.wms_step = std::chrono::milliseconds(0); // warehouses move only when told (not here)
    ctx.warehouses = {{"wh-msk", "msk"}, {"wh-spb", "spb"}, {"wh-ekb", "ekb"}};
    ctx.delivery_days = [](const std::string& from, const std::string& to) {
      static const std::map<std::string, int> pos = {{"msk", 0}, {"spb", 1}, {"ekb", 3}};
      auto a = pos.count(from) ? pos.at(from) : 5;
      auto b = pos.count(to) ? pos.at(to) : 5;
      return 1 + (a > b ? a - b : b - a);
    };
    ctx.initial_stock_of = [stock = std::move(stock),
                            fallback = std::move(fallback)](const std::string& sku) {
      auto it = stock.find(sku);
      if (it != stock.end())
        return it->second;
      return fallback ? fallback(sku) : std::vector<actors::initial_stock>{};
    };
    actors::bank_faults bank;
    bank.auto_approve = true;
    entities = actors::start_node_entities(*sys_, std::move(ctx), bank);
  }

  /// Waits (bounded) until the writer has been quiet for a while, stops every actor, then
  /// closes the store while the actor system still exists (late callbacks find it alive).
  ~node() {
    quiesce(std::chrono::seconds(10));
    caf::anon_send_exit(entities.directory, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(entities.bank, caf::exit_reason::user_shutdown);
    entities = {};
    sys_->await_all_actors_done();
    timers_->stop();
    store_->close();
    sys_.reset();
  }

  /// Waits until no snapshot write happened for 300 ms, at most `limit`.
  void quiesce(std::chrono::milliseconds limit) {
    auto stop_at = clock_type::now() + limit;
    auto last = writer_stats().writes;
    auto quiet_since = clock_type::now();
    while (clock_type::now() < stop_at) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      auto now = writer_stats().writes;
      if (now != last) {
        last = now;
        quiet_since = clock_type::now();
      } else if (clock_type::now() - quiet_since > std::chrono::milliseconds(300)) {
        return;
      }
    }
  }

  caf::actor_system& system() { return *sys_; }
  persistence::store& store() { return *store_; }
  persistence::writer_stats writer_stats() { return store_->writer().stats(); }

  std::shared_ptr<watched_sink> sink;
  actors::node_entities entities;

private:
  caf::actor_system_config cfg_;
  std::unique_ptr<persistence::store> store_;
  std::unique_ptr<caf::actor_system> sys_;
  std::shared_ptr<actors::timer_wheel> timers_ =
      std::make_shared<actors::timer_wheel>(std::chrono::milliseconds(10));
};

// -- load drivers --------------------------------------------------------------------------------

/// What the drivers of one run share. Tickets are handed out in order; each is one request.
struct run_state {
  long total = 0;
  clock_type::time_point origin;
  clock_type::time_point deadline; // no request is issued after it
  std::chrono::milliseconds timeout{30'000};
  bool record = true; // keep latencies
  std::atomic<long> tickets{0};
  std::atomic<long> ok{0};
  std::atomic<long> failed{0};
  std::atomic<int> finished{0};
  std::atomic<std::int64_t> last_answer_ns{0};
  std::mutex mtx; // guards the members below
  std::vector<std::int64_t> latencies_ns;
  std::vector<std::int64_t> answered_ns; // when each answer came, since origin
  std::vector<std::int64_t> start_ns;    // by ticket, when record
  std::map<std::string, long> outcomes;
  std::string first_error;
};

/// Self-sent by a driver to check its requests' deadlines: `(driver_tick_atom)`.
using driver_tick_atom = caf::atom_constant<caf::atom("drvtick")>;

/// One load driver: keeps at most `window` requests open (CAF-NOTES: the handlers of open
/// requests are searched linearly), takes a new ticket for each reply, stops when the tickets
/// or the time run out. `Spec` gives `route(ticket)` → (entity_ref, message) and
/// `judge(answer)` → outcome name ("" counts as failure-free success). Like soukd's gateway,
/// a driver checks its requests' deadlines on a tick of its own rather than giving each
/// request a CAF timeout: each of those is a push into CAF's clock thread, which the load
/// would otherwise pay once per checkout on top of what the node does.
template <class Answer, class Spec>
class driver : public caf::event_based_actor {
public:
  driver(caf::actor_config& cfg, caf::actor directory, std::shared_ptr<run_state> run,
         std::shared_ptr<Spec> spec, int window)
      : caf::event_based_actor(cfg), directory_(std::move(directory)), run_(std::move(run)),
        spec_(std::move(spec)), window_(window) {}

  caf::behavior make_behavior() override {
    for (int i = 0; i < window_ && issue(); ++i) {
    }
    if (open_ == 0)
      finish();
    else
      delayed_send(this, tick, driver_tick_atom::value);
    return {[this](driver_tick_atom) {
      // Tickets grow with time and every request has the same timeout: the oldest come first.
      auto now = clock_type::now();
      while (!deadlines_.empty() && deadlines_.begin()->second + run_->timeout <= now) {
        auto t0 = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        answered("error: no answer within the request timeout", t0);
      }
      if (open_ > 0)
        delayed_send(this, tick, driver_tick_atom::value);
    }};
  }

private:
  bool issue() {
    if (clock_type::now() >= run_->deadline)
      return false;
    auto ticket = run_->tickets.fetch_add(1);
    if (ticket >= run_->total)
      return false;
    auto [ref, msg] = spec_->route(ticket);
    auto t0 = clock_type::now();
    if (run_->record && !run_->start_ns.empty())
      run_->start_ns[static_cast<std::size_t>(ticket)] = since(run_->origin, t0);
    ++open_;
    deadlines_.emplace(ticket, t0);
    request(directory_, caf::infinite, actors::route_atom::value, std::move(ref), std::move(msg))
        .then(
            [this, ticket, t0](Answer& a) {
              if (deadlines_.erase(ticket) > 0) // else it timed out already
                answered(spec_->judge(a), t0);
            },
            [this, ticket, t0](caf::error& e) {
              if (deadlines_.erase(ticket) > 0)
                answered("error: " + system().render(e), t0);
            });
    return true;
  }

  void answered(const std::string& outcome, clock_type::time_point t0) {
    --open_;
    auto now = clock_type::now();
    if (outcome.rfind("error", 0) == 0)
      ++run_->failed;
    else
      ++run_->ok;
    ++outcomes_[outcome];
    auto t = since(run_->origin, now);
    if (run_->record) {
      latencies_.push_back(since(t0, now));
      answered_.push_back(t);
    }
    auto seen = run_->last_answer_ns.load();
    while (t > seen && !run_->last_answer_ns.compare_exchange_weak(seen, t)) {
    }
    if (!issue() && open_ == 0)
      finish();
  }

  void finish() {
    {
      std::lock_guard<std::mutex> guard{run_->mtx};
      run_->latencies_ns.insert(run_->latencies_ns.end(), latencies_.begin(), latencies_.end());
      run_->answered_ns.insert(run_->answered_ns.end(), answered_.begin(), answered_.end());
      for (auto& [k, n] : outcomes_)
        run_->outcomes[k] += n;
    }
    latencies_ = {};
    answered_ = {};
    ++run_->finished;
    quit();
  }

  static constexpr std::chrono::milliseconds tick{100};

  caf::actor directory_;
  std::shared_ptr<run_state> run_;
  std::shared_ptr<Spec> spec_;
  int window_;
  int open_ = 0;
  std::map<long, clock_type::time_point> deadlines_; ///< open requests: ticket → sent at
  std::vector<std::int64_t> latencies_;
  std::vector<std::int64_t> answered_;
  std::map<std::string, long> outcomes_;
};

/// Spawns `drivers` drivers and waits until they finished (bounded by deadline + timeout + 5 s).
template <class Answer, class Spec>
void drive(node& n, const std::shared_ptr<run_state>& run, std::shared_ptr<Spec> spec, int drivers,
           int window) {
  for (int i = 0; i < drivers; ++i)
    n.system().spawn<driver<Answer, Spec>>(n.entities.directory, run, spec, window);
  auto hard_stop = run->deadline + run->timeout + std::chrono::seconds(5);
  while (run->finished.load() < drivers && clock_type::now() < hard_stop)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (run->finished.load() < drivers)
    std::fprintf(stderr, "warning: %d of %d drivers did not finish in time\n",
                 drivers - run->finished.load(), drivers);
}

std::string outcomes_text(const run_state& run) {
  std::string out;
  for (auto& [k, v] : run.outcomes)
    out +=
        (out.empty() ? "" : ", ") + (k.empty() ? std::string{"ok"} : k) + " " + std::to_string(v);
  return out;
}

// -- (a) one hot SKU -----------------------------------------------------------------------------

struct hot_sku_spec {
  std::int64_t expires_at_ms = unix_ms() + 3'600'000;

  std::pair<actors::entity_ref, caf::message> route(long ticket) const {
    auto t = std::to_string(ticket);
    actors::reserve_cmd c{"r-" + t, "o-" + t, 1, "msk", expires_at_ms};
    return {{"sku", "hot"}, caf::make_message(actors::reserve_atom::value, std::move(c))};
  }
  static std::string judge(const actors::reserve_answer& a) {
    return a.outcome == "reserved" ? "" : a.outcome;
  }
};

struct hot_result {
  long ok = 0, failed = 0;
  double seconds = 0, ops = 0;
  percentiles lat;
  std::uint64_t writes = 0, batches = 0;
  std::size_t final_snapshot_bytes = 0; // the head
  std::size_t final_parts = 0, final_parts_bytes = 0;
  double cpu = 0;
  std::string outcomes, load_before, load_after;
  std::string by_size; // answers per second while the ledger grew through 0-10k, 10k-20k, ...
};

/// "0–10k: X/s, 10k–20k: Y/s, 20k–40k: Z/s, ...": the rate between the k-th answers.
std::string rates_by_count(std::vector<std::int64_t> answered_ns) {
  std::sort(answered_ns.begin(), answered_ns.end());
  auto thousands = [](long n) {
    char buf[32];
    if (n % 1000 == 0)
      std::snprintf(buf, sizeof buf, "%ldk", n / 1000);
    else
      std::snprintf(buf, sizeof buf, "%.1fk", static_cast<double>(n) / 1000);
    return std::string{buf};
  };
  std::string out;
  long from = 0;
  for (long to = 10'000; from < static_cast<long>(answered_ns.size()); to *= 2) {
    auto end = std::min<long>(to, static_cast<long>(answered_ns.size()));
    auto t0 = from == 0 ? 0 : answered_ns[static_cast<std::size_t>(from - 1)];
    auto t1 = answered_ns[static_cast<std::size_t>(end - 1)];
    auto rate = t1 > t0 ? static_cast<double>(end - from) * 1e9 / static_cast<double>(t1 - t0) : 0;
    out += (out.empty() ? "" : ", ") + thousands(from) + "–" + thousands(end) + ": " +
           std::to_string(static_cast<long>(rate)) + "/s";
    from = end;
  }
  return out;
}

hot_result run_hot_sku(const std::string& dir, const options& opt, int drivers, int window) {
  node n(dir, opt, {{"hot", {{"wh-msk", 1'000'000'000}}}});
  hot_result out;
  out.load_before = loadavg();
  // Activate the SKU first (one read of its missing snapshot), outside the measurement.
  {
    auto warm = std::make_shared<run_state>();
    warm->total = 1;
    warm->origin = clock_type::now();
    warm->deadline = warm->origin + std::chrono::seconds(10);
    warm->record = false;
    struct view_spec {
      std::pair<actors::entity_ref, caf::message> route(long) const {
        return {{"sku", "hot"}, caf::make_message(actors::stock_view_atom::value)};
      }
      static std::string judge(const std::string&) { return ""; }
    };
    drive<std::string>(n, warm, std::make_shared<view_spec>(), 1, 1);
  }
  auto before = n.writer_stats();
  auto cpu0 = cpu_seconds();
  auto run = std::make_shared<run_state>();
  run->total = opt.reservations;
  run->origin = clock_type::now();
  run->deadline = run->origin + std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double>(opt.seconds));
  drive<actors::reserve_answer>(n, run, std::make_shared<hot_sku_spec>(), drivers, window);
  out.cpu = cpu_seconds() - cpu0;
  auto after = n.writer_stats();
  out.ok = run->ok;
  out.failed = run->failed;
  out.seconds = static_cast<double>(run->last_answer_ns.load()) / 1e9;
  out.ops = out.seconds > 0 ? static_cast<double>(out.ok) / out.seconds : 0;
  {
    std::lock_guard<std::mutex> guard{run->mtx};
    out.lat = summarise(std::move(run->latencies_ns));
  }
  out.writes = after.writes - before.writes;
  out.batches = after.batches - before.batches;
  out.outcomes = outcomes_text(*run);
  out.load_after = loadavg();
  {
    std::lock_guard<std::mutex> guard{run->mtx};
    out.by_size = rates_by_count(std::move(run->answered_ns));
  }
  if (auto s = n.store().load_snapshot("sku", "hot"); s.ok() && *s) {
    out.final_snapshot_bytes = (*s)->state.size();
    out.final_parts = (*s)->parts.size();
    for (auto& p : (*s)->parts)
      out.final_parts_bytes += p.state.size();
  }
  return out;
}

// -- (b) checkouts through the saga --------------------------------------------------------------

constexpr int checkout_skus = 8;

struct checkout_spec {
  std::pair<actors::entity_ref, caf::message> route(long ticket) const {
    static const char* const regions[] = {"msk", "spb", "ekb"};
    auto t = std::to_string(ticket);
    actors::checkout_cmd c;
    c.order_id = "o-" + t;
    c.user_id = "u-" + std::to_string(ticket % 1000);
    c.idempotency_key = "k-" + t;
    c.region = regions[ticket % 3];
    c.city = "City";
    c.address = "Street 1";
    auto line = [](long sku) {
      return actors::checkout_line{"s-" + std::to_string(sku), sku + 1,
                                   "Item " + std::to_string(sku), 1, 49'900};
    };
    c.lines.push_back(line(ticket % checkout_skus));
    if (ticket % 2 == 1)
      c.lines.push_back(line((ticket + 3) % checkout_skus));
    return {{"order", c.order_id}, caf::make_message(actors::checkout_atom::value, std::move(c))};
  }
  /// The status the checkout answered: PENDING_PAYMENT, or PAID when the instant bank's
  /// callback reached the order before the create's reply did; else the failure code.
  static std::string judge(const actors::order_answer& a) {
    return a.code.empty() ? "answered " + a.status : a.code;
  }
};

struct checkout_result {
  long ok = 0, failed = 0, paid = 0;
  double seconds = 0, ops = 0, paid_seconds = 0, paid_ops = 0;
  percentiles lat, paid_lat;
  std::uint64_t writes = 0, batches = 0;
  double cpu = 0;
  std::string outcomes, load_before, load_after;
};

checkout_result run_checkouts(const std::string& dir, const options& opt) {
  std::map<std::string, std::vector<actors::initial_stock>> stock;
  for (int i = 0; i < checkout_skus; ++i)
    stock["s-" + std::to_string(i)] = {
        {"wh-msk", 1'000'000'000}, {"wh-spb", 1'000'000'000}, {"wh-ekb", 1'000'000'000}};
  node n(dir, opt, std::move(stock));
  checkout_result out;
  out.load_before = loadavg();
  auto run = std::make_shared<run_state>();
  run->total = opt.checkouts;
  run->start_ns.assign(static_cast<std::size_t>(opt.checkouts), 0);
  auto before = n.writer_stats();
  auto cpu0 = cpu_seconds();
  run->origin = clock_type::now();
  n.sink->watch_paid(opt.checkouts, run->origin);
  run->deadline = run->origin + std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double>(opt.seconds));
  drive<actors::order_answer>(n, run, std::make_shared<checkout_spec>(), opt.checkout_drivers,
                              opt.checkout_window);
  // PAID comes after PENDING_PAYMENT (callback → payment → order): wait for it, bounded.
  auto stop_at = clock_type::now() + std::chrono::seconds(20);
  while (n.sink->paid() < run->ok.load() && clock_type::now() < stop_at)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  out.cpu = cpu_seconds() - cpu0;
  auto after = n.writer_stats();
  out.ok = run->ok;
  out.failed = run->failed;
  out.seconds = static_cast<double>(run->last_answer_ns.load()) / 1e9;
  out.ops = out.seconds > 0 ? static_cast<double>(out.ok) / out.seconds : 0;
  {
    std::lock_guard<std::mutex> guard{run->mtx};
    out.lat = summarise(std::move(run->latencies_ns));
  }
  std::vector<std::int64_t> paid_lat;
  std::int64_t last_paid = 0;
  for (long i = 0; i < opt.checkouts; ++i)
    if (auto at = n.sink->paid_at(i); at > 0) {
      paid_lat.push_back(at - run->start_ns[static_cast<std::size_t>(i)]);
      last_paid = std::max(last_paid, at);
    }
  out.paid = static_cast<long>(paid_lat.size());
  out.paid_seconds = static_cast<double>(last_paid) / 1e9;
  out.paid_ops = out.paid_seconds > 0 ? static_cast<double>(out.paid) / out.paid_seconds : 0;
  out.paid_lat = summarise(std::move(paid_lat));
  out.writes = after.writes - before.writes;
  out.batches = after.batches - before.batches;
  out.outcomes = outcomes_text(*run);
  out.load_after = loadavg();
  n.quiesce(std::chrono::seconds(10));
  return out;
}

// -- (c) memory of resident idle entities --------------------------------------------------------

/// What to activate: carts with two lines (two cart_add each), empty carts (cart_get) or SKUs
/// (stock_view, each with one warehouse's stock).
enum class idle_kind { cart_with_lines, empty_cart, sku };

struct idle_spec {
  idle_kind kind;

  std::pair<actors::entity_ref, caf::message> route(long ticket) const {
    switch (kind) {
    case idle_kind::cart_with_lines: {
      // Tickets 2k and 2k+1 add the two lines of cart k.
      auto sku = ticket % 2;
      actors::cart_add_cmd c{
          "s-" + std::to_string(sku), sku + 1, "Item " + std::to_string(sku), 1 + sku, 49'900, 0};
      return {{"cart", "u-" + std::to_string(ticket / 2)},
              caf::make_message(actors::cart_add_atom::value, std::move(c))};
    }
    case idle_kind::empty_cart:
      return {{"cart", "u-" + std::to_string(ticket)},
              caf::make_message(actors::cart_get_atom::value)};
    case idle_kind::sku:
      break;
    }
    return {{"sku", "idle-" + std::to_string(ticket)},
            caf::make_message(actors::stock_view_atom::value)};
  }
  static std::string judge(const actors::cart_answer& a) { return a.code; }
  static std::string judge(const std::string&) { return ""; }
};

/// Plain data: it crosses a pipe from the child process that measured it.
struct memory_result {
  long entities = 0, failed = 0;
  long rss_before = 0, rss_after = 0;
  double per_entity = 0, seconds = 0;
};

memory_result run_memory(const std::string& dir, const options& opt, idle_kind kind) {
  node n(dir, opt, {}, [](const std::string&) {
    return std::vector<actors::initial_stock>{{"wh-msk", 10}};
  });
  memory_result out;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  out.rss_before = rss_bytes();
  auto run = std::make_shared<run_state>();
  auto per_entity = kind == idle_kind::cart_with_lines ? 2 : 1;
  run->total = opt.entities * per_entity;
  run->record = false;
  run->origin = clock_type::now();
  run->deadline = run->origin + std::chrono::seconds(60);
  auto spec = std::make_shared<idle_spec>(idle_spec{kind});
  if (kind == idle_kind::sku)
    drive<std::string>(n, run, spec, 4, 64);
  else
    drive<actors::cart_answer>(n, run, spec, 4, 64);
  out.seconds = static_cast<double>(run->last_answer_ns.load()) / 1e9;
  // Drivers have quit; let the carts' write-behind snapshots land and every entity go idle.
  n.quiesce(std::chrono::seconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  out.rss_after = rss_bytes();
  out.entities = run->ok / per_entity;
  out.failed = run->failed;
  out.per_entity = out.entities > 0 ? static_cast<double>(out.rss_after - out.rss_before) /
                                          static_cast<double>(out.entities)
                                    : 0;
  return out;
}

std::string with_commas(double x) {
  auto s = std::to_string(static_cast<long long>(x + 0.5));
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string strf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string strf(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list again;
  va_copy(again, args);
  auto n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string out(static_cast<std::size_t>(std::max(n, 0)) + 1, '\0');
  std::vsnprintf(out.data(), out.size(), fmt, again);
  va_end(again);
  out.pop_back();
  return out;
}

/// Runs `f` in a child process and returns the text it produced. Every phase runs this way:
/// a fresh heap for each (an RSS difference needs one) and no thread in the parent when it
/// forks. The child's standard output goes to /dev/null: CAF prints "unexpected message" there
/// for every answer the simulated bank gets to its callbacks (it sends them with `send`, and the
/// payment actor answers ""), which would bury the table.
template <class F>
std::string in_child(F f) {
  int fds[2];
  if (::pipe(fds) != 0)
    return "| | (could not create a pipe) | | | | |\n";
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0)
      ::dup2(devnull, STDOUT_FILENO);
    std::string text = f();
    std::size_t sent = 0;
    while (sent < text.size()) {
      auto n = ::write(fds[1], text.data() + sent, text.size() - sent);
      if (n <= 0)
        ::_exit(1);
      sent += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    auto n = pid > 0 ? ::read(fds[0], buf, sizeof buf) : 0;
    if (n <= 0)
      break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  if (pid > 0)
    ::waitpid(pid, &status, 0);
  if (pid <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    text += strf("| | (a phase failed: child status %d) | | | | |\n", status);
  return text;
}

std::string hot_rows(const hot_result& h, const options& opt, int drivers, int window) {
  auto anchor = opt.anchor_ops > 0
                    ? with_commas(opt.anchor_ops) + " ops/s (Redis EVALSHA check-and-decrement, 50 "
                                                    "clients, no persistence)"
                    : std::string{"not run"};
  auto ratio = opt.anchor_ops > 0 ? h.ops / opt.anchor_ops : 0;
  std::string out;
  out += strf("| a | Reservations/s, one hot SKU, durable, %d × %d open | **%s ops/s** | %s | "
              "%.2f | %ld reserved in %.2f s by %d drivers × %d open requests; %s; CPU %.1f s in "
              "%.1f s wall; load avg %s → %s |\n",
              drivers, window, with_commas(h.ops).c_str(), anchor.c_str(), ratio, h.ok, h.seconds,
              drivers, window, h.outcomes.c_str(), h.cpu, h.seconds, h.load_before.c_str(),
              h.load_after.c_str());
  out += strf("| a | … the same, by ledger size (live holds) | %s | | | every hold stays in the "
              "ledger (1 h expiry); a write carries the head and only the holds that changed |\n",
              h.by_size.c_str());
  out += strf("| a | … latency p50 / p99 | %.2f / %.2f ms | ", h.lat.p50, h.lat.p99);
  if (opt.anchor_ops > 0)
    out += strf("%.2f / %.2f ms | | max %.1f ms |\n", opt.anchor_p50, opt.anchor_p99, h.lat.max);
  else
    out += strf("not run | | max %.1f ms |\n", h.lat.max);
  out += strf("| a | … snapshot writes of the hot SKU (coalescing) | %s writes | | | %.1f "
              "reservations per write; %s store batches; stored at the end: a %s-byte head and "
              "%s parts of %s bytes in all |\n",
              with_commas(static_cast<double>(h.writes)).c_str(),
              h.writes > 0 ? static_cast<double>(h.ok) / static_cast<double>(h.writes) : 0.0,
              with_commas(static_cast<double>(h.batches)).c_str(),
              with_commas(static_cast<double>(h.final_snapshot_bytes)).c_str(),
              with_commas(static_cast<double>(h.final_parts)).c_str(),
              with_commas(static_cast<double>(h.final_parts_bytes)).c_str());
  return out;
}

std::string checkout_rows(const checkout_result& co, const options& opt) {
  std::string out;
  out +=
      strf("| b | Checkouts/s until the checkout answers (PENDING_PAYMENT or already PAID) | "
           "**%s /s** | target ≥ 10,000/s | %.2f | %ld orders (1–2 lines over %d SKUs) in "
           "%.2f s by %d drivers × %d open; %s; p50 / p99 %.2f / %.2f ms |\n",
           with_commas(co.ops).c_str(), co.ops / 10'000, co.ok, checkout_skus, co.seconds,
           opt.checkout_drivers, opt.checkout_window, co.outcomes.c_str(), co.lat.p50, co.lat.p99);
  out += strf("| b | Checkouts/s until PAID (instant-approving bank) | **%s /s** | target ≥ "
              "10,000/s | %.2f | %ld of %ld orders PAID (durable) within %.2f s; p50 / p99 "
              "%.2f / %.2f ms from the checkout request |\n",
              with_commas(co.paid_ops).c_str(), co.paid_ops / 10'000, co.paid, co.ok,
              co.paid_seconds, co.paid_lat.p50, co.paid_lat.p99);
  out += strf("| b | Snapshot writes during (b) | %s writes | | | %.1f per order; %s store "
              "batches; CPU %.1f s; load avg %s → %s |\n",
              with_commas(static_cast<double>(co.writes)).c_str(),
              co.ok > 0 ? static_cast<double>(co.writes) / static_cast<double>(co.ok) : 0.0,
              with_commas(static_cast<double>(co.batches)).c_str(), co.cpu, co.load_before.c_str(),
              co.load_after.c_str());
  return out;
}

std::string memory_row(const char* what, const memory_result& m, const char* note) {
  return strf("| c | Memory per resident idle %s | **%s B** | 1,441 B: bare CAF actor, 208-byte "
              "state (perf-anchors 5d, not re-run) | %.2f | %s activated through the directory "
              "in %.2f s%s; RSS %s → %s MiB%s |\n",
              what, with_commas(m.per_entity).c_str(), m.per_entity / 1441,
              with_commas(static_cast<double>(m.entities)).c_str(), m.seconds,
              m.failed > 0 ? (", " + std::to_string(m.failed) + " failed").c_str() : "",
              with_commas(static_cast<double>(m.rss_before) / 1048576.0).c_str(),
              with_commas(static_cast<double>(m.rss_after) / 1048576.0).c_str(), note);
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string v = argv[i + 1];
    if (flag == "--threads")
      opt.threads = std::atoi(v.c_str());
    else if (flag == "--scheduler")
      opt.scheduler = v;
    else if (flag == "--seconds")
      opt.seconds = std::atof(v.c_str());
    else if (flag == "--reservations")
      opt.reservations = std::atol(v.c_str());
    else if (flag == "--drivers")
      opt.drivers = std::atoi(v.c_str());
    else if (flag == "--window")
      opt.window = std::atoi(v.c_str());
    else if (flag == "--checkouts")
      opt.checkouts = std::atol(v.c_str());
    else if (flag == "--checkout-drivers")
      opt.checkout_drivers = std::atoi(v.c_str());
    else if (flag == "--checkout-window")
      opt.checkout_window = std::atoi(v.c_str());
    else if (flag == "--entities")
      opt.entities = std::atol(v.c_str());
    else if (flag == "--dir")
      opt.dir = v;
    else if (flag == "--only")
      opt.only = v;
    else if (flag == "--anchor-ops")
      opt.anchor_ops = std::atof(v.c_str());
    else if (flag == "--anchor-p50")
      opt.anchor_p50 = std::atof(v.c_str());
    else if (flag == "--anchor-p99")
      opt.anchor_p99 = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (opt.scheduler != "sharing" && opt.scheduler != "stealing") {
    std::fprintf(stderr, "--scheduler is sharing or stealing\n");
    return 2;
  }
  if (opt.seconds <= 0 || opt.seconds > 60 || opt.threads < 1 || opt.threads > 16 ||
      opt.reservations < 1 || opt.reservations > 5'000'000 || opt.checkouts < 1 ||
      opt.checkouts > 2'000'000 || opt.entities < 1 || opt.entities > 2'000'000 ||
      opt.drivers < 1 || opt.drivers > 10'000 || opt.window < 1 || opt.window > 10'000 ||
      opt.checkout_drivers < 1 || opt.checkout_drivers > 10'000 || opt.checkout_window < 1 ||
      opt.checkout_window > 10'000) {
    std::fprintf(stderr, "a flag is out of range (--seconds in (0, 60], counts bounded)\n");
    return 2;
  }
  std::filesystem::path scratch = opt.dir.empty()
                                      ? std::filesystem::temp_directory_path() /
                                            ("souk-saga-bench-" + std::to_string(::getpid()))
                                      : std::filesystem::path{opt.dir};
  auto wants = [&](char c) { return opt.only.find(c) != std::string::npos; };
  auto dir = [&](const char* name) { return (scratch / name).string(); };

  std::string rows;
  if (wants('a')) {
    rows += in_child([&] {
      return hot_rows(run_hot_sku(dir("a"), opt, opt.drivers, opt.window), opt, opt.drivers,
                      opt.window);
    });
    std::fprintf(stderr, "(a) done\n");
    // The same with Redis's concurrency: 50 requesters, one request open each.
    rows += in_child([&] { return hot_rows(run_hot_sku(dir("a50"), opt, 50, 1), opt, 50, 1); });
    std::fprintf(stderr, "(a, 50 x 1) done\n");
  }
  if (wants('b')) {
    rows += in_child([&] { return checkout_rows(run_checkouts(dir("b"), opt), opt); });
    std::fprintf(stderr, "(b) done\n");
  }
  if (wants('c')) {
    rows += in_child([&] {
      return memory_row("cart, 2 lines", run_memory(dir("c1"), opt, idle_kind::cart_with_lines),
                        "; two cart_add each, write-behind snapshot written, then idle. Includes "
                        "the directory's entry and the idle-check timer");
    });
    rows += in_child([&] {
      return memory_row("cart, empty", run_memory(dir("c2"), opt, idle_kind::empty_cart),
                        "; one cart_get each");
    });
    rows += in_child([&] {
      return memory_row("SKU actor, 1 warehouse", run_memory(dir("c3"), opt, idle_kind::sku),
                        "; one stock_view each");
    });
    std::fprintf(stderr, "(c) done\n");
  }
  std::filesystem::remove_all(scratch);

  std::printf("CAF scheduler.max-threads = %d, scheduler.policy = %s; store: synchronous NORMAL, "
              "group commit of up to 1,000 writes; each phase in a process of its own\n\n",
              opt.threads, opt.scheduler.c_str());
  std::printf("| # | Figure | souk | Anchor, same run | souk / anchor | Details |\n"
              "|---|---|---|---|---|---|\n%s",
              rows.c_str());
  return 0;
}
