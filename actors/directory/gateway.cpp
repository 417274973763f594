#include "actors/directory/gateway.hpp"

#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/errors.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <iterator>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

namespace souk::actors {

namespace {

call_status status_of(caf::actor_system& sys, const caf::error& e) {
  if (e.category() == caf::atom("system") &&
      e.code() == static_cast<std::uint8_t>(caf::sec::request_timeout))
    return {"timeout", "no answer within the deadline"};
  if (e.category() == caf::atom("souk")) {
    auto code = static_cast<errc>(e.code());
    return {to_string(code), sys.render(e)};
  }
  return {"unavailable", sys.render(e)};
}

using clock_type = std::chrono::steady_clock;
using gw_wake_atom = caf::atom_constant<caf::atom("gw_wake")>;
using gw_tick_atom = caf::atom_constant<caf::atom("gw_tick")>;

/// One call through the gateway. Lives in a lane's queue, then in its worker's open set until
/// it ends: with the entity's answer, an error, or its deadline — whichever comes first, once.
struct call : std::enable_shared_from_this<call> {
  virtual ~call() = default;
  /// Sends the request from `self` (with no CAF timeout: the worker keeps the deadline) and
  /// calls `ended` once the answer or an error is back, on the worker.
  virtual void send(caf::event_based_actor* self, const caf::actor& directory,
                    std::function<void()> ended) = 0;
  /// Ends the call without an answer.
  virtual void fail(call_status status) = 0;

  clock_type::time_point deadline;
  std::chrono::milliseconds timeout{0};
  bool done = false;      ///< the callback ran (worker only)
  bool abandoned = false; ///< ended at its deadline, its answer still to come (worker only)
};

template <class T>
struct typed_call final : call {
  typed_call(caf::actor_system& s, entity_ref r, caf::message m, entity_gateway::callback<T> c)
      : sys(&s), ref(std::move(r)), msg(std::move(m)), cb(std::move(c)) {}

  void send(caf::event_based_actor* self, const caf::actor& directory,
            std::function<void()> ended) override {
    self->request(directory, caf::infinite, route_atom_v, std::move(ref), std::move(msg))
        .then(
            [this, keep = shared_from_this(), ended](T& answer) {
              if (!done) {
                done = true;
                cb({}, std::move(answer));
              }
              ended();
            },
            [this, keep = shared_from_this(), ended](caf::error& e) {
              if (!done) {
                done = true;
                cb(status_of(*sys, e), T{});
              }
              ended();
            });
  }

  void fail(call_status status) override {
    if (done)
      return;
    done = true;
    cb(std::move(status), T{});
  }

