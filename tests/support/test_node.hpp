#pragma once

// A whole single node of entity actors on CAF's deterministic scheduler, over a real SQLite
// store: nothing runs until the test calls `settle()` (deliver every message and make every
// pending snapshot write durable, repeatedly, until nothing moves) or `advance(d)` (move the
// clock, fire the timers that are due, settle). Snapshot writes are held until `settle` drains
// them, so a test can also stop a node with writes not yet durable, as a crash would.
//
// Faults the entities cannot produce themselves: a message filter looks at every message before
// the actor it is queued for handles it and may drop it, hold it back (to release it later, e.g.
// after a deadline passed) or duplicate it; `crash()` makes the node lose every write not yet
// durable and every message in flight, as a killed process does; `step()` runs one message so a
// test can choose the schedule itself.

#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/register.hpp"
#include "actors/common/entity_context.hpp"
#include "actors/directory/node_entities.hpp"
#include "actors/payment/bank_sim.hpp"
#include "persistence/store.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>

namespace souk::test {

/// Snapshot writes held until `drain`, then written through the store's real writer and
/// acknowledged on the test thread (CAF's test scheduler is single-threaded).
class deferred_sink : public actors::snapshot_sink {
public:
  explicit deferred_sink(persistence::store& store) : store_(store) {}

  void save(persistence::snapshot s, std::function<void(bool)> done) override {
    if (crashed_)
      return; // the process is gone: nothing is written, nobody is told
    pending_.emplace_back(std::move(s), std::move(done));
  }
  std::optional<persistence::snapshot> load(const std::string& kind,
                                            const std::string& key) override {
    auto r = store_.load_snapshot(kind, key);
    return r.ok() ? *r : std::nullopt;
  }
  std::vector<std::string> keys_with(const std::string& kind, const std::string& needle) override {
    std::vector<std::string> out;
    auto r = store_.list_snapshots(kind, "", 1'000'000);
    if (r.ok())
      for (auto& s : *r)
        if (s.state.find(needle) != std::string::npos)
          out.push_back(s.key);
    return out;
  }

  /// Writes every held snapshot in one batch and acknowledges them; returns how many.
  /// With `fail` set the writes are dropped and acknowledged as failed (a broken disk).
  /// Writes `gate` refuses stay held (a slow disk for some entities).
  std::size_t drain() {
    if (gate) {
      decltype(pending_) keep;
      decltype(pending_) take;
      for (auto& p : pending_)
        (gate(p.first) ? take : keep).push_back(std::move(p));
      pending_ = std::move(keep);
      return write(std::move(take));
    }
    auto batch = std::move(pending_);
    pending_.clear();
    return write(std::move(batch));
  }

  std::size_t held() const { return pending_.size(); }

  /// Like `drain`, but only the held writes for which `pick(snapshot)` is true (the others stay
  /// held, in order): writes of different entities become durable in any order.
  std::size_t drain_if(const std::function<bool(const persistence::snapshot&)>& pick) {
    decltype(pending_) keep;
    decltype(pending_) take;
    for (auto& p : pending_)
      (pick(p.first) ? take : keep).push_back(std::move(p));
    pending_ = std::move(take);
    auto n = drain();
    for (auto& p : pending_) // refused by the gate
      keep.push_back(std::move(p));
    pending_ = std::move(keep);
    return n;
  }

  /// While set, only the writes it returns true for are made durable by `drain`.
  std::function<bool(const persistence::snapshot&)> gate;

  /// A crash: every held write is lost unacknowledged, and so is every later one.
  void crash() {
    crashed_ = true;
    lost += pending_.size();
    pending_.clear();
  }
  bool crashed() const { return crashed_; }
  /// The process runs again: writes are taken (and held) as before the crash.
  void recover() { crashed_ = false; }
  std::size_t lost = 0; ///< writes a crash threw away

