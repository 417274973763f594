#include "actors/warehouse/warehouse_actor.hpp"

#include "actors/api/order_api.hpp"
#include "actors/api/warehouse_api.hpp"
#include "actors/common/entity.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

using wms_tick_atom = caf::atom_constant<caf::atom("wmstick")>;

const char* const stages[] = {"picking", "packed", "shipped", "delivered"};

/// The generation of a pick key "<order id>#<generation>" (-1 for none): numbers compare as
/// numbers, so generation 10 is newer than 9.
long generation_of(const std::string& key) {
  auto hash = key.rfind('#');
  if (hash == std::string::npos)
    return -1;
  return std::strtol(key.c_str() + hash + 1, nullptr, 10);
}

struct pick_list {
  std::string pick_key;
  int stage = 0;          ///< index into `stages`
  bool cancelled = false; ///< taken back (or cancelled before it arrived)
  std::int64_t changed_at_ms = 0;
  std::vector<pick_line> lines;
};

nlohmann::json list_json(const pick_list& l) {
  auto lines = nlohmann::json::array();
  for (auto& x : l.lines)
    lines.push_back({x.sku, x.reservation_id, x.qty});
  return {{"key", l.pick_key},
          {"stage", l.stage},
          {"cancelled", l.cancelled},
          {"at", l.changed_at_ms},
          {"lines", std::move(lines)}};
}

pick_list list_from(const nlohmann::json& x) {
  pick_list l;
  l.pick_key = x.at("key").get<std::string>();
  l.stage = x.at("stage").get<int>();
  l.cancelled = x.at("cancelled").get<bool>();
  l.changed_at_ms = x.at("at").get<std::int64_t>();
  for (auto& y : x.at("lines"))
    l.lines.push_back(
        {y.at(0).get<std::string>(), y.at(1).get<std::string>(), y.at(2).get<std::int64_t>()});
  return l;
}

struct warehouse_state : entity_base {
  std::map<std::string, pick_list> lists; // by order id
  std::vector<std::string> changed;       ///< order ids whose list changed since the last write
  bool ticking = false;

  /// Every pick list by order id (the warehouse view).
  std::string view() const {
    auto j = nlohmann::json::object();
    for (auto& [order, l] : lists)
      j[order] = list_json(l);
    return j.dump();
  }
  /// The head holds nothing: each pick list is a snapshot part of its own (by order id), so a
  /// write carries only the lists that changed, not every list of the last day.
  std::string encode() const { return "{}"; }
  void add_parts(persistence::snapshot& s) {
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (auto& order : changed) {
      auto it = lists.find(order);
      if (it != lists.end())
        s.parts.push_back({order, list_json(it->second).dump()});
      else
        s.parts.push_back({order, {}, true});
    }
    changed.clear();
  }
  bool open() const {
    for (auto& [order, l] : lists)
      if (!l.cancelled && l.stage < 3)
        return true;
    return false;
  }
  bool can_passivate() const { return !open(); }
};

using self_t = caf::stateful_actor<warehouse_state>;

void notify(self_t* self, const std::string& order_id, const std::string& stage) {
  auto& st = self->state;
  tell(self, *st.ctx, "order", order_id, pick_update_atom::value, st.ref.key, stage);
}

void arm_tick(self_t* self) {
  auto& st = self->state;
  if (st.ticking || st.ctx->wms_step.count() <= 0 || !st.open())
    return;
  st.ticking = true;
  send_later(self, st.ctx->wms_step, wms_tick_atom::value);
}

/// Drops lists that ended (delivered or cancelled) longer ago than the tombstone retention:
/// the snapshot would otherwise grow with every order the warehouse ever had.
/// A cancelled list is kept that long so that its late pick command is still refused.
bool prune(self_t* self) {
  auto& st = self->state;
  auto horizon = st.ctx->now_ms() - st.ctx->stock_tombstone_ttl.count();
  bool dropped = false;
  for (auto it = st.lists.begin(); it != st.lists.end();) {
    auto& l = it->second;
    if ((l.cancelled || l.stage == 3) && l.changed_at_ms <= horizon) {
      st.changed.push_back(it->first);
      it = st.lists.erase(it);
      dropped = true;
    } else {
      ++it;
    }
  }
  return dropped;
}

