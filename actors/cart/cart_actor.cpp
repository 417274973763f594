#include "actors/cart/cart_actor.hpp"

#include "actors/api/cart_api.hpp"
#include "actors/api/money.hpp"
#include "actors/api/order_api.hpp"
#include "actors/cart/cart.hpp"
#include "actors/cart/rendered_lines.hpp"
#include "actors/common/entity.hpp"
#include "base/json_writer.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/duration.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

/// Self-sent `cart_write_behind` after the first unwritten change: `(cart_flush_atom)`.
using cart_flush_atom = caf::atom_constant<caf::atom("cartflush")>;
/// Self-sent after the order failed to answer a checkout: `(cart_retry_atom)`.
using cart_retry_atom = caf::atom_constant<caf::atom("cartretry")>;
/// Self-sent when the checkout request `ask` is past its deadline: `(cart_ask_due_atom, ask)`.
using cart_ask_due_atom = caf::atom_constant<caf::atom("cartaskdue")>;

/// The JSON text of each cart line as last written, so that an answer or a snapshot rewrites
/// only the lines that changed: every cart request answers with the whole cart, and a cart of
/// 50 lines is 10 KB of JSON. Entry i holds line i's text while line i is the same.
class line_texts {
public:
  template <class Write>
  const std::string& of(std::size_t i, const cart_line& l, Write write) {
    if (i >= cache_.size())
      cache_.resize(i + 1);
    auto& c = cache_[i];
    if (c.text.empty() || c.qty != l.qty || c.unit_price != l.unit_price ||
        c.product_id != l.product_id || c.sku != l.sku || c.title != l.title) {
      c.sku = l.sku;
      c.title = l.title;
      c.product_id = l.product_id;
      c.qty = l.qty;
      c.unit_price = l.unit_price;
      c.text.clear();
      base::json_writer w{c.text};
      write(w, l);
    }
    return c.text;
  }
  /// The text `of` last gave for line `i`.
  const std::string& text(std::size_t i) const { return cache_[i].text; }
  /// Forgets the entries past the cart's `lines`.
  void trim(std::size_t lines) {
    if (cache_.size() > lines)
      cache_.resize(lines);
  }
  /// Forgets every entry and its memory.
  void release() { std::vector<entry>{}.swap(cache_); }

private:
  struct entry {
    std::string sku;
    std::string title;
    std::int64_t product_id = 0;
    std::int64_t qty = 0;
    std::int64_t unit_price = 0;
    std::string text;
  };
  std::vector<entry> cache_;
};

/// One line as API.md shows it.
void write_api_line(base::json_writer& w, const cart_line& l);

struct cart_state : entity_base {
  cart items;
  /// The checkout holding the cart (its order id is `items.frozen_for()`); part of the snapshot,
  /// so an activation can ask the order again with the very same command.
  std::optional<cart_checkout_cmd> pending;
  /// The pending checkout is a bare question "how did order X end?" (a frozen snapshot without
  /// its command): sent without lines, so it can never create an order.
  bool probe = false;
  bool ready = false;       ///< the freeze of `pending` is durable: the order may hear of it
  bool asking = false;      ///< a checkout request to the order is open
  std::uint64_t ask = 0;    ///< numbers the checkout requests: a late answer is stale
  bool flush_armed = false; ///< a write-behind flush is scheduled
  bool retry_armed = false; ///< a re-ask of the order is scheduled
  int failures = 0;         ///< consecutive checkout requests that got no answer
  std::string last_order;   ///< the last checkout that was answered
  std::vector<caf::response_promise> waiters; ///< checkouts waiting for the order's answer
  mutable line_texts snapshot_lines;          ///< the lines' text in the snapshot
  rendered_lines<void (*)(base::json_writer&, const cart_line&)> answer_lines{write_api_line};
  /// When the two texts above are dropped (a cart edited now and then does not keep them).
  line_text_keeping keeping;

  std::string encode() const {
    std::string out;
    out.reserve(256 + 128 * items.lines().size());
    base::json_writer w{out};
    w.begin_object();
    items.write_fields(w, [this](base::json_writer& lw, std::size_t i, const cart_line& l) {
      lw.raw(snapshot_lines.of(i, l, cart::write_line));
    });
    snapshot_lines.trim(items.lines().size());
    if (pending && !probe) {
      w.key("checkout").begin_object();
      w.key("order_id").value(pending->order_id);
      w.key("idempotency_key").value(pending->idempotency_key);
      w.key("currency").value(pending->currency).key("region").value(pending->region);
      w.key("city").value(pending->city).key("address").value(pending->address);
      w.end_object();
    }
    if (!last_order.empty())
      w.key("last_order").value(last_order);
    w.end_object();
    return out;
  }
  bool can_passivate() const { return !asking && !flush_armed && !retry_armed && waiters.empty(); }
};

