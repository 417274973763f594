// The gateway (make_gateway) on a REAL actor system: CAF's threaded scheduler, the node's
// entities (start_node_entities) over a real SQLite store through the store_sink. Its callbacks
// run on CAF's workers, so these tests wait for them, always with a bound.

#include "actors/api/directory.hpp"
#include "actors/api/gateway.hpp"
#include "actors/api/register.hpp"
#include "actors/common/entity_context.hpp"
#include "actors/common/store_sink.hpp"
#include "actors/directory/gateway.hpp"
#include "actors/directory/node_entities.hpp"
#include "persistence/store.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using namespace std::chrono_literals;
using actors::call_status;
using clock_type = std::chrono::steady_clock;

/// A store that refuses every write (a broken disk) and has nothing to read.
class refusing_sink : public actors::snapshot_sink {
public:
  void save(persistence::snapshot, std::function<void(bool)> done) override { done(false); }
  std::optional<persistence::snapshot> load(const std::string&, const std::string&) override {
    return std::nullopt;
  }
  std::vector<std::string> keys_with(const std::string&, const std::string&) override { return {}; }
};

/// One node on the threaded scheduler: store, actor system, entities, gateway. Stops the way
/// runtime::node does: actors first, the sink detached, the system joined, the store closed.
class real_node {
public:
  explicit real_node(const std::string& dir, actors::bank_faults bank = {},
                     std::shared_ptr<actors::snapshot_sink> sink = nullptr) {
    auto opened = persistence::store::open(dir, config::store_settings{});
    if (!opened.ok())
      throw std::runtime_error("cannot open the store: " + opened.error().message);
    store_ = std::move(*opened);
    sink_ = std::make_shared<actors::store_sink>(*store_);
    cfg_.set("scheduler.max-threads", 2);
    cfg_.set("logger.file-verbosity", caf::atom("quiet"));
    cfg_.set("logger.console-verbosity", caf::atom("quiet"));
    actors::register_types(cfg_);
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    actors::entity_context ctx;
    ctx.store = sink ? std::move(sink) : sink_;
    ctx.now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    ctx.idle_timeout = 10min;
    ctx.wms_step = 0ms;
    ctx.warehouses = {{"wh-msk", "msk"}, {"wh-spb", "spb"}};
    ctx.delivery_days = [](const std::string& from, const std::string& to) {
      return from == to ? 1 : 2;
    };
    ctx.initial_stock_of = [](const std::string& sku) {
      return sku == "sku-a" ? std::vector<actors::initial_stock>{{"wh-msk", 100}}
                            : std::vector<actors::initial_stock>{};
    };
    entities_ = actors::start_node_entities(*sys_, std::move(ctx), bank);
    gateway = actors::make_gateway(*sys_, entities_.directory);
  }

  ~real_node() {
    gateway.reset();
    caf::anon_send_exit(entities_.directory, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(entities_.bank, caf::exit_reason::user_shutdown);
    entities_ = {};
    store_->writer().flush();
    sink_->detach();
    sys_.reset(); // waits for every actor
    store_->close();
  }

  caf::actor_system& system() { return *sys_; }
  persistence::store& store() { return *store_; }
  caf::actor directory() const { return entities_.directory; }

  std::shared_ptr<actors::entity_gateway> gateway;

private:
  std::unique_ptr<persistence::store> store_;
  std::shared_ptr<actors::store_sink> sink_;
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  actors::node_entities entities_;
};

/// The outcome of one gateway call, filled in by its callback on a CAF worker.
template <class T>
class result {
public:
  /// The callback to hand to the gateway.
  actors::entity_gateway::callback<T> callback() {
    return [this](call_status st, T value) {
      std::lock_guard<std::mutex> lock{mtx_};
      ++calls_;
      status_ = std::move(st);
      value_ = std::move(value);
      thread_ = std::this_thread::get_id();
      at_ = clock_type::now();
      cv_.notify_all();
    };
  }

  /// Waits (at most `limit`) for the callback; false when it did not come.
  bool wait(std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, limit, [this] { return calls_ > 0; });
  }