  bool fail = false;
  std::size_t writes = 0;

private:
  std::size_t
  write(std::vector<std::pair<persistence::snapshot, std::function<void(bool)>>> batch) {
    if (batch.empty())
      return 0;
    auto results = std::make_shared<std::vector<bool>>(batch.size(), false);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (fail)
        continue;
      persistence::write_request req;
      req.ops.emplace_back(persistence::put_snapshot{batch[i].first});
      req.done = [results, i](const persistence::status& st) { (*results)[i] = st.ok(); };
      EXPECT_TRUE(store_.writer().submit(std::move(req)).ok());
    }
    store_.writer().flush();
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i].second((*results)[i]);
    writes += batch.size();
    return batch.size();
  }

  persistence::store& store_;
  std::vector<std::pair<persistence::snapshot, std::function<void(bool)>>> pending_;
  bool crashed_ = false;
};

/// What a message filter does with a message about to be handled.
enum class fate {
  deliver,   ///< handle it now
  drop,      ///< lose it (a request's sender sees its timeout)
  hold,      ///< take it out of the mailbox; `release_held` queues it again later
  duplicate, ///< handle it now, and queue an identical copy (same sender and request id) after
};

/// A message as a filter sees it: queued for `receiver`, next to be handled.
struct message_view {
  caf::actor_id receiver = 0;
  const caf::mailbox_element* element = nullptr;
  bool to_directory = false;
  bool to_bank = false;
  /// For `(route_atom, entity_ref, message)` sent to the directory: the entity and the message
  /// it will be given.
  bool routed = false;
  actors::entity_ref target;
  /// The first atom of the message (of the routed message, when routed) as text, "" if none.
  std::string atom;
  bool response = false; ///< an answer to a request
  bool copy = false;     ///< a copy made by `fate::duplicate`

  /// The message's (or the routed message's) content.
  const caf::type_erased_tuple& content() const {
    return routed ? element->content().get_as<caf::message>(2).content() : element->content();
  }
  /// The `i`-th element of the content as `T`, or nullptr when it is not one.
  template <class T>
  const T* get(std::size_t i) const {
    auto& c = content();
    if (i >= c.size() || !c.template match_element<T>(i))
      return nullptr;
    return &c.template get_as<T>(i);
  }
};

using message_filter = std::function<fate(const message_view&)>;

/// Settings of a test node.
struct node_options {
  actors::bank_faults bank;
  actors::saga_settings saga;
  std::chrono::milliseconds wms_step{1'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds tombstone_ttl{86'400'000}; ///< SKUs prune ended reservations
  /// Initial stock: sku → {warehouse → on_hand}.
  std::map<std::string, std::map<std::string, std::int64_t>> stock;
  /// Hears the orders' events (as the HTTP edge's event hub does); may be null.
  std::shared_ptr<actors::order_event_listener> order_events;
  /// Hears the SKUs' stock levels (as the catalog's availability view does); may be null.
  std::shared_ptr<actors::stock_listener> availability;
};

/// One node: actor system on the test scheduler, directory, bank, entity kinds, real store.
class test_node {
public:
  /// Wall-clock origin of every test node: fixed, so timelines are reproducible.
  static constexpr std::int64_t origin_ms = 1'800'000'000'000;