using self_t = caf::stateful_actor<cart_state>;

void release_line_texts(cart_state& st) {
  st.snapshot_lines.release();
  st.answer_lines.release();
}

void write_money(base::json_writer& w, std::int64_t amount) {
  w.begin_object().key("amount").value(amount).key("currency").value(shop_currency).end_object();
}

/// One line as API.md shows it.
void write_api_line(base::json_writer& w, const cart_line& l) {
  w.begin_object().key("sku").value(l.sku).key("product_id").value(l.product_id);
  w.key("title").value(l.title).key("qty").value(l.qty).key("unit_price");
  write_money(w, l.unit_price);
  w.key("line_total");
  write_money(w, l.line_total());
  w.end_object();
}

/// The cart as API.md shows it, written directly: every cart request answers with it.
cart_answer answer(cart_state& st, std::string code = {}) {
  st.keeping.answered();
  const auto& c = st.items;
  // The lines' text first, to size the body exactly: a big cart's answer (50 lines are about
  // 11 KB) would otherwise outgrow a guess and be copied once more on every answer.
  const auto& lines = st.answer_lines.of(c);
  std::string body;
  body.reserve(lines.size() + 128);
  base::json_writer w{body};
  w.begin_object().key("items").begin_array().raw(lines).end_array().key("subtotal");
  write_money(w, c.subtotal());
  w.key("version").value(c.version()).end_object();
  return {std::move(code), std::move(body)};
}

cart_answer answer(cart_state& st, cart_error e) {
  return answer(st, e == cart_error::none ? std::string{} : std::string{to_string(e)});
}

/// Marks the state changed; the snapshot follows within `cart_write_behind`.
void write_behind(self_t* self) {
  auto& st = self->state;
  st.dur.changed();
  if (st.ctx->cart_write_behind.count() <= 0) {
    persist(self);
    return;
  }
  if (!st.flush_armed) {
    st.flush_armed = true;
    send_later(self, st.ctx->cart_write_behind, cart_flush_atom::value);
  }
}

/// Runs `f(cart, now)` and schedules a write when it changed anything the snapshot holds
/// (freezing and unfreezing keep the version, so the version alone does not tell).
template <class F>
void apply(self_t* self, F f) {
  auto& c = self->state.items;
  auto version = c.version();
  auto frozen_for = c.frozen_for();
  auto touched = c.touched_at_ms();
  f(c, self->state.ctx->now_ms());
  if (c.version() != version || c.frozen_for() != frozen_for || c.touched_at_ms() != touched)
    write_behind(self);
}

void expire(self_t* self) {
  auto ttl = self->state.ctx->cart_ttl.count();
  apply(self, [ttl](cart& c, std::int64_t now) { c.expire_if_idle(now, ttl); });
}

std::chrono::milliseconds checkout_timeout(const entity_context& ctx) {
  // Long enough for the saga to decide with its own retries; past it the outcome is unknown.
  return std::chrono::milliseconds(ctx.saga.step_timeout_ms *
                                   (std::max(ctx.saga.max_attempts, 1) + 1));
}

/// Which freeze of the cart this is (checkout_cmd::cart_token): freezing keeps the version
/// and touches the cart, and a frozen cart changes neither, so the pair names this freeze and
/// no other (a later freeze comes with a later touch) and is the same after a restart.
std::string freeze_token(const cart& items) {
  return std::to_string(items.version()) + "@" + std::to_string(items.touched_at_ms());
}

checkout_cmd order_command(const cart_state& st) {
  checkout_cmd cmd;
  cmd.cart_token = freeze_token(st.items);
  cmd.order_id = st.pending->order_id;
  cmd.user_id = st.ref.key;
  cmd.idempotency_key = st.pending->idempotency_key;
  cmd.currency = st.pending->currency;
  cmd.region = st.pending->region;
  cmd.city = st.pending->city;
  cmd.address = st.pending->address;
  if (!st.probe)
    for (auto& l : st.items.lines())
      cmd.lines.push_back({l.sku, l.product_id, l.title, l.qty, l.unit_price});
  return cmd;
}

void send_checkout(self_t* self);

