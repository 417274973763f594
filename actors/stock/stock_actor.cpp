#include "actors/stock/stock_actor.hpp"

#include "actors/api/stock_api.hpp"
#include "actors/common/entity.hpp"
#include "actors/stock/stock_ledger.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

/// Self-sent when the earliest hold may have expired: `(expire_atom, at_ms)`.
using expire_atom = caf::atom_constant<caf::atom("expire")>;

struct stock_state : entity_base {
  stock_ledger ledger;
  std::int64_t timer_at = 0; ///< the expiry timer armed, 0 when none
  /// Each warehouse's (on_hand, reserved) as last published to the availability view. Empty on
  /// activation, so the first change after it publishes every warehouse: the view's table may
  /// lag a crash by one batch.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> published;

  /// The head only: warehouses and counters. Reservations are parts, one row each, and a write
  /// carries only those that changed, so a hot SKU with thousands of holds writes little.
  std::string encode() const { return ledger.head_json().dump(); }
  void add_parts(persistence::snapshot& s) {
    auto ids = ledger.take_changed();
    s.parts.reserve(ids.size());
    for (auto& id : ids) {
      if (auto r = ledger.find(id))
        s.parts.push_back({id, stock_ledger::reservation_text(*r)});
      else
        s.parts.push_back({id, {}, true}); // pruned
    }
  }
  bool can_passivate() const { return true; } // holds expire from the snapshot on activation
};

using self_t = caf::stateful_actor<stock_state>;

/// A cheap fingerprint of the ledger: whether a call changed anything worth writing.
struct fingerprint {
  std::size_t reservations;
  std::int64_t on_hand, reserved, sold;
  std::optional<hold_state> hold;

  bool operator==(const fingerprint& o) const {
    return reservations == o.reservations && on_hand == o.on_hand && reserved == o.reserved &&
           sold == o.sold && hold == o.hold;
  }
};

fingerprint print(const stock_ledger& l, const std::string& id) {
  auto r = l.find(id);
  return {l.reservations().size(), l.on_hand(), l.reserved(), l.sold(),
          r ? std::optional<hold_state>{r->state} : std::nullopt};
}

/// Publishes the levels of the warehouses that changed since the last publish (or whose last
/// publish was refused). A reservation touches one or two warehouses of a SKU stocked in many;
/// each level published is a write of the catalog's stock table.
void publish(self_t* self) {
  auto& st = self->state;
  if (!st.ctx->availability)
    return;
  for (auto& [wh, s] : st.ledger.warehouses()) {
    std::pair<std::int64_t, std::int64_t> level{s.on_hand, s.reserved};
    auto [it, added] = st.published.try_emplace(wh, level);
    if (!added && it->second == level)
      continue;
    it->second = level;
    if (!st.ctx->availability->stock_changed(st.ref.key, wh, s.on_hand, s.reserved))
      st.published.erase(it); // not recorded: publish it again with the next change
  }
}

/// Arms the expiry timer for a hold expiring at `at`, unless one is armed for that time or
/// earlier. The armed timer is never later than the earliest hold: holds appear only on
/// activation and timer (arm_expiry) and by `reserve` (its new hold's time comes here), and the
/// other calls only remove holds (a timer that finds nothing due re-arms from the ledger).
void arm_expiry_at(self_t* self, std::int64_t at) {
  auto& st = self->state;
  if (st.timer_at != 0 && st.timer_at <= at)
    return;
  st.timer_at = at;
  auto delay = std::max<std::int64_t>(0, at - st.ctx->now_ms());
  send_later(self, std::chrono::milliseconds(delay), expire_atom::value, at);
}

/// Arms the timer for the earliest hold of the ledger. Scans every reservation: only on
/// activation and when the timer fires, never per request (a hot SKU holds many thousands).
void arm_expiry(self_t* self) {
  if (auto next = self->state.ledger.next_expiry())
    arm_expiry_at(self, *next);
}

/// Expires holds whose time passed and drops old tombstones; true when something changed.
bool expire_now(self_t* self) {
  auto& st = self->state;
  auto now = st.ctx->now_ms();
  auto expired = st.ledger.expire(now);
  auto pruned = st.ledger.prune(now - st.ctx->stock_tombstone_ttl.count());
  return !expired.empty() || pruned > 0;
}

/// Applies a ledger call for reservation `id` and answers its code once durable.
template <class F>
caf::response_promise apply(self_t* self, const std::string& id, F call) {
  auto& st = self->state;
  ++st.routed;
  auto before = print(st.ledger, id);
  ledger_error e = call(st.ledger, st.ctx->now_ms());
  bool changed = !(print(st.ledger, id) == before);
  if (changed)
    publish(self);
  // No timer to arm: confirm, release, ship, restock and set_stock never add a hold.
  return reply_when_durable(self, std::string{e == ledger_error::none ? "" : to_string(e)},
                            changed);
}