  test_node(const std::string& data_dir, node_options opts, std::int64_t start_ms = origin_ms)
      : sys_(configure(cfg_)),
        sched_(dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())),
        self_(sys_, true), start_ms_(start_ms), start_clock_(sched_.clock().now()) {
    config::store_settings ss;
    auto opened = persistence::store::open(data_dir, ss);
    if (!opened.ok())
      throw std::runtime_error("test_node: " + opened.error().message);
    store_ = std::move(*opened);
    sink_ = std::make_shared<deferred_sink>(*store_);
    actors::entity_context ctx;
    ctx.store = sink_;
    ctx.now_ms = [this] { return now_ms(); };
    ctx.idle_timeout = opts.idle_timeout;
    ctx.stop_timeout = stop_timeout_;
    ctx.stock_tombstone_ttl = opts.tombstone_ttl;
    ctx.saga = opts.saga;
    ctx.order_events = opts.order_events;
    ctx.availability = opts.availability;
    ctx.wms_step = opts.wms_step;
    ctx.warehouses = {{"wh-msk", "msk"}, {"wh-spb", "spb"}, {"wh-ekb", "ekb"}};
    ctx.delivery_days = [](const std::string& from, const std::string& to) {
      static const std::map<std::string, int> pos = {{"msk", 0}, {"spb", 1}, {"ekb", 3}};
      auto a = pos.count(from) ? pos.at(from) : 5;
      auto b = pos.count(to) ? pos.at(to) : 5;
      return 1 + (a > b ? a - b : b - a);
    };
    auto stock = opts.stock;
    ctx.initial_stock_of = [stock](const std::string& sku) {
      std::vector<actors::initial_stock> out;
      auto it = stock.find(sku);
      if (it != stock.end())
        for (auto& [wh, n] : it->second)
          out.push_back({wh, n});
      return out;
    };
    entities_ = actors::start_node_entities(sys_, std::move(ctx), opts.bank);
    directory_ = entities_.directory;
    bank_ = entities_.bank;
    // A buyer or client whose answers nobody reads: `post` sends as it. It must not answer
    // back (CAF sends a handler's result, even an error, to the sender of a one-way message,
    // and an actor without an error handler stops on an error message). Spawned with an
    // argument: CAF 0.17 dereferences a null tuple for a function spawned without any.
    client_ = sys_.spawn(
        [](caf::event_based_actor* self, int) -> caf::behavior {
          self->set_default_handler([](caf::scheduled_actor*, caf::message_view&) {
            return caf::result<caf::message>{caf::message{}}; // empty: no answer is sent
          });
          self->set_error_handler([](caf::scheduled_actor*, caf::error&) {});
          return {[](const std::string&) {}};
        },
        0);
  }

  ~test_node() {
    // Entities hold the context (and so the sink); stop them before the store closes.
    filter_ = nullptr;
    held_.clear();
    released_.clear();
    sink_->gate = nullptr;
    if (!sink_->crashed()) {
      sched_.run();
      sink_->drain();
    }
    // The stop: each entity writes what is unwritten, then stops, then the directory. Writes
    // a crashed sink never completes leave their entities to the directory's deadline.
    anon_send_exit(directory_, caf::exit_reason::user_shutdown);
    anon_send_exit(bank_, caf::exit_reason::user_shutdown);
    anon_send_exit(client_, caf::exit_reason::user_shutdown);
    sched_.run();
    while (!sink_->crashed() && sink_->drain() > 0)
      sched_.run();
    sched_.advance_time(stop_timeout_ + std::chrono::seconds(1));
    sched_.run();
  }

  std::int64_t now_ms() const {
    return start_ms_ + std::chrono::duration_cast<std::chrono::milliseconds>(sched_.clock().now() -
                                                                             start_clock_)
                           .count();
  }

  /// Delivers every message and makes every held write durable until nothing moves.
  void settle() {
    for (int round = 0; round < 100'000; ++round) {
      std::size_t ran = 0;
      while (step())
        ++ran;
      auto wrote = sink_->drain();
      if (ran == 0 && wrote == 0)
        return;
    }
    ADD_FAILURE() << "test_node::settle did not come to rest";
  }