/// Moves every open list one stage; the orders hear of it once the move is durable.
std::int64_t advance_all(self_t* self) {
  auto& st = self->state;
  if (prune(self)) {
    st.dur.changed();
    persist(self);
  }
  std::vector<std::pair<std::string, std::string>> moved;
  for (auto& [order, l] : st.lists)
    if (!l.cancelled && l.stage < 3) {
      ++l.stage;
      l.changed_at_ms = st.ctx->now_ms();
      st.changed.push_back(order);
      moved.emplace_back(order, stages[l.stage]);
    }
  if (!moved.empty())
    change_then(self, [self, moved](bool ok) {
      if (ok)
        for (auto& [order, stage] : moved)
          notify(self, order, stage);
    });
  return static_cast<std::int64_t>(moved.size());
}

caf::behavior warehouse_actor(self_t* self, std::string warehouse_id,
                              std::shared_ptr<const entity_context> ctx) {
  auto& st = self->state;
  st.ref = {"warehouse", warehouse_id};
  st.ctx = std::move(ctx);
  if (auto snap = load_snapshot(st)) {
    // Lists in the head were written before snapshot parts existed: the next write moves them
    // into parts of their own (and leaves the head empty).
    auto head = nlohmann::json::parse(snap->state);
    for (auto& [order, x] : head.items()) {
      st.lists.emplace(order, list_from(x));
      st.changed.push_back(order);
    }
    for (auto& part : snap->parts)
      st.lists.emplace(part.name, list_from(nlohmann::json::parse(part.state)));
  }
  arm_tick(self);
  start_entity(self);
  return {
      [self](pick_atom, pick_cmd& c) {
        auto& s = self->state;
        ++s.routed;
        auto it = s.lists.find(c.order_id);
        bool changed = false;
        if (it == s.lists.end()) {
          s.lists.emplace(c.order_id,
                          pick_list{c.pick_key, 0, false, s.ctx->now_ms(), std::move(c.lines)});
          changed = true;
        } else if (it->second.cancelled &&
                   generation_of(c.pick_key) > generation_of(it->second.pick_key)) {
          // A new generation after a refused cancel: the list starts again.
          it->second = pick_list{c.pick_key, 0, false, s.ctx->now_ms(), std::move(c.lines)};
          changed = true;
        }
        if (changed)
          s.changed.push_back(c.order_id);
        auto& l = s.lists[c.order_id];
        arm_tick(self);
        return reply_when_durable(self, std::string{l.cancelled ? "cancelled" : stages[l.stage]},
                                  changed);
      },
      [self](pick_cancel_atom, const std::string& order_id, const std::string& pick_key) {
        auto& s = self->state;
        ++s.routed;
        auto it = s.lists.find(order_id);
        bool changed = false;
        std::string answer = "cancelled";
        if (it == s.lists.end()) {
          // A tombstone under the cancel's generation refuses that list if it arrives late.
          s.lists.emplace(order_id, pick_list{pick_key, 0, true, s.ctx->now_ms(), {}});
          changed = true;
          s.changed.push_back(order_id);
        } else if (generation_of(it->second.pick_key) > generation_of(pick_key)) {
          answer = "stale";
        } else if (it->second.stage >= 2 && !it->second.cancelled) {
          answer = "too_late";
        } else if (!it->second.cancelled) {
          it->second.cancelled = true;
          it->second.changed_at_ms = s.ctx->now_ms();
          changed = true;
          s.changed.push_back(order_id);
        }
        return reply_when_durable(self, answer, changed);
      },
      [self](advance_atom) {
        ++self->state.routed;
        auto moved = advance_all(self);
        return reply_when_durable(self, moved, false);
      },
      [self](warehouse_view_atom) {
        ++self->state.routed;
        return self->state.view();
      },
      [self](wms_tick_atom) {
        self->state.ticking = false;
        advance_all(self);
        arm_tick(self);
      },
      [self](durable_atom, bool ok) { on_durable(self, ok); },
      [self](idle_atom) { on_idle_check(self); },
  };
}

} // namespace

caf::actor spawn_warehouse_actor(caf::actor_system& sys, const std::string& warehouse_id,
                                 std::shared_ptr<const entity_context> ctx) {
  return sys.spawn(warehouse_actor, warehouse_id, std::move(ctx));
}

} // namespace souk::actors