  caf::actor_system* sys;
  entity_ref ref;
  caf::message msg;
  entity_gateway::callback<T> cb;
};

/// A call whose gateway cannot take it (its directory is down): one short-lived actor sends
/// it with a CAF timeout, as a gateway without workers would.
void spawn_single_call(caf::actor_system& sys, const caf::actor& directory,
                       std::shared_ptr<call> c) {
  // The spawn gets one (unused) argument: CAF 0.17.6 dereferences an empty argument tuple of a
  // function-based actor, which _GLIBCXX_ASSERTIONS rejects.
  sys.spawn(
      [directory, c = std::move(c)](caf::event_based_actor* self, int) mutable {
        self->delayed_send(self, c->timeout, gw_tick_atom::value);
        c->send(self, directory, [self] { self->quit(); });
        self->become([self, c](gw_tick_atom) {
          c->fail({"timeout", "no answer within the deadline"});
          self->quit();
        });
      },
      0);
}

/// What the callers and one worker actor share: the calls waiting for a free slot.
struct call_lane {
  std::mutex mtx;
  std::deque<std::shared_ptr<call>> queue;
  /// The worker will look at the queue again without a wake message.
  bool signalled = false;
  /// The directory is down or the gateway is gone: no worker takes calls any more.
  bool closed = false;
  caf::actor worker;
};

struct worker_state {
  std::shared_ptr<call_lane> lane;
  caf::actor directory;
  gateway_limits limits;
  /// Calls sent and not yet answered, including `abandoned` ones.
  std::vector<std::shared_ptr<call>> open;
  /// Calls that ended at their deadline whose answer has not come (yet): CAF still holds a
  /// handler for each.
  std::size_t abandoned = 0;
  bool tick_pending = false;
  /// A successor took the lane: take no more calls, stop once the answered ones are done.
  bool retiring = false;
  static inline const char* name = "souk.gateway";
};

using worker_actor = caf::stateful_actor<worker_state>;

caf::behavior gateway_worker(worker_actor* self, std::shared_ptr<call_lane> l, caf::actor directory,
                             gateway_limits limits);

/// Ends every call the worker holds or its lane queues with `status`, and closes the lane.
void close_lane(worker_actor* self, const call_status& status) {
  auto& st = self->state;
  std::deque<std::shared_ptr<call>> queued;
  {
    std::lock_guard<std::mutex> guard{st.lane->mtx};
    if (!st.retiring) { // a retiring worker's lane belongs to its successor
      st.lane->closed = true;
      queued.swap(st.lane->queue);
    }
  }
  for (auto& c : queued)
    c->fail(status);
  for (auto& c : st.open)
    c->fail(status);
  st.open.clear();
}

void schedule_tick(worker_actor* self) {
  auto& st = self->state;
  if (st.tick_pending || st.open.empty())
    return;
  st.tick_pending = true;
  self->delayed_send(self, st.limits.tick, gw_tick_atom::value);
}

void pull(worker_actor* self);

/// The call `c` has its answer (or error): its slot is free.
void on_ended(worker_actor* self, call* c) {
  auto& st = self->state;
  auto it = std::find_if(st.open.begin(), st.open.end(),
                         [c](const std::shared_ptr<call>& o) { return o.get() == c; });
  if (it == st.open.end())
    return; // the worker closed meanwhile
  if (c->abandoned)
    --st.abandoned;
  *it = std::move(st.open.back());
  st.open.pop_back();
  if (st.retiring) {
    if (st.open.size() == st.abandoned)
      self->quit();
    return;
  }
  pull(self);
}

/// Takes queued calls into free slots and sends them.
void pull(worker_actor* self) {
  auto& st = self->state;
  std::vector<std::shared_ptr<call>> taken;
  {
    std::lock_guard<std::mutex> guard{st.lane->mtx};
    auto& q = st.lane->queue;
    while (st.open.size() + taken.size() < st.limits.window && !q.empty()) {
      taken.push_back(std::move(q.front()));
      q.pop_front();
    }
    if (q.empty())
      st.lane->signalled = false; // otherwise the next free slot pulls again
  }
  for (auto& c : taken) {
    st.open.push_back(c);
    c->send(self, st.directory, [self, raw = c.get()] { on_ended(self, raw); });
  }
  schedule_tick(self);
}

/// Ends the calls whose deadline passed; retires the worker when too many of its slots hold
/// calls whose answer may never come.
void on_tick(worker_actor* self) {
  auto& st = self->state;
  st.tick_pending = false;
  auto now = clock_type::now();
  for (auto& c : st.open)
    if (!c->abandoned && c->deadline <= now) {
      c->fail({"timeout", "no answer within the deadline"});
      c->abandoned = true;
      ++st.abandoned;
    }
  if (st.retiring) {
    if (st.open.size() == st.abandoned)
      return self->quit();
    return schedule_tick(self);
  }
  std::vector<std::shared_ptr<call>> expired;
  {
    std::lock_guard<std::mutex> guard{st.lane->mtx};
    auto& q = st.lane->queue;
    auto keep = std::stable_partition(
        q.begin(), q.end(), [now](const std::shared_ptr<call>& c) { return c->deadline > now; });
    expired.assign(std::make_move_iterator(keep), std::make_move_iterator(q.end()));
    q.erase(keep, q.end());
  }
  for (auto& c : expired)
    c->fail({"timeout", "no answer within the deadline"});
  if (st.abandoned * 2 >= st.limits.window) {
    // A successor with a clean slate takes the lane; this worker's abandoned handlers go
    // with it once its other calls are answered.
    st.retiring = true;
    auto next = self->spawn(gateway_worker, st.lane, st.directory, st.limits);
    {
      std::lock_guard<std::mutex> guard{st.lane->mtx};
      st.lane->worker = next;
      st.lane->signalled = true;
    }
    self->send(next, gw_wake_atom::value);
    if (st.open.size() == st.abandoned)
      return self->quit();
  }
  schedule_tick(self);
}

caf::behavior gateway_worker(worker_actor* self, std::shared_ptr<call_lane> l, caf::actor directory,
                             gateway_limits limits) {
  auto& st = self->state;
  st.lane = std::move(l);
  st.directory = directory;
  st.limits = limits;
  st.open.reserve(limits.window);
  self->monitor(directory);
  self->set_down_handler([self](caf::down_msg&) {
    close_lane(self, {"unavailable", "the directory stopped"});
    self->quit();
  });
  self->set_exit_handler([self](caf::exit_msg& m) {
    close_lane(self, {"unavailable", "the gateway stopped"});
    self->quit(m.reason);
  });
  return {
      [self](gw_wake_atom) {
        if (!self->state.retiring)
          pull(self);
      },
      [self](gw_tick_atom) { on_tick(self); },
  };
}

class caf_gateway final : public entity_gateway {
public:
  caf_gateway(caf::actor_system& sys, caf::actor directory, gateway_limits limits)
      : sys_(sys), directory_(std::move(directory)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(limits.actors, 1); ++i) {
      auto l = std::make_shared<call_lane>();
      l->worker = sys_.spawn(gateway_worker, l, directory_, limits);
      lanes_.push_back(std::move(l));
    }
  }