  /// Runs the first queued actor for one message (after the filter, if any, had its say about
  /// that message). False when no actor has anything to do. Writes stay held.
  bool step() {
    while (!sched_.jobs.empty()) {
      auto* actor = dynamic_cast<caf::scheduled_actor*>(sched_.jobs.front());
      if (actor != nullptr && entities_seen_.count(actor->id()) == 0 &&
          actor->id() != directory_.id() && actor->id() != bank_.id() &&
          actor->id() != client_.id())
        entities_seen_.emplace(actor->id(), caf::actor_cast<caf::actor>(actor));
      // (CAF's own, compiled function: the inline mailbox templates trip UBSan's vptr check.)
      caf::mailbox_element* head = actor ? actor->peek_at_next_mailbox_element() : nullptr;
      if (!filter_ || head == nullptr) {
        sched_.run_once();
        return true;
      }
      // A message released after it was held was judged already: it goes through.
      auto view = describe(*actor, *head);
      auto verdict = released_.erase(head) > 0 ? fate::deliver : filter_(view);
      if (verdict == fate::deliver) {
        sched_.run_once();
        return true;
      }
      if (verdict == fate::duplicate) {
        auto again = caf::make_mailbox_element(head->sender, head->mid, head->stages,
                                               head->copy_content_to_message());
        copies_.insert(again.get());
        auto keep = caf::actor_cast<caf::actor>(actor); // it may stop handling the original
        sched_.run_once();
        caf::actor_cast<caf::abstract_actor*>(keep)->enqueue(std::move(again), nullptr);
        return true;
      }
      auto taken = take_head(*actor, head);
      if (verdict == fate::hold)
        held_.emplace_back(caf::actor_cast<caf::actor>(actor), std::move(taken));
      else
        ++dropped;
      // The actor may have nothing left; running it lets it wait for mail again.
      if (actor->peek_at_next_mailbox_element() == nullptr) {
        sched_.run_once();
        return true;
      }
    }
    return false;
  }

  /// Looks at every message before it is handled (see `fate`); nullptr: deliver everything.
  void set_filter(message_filter f) {
    filter_ = std::move(f);
    released_.clear();
  }

  /// Queues the first `max` held messages again, in the order they were held, at their receiver
  /// (a message to an actor that stopped meanwhile bounces as it would); the filter does not see
  /// them again. Does not settle. Returns how many.
  std::size_t release_held(std::size_t max = static_cast<std::size_t>(-1)) {
    std::size_t n = 0;
    while (n < max && !held_.empty()) {
      auto [receiver, element] = std::move(held_.front());
      held_.erase(held_.begin());
      released_.insert(element.get());
      caf::actor_cast<caf::abstract_actor*>(receiver)->enqueue(std::move(element), nullptr);
      ++n;
    }
    return n;
  }

  /// Messages held back by the filter and not released yet.
  std::size_t held_messages() const { return held_.size(); }
  /// Messages the filter dropped so far.
  std::size_t dropped = 0;

  /// The process dies: held writes are lost, later writes too, and messages in flight never
  /// arrive. The test then destroys the node and starts a new one on the same folder.
  void crash() {
    sink_->crash();
    held_.clear();
    filter_ = [](const message_view&) { return fate::drop; };
  }

  /// The node's process dies and starts again `downtime` later, while the bank (an outside
  /// system) stays up: every entity actor is killed with its timers, writes not yet durable and
  /// messages between souk actors are lost (the bank still receives what was sent to it, and
  /// its callbacks while the node is down are lost), the clock moves on, and the node takes
  /// writes again. The directory starts empty, as a new one would. Call `resume()` next, as
  /// the runtime does at start. Removes the filter (set it again if the test needs one).
  void restart_in_place(std::chrono::milliseconds downtime) {
    sink_->crash();
    held_.clear();
    auto bank = bank_.id();
    filter_ = [bank](const message_view& v) {
      // The kills, and the directory hearing of them (it monitors its entities).
      bool exit = v.element->content().match_elements<caf::exit_msg>() ||
                  v.element->content().match_elements<caf::down_msg>();
      return exit || v.receiver == bank ? fate::deliver : fate::drop;
    };
    // (A kill each, as a crash would end them: not the stop's exit, on which an entity writes
    // first; the directory drops them on their down messages.)
    for (auto& [id, a] : entities_seen_)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    entities_seen_.clear();
    while (step()) {
    }
    sched_.advance_time(downtime);
    while (step()) {
    }
    filter_ = nullptr;
    sink_->recover();
    ++restarts;
  }
  std::size_t restarts = 0; ///< by `restart_in_place`