  call_status status() {
    std::lock_guard<std::mutex> lock{mtx_};
    return status_;
  }
  T value() {
    std::lock_guard<std::mutex> lock{mtx_};
    return value_;
  }
  int calls() {
    std::lock_guard<std::mutex> lock{mtx_};
    return calls_;
  }
  std::thread::id thread() {
    std::lock_guard<std::mutex> lock{mtx_};
    return thread_;
  }
  clock_type::time_point at() {
    std::lock_guard<std::mutex> lock{mtx_};
    return at_;
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  int calls_ = 0;
  call_status status_;
  T value_{};
  std::thread::id thread_;
  clock_type::time_point at_;
};

/// Calls `f(callback)` and waits for the callback; fails the test when it does not come.
template <class T, class F>
std::pair<call_status, T> call(F f, std::chrono::milliseconds limit = 10s) {
  result<T> r;
  f(r.callback());
  if (!r.wait(limit)) {
    ADD_FAILURE() << "no callback within " << limit.count() << " ms";
    return {{"no callback", ""}, T{}};
  }
  return {r.status(), r.value()};
}

actors::user_profile profile(const std::string& id, const std::string& email) {
  actors::user_profile p;
  p.id = id;
  p.email = email;
  p.name = "Ann";
  p.region = "msk";
  p.password_hash = "pbkdf2-sha256$1000$00$11";
  return p;
}

/// An actor that takes every message and never answers.
caf::behavior silent(caf::event_based_actor* self, int) {
  self->set_default_handler(
      [](caf::scheduled_actor* s, caf::message_view&) -> caf::result<caf::message> {
        s->make_response_promise(); // dropped undelivered: no answer, ever
        return caf::delegated<caf::message>{};
      });
  return {[](int) {}};
}

class GatewayTest : public ::testing::Test {
protected:
  test::temp_dir dir_;
  const std::chrono::milliseconds deadline_ = 10s;
};

TEST_F(GatewayTest, AUserCreatedThroughTheGatewayIsReadBackAndIsDurable) {
  real_node node{dir_ / "data"};
  auto& gw = *node.gateway;
  auto [st, created] = call<actors::user_answer>([&](auto cb) {
    gw.user_create(profile("u_1", "ann@example.com"), deadline_, std::move(cb));
  });
  ASSERT_TRUE(st.ok()) << st.error << ": " << st.detail;
  EXPECT_EQ(created.code, "");
  EXPECT_EQ(created.profile.id, "u_1");
  EXPECT_GT(created.profile.created_at_ms, 0);
  // Confirmed means durable: the snapshot is in SQLite already.
  auto snap = node.store().load_snapshot("user", "u_1");
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(*snap);
  EXPECT_EQ(nlohmann::json::parse((*snap)->state)["profile"]["email"], "ann@example.com");

  auto [st2, got] =
      call<actors::user_answer>([&](auto cb) { gw.user_get("u_1", deadline_, std::move(cb)); });
  ASSERT_TRUE(st2.ok()) << st2.error;
  EXPECT_EQ(got.code, "");
  EXPECT_EQ(got.profile.email, "ann@example.com");
  EXPECT_EQ(got.profile.created_at_ms, created.profile.created_at_ms);

  auto [st3, again] = call<actors::user_answer>([&](auto cb) {
    gw.user_create(profile("u_1", "bob@example.com"), deadline_, std::move(cb));
  });
  EXPECT_TRUE(st3.ok()) << "the entity answered; its answer carries the code";
  EXPECT_EQ(again.code, "email_taken");
  EXPECT_EQ(again.profile.email, "ann@example.com");

  auto [st4, nobody] = call<actors::user_answer>(
      [&](auto cb) { gw.user_get("u_nobody", deadline_, std::move(cb)); });
  EXPECT_TRUE(st4.ok());
  EXPECT_EQ(nobody.code, "unknown_entity");
}

TEST_F(GatewayTest, EveryUserAndIdempotencyCallReachesItsEntity) {
  real_node node{dir_ / "data"};
  auto& gw = *node.gateway;
  auto [a, added] =
      call<bool>([&](auto cb) { gw.user_add_order("u_1", "o1", deadline_, std::move(cb)); });
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(added);
  call<bool>([&](auto cb) { gw.user_add_order("u_1", "o2", deadline_, std::move(cb)); });
  auto [p, page] = call<actors::user_orders_page>(
      [&](auto cb) { gw.user_orders("u_1", -1, 1, deadline_, std::move(cb)); });
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(page.order_ids, (std::vector<std::string>{"o2"}));
  EXPECT_EQ(page.next, 1);
  auto [o, owns] =
      call<bool>([&](auto cb) { gw.user_owns("u_1", "o1", deadline_, std::move(cb)); });
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(owns);
  auto [o2, owns_other] =
      call<bool>([&](auto cb) { gw.user_owns("u_2", "o1", deadline_, std::move(cb)); });
  ASSERT_TRUE(o2.ok());
  EXPECT_FALSE(owns_other);

  call<actors::wishlist_answer>([&](auto cb) { gw.wish_add("u_1", 5, deadline_, std::move(cb)); });
  auto [w, wished] = call<actors::wishlist_answer>(
      [&](auto cb) { gw.wish_add("u_1", 6, deadline_, std::move(cb)); });
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(wished.product_ids, (std::vector<std::int64_t>{6, 5}));
  auto [r, removed] = call<actors::wishlist_answer>(
      [&](auto cb) { gw.wish_remove("u_1", 9, deadline_, std::move(cb)); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(removed.code, "not_in_wishlist");
  auto [g, list] =
      call<actors::wishlist_answer>([&](auto cb) { gw.wishlist("u_1", deadline_, std::move(cb)); });
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(list.product_ids, (std::vector<std::int64_t>{6, 5}));

  auto [b, begun] = call<actors::idem_answer>(
      [&](auto cb) { gw.idem_begin("scope-1", "fp", true, deadline_, std::move(cb)); });
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(begun.code, "new");
  actors::stored_response resp{201, "application/json", "\"e\"", "/v1/x", "{\"ok\":true}"};
  auto [f, finished] = call<bool>([&](auto cb) {
    gw.idem_finish("scope-1", "fp", begun.attempt, resp, deadline_, std::move(cb));
  });
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(finished);
  auto [b2, replay] = call<actors::idem_answer>(
      [&](auto cb) { gw.idem_begin("scope-1", "fp", true, deadline_, std::move(cb)); });
  ASSERT_TRUE(b2.ok());
  EXPECT_EQ(replay.code, "done");
  EXPECT_EQ(replay.response.body, resp.body);
  EXPECT_EQ(replay.response.location, resp.location);
  call<actors::idem_answer>(
      [&](auto cb) { gw.idem_begin("scope-2", "fp", true, deadline_, std::move(cb)); });
  auto [ab, aborted] =
      call<bool>([&](auto cb) { gw.idem_abort("scope-2", "fp", 1, deadline_, std::move(cb)); });
  ASSERT_TRUE(ab.ok());
  EXPECT_TRUE(aborted);
}

TEST_F(GatewayTest, CallbacksRunOnAnotherThread) {
  real_node node{dir_ / "data"};
  result<actors::user_answer> r;
  node.gateway->user_get("u_1", deadline_, r.callback());
  ASSERT_TRUE(r.wait());
  EXPECT_NE(r.thread(), std::this_thread::get_id());
  EXPECT_EQ(r.calls(), 1);
}

TEST_F(GatewayTest, ACheckoutWhoseBankNeverAnswersEndsInTimeoutAtItsDeadline) {
  actors::bank_faults bank;
  bank.no_answer_rate = 1; // every bank call is swallowed: the order never gets its payment
  real_node node{dir_ / "data", bank};
  auto& gw = *node.gateway;
  auto [st, cart] = call<actors::cart_answer>([&](auto cb) {
    gw.cart_add("u_1", {"sku-a", 7, "Item", 1, 1000, 0}, deadline_, std::move(cb));
  });
  ASSERT_TRUE(st.ok()) << st.error;
  ASSERT_EQ(cart.code, "");

  result<actors::order_answer> r;
  auto start = clock_type::now();
  gw.checkout("u_1", {"o1", "k-o1", "RUB", "msk", "Moscow", "Tverskaya 1"}, 50ms, r.callback());
  ASSERT_TRUE(r.wait(5s)) << "the deadline ends the call";
  auto took = r.at() - start;
  EXPECT_EQ(r.status().error, "timeout") << r.status().detail;
  EXPECT_FALSE(r.status().ok());
  EXPECT_EQ(r.value().code, "") << "no answer: an empty value";
  EXPECT_EQ(r.value().status, "");
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 3s);
  // Exactly one callback, even if the order answers later.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(r.calls(), 1);

  // The node still answers other calls.
  auto [st2, got] =
      call<actors::cart_answer>([&](auto cb) { gw.cart_get("u_2", deadline_, std::move(cb)); });
  EXPECT_TRUE(st2.ok()) << st2.error;
}

TEST_F(GatewayTest, ADirectoryThatNeverAnswersEndsEveryCallInTimeout) {
  real_node node{dir_ / "data"};
  auto quiet = node.system().spawn(silent, 0);
  auto gw = actors::make_gateway(node.system(), quiet);
  std::vector<std::unique_ptr<result<actors::user_answer>>> rs;
  auto start = clock_type::now();
  for (int i = 0; i < 20; ++i) {
    rs.push_back(std::make_unique<result<actors::user_answer>>());
    gw->user_get("u_" + std::to_string(i), 50ms, rs.back()->callback());
  }
  for (auto& r : rs) {
    ASSERT_TRUE(r->wait(5s));
    EXPECT_EQ(r->status().error, "timeout");
    EXPECT_GE(r->at() - start, 50ms);
  }
  EXPECT_LT(clock_type::now() - start, 3s);
  gw.reset();
  caf::anon_send_exit(quiet, caf::exit_reason::user_shutdown);
}

TEST_F(GatewayTest, AStoppedDirectoryIsUnavailableAtOnce) {
  real_node node{dir_ / "data"};
  auto gone = node.system().spawn(silent, 0);
  {
    caf::scoped_actor me{node.system()};
    me->monitor(gone);
    caf::anon_send_exit(gone, caf::exit_reason::kill);
    bool down = false;
    me->receive([&](caf::down_msg&) { down = true; }, caf::after(5s) >> [] {});
    ASSERT_TRUE(down);
  }
  auto gw = actors::make_gateway(node.system(), gone);
  auto start = clock_type::now();
  auto [st, value] =
      call<actors::user_answer>([&](auto cb) { gw->user_get("u_1", 5s, std::move(cb)); }, 6s);
  EXPECT_EQ(st.error, "unavailable") << st.detail;
  EXPECT_FALSE(st.detail.empty());
  EXPECT_EQ(value.code, "");
  EXPECT_LT(clock_type::now() - start, 2s) << "not a timeout";
}

TEST_F(GatewayTest, AWriteTheStoreRefusesEndsInStoreFailed) {
  real_node node{dir_ / "data", {}, std::make_shared<refusing_sink>()};
  auto [st, value] = call<actors::user_answer>([&](auto cb) {
    node.gateway->user_create(profile("u_1", "ann@example.com"), deadline_, std::move(cb));
  });
  EXPECT_EQ(st.error, "store_failed") << st.detail;
  EXPECT_FALSE(st.detail.empty());
  EXPECT_EQ(value.code, "") << "no answer: an empty value";
  EXPECT_EQ(value.profile.email, "");
}

/// A directory that answers `user_get` for keys starting with "ok" (after `delay`) and never
/// answers any other key; it counts the calls it holds unanswered.
struct picky_state {
  std::vector<std::pair<std::string, caf::response_promise>> held;
  static inline const char* name = "picky";
};

caf::behavior picky(caf::stateful_actor<picky_state>* self, std::chrono::milliseconds delay) {
  return {
      [self, delay](actors::route_atom, const actors::entity_ref& ref,
                    caf::message&) -> caf::result<actors::user_answer> {
        // (A promise, once made, takes the answer over: make one only when holding it.)
        if (ref.key.rfind("ok", 0) != 0) {
          auto rp = self->make_response_promise<actors::user_answer>();
          self->state.held.emplace_back(ref.key, rp); // kept, never delivered
          return rp;
        }
        actors::user_answer a;
        a.profile.id = ref.key;
        if (delay == 0ms)
          return a;
        auto rp = self->make_response_promise<actors::user_answer>();
        self->delayed_send(self, delay, caf::atom("answer"), ref.key);
        self->state.held.emplace_back(ref.key, rp);
        return rp;
      },
      [self](caf::atom_value, const std::string& key) {
        // The delayed answer for `key`.
        auto& held = self->state.held;
        auto it = std::find_if(held.begin(), held.end(), [&](auto& h) { return h.first == key; });
        if (it == held.end())
          return;
        actors::user_answer a;
        a.profile.id = key;
        it->second.deliver(a);
        held.erase(it);
      },
  };
}

/// A gateway of `workers` worker actors with `window` open calls each, over the directory `dir`.
std::shared_ptr<actors::entity_gateway> gateway_over(real_node& node, const caf::actor& dir,
                                                     std::size_t workers, std::size_t window) {
  actors::gateway_limits limits;
  limits.actors = workers;
  limits.window = window;
  return actors::make_gateway(node.system(), dir, limits);
}

TEST_F(GatewayTest, CallsBeyondTheWindowWaitTheirTurnAndAllAreAnswered) {
  real_node node{dir_ / "data"};
  auto dir = node.system().spawn(picky, 5ms);
  auto gw = gateway_over(node, dir, 2, 3);
  std::vector<std::unique_ptr<result<actors::user_answer>>> rs;
  for (int i = 0; i < 60; ++i) {
    rs.push_back(std::make_unique<result<actors::user_answer>>());
    gw->user_get("ok_" + std::to_string(i), 10s, rs.back()->callback());
  }
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(rs[i]->wait(10s)) << i;
    EXPECT_TRUE(rs[i]->status().ok()) << rs[i]->status().error;
    EXPECT_EQ(rs[i]->value().profile.id, "ok_" + std::to_string(i));
  }
  gw.reset();
  caf::anon_send_exit(dir, caf::exit_reason::user_shutdown);
}

TEST_F(GatewayTest, QueuedCallsEndAtTheirOwnDeadline) {
  real_node node{dir_ / "data"};
  auto dir = node.system().spawn(picky, 0ms);
  auto gw = gateway_over(node, dir, 1, 100); // no retirement in this test
  // 100 silent calls fill the window with 10 s deadlines; the next calls queue behind them.
  std::vector<std::unique_ptr<result<actors::user_answer>>> held;
  for (int i = 0; i < 100; ++i) {
    held.push_back(std::make_unique<result<actors::user_answer>>());
    gw->user_get("silent_" + std::to_string(i), 10s, held.back()->callback());
  }
  result<actors::user_answer> queued;
  auto start = clock_type::now();
  gw->user_get("ok_late", 100ms, queued.callback());
  ASSERT_TRUE(queued.wait(5s));
  EXPECT_EQ(queued.status().error, "timeout");
  EXPECT_GE(queued.at() - start, 100ms);
  EXPECT_LT(queued.at() - start, 2s) << "ended at its own deadline, not the held calls'";
  // Ending the gateway ends the held calls, once each.
  gw.reset();
  for (auto& r : held) {
    ASSERT_TRUE(r->wait(5s));
    EXPECT_EQ(r->status().error, "unavailable");
  }
  std::this_thread::sleep_for(50ms);
  for (auto& r : held)
    EXPECT_EQ(r->calls(), 1);
  caf::anon_send_exit(dir, caf::exit_reason::user_shutdown);
}

TEST_F(GatewayTest, AWorkerFullOfCallsThatNeverEndIsReplacedAndCallsFlowAgain) {
  real_node node{dir_ / "data"};
  auto dir = node.system().spawn(picky, 0ms);
  auto gw = gateway_over(node, dir, 1, 4);
  // Rounds of calls that never get an answer: without a successor the window would stay full
  // of them forever and every later call would wait in the queue until its deadline.
  for (int round = 0; round < 5; ++round) {
    std::vector<std::unique_ptr<result<actors::user_answer>>> lost;
    for (int i = 0; i < 4; ++i) {
      lost.push_back(std::make_unique<result<actors::user_answer>>());
      gw->user_get("silent_" + std::to_string(round * 4 + i), 30ms, lost.back()->callback());
    }
    for (auto& r : lost) {
      ASSERT_TRUE(r->wait(5s));
      EXPECT_EQ(r->status().error, "timeout");
    }
    auto [st, a] = call<actors::user_answer>(
        [&](auto cb) { gw->user_get("ok_" + std::to_string(round), 2s, std::move(cb)); });
    EXPECT_TRUE(st.ok()) << "round " << round << ": " << st.error;
    EXPECT_EQ(a.profile.id, "ok_" + std::to_string(round));
  }
  gw.reset();
  caf::anon_send_exit(dir, caf::exit_reason::user_shutdown);
}

TEST_F(GatewayTest, CallsHeldWhenTheDirectoryStopsEndUnavailableAndLaterCallsToo) {
  real_node node{dir_ / "data"};
  auto dir = node.system().spawn(picky, 0ms);
  auto gw = gateway_over(node, dir, 2, 2);
  std::vector<std::unique_ptr<result<actors::user_answer>>> rs;
  for (int i = 0; i < 10; ++i) { // 4 open, 6 queued
    rs.push_back(std::make_unique<result<actors::user_answer>>());
    gw->user_get("silent_" + std::to_string(i), 30s, rs.back()->callback());
  }
  std::this_thread::sleep_for(50ms);
  auto start = clock_type::now();
  caf::anon_send_exit(dir, caf::exit_reason::kill);
  for (auto& r : rs) {
    ASSERT_TRUE(r->wait(5s));
    EXPECT_EQ(r->status().error, "unavailable") << r->status().detail;
  }
  EXPECT_LT(clock_type::now() - start, 3s) << "not at the 30 s deadline";
  auto [st, a] =
      call<actors::user_answer>([&](auto cb) { gw->user_get("ok_1", 5s, std::move(cb)); });
  EXPECT_EQ(st.error, "unavailable");
  EXPECT_LT(clock_type::now() - start, 3s);
}

TEST_F(GatewayTest, TwoThousandConcurrentCallsAllGetTheirCallbacks) {
  real_node node{dir_ / "data"};
  auto& gw = *node.gateway;
  constexpr int users = 20;
  constexpr int per_user = 100;
  constexpr int threads = 4;
  std::mutex mtx;
  std::condition_variable cv;
  int done = 0;
  int ok = 0;
  std::map<std::string, int> errors;
  auto on_answer = [&](call_status st, bool added) {
    std::lock_guard<std::mutex> lock{mtx};
    ++done;
    if (st.ok() && added)
      ++ok;
    else
      ++errors[st.error + " " + st.detail];
    cv.notify_all();
  };
  // Four callers at once, each with its share of the 2,000 calls.
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      for (int i = t; i < users * per_user; i += threads) {
        auto user = "u_" + std::to_string(i % users);
        auto order = "o" + std::to_string(i);
        gw.user_add_order(user, order, 30s, on_answer);
      }
    });
  for (auto& c : callers)
    c.join();
  {
    std::unique_lock<std::mutex> lock{mtx};
    ASSERT_TRUE(cv.wait_for(lock, 120s, [&] { return done == users * per_user; }))
        << done << " callbacks of " << users * per_user;
    EXPECT_EQ(ok, users * per_user);
    for (auto& [e, n] : errors)
      ADD_FAILURE() << n << " calls failed: " << e;
  }
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard<std::mutex> lock{mtx};
    EXPECT_EQ(done, users * per_user) << "one callback per call";
  }
  // Every order is in its user's index once.
  for (int u = 0; u < users; ++u) {
    auto [st, page] = call<actors::user_orders_page>([&](auto cb) {
      gw.user_orders("u_" + std::to_string(u), -1, 1000, deadline_, std::move(cb));
    });
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(page.order_ids.size(), static_cast<std::size_t>(per_user));
    std::set<std::string> unique(page.order_ids.begin(), page.order_ids.end());
    EXPECT_EQ(unique.size(), static_cast<std::size_t>(per_user));
    for (auto& id : unique)
      EXPECT_EQ(std::stoi(id.substr(1)) % users, u) << id;
  }
}

} // namespace
} // namespace souk