void on_order_answer(self_t* self, const std::string& order_id, order_answer a) {
  auto& st = self->state;
  st.asking = false;
  st.failures = 0;
  if (!st.pending || st.pending->order_id != order_id)
    return;
  // An order created from another freeze (a key retried after a newer checkout, when its
  // first answer was not kept) took that freeze's lines, not these: it answers as it stands
  // and the buyer keeps the cart.
  bool ours = a.cart_token.empty() || a.cart_token == freeze_token(st.items);
  apply(self, [&](cart& c, std::int64_t now) {
    if (a.code.empty() && ours)
      c.checked_out(order_id, now); // the order exists: its lines are the order's now
    else
      c.unfreeze(order_id, now); // no order, or not from these lines: the buyer keeps the cart
  });
  st.pending.reset();
  st.probe = false;
  st.ready = false;
  st.last_order = order_id;
  for (auto& rp : std::exchange(st.waiters, {}))
    rp.deliver(a);
}

void on_order_error(self_t* self, const caf::error& e) {
  auto& st = self->state;
  st.asking = false;
  // Unknown outcome: the order may exist. The cart stays frozen and asks again; the checkout
  // is idempotent by order id. After max_attempts it waits for a retry or its next activation.
  for (auto& rp : std::exchange(st.waiters, {}))
    rp.deliver(e);
  auto& saga = st.ctx->saga;
  if (++st.failures >= std::max(saga.max_attempts, 1) || st.retry_armed)
    return;
  st.retry_armed = true;
  auto delay = std::min(saga.step_timeout_ms * st.failures, saga.backoff_max_ms);
  send_later(self, std::chrono::milliseconds(std::max<std::int64_t>(delay, 0)),
             cart_retry_atom::value);
}

/// Asks the order about the pending checkout, once its freeze is durable.
void send_checkout(self_t* self) {
  auto& st = self->state;
  if (!st.pending || !st.ready || st.asking)
    return;
  st.asking = true;
  auto ask = ++st.ask;
  auto order_id = st.pending->order_id;
  // The deadline is a self-message (the timer wheel's) rather than a CAF request timeout, which
  // costs two wake-ups of CAF's clock thread per checkout and is never cancelled.
  auto open = [self, ask] { return self->state.asking && self->state.ask == ask; };
  self->request(st.ctx->directory, caf::infinite, route_atom::value, entity_ref{"order", order_id},
                caf::make_message(checkout_atom::value, order_command(st)))
      .then(
          [self, order_id, open](order_answer& a) {
            if (open())
              on_order_answer(self, order_id, std::move(a));
          },
          [self, open](caf::error& e) {
            if (open())
              on_order_error(self, e);
          });
  send_later(self, checkout_timeout(*st.ctx), cart_ask_due_atom::value, ask);
}

caf::result<order_answer> checkout(self_t* self, cart_checkout_cmd& c) {
  auto& st = self->state;
  auto& items = st.items;
  if (!c.order_id.empty() && items.frozen_for() == c.order_id) {
    // A retry of the checkout in progress: the same answer, once there is one.
    auto rp = self->make_response_promise();
    st.waiters.push_back(rp);
    st.failures = 0;
    send_checkout(self);
    return rp;
  }
  if (c.order_id.empty() || !items.frozen_for().empty())
    return order_answer{to_string(cart_error::frozen), "", "", ""};
  if (c.order_id == st.last_order) {
    // A retry of a checkout already answered: the order as it stands, the cart untouched. Sent
    // without lines, so it can never create an order from what the cart holds now.
    checkout_cmd again;
    again.order_id = c.order_id;
    again.user_id = st.ref.key;
    auto rp = self->make_response_promise();
    rp.delegate(st.ctx->directory, route_atom::value, entity_ref{"order", c.order_id},
                caf::make_message(checkout_atom::value, std::move(again)));
    return rp;
  }
  if (items.empty())
    return order_answer{"cart_empty", "", "", ""};
  items.freeze(c.order_id, st.ctx->now_ms());
  st.pending = std::move(c);
  st.probe = false;
  st.ready = false;
  auto rp = self->make_response_promise();
  st.waiters.push_back(rp);
  // The freeze is durable before the order hears of it: after a crash the cart still knows
  // which order took its lines, and asks that order instead of letting the buyer change them.
  st.dur.changed();
  st.dur.after_durable([self](bool ok) {
    auto& s = self->state;
    if (ok) {
      s.ready = true;
      send_checkout(self);
      return;
    }
    for (auto& w : std::exchange(s.waiters, {}))
      w.deliver(caf::make_error(errc::store_failed));
  });
  persist(self);
  return rp;
}