  /// Moves the clock by `d` in steps of at most `step`, firing due timers and settling.
  void advance(std::chrono::milliseconds d,
               std::chrono::milliseconds step = std::chrono::milliseconds{500}) {
    while (d.count() > 0) {
      auto s = std::min(d, step);
      sched_.advance_time(s);
      settle();
      d -= s;
    }
    settle();
  }

  /// Moves the clock by `d` stopping at every timer on the way: each fires at its own time and
  /// what it causes settles before the clock moves on, as when every actor keeps up with real
  /// time (`advance` fires the timers of a whole step together, as a slow node would).
  void run_for(std::chrono::milliseconds d) {
    auto& clock = sched_.clock();
    auto target = clock.now() + d;
    for (int i = 0; i < 1'000'000; ++i) {
      settle();
      auto& pending = clock.schedule();
      if (pending.empty() || pending.begin()->first > target)
        break;
      auto next = pending.begin()->first;
      sched_.advance_time(next > clock.now() ? next - clock.now() : caf::timespan{0});
    }
    if (target > clock.now())
      sched_.advance_time(target - clock.now());
    settle();
  }

  /// Sends `xs...` to the entity (kind, key), settles, and returns its answer as `T`.
  template <class T, class... Ts>
  T ask(const std::string& kind, const std::string& key, Ts&&... xs) {
    auto h =
        self_->request(directory_, caf::infinite, actors::route_atom::value,
                       actors::entity_ref{kind, key}, caf::make_message(std::forward<Ts>(xs)...));
    settle();
    T out{};
    if (self_->mailbox().empty()) {
      ADD_FAILURE() << "no answer from " << kind << "/" << key;
      return out;
    }
    h.receive([&](T& v) { out = std::move(v); },
              [&](caf::error& e) { ADD_FAILURE() << "error: " << sys_.render(e); });
    return out;
  }

  /// Sends to the entity (kind, key) as a client that ignores the answer; does not settle.
  template <class... Ts>
  void post(const std::string& kind, const std::string& key, Ts&&... xs) {
    caf::send_as(client_, directory_, actors::route_atom::value, actors::entity_ref{kind, key},
                 caf::make_message(std::forward<Ts>(xs)...));
  }

  /// Sends `xs...` to the bank as a client that ignores the answer; does not settle.
  template <class... Ts>
  void post_to_bank(Ts&&... xs) {
    caf::send_as(client_, bank_, std::forward<Ts>(xs)...);
  }

  /// Sends without waiting for an answer, then settles.
  template <class... Ts>
  void tell(const std::string& kind, const std::string& key, Ts&&... xs) {
    self_->send(directory_, actors::route_atom::value, actors::entity_ref{kind, key},
                caf::make_message(std::forward<Ts>(xs)...));
    settle();
  }

  /// Calls the bank directly (the buyer at the 3-DS page).
  bool decide(const std::string& payment_id, bool approve);

