#pragma once

#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/errors.hpp"
#include "actors/common/durability.hpp"
#include "actors/common/entity_context.hpp"
#include "actors/common/timer_wheel.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/duration.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

namespace souk::actors {

// What every entity actor does the same way: count routed messages, write its snapshot before
// it replies (coalescing writes), and passivate when idle. An entity's state struct derives
// from `entity_base` and has `std::string encode() const` and `bool can_passivate() const`;
// one that stores sub-records as snapshot parts also hides `entity_base::add_parts`, and one
// that keeps a change unwritten on purpose hides `entity_base::before_exit`.

/// Self-sent when a snapshot write completed: `(durable_atom, bool ok)`.
using durable_atom = caf::atom_constant<caf::atom("durable")>;
/// Self-sent every idle period: `(idle_atom)`.
using idle_atom = caf::atom_constant<caf::atom("idlecheck")>;

struct entity_base {
  entity_ref ref;
  std::shared_ptr<const entity_context> ctx;
  durability dur;
  std::int64_t version = 0;      ///< of the last snapshot written or loaded
  std::uint64_t routed = 0;      ///< messages the directory routed here
  std::uint64_t routed_seen = 0; ///< `routed` at the previous idle check
  bool passivating = false;

  /// Adds the parts that changed since the last write to `s` (see persistence::snapshot_part).
  /// Entities stored whole have none.
  void add_parts(persistence::snapshot&) {}
  /// Told to exit (see start_entity), before the last write: an entity that keeps something
  /// unwritten on purpose marks it changed here.
  void before_exit() {}
};

/// Loads the snapshot of the entity, or nullopt. Sets `version`.
template <class State>
std::optional<persistence::snapshot> load_snapshot(State& st) {
  auto snap = st.ctx->store->load(st.ref.kind, st.ref.key);
  if (snap)
    st.version = snap->version;
  return snap;
}

/// Starts a snapshot write if the state is dirty and none is in flight.
template <class State>
void persist(caf::stateful_actor<State>* self) {
  auto& st = self->state;
  if (!st.dur.should_write())
    return;
  st.dur.write_started();
  persistence::snapshot s{st.ref.kind,   st.ref.key,  ++st.version,
                          st.ctx->epoch, st.encode(), st.ctx->now_ms()};
  st.add_parts(s);
  auto me = caf::actor_cast<caf::actor>(self);
  st.ctx->store->save(std::move(s), [me](bool ok) { caf::anon_send(me, durable_atom::value, ok); });
}

/// A write completed: deliver the replies it covers, write again if changes piled up meanwhile.
/// A failed write stops the entity, which the directory activates again from its last durable
/// snapshot: nothing that was not written is ever confirmed.
template <class State>
void on_durable(caf::stateful_actor<State>* self, bool ok) {
  self->state.dur.written(ok);
  if (!ok) {
    self->quit(caf::make_error(errc::store_failed));
    return;
  }
  persist(self);
}

/// Marks the state changed and writes it (coalesced), then calls `reply(ok)` once durable.
template <class State, class F>
void change_then(caf::stateful_actor<State>* self, F reply) {
  self->state.dur.changed();
  self->state.dur.after_durable(std::move(reply));
  persist(self);
}

/// Calls `reply(ok)` once every change made so far is durable (at once when it is).
template <class State, class F>
void when_durable(caf::stateful_actor<State>* self, F reply) {
  self->state.dur.after_durable(std::move(reply));
  persist(self);
}

/// `change_then` when `changed`, else `when_durable`.
template <class State, class F>
void change_or_wait(caf::stateful_actor<State>* self, bool changed, F reply) {
  if (changed)
    change_then(self, std::move(reply));
  else
    when_durable(self, std::move(reply));
}

/// A promise delivering `value` once durable, or `store_failed`.
template <class State, class T>
caf::response_promise reply_when_durable(caf::stateful_actor<State>* self, T value, bool changed) {
  auto rp = self->make_response_promise();
  auto deliver = [rp, value = std::move(value)](bool ok) mutable {
    if (ok)
      rp.deliver(std::move(value));
    else
      rp.deliver(caf::make_error(errc::store_failed));
  };
  if (changed)
    change_then(self, std::move(deliver));
  else
    when_durable(self, std::move(deliver));
  return rp;
}

/// Sends `xs...` to the entity itself once `delay` has passed: through the node's timer wheel
/// when it has one, else as a CAF delayed message.
template <class State, class... Ts>
void send_later(caf::stateful_actor<State>* self, std::chrono::milliseconds delay, Ts&&... xs) {
  if (const auto& wheel = self->state.ctx->timers)
    wheel->send_later(self->address(), delay, caf::make_message(std::forward<Ts>(xs)...));
  else
    self->delayed_send(self, delay, std::forward<Ts>(xs)...);
}

/// Arms the first idle check, and makes the entity write what is still unwritten when told to
/// exit (the directory's stop: a cart's write-behind, an order's noted change) and stop once
/// that is durable, or when the write failed (a kill is not trapped: it stops at once). Call once
/// when the entity starts.
template <class State>
void start_entity(caf::stateful_actor<State>* self) {
  send_later(self, self->state.ctx->idle_timeout, idle_atom::value);
  self->set_exit_handler([self](caf::exit_msg& m) {
    self->state.before_exit();
    when_durable(self, [self, reason = m.reason](bool) { self->quit(reason); });
  });
}

/// The idle check: when nothing was routed here for a whole period, nothing is being written
/// and the entity allows it, ask the directory to passivate (it refuses if a message is on its
/// way), and stop on its yes. The snapshot already holds everything.
template <class State>
void on_idle_check(caf::stateful_actor<State>* self) {
  auto& st = self->state;
  // A change nobody waited for may still be unwritten (an order writes such changes with its
  // next step): write it now, and passivate at a later check once it is durable.
  persist(self);
  bool quiet = st.routed == st.routed_seen && st.dur.idle() && st.can_passivate();
  st.routed_seen = st.routed;
  if (!quiet || st.passivating) {
    send_later(self, st.ctx->idle_timeout, idle_atom::value);
    return;
  }
  st.passivating = true;
  // The directory is local and answers at once (or the request fails when it is gone), so no
  // deadline: a CAF request timeout would cost a wake-up of CAF's clock thread per passivation.
  self->request(st.ctx->directory, caf::infinite, passivate_atom::value, st.ref, st.routed)
      .then(
          [self](bool yes) {
            self->state.passivating = false;
            if (yes)
              self->quit();
            else
              send_later(self, self->state.ctx->idle_timeout, idle_atom::value);
          },
          [self](caf::error&) {
            self->state.passivating = false;
            send_later(self, self->state.ctx->idle_timeout, idle_atom::value);
          });
}

/// Sends `msg` to the entity (kind, key) through the directory, one-way.
template <class Self, class... Ts>
void tell(Self* self, const entity_context& ctx, std::string kind, std::string key, Ts&&... xs) {
  self->send(ctx.directory, route_atom::value, entity_ref{std::move(kind), std::move(key)},
             caf::make_message(std::forward<Ts>(xs)...));
}

} // namespace souk::actors