/// Loads the snapshot; false when it cannot be read as a cart.
bool restore(self_t* self) {
  auto& st = self->state;
  auto snap = load_snapshot(st);
  if (!snap)
    return true;
  try {
    auto j = nlohmann::json::parse(snap->state);
    st.items = cart::from_json(j, st.ctx->cart);
    if (auto it = j.find("checkout"); it != j.end()) {
      cart_checkout_cmd c;
      c.order_id = it->at("order_id").get<std::string>();
      c.idempotency_key = it->at("idempotency_key").get<std::string>();
      c.currency = it->at("currency").get<std::string>();
      c.region = it->at("region").get<std::string>();
      c.city = it->at("city").get<std::string>();
      c.address = it->at("address").get<std::string>();
      st.pending = std::move(c);
    }
    st.last_order = j.value("last_order", std::string{});
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  auto& frozen_for = st.items.frozen_for();
  if (!frozen_for.empty() && (!st.pending || st.pending->order_id != frozen_for)) {
    st.pending = cart_checkout_cmd{};
    st.pending->order_id = frozen_for;
    st.probe = true;
  } else if (frozen_for.empty()) {
    st.pending.reset();
  }
  // Whatever is in the snapshot is durable: the order may be asked at once.
  st.ready = st.pending.has_value();
  return true;
}

caf::behavior cart_actor(self_t* self, std::string key, std::shared_ptr<const entity_context> ctx) {
  auto& st = self->state;
  st.ref = {"cart", key};
  st.ctx = std::move(ctx);
  st.items = cart{st.ctx->cart};
  if (!restore(self)) {
    self->quit(caf::make_error(errc::store_failed, "malformed cart snapshot " + key));
    return {};
  }
  // A checkout cut short by a passivation or a crash: ask its order how it ended.
  send_checkout(self);
  expire(self);
  start_entity(self);
  return {
      [self](cart_get_atom) {
        ++self->state.routed;
        return answer(self->state);
      },
      [self](cart_add_atom, const cart_add_cmd& c) {
        ++self->state.routed;
        auto e = cart_error::none;
        apply(self, [&](cart& x, std::int64_t now) {
          e = x.add({c.sku, c.product_id, c.title, c.qty, c.unit_price}, now, c.expected_version);
        });
        return answer(self->state, e);
      },
      [self](cart_set_atom, const cart_set_cmd& c) {
        ++self->state.routed;
        auto e = cart_error::none;
        apply(self,
              [&](cart& x, std::int64_t now) { e = x.set(c.sku, c.qty, now, c.expected_version); });
        return answer(self->state, e);
      },
      [self](cart_remove_atom, const cart_remove_cmd& c) {
        ++self->state.routed;
        auto e = cart_error::none;
        apply(self,
              [&](cart& x, std::int64_t now) { e = x.remove(c.sku, now, c.expected_version); });
        return answer(self->state, e);
      },
      [self](cart_clear_atom, std::int64_t expected_version) {
        ++self->state.routed;
        auto e = cart_error::none;
        apply(self, [&](cart& x, std::int64_t now) { e = x.clear(now, expected_version); });
        return answer(self->state, e);
      },
      [self](cart_merge_atom, const cart_merge_cmd& m) {
        auto& s = self->state;
        ++s.routed;
        if (!s.items.frozen_for().empty())
          return answer(s, cart_error::frozen);
        // The guest's lines as a cart without limits (repeated SKUs add up, bad quantities are
        // dropped); the user's limits apply when it is merged.
        cart guest{cart_limits{std::numeric_limits<std::int64_t>::max(),
                               std::numeric_limits<std::size_t>::max()}};
        auto now = s.ctx->now_ms();
        for (auto& l : m.lines)
          guest.add({l.sku, l.product_id, l.title, l.qty, l.unit_price}, now);
        apply(self, [&](cart& x, std::int64_t t) { x.merge(guest, t); });
        return answer(s);
      },
      [self](cart_checkout_atom, cart_checkout_cmd& c) {
        ++self->state.routed;
        return checkout(self, c);
      },
      [self](cart_flush_atom) {
        auto& cs = self->state;
        cs.flush_armed = false;
        persist(self);
        // A cart that flushes again within ten write-behind periods is being edited.
        if (cs.keeping.release_at_flush(cs.ctx->now_ms(), 10 * cs.ctx->cart_write_behind))
          release_line_texts(cs);
      },
      [self](cart_retry_atom) {
        self->state.retry_armed = false;
        send_checkout(self);
      },
      [self](cart_ask_due_atom, std::uint64_t ask) {
        if (self->state.asking && self->state.ask == ask)
          on_order_error(self, caf::make_error(caf::sec::request_timeout));
      },
      [self](durable_atom, bool ok) { on_durable(self, ok); },
      [self](idle_atom) {
        if (self->state.keeping.release_at_idle())
          release_line_texts(self->state);
        expire(self);
        on_idle_check(self);
      },
  };
}

} // namespace

caf::actor spawn_cart_actor(caf::actor_system& sys, const std::string& key,
                            std::shared_ptr<const entity_context> ctx) {
  return sys.spawn(cart_actor, key, std::move(ctx));
}

} // namespace souk::actors