  ~caf_gateway() override {
    for (auto& l : lanes_) {
      caf::actor worker;
      {
        std::lock_guard<std::mutex> guard{l->mtx};
        if (l->closed) // its worker ended with the directory (maybe with the actor system)
          continue;
        worker = l->worker;
      }
      caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    }
  }

  void cart_get(const std::string& owner, millis d, callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_get_atom::value);
  }
  void cart_add(const std::string& owner, cart_add_cmd cmd, millis d,
                callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_add_atom::value, std::move(cmd));
  }
  void cart_set(const std::string& owner, cart_set_cmd cmd, millis d,
                callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_set_atom::value, std::move(cmd));
  }
  void cart_remove(const std::string& owner, cart_remove_cmd cmd, millis d,
                   callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_remove_atom::value, std::move(cmd));
  }
  void cart_clear(const std::string& owner, std::int64_t expected_version, millis d,
                  callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_clear_atom::value, expected_version);
  }
  void cart_merge(const std::string& owner, cart_merge_cmd cmd, millis d,
                  callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_merge_atom::value, std::move(cmd));
  }
  void checkout(const std::string& owner, cart_checkout_cmd cmd, millis d,
                callback<order_answer> cb) override {
    ask<order_answer>({"cart", owner}, d, std::move(cb), cart_checkout_atom::value, std::move(cmd));
  }
  void order_view(const std::string& id, millis d, callback<order_answer> cb) override {
    ask<order_answer>({"order", id}, d, std::move(cb), order_view_atom::value);
  }
  void order_cancel(const std::string& id, millis d, callback<order_answer> cb) override {
    ask<order_answer>({"order", id}, d, std::move(cb), cancel_atom::value);
  }
  void order_return(const std::string& id, std::vector<checkout_line> lines, std::string reason,
                    millis d, callback<order_answer> cb) override {
    ask<order_answer>({"order", id}, d, std::move(cb), return_atom::value, std::move(lines),
                      std::move(reason));
  }
  void user_create(user_profile p, millis d, callback<user_answer> cb) override {
    auto key = p.id;
    ask<user_answer>({"user", key}, d, std::move(cb), user_create_atom::value, std::move(p));
  }
  void user_get(const std::string& id, millis d, callback<user_answer> cb) override {
    ask<user_answer>({"user", id}, d, std::move(cb), user_get_atom::value);
  }
  void user_add_order(const std::string& id, const std::string& order_id, millis d,
                      callback<bool> cb) override {
    ask<bool>({"user", id}, d, std::move(cb), user_add_order_atom::value, order_id);
  }
  void user_orders(const std::string& id, std::int64_t before, std::int64_t limit, millis d,
                   callback<user_orders_page> cb) override {
    ask<user_orders_page>({"user", id}, d, std::move(cb), user_orders_atom::value, before, limit);
  }
  void user_owns(const std::string& id, const std::string& order_id, millis d,
                 callback<bool> cb) override {
    ask<bool>({"user", id}, d, std::move(cb), user_owns_atom::value, order_id);
  }
  void wishlist(const std::string& id, millis d, callback<wishlist_answer> cb) override {
    ask<wishlist_answer>({"user", id}, d, std::move(cb), wish_get_atom::value);
  }
  void wish_add(const std::string& id, std::int64_t product_id, millis d,
                callback<wishlist_answer> cb) override {
    ask<wishlist_answer>({"user", id}, d, std::move(cb), wish_add_atom::value, product_id);
  }
  void wish_remove(const std::string& id, std::int64_t product_id, millis d,
                   callback<wishlist_answer> cb) override {
    ask<wishlist_answer>({"user", id}, d, std::move(cb), wish_remove_atom::value, product_id);
  }
  void idem_begin(const std::string& scope, const std::string& fingerprint, bool durable_mark,
                  millis d, callback<idem_answer> cb) override {
    ask<idem_answer>({"idem", scope}, d, std::move(cb), idem_begin_atom::value, fingerprint,
                     durable_mark);
  }
  void idem_finish(const std::string& scope, const std::string& fingerprint, std::int64_t attempt,
                   stored_response r, millis d, callback<bool> cb) override {
    ask<bool>({"idem", scope}, d, std::move(cb), idem_finish_atom::value, fingerprint, attempt,
              std::move(r));
  }
  void idem_abort(const std::string& scope, const std::string& fingerprint, std::int64_t attempt,
                  millis d, callback<bool> cb) override {
    ask<bool>({"idem", scope}, d, std::move(cb), idem_abort_atom::value, fingerprint, attempt);
  }