  caf::actor_system& system() { return sys_; }
  caf::scheduler::test_coordinator& sched() { return sched_; }
  caf::actor directory() const { return directory_; }
  const actors::node_entities& entities() const { return entities_; }
  /// Wakes unfinished sagas, as the runtime does at start, and settles.
  std::size_t resume() {
    auto n = actors::resume_unfinished_sagas(entities_);
    settle();
    return n;
  }
  deferred_sink& sink() { return *sink_; }
  persistence::store& store() { return *store_; }
  caf::actor client() const { return client_; }

private:
  message_view describe(const caf::scheduled_actor& actor, const caf::mailbox_element& head) {
    message_view v;
    v.receiver = actor.id();
    v.element = &head;
    v.to_directory = actor.id() == directory_.id();
    v.to_bank = actor.id() == bank_.id();
    v.response = head.mid.is_response();
    v.copy = copies_.erase(&head) > 0;
    auto& c = head.content();
    if (v.to_directory && c.size() == 3 && c.match_element<caf::atom_value>(0) &&
        c.get_as<caf::atom_value>(0) == actors::route_atom::value &&
        c.match_element<actors::entity_ref>(1) && c.match_element<caf::message>(2)) {
      v.routed = true;
      v.target = c.get_as<actors::entity_ref>(1);
    }
    auto& inner = v.content();
    if (inner.size() > 0 && inner.match_element<caf::atom_value>(0))
      v.atom = caf::to_string(inner.get_as<caf::atom_value>(0));
    return v;
  }

  static caf::mailbox_element_ptr take_head(caf::scheduled_actor& actor,
                                            caf::mailbox_element* head) {
    auto& queues = actor.mailbox().queue().queues();
    auto& urgent = std::get<caf::scheduled_actor::urgent_queue_index>(queues);
    auto& normal = std::get<caf::scheduled_actor::normal_queue_index>(queues);
    caf::mailbox_element_ptr out;
    if (urgent.peek() == head)
      out = urgent.take_front();
    else if (normal.peek() == head)
      out = normal.take_front();
    if (out.get() != head)
      throw std::logic_error("test_node: could not take the next message out of a mailbox");
    return out;
  }

  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    actors::register_types(cfg);
    return cfg;
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  caf::scheduler::test_coordinator& sched_;
  caf::scoped_actor self_;
  std::int64_t start_ms_;
  /// The entities' time to stop (see the destructor).
  std::chrono::milliseconds stop_timeout_{30'000};
  caf::actor_clock::time_point start_clock_;
  std::unique_ptr<persistence::store> store_;
  std::shared_ptr<deferred_sink> sink_;
  actors::node_entities entities_;
  caf::actor directory_;
  caf::actor bank_;
  caf::actor client_;
  message_filter filter_;
  std::vector<std::pair<caf::actor, caf::mailbox_element_ptr>> held_;
  std::set<const caf::mailbox_element*> copies_;
  std::set<const caf::mailbox_element*> released_;
  std::map<caf::actor_id, caf::actor> entities_seen_;
};

inline bool test_node::decide(const std::string& payment_id, bool approve) {
  auto h =
      self_->request(bank_, caf::infinite, actors::bank_decide_atom::value, payment_id, approve);
  settle();
  bool out = false;
  if (self_->mailbox().empty()) {
    ADD_FAILURE() << "the bank did not answer";
    return out;
  }
  h.receive([&](bool v) { out = v; },
            [&](caf::error& e) { ADD_FAILURE() << "error: " << sys_.render(e); });
  return out;
}

/// A request routed to an entity that the test has not settled: the test decides what runs,
/// then looks whether the answer came. One requester per request, so an answer is never
/// mistaken for another's.
class pending_call {
public:
  template <class... Ts>
  pending_call(test_node& node, actors::entity_ref to, Ts&&... xs)
      : me_(node.system(), true),
        handle_(me_->request(node.directory(), caf::infinite, actors::route_atom::value,
                             std::move(to), caf::make_message(std::forward<Ts>(xs)...))) {}

  bool answered() const { return !me_->mailbox().empty(); }

  /// The answer as `T` (precondition: `answered()`); nullopt when it is an error, kept in
  /// `error`.
  template <class T>
  std::optional<T> take() {
    std::optional<T> value;
    handle_.receive([&](T& v) { value = std::move(v); }, [&](caf::error& e) { error = e; });
    return value;
  }

  caf::error error;

private:
  caf::scoped_actor me_;
  caf::response_handle<caf::blocking_actor, caf::message, true> handle_;
};

} // namespace souk::test