caf::behavior stock_actor(self_t* self, std::string sku,
                          std::shared_ptr<const entity_context> ctx) {
  auto& st = self->state;
  st.ref = {"sku", sku};
  st.ctx = std::move(ctx);
  if (auto snap = load_snapshot(st)) {
    st.ledger = decode_stock_snapshot(*snap);
  } else if (st.ctx->initial_stock_of) {
    for (auto& s : st.ctx->initial_stock_of(sku))
      st.ledger.set_on_hand(s.warehouse_id, s.on_hand);
  }
  // Holds whose time passed while the entity was passivated or the node was down.
  if (expire_now(self)) {
    publish(self);
    self->state.dur.changed();
    persist(self);
  }
  arm_expiry(self);
  start_entity(self);
  return {
      [self](reserve_atom, const reserve_cmd& c) {
        auto& s = self->state;
        ++s.routed;
        auto before = print(s.ledger, c.reservation_id);
        auto r = s.ledger.reserve(c.reservation_id, c.order_id, c.qty,
                                  nearest_warehouses(*s.ctx, c.region), s.ctx->now_ms(),
                                  c.expires_at_ms);
        bool changed = !(print(s.ledger, c.reservation_id) == before);
        if (changed)
          publish(self);
        if (changed && r.outcome == reserve_outcome::reserved)
          arm_expiry_at(self, r.expires_at_ms); // the new hold; a repeated id adds none
        const char* outcome = r.outcome == reserve_outcome::reserved       ? "reserved"
                              : r.outcome == reserve_outcome::insufficient ? "insufficient"
                                                                           : "already_released";
        return reply_when_durable(self, reserve_answer{outcome, r.parts, r.available}, changed);
      },
      [self](confirm_atom, const std::string& id) {
        return apply(self, id,
                     [&](stock_ledger& l, std::int64_t now) { return l.confirm(id, now); });
      },
      [self](release_atom, const std::string& id, const std::string& order_id) {
        return apply(self, id, [&](stock_ledger& l, std::int64_t now) {
          return l.release(id, order_id, now);
        });
      },
      [self](ship_atom, const std::string& id) {
        return apply(self, id, [&](stock_ledger& l, std::int64_t now) { return l.ship(id, now); });
      },
      [self](restock_atom, const std::string& id) {
        return apply(self, id,
                     [&](stock_ledger& l, std::int64_t now) { return l.return_to_stock(id, now); });
      },
      [self](restock_atom, const std::string& id, std::int64_t units, const std::string& order_id,
             std::int64_t already_back, const std::vector<allocation>& parts) {
        return apply(self, id, [&](stock_ledger& l, std::int64_t now) {
          stock_ledger::pruned_reservation pruned{order_id, parts, already_back};
          return l.return_to_stock(id, units, now, &pruned);
        });
      },
      [self](set_stock_atom, const std::string& warehouse_id, std::int64_t on_hand) {
        return apply(self, "", [&](stock_ledger& l, std::int64_t) {
          return l.set_on_hand(warehouse_id, on_hand);
        });
      },
      [self](stock_view_atom) {
        ++self->state.routed;
        auto& l = self->state.ledger;
        auto j = l.to_json();
        j["sku"] = self->state.ref.key;
        j["available"] = l.available();
        j["on_hand"] = l.on_hand();
        j["reserved"] = l.reserved();
        return j.dump();
      },
      [self](expire_atom, std::int64_t at) {
        auto& s = self->state;
        if (at == s.timer_at)
          s.timer_at = 0;
        if (expire_now(self)) {
          publish(self);
          s.dur.changed();
          persist(self);
        }
        arm_expiry(self);
      },
      [self](durable_atom, bool ok) { on_durable(self, ok); },
      [self](idle_atom) { on_idle_check(self); },
  };
}

} // namespace

/// The ledger from its snapshot: a head with one part per reservation, or (written before
/// snapshot parts existed) one document embedding them all, which the next write splits up.
stock_ledger decode_stock_snapshot(const persistence::snapshot& snap) {
  auto head = nlohmann::json::parse(snap.state);
  if (head.is_object() && head.contains("reservations")) {
    auto l = stock_ledger::from_json(head);
    l.mark_all_changed();
    return l;
  }
  std::vector<nlohmann::json> reservations;
  reservations.reserve(snap.parts.size());
  for (const auto& p : snap.parts)
    reservations.push_back(nlohmann::json::parse(p.state));
  return stock_ledger::from_parts(head, reservations);
}

caf::actor spawn_stock_actor(caf::actor_system& sys, const std::string& sku,
                             std::shared_ptr<const entity_context> ctx) {
  return sys.spawn(stock_actor, sku, std::move(ctx));
}

} // namespace souk::actors