private:
  template <class T, class... Ts>
  void ask(entity_ref ref, millis deadline, callback<T> cb, Ts&&... xs) {
    auto c = std::make_shared<typed_call<T>>(
        sys_, std::move(ref), caf::make_message(std::forward<Ts>(xs)...), std::move(cb));
    c->deadline = clock_type::now() + deadline;
    c->timeout = deadline;
    auto& l = *lanes_[next_lane_.fetch_add(1, std::memory_order_relaxed) % lanes_.size()];
    caf::actor wake;
    {
      std::lock_guard<std::mutex> guard{l.mtx};
      if (!l.closed) {
        l.queue.push_back(c);
        if (!l.signalled) {
          l.signalled = true;
          wake = l.worker;
        }
        c = nullptr;
      }
    }
    if (c != nullptr) // the directory is gone: one short-lived actor says so, as before
      return spawn_single_call(sys_, directory_, std::move(c));
    if (wake)
      caf::anon_send(wake, gw_wake_atom::value);
  }

  caf::actor_system& sys_;
  caf::actor directory_;
  std::vector<std::shared_ptr<call_lane>> lanes_;
  std::atomic<std::size_t> next_lane_{0};
};

} // namespace

std::shared_ptr<entity_gateway> make_gateway(caf::actor_system& sys, caf::actor directory,
                                             gateway_limits limits) {
  return std::make_shared<caf_gateway>(sys, std::move(directory), limits);
}

} // namespace souk::actors
