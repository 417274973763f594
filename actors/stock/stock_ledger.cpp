#include "actors/stock/stock_ledger.hpp"

#include "base/json_writer.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace souk::actors {
namespace {

using json = nlohmann::json;

// Indexed by the enumerators, which the header declares from 0 without gaps.
constexpr const char* state_names[] = {"held",     "confirmed", "shipped",
                                       "returned", "released",  "expired"};
constexpr const char* error_names[] = {
    "none",           "unknown_reservation", "wrong_state",
    "below_reserved", "invalid_quantity",    "unknown_warehouse"};

bool is_live(hold_state s) {
  return s == hold_state::held || s == hold_state::confirmed;
}

// Sums over untrusted input (a snapshot) or ever-growing counters must not overflow: that would
// be undefined behaviour, not just a wrong number.
bool add_to(std::int64_t& acc, std::int64_t x) {
  return !__builtin_add_overflow(acc, x, &acc);
}

void unreserve(std::map<std::string, warehouse_stock>& warehouses, const reservation& r) {
  for (const auto& p : r.parts)
    warehouses.at(p.warehouse_id).reserved -= p.qty;
}

// The buyer's nearest warehouses first; the rest by id so that the split is deterministic.
std::vector<std::string> visit_order(const std::map<std::string, warehouse_stock>& warehouses,
                                     const std::vector<std::string>& nearest) {
  std::vector<std::string> order;
  std::set<std::string> seen;
  for (const auto& id : nearest)
    if (warehouses.count(id) != 0 && seen.insert(id).second)
      order.push_back(id);
  for (const auto& entry : warehouses)
    if (seen.count(entry.first) == 0)
      order.push_back(entry.first);
  return order;
}

// A snapshot that loads only half-way would silently lose stock: refuse it as a whole.
[[noreturn]] void malformed(const json& context, const std::string& what) {
  throw json::other_error::create(501, "malformed stock ledger: " + what, &context);
}

std::int64_t int_at(const json& j, const char* key) {
  const auto& v = j.at(key);
  if (!v.is_number_integer())
    throw json::type_error::create(302, std::string(key) + " must be an integer", &v);
  if (v.is_number_unsigned() &&
      v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw json::out_of_range::create(406, std::string(key) + " is out of range", &v);
  return v.get<std::int64_t>();
}

const json& container_at(const json& j, const char* key, bool object) {
  const auto& v = j.at(key);
  if (object ? !v.is_object() : !v.is_array())
    throw json::type_error::create(
        302, std::string(key) + " must be an " + (object ? "object" : "array"), &v);
  return v;
}

hold_state state_from(const json& j) {
  auto name = j.at("state").get<std::string>();
  for (std::size_t i = 0; i < std::size(state_names); ++i)
    if (name == state_names[i])
      return static_cast<hold_state>(i);
  malformed(j, "unknown reservation state \"" + name + "\"");
}

} // namespace

const char* to_string(hold_state x) {
  auto i = static_cast<std::size_t>(x);
  return i < std::size(state_names) ? state_names[i] : "invalid";
}

const char* to_string(ledger_error x) {
  auto i = static_cast<std::size_t>(x);
  return i < std::size(error_names) ? error_names[i] : "invalid";
}

std::int64_t reservation::qty() const {
  std::int64_t total = 0;
  for (const auto& p : parts) // saturating: a snapshot being loaded is not checked yet
    if (!add_to(total, p.qty))
      return p.qty > 0 ? std::numeric_limits<std::int64_t>::max()
                       : std::numeric_limits<std::int64_t>::min();
  return total;
}

ledger_error stock_ledger::set_on_hand(const std::string& warehouse_id, std::int64_t on_hand) {
  if (on_hand < 0)
    return ledger_error::invalid_quantity;
  auto it = warehouses_.find(warehouse_id);
  auto old = it == warehouses_.end() ? warehouse_stock{} : it->second;
  if (on_hand < old.reserved)
    return ledger_error::below_reserved;
  auto delta = on_hand - old.on_hand;
  if (delta > 0) {
    auto received = received_;
    if (!add_to(received, delta))
      return ledger_error::invalid_quantity;
    received_ = received;
  } else {
    written_off_ -= delta;
  }
  warehouses_[warehouse_id].on_hand = on_hand;
  return ledger_error::none;
}

ledger_error stock_ledger::restock(const std::string& warehouse_id, std::int64_t qty) {
  // on_hand never exceeds received, so guarding received guards on_hand too.
  auto received = received_;
  if (qty <= 0 || !add_to(received, qty))
    return ledger_error::invalid_quantity;
  received_ = received;
  warehouses_[warehouse_id].on_hand += qty;
  return ledger_error::none;
}

reserve_result stock_ledger::reserve(const std::string& id, const std::string& order_id,
                                     std::int64_t qty, const std::vector<std::string>& nearest,
                                     std::int64_t now_ms, std::int64_t expires_at_ms) {
  reserve_result result;
  result.available = available();
  // The id decides before the quantity: a retried request must get the first answer.
  if (auto it = reservations_.find(id); it != reservations_.end()) {
    const auto& r = it->second;
    if (r.state == hold_state::released || r.state == hold_state::expired) {
      result.outcome = reserve_outcome::already_released;
      return result;
    }
    result.outcome = reserve_outcome::reserved;
    result.parts = r.parts;
    result.expires_at_ms = r.expires_at_ms;
    return result;
  }
  if (qty <= 0 || qty > result.available) {
    result.outcome = reserve_outcome::insufficient;
    return result;
  }
  std::vector<allocation> parts;
  auto remaining = qty;
  for (const auto& wid : visit_order(warehouses_, nearest)) {
    auto take = std::min(warehouses_.at(wid).available(), remaining);
    if (take <= 0)
      continue;
    parts.push_back(allocation{wid, take});
    remaining -= take;
    if (remaining == 0)
      break;
  }
  for (const auto& p : parts)
    warehouses_.at(p.warehouse_id).reserved += p.qty;
  reservations_.emplace(id,
                        reservation{id, order_id, parts, hold_state::held, expires_at_ms, now_ms});
  touched(id);
  result.outcome = reserve_outcome::reserved;
  result.parts = std::move(parts);
  result.available -= qty;
  result.expires_at_ms = expires_at_ms;
  return result;
}

ledger_error stock_ledger::confirm(const std::string& id, std::int64_t now_ms) {
  auto it = reservations_.find(id);
  if (it == reservations_.end())
    return ledger_error::unknown_reservation;
  auto& r = it->second;
  switch (r.state) {
  case hold_state::held:
    r.state = hold_state::confirmed;
    r.changed_at_ms = now_ms;
    touched(id);
    return ledger_error::none;
  case hold_state::confirmed:
  case hold_state::shipped:
    return ledger_error::none;
  default:
    return ledger_error::wrong_state;
  }
}

ledger_error stock_ledger::release(const std::string& id, const std::string& order_id,
                                   std::int64_t now_ms) {
  auto it = reservations_.find(id);
  if (it == reservations_.end()) {
    // The saga may release a reserve whose outcome it never learned; the tombstone makes the
    // reserve, should it still arrive, a no-op.
    reservations_.emplace(id, reservation{id, order_id, {}, hold_state::released, 0, now_ms});
    touched(id);
    return ledger_error::none;
  }
  auto& r = it->second;
  switch (r.state) {
  case hold_state::held:
  case hold_state::confirmed:
    unreserve(warehouses_, r);
    r.state = hold_state::released;
    r.changed_at_ms = now_ms;
    touched(id);
    return ledger_error::none;
  case hold_state::released:
  case hold_state::expired:
    return ledger_error::none;
  default:
    return ledger_error::wrong_state;
  }
}

ledger_error stock_ledger::ship(const std::string& id, std::int64_t now_ms) {
  auto it = reservations_.find(id);
  if (it == reservations_.end())
    return ledger_error::unknown_reservation;
  auto& r = it->second;
  if (r.state == hold_state::shipped)
    return ledger_error::none;
  if (r.state != hold_state::confirmed)
    return ledger_error::wrong_state;
  for (const auto& p : r.parts) {
    auto& w = warehouses_.at(p.warehouse_id);
    w.on_hand -= p.qty;
    w.reserved -= p.qty;
    sold_ += p.qty;
  }
  r.state = hold_state::shipped;
  r.changed_at_ms = now_ms;
  touched(id);
  return ledger_error::none;
}

ledger_error stock_ledger::return_to_stock(const std::string& id, std::int64_t now_ms) {
  auto it = reservations_.find(id);
  if (it == reservations_.end())
    return ledger_error::unknown_reservation;
  return return_to_stock(id, it->second.qty(), now_ms);
}

ledger_error stock_ledger::return_to_stock(const std::string& id, std::int64_t units,
                                           std::int64_t now_ms, const pruned_reservation* pruned) {
  auto it = reservations_.find(id);
  if (it == reservations_.end()) {
    if (!pruned)
      return ledger_error::unknown_reservation;
    reservation r;
    r.id = id;
    r.order_id = pruned->order_id;
    r.parts = pruned->parts;
    r.state = hold_state::shipped;
    r.returned = pruned->already_back;
    r.changed_at_ms = now_ms;
    auto parts_ok = !r.parts.empty() &&
                    std::all_of(r.parts.begin(), r.parts.end(), [](auto& p) { return p.qty > 0; });
    auto coming = units - r.returned;
    if (units <= 0 || !parts_ok || units > r.qty() || r.returned < 0)
      return units <= 0 ? ledger_error::invalid_quantity : ledger_error::wrong_state;
    if (coming <= 0)
      return ledger_error::none; // nothing more comes back: no record needed
    if (coming > sold_)
      return ledger_error::wrong_state;
    it = reservations_.emplace(id, std::move(r)).first;
  }
  auto& r = it->second;
  if (r.state == hold_state::returned)
    return ledger_error::none;
  if (r.state != hold_state::shipped)
    return ledger_error::wrong_state;
  if (units <= 0 || units > r.qty())
    return ledger_error::invalid_quantity;
  if (units <= r.returned)
    return ledger_error::none; // a repeated or late call: those units are back already
  // Part p covers the reservation's units [first, first + p.qty); units [returned, units) come
  // back now.
  std::int64_t first = 0;
  for (const auto& p : r.parts) {
    auto from = std::max(first, r.returned);
    auto to = std::min(first + p.qty, units);
    if (to > from) {
      warehouses_[p.warehouse_id].on_hand += to - from;
      sold_ -= to - from;
    }
    first += p.qty;
  }
  r.returned = units;
  if (units == r.qty())
    r.state = hold_state::returned;
  r.changed_at_ms = now_ms;
  touched(id);
  return ledger_error::none;
}

std::vector<std::string> stock_ledger::expire(std::int64_t now_ms) {
  std::vector<std::string> ids;
  for (auto& [id, r] : reservations_) {
    if (r.state != hold_state::held || r.expires_at_ms > now_ms)
      continue;
    unreserve(warehouses_, r);
    r.state = hold_state::expired;
    r.changed_at_ms = now_ms;
    touched(id);
    ids.push_back(id);
  }
  return ids;
}

std::optional<std::int64_t> stock_ledger::next_expiry() const {
  std::optional<std::int64_t> earliest;
  for (const auto& entry : reservations_) {
    const auto& r = entry.second;
    if (r.state == hold_state::held && (!earliest || r.expires_at_ms < *earliest))
      earliest = r.expires_at_ms;
  }
  return earliest;
}

std::size_t stock_ledger::prune(std::int64_t older_than_ms) {
  std::size_t dropped = 0;
  for (auto it = reservations_.begin(); it != reservations_.end();) {
    const auto& r = it->second;
    if (!is_live(r.state) && r.changed_at_ms <= older_than_ms) {
      touched(it->first);
      it = reservations_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

const reservation* stock_ledger::find(const std::string& id) const {
  auto it = reservations_.find(id);
  return it == reservations_.end() ? nullptr : &it->second;
}

std::int64_t stock_ledger::available() const {
  return on_hand() - reserved();
}

std::int64_t stock_ledger::reserved() const {
  std::int64_t total = 0;
  for (const auto& entry : warehouses_)
    total += entry.second.reserved;
  return total;
}

std::int64_t stock_ledger::on_hand() const {
  std::int64_t total = 0;
  for (const auto& entry : warehouses_)
    total += entry.second.on_hand;
  return total;
}

std::string stock_ledger::check() const {
  std::map<std::string, std::int64_t> live;
  for (const auto& [key, r] : reservations_) {
    if (key != r.id)
      return "reservation stored under \"" + key + "\" has id \"" + r.id + "\"";
    for (const auto& p : r.parts)
      if (p.qty <= 0)
        return "reservation \"" + key + "\" has a part with quantity " + std::to_string(p.qty);
    auto partly_back = r.state == hold_state::shipped && r.returned < r.qty();
    if (r.returned < 0 || (r.returned != 0 && !partly_back && r.state != hold_state::returned) ||
        (r.state == hold_state::returned && r.returned != r.qty()))
      return "reservation \"" + key + "\" is " + to_string(r.state) + " with " +
             std::to_string(r.returned) + " of " + std::to_string(r.qty()) + " units returned";
    if (!is_live(r.state))
      continue;
    if (r.parts.empty())
      return "reservation \"" + key + "\" is " + to_string(r.state) + " but has no parts";
    for (const auto& p : r.parts) {
      if (warehouses_.count(p.warehouse_id) == 0)
        return "reservation \"" + key + "\" takes from unknown warehouse \"" + p.warehouse_id +
               "\"";
      if (!add_to(live[p.warehouse_id], p.qty))
        return "reserved units in warehouse \"" + p.warehouse_id + "\" overflow";
    }
  }
  std::int64_t total = 0;
  for (const auto& [wid, w] : warehouses_) {
    auto name = "warehouse \"" + wid + "\"";
    if (w.reserved < 0)
      return name + " has negative reserved " + std::to_string(w.reserved);
    if (w.reserved > w.on_hand)
      return name + " reserves " + std::to_string(w.reserved) + " of " + std::to_string(w.on_hand) +
             " on hand";
    auto held = live.count(wid) != 0 ? live.at(wid) : 0;
    if (w.reserved != held)
      return name + " has reserved " + std::to_string(w.reserved) +
             " but its live reservations hold " + std::to_string(held);
    if (!add_to(total, w.on_hand))
      return "on_hand over all warehouses overflows";
  }
  if (received_ < 0 || sold_ < 0 || written_off_ < 0)
    return "a counter is negative (received " + std::to_string(received_) + ", sold " +
           std::to_string(sold_) + ", written off " + std::to_string(written_off_) + ")";
  auto accounted = total;
  if (!add_to(accounted, written_off_) || !add_to(accounted, sold_) || accounted != received_)
    return "on_hand " + std::to_string(total) + " is not received " + std::to_string(received_) +
           " - written off " + std::to_string(written_off_) + " - sold " + std::to_string(sold_);
  return {};
}

std::string stock_ledger::reservation_text(const reservation& r) {
  std::string out;
  base::json_writer w{out};
  w.begin_object().key("id").value(r.id).key("order_id").value(r.order_id).key("parts");
  w.begin_array();
  for (const auto& p : r.parts)
    w.begin_object().key("warehouse_id").value(p.warehouse_id).key("qty").value(p.qty).end_object();
  w.end_array();
  w.key("state").value(to_string(r.state)).key("expires_at_ms").value(r.expires_at_ms);
  w.key("changed_at_ms").value(r.changed_at_ms);
  if (r.state == hold_state::shipped && r.returned != 0) // only a partial return has a count
    w.key("returned").value(r.returned);
  w.end_object();
  return out;
}

nlohmann::json stock_ledger::reservation_json(const reservation& r) {
  return json::parse(reservation_text(r));
}

nlohmann::json stock_ledger::head_json() const {
  json warehouses = json::object();
  for (const auto& [wid, w] : warehouses_)
    warehouses[wid] = {{"on_hand", w.on_hand}, {"reserved", w.reserved}};
  return {{"warehouses", std::move(warehouses)},
          {"received", received_},
          {"sold", sold_},
          {"written_off", written_off_}};
}

nlohmann::json stock_ledger::to_json() const {
  auto j = head_json();
  json reservations = json::array();
  for (const auto& entry : reservations_)
    reservations.push_back(reservation_json(entry.second));
  j["reservations"] = std::move(reservations);
  return j;
}

stock_ledger stock_ledger::from_json(const nlohmann::json& j) {
  if (!j.is_object())
    throw json::type_error::create(302, "a stock ledger must be an object", &j);
  return load(j, &container_at(j, "reservations", false), nullptr);
}

stock_ledger stock_ledger::from_parts(const nlohmann::json& head,
                                      const std::vector<nlohmann::json>& reservations) {
  if (!head.is_object())
    throw json::type_error::create(302, "a stock ledger must be an object", &head);
  if (head.contains("reservations"))
    malformed(head, "a head with its reservations embedded");
  return load(head, nullptr, &reservations);
}

stock_ledger stock_ledger::load(const nlohmann::json& j, const nlohmann::json* embedded,
                                const std::vector<nlohmann::json>* parts) {
  stock_ledger l;
  // `reserved` is stored although the reservations imply it: the redundancy lets `check` catch a
  // snapshot that lost a reservation, which would otherwise free its units silently.
  for (const auto& item : container_at(j, "warehouses", true).items()) {
    auto& w = l.warehouses_[item.key()];
    w.on_hand = int_at(item.value(), "on_hand");
    w.reserved = int_at(item.value(), "reserved");
  }
  auto add = [&l](const json& rj) {
    if (!rj.is_object())
      malformed(rj, "a reservation must be an object");
    reservation r;
    r.id = rj.at("id").get<std::string>();
    r.order_id = rj.at("order_id").get<std::string>();
    for (const auto& pj : container_at(rj, "parts", false))
      r.parts.push_back(allocation{pj.at("warehouse_id").get<std::string>(), int_at(pj, "qty")});
    r.state = state_from(rj);
    r.expires_at_ms = int_at(rj, "expires_at_ms");
    r.changed_at_ms = int_at(rj, "changed_at_ms");
    if (r.state == hold_state::returned)
      r.returned = r.qty();
    else if (rj.contains("returned"))
      r.returned = int_at(rj, "returned");
    auto id = r.id;
    if (!l.reservations_.emplace(id, std::move(r)).second)
      malformed(rj, "duplicate reservation \"" + id + "\"");
  };
  if (embedded)
    for (const auto& rj : *embedded)
      add(rj);
  if (parts)
    for (const auto& rj : *parts)
      add(rj);
  l.received_ = int_at(j, "received");
  l.sold_ = int_at(j, "sold");
  l.written_off_ = int_at(j, "written_off");
  if (auto broken = l.check(); !broken.empty())
    malformed(j, broken);
  return l;
}

std::vector<std::string> stock_ledger::take_changed() {
  auto ids = std::move(changed_);
  changed_.clear();
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

void stock_ledger::mark_all_changed() {
  for (const auto& entry : reservations_)
    changed_.push_back(entry.first);
}

} // namespace souk::actors
