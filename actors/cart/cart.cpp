#include "actors/cart/cart.hpp"

#include "base/json_writer.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

namespace souk::actors {
namespace {

using json = nlohmann::json;

// The library's own error types can only be built through `create`, whose signature changed
// between 3.10 and 3.11; a subclass of the public base works with both and is still caught as
// nlohmann::json::exception, which is what the header promises.
class malformed_cart : public json::exception {
public:
  explicit malformed_cart(const std::string& what)
      : json::exception(501, ("[json.exception.other_error.501] cart: " + what).c_str()) {}
};

// `get<std::int64_t>()` silently truncates floats and wraps large unsigned numbers; a snapshot
// that holds either was not written by `to_json`.
std::int64_t integer_at(const json& j, const char* key) {
  const auto& v = j.at(key);
  if (!v.is_number_integer())
    throw malformed_cart(std::string{key} + " is not an integer");
  if (v.is_number_unsigned() &&
      v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw malformed_cart(std::string{key} + " is out of range");
  return v.get<std::int64_t>();
}

std::string string_at(const json& j, const char* key) {
  return j.at(key).get<std::string>();
}

template <class Lines>
auto find_line(Lines& lines, const std::string& sku) {
  return std::find_if(lines.begin(), lines.end(), [&](const cart_line& x) { return x.sku == sku; });
}

} // namespace

const char* to_string(cart_error x) {
  switch (x) {
  case cart_error::none:
    return "none";
  case cart_error::invalid_quantity:
    return "invalid_quantity";
  case cart_error::too_many_lines:
    return "too_many_lines";
  case cart_error::not_in_cart:
    return "not_in_cart";
  case cart_error::version_mismatch:
    return "version_mismatch";
  case cart_error::frozen:
    return "frozen";
  }
  return "unknown";
}

cart_error cart::check_version(std::int64_t expected) const {
  if (!frozen_for_.empty())
    return cart_error::frozen;
  if (expected != 0 && expected != version_)
    return cart_error::version_mismatch;
  return cart_error::none;
}

void cart::touch(std::int64_t now_ms, cart_change::kind what, std::size_t line) {
  ++version_;
  touched_at_ms_ = now_ms;
  last_change_ = {what, line, version_};
}

cart_error cart::add(const cart_line& line, std::int64_t now_ms, std::int64_t expected_version) {
  if (auto err = check_version(expected_version); err != cart_error::none)
    return err;
  const auto max = limits_.max_qty_per_line;
  if (line.qty < 1 || line.qty > max)
    return cart_error::invalid_quantity;
  if (auto i = find_line(lines_, line.sku); i != lines_.end()) {
    // Written as a difference so that a line loaded above the limit cannot overflow the sum.
    if (i->qty > max - line.qty)
      return cart_error::invalid_quantity;
    const auto qty = i->qty + line.qty;
    *i = line;
    i->qty = qty;
    touch(now_ms, cart_change::kind::updated, static_cast<std::size_t>(i - lines_.begin()));
  } else {
    if (lines_.size() >= limits_.max_lines)
      return cart_error::too_many_lines;
    lines_.push_back(line);
    touch(now_ms, cart_change::kind::appended, lines_.size() - 1);
  }
  return cart_error::none;
}

cart_error cart::set(const std::string& sku, std::int64_t qty, std::int64_t now_ms,
                     std::int64_t expected_version) {
  if (auto err = check_version(expected_version); err != cart_error::none)
    return err;
  if (qty < 0 || qty > limits_.max_qty_per_line)
    return cart_error::invalid_quantity;
  auto i = find_line(lines_, sku);
  if (i == lines_.end())
    return cart_error::not_in_cart;
  auto at = static_cast<std::size_t>(i - lines_.begin());
  if (qty == 0)
    lines_.erase(i);
  else
    i->qty = qty;
  touch(now_ms, qty == 0 ? cart_change::kind::removed : cart_change::kind::updated, at);
  return cart_error::none;
}

cart_error cart::remove(const std::string& sku, std::int64_t now_ms,
                        std::int64_t expected_version) {
  if (auto err = check_version(expected_version); err != cart_error::none)
    return err;
  auto i = find_line(lines_, sku);
  if (i == lines_.end())
    return cart_error::not_in_cart;
  auto at = static_cast<std::size_t>(i - lines_.begin());
  lines_.erase(i);
  touch(now_ms, cart_change::kind::removed, at);
  return cart_error::none;
}

cart_error cart::clear(std::int64_t now_ms, std::int64_t expected_version) {
  if (auto err = check_version(expected_version); err != cart_error::none)
    return err;
  lines_.clear();
  touch(now_ms);
  return cart_error::none;
}

void cart::merge(const cart& other, std::int64_t now_ms) {
  // merge cannot report `frozen`; changing lines a checkout already took would either lose the
  // guest's lines at `checked_out` or order something the buyer never saw.
  if (!frozen_for_.empty())
    return;
  // A copy, so that merging a cart into itself never reads a vector it is growing.
  const std::vector<cart_line> incoming = other.lines_;
  const auto max = limits_.max_qty_per_line;
  bool changed = false;
  for (const auto& line : incoming) {
    if (line.qty < 1)
      continue;
    if (auto i = find_line(lines_, line.sku); i != lines_.end()) {
      // A line already at or above the cap (loaded under wider limits) is never lowered here.
      if (i->qty >= max)
        continue;
      i->qty += std::min(line.qty, max - i->qty);
      changed = true;
    } else if (lines_.size() < limits_.max_lines) {
      lines_.push_back(line);
      lines_.back().qty = std::min(line.qty, max);
      changed = true;
    }
  }
  if (changed)
    touch(now_ms);
}

cart_error cart::freeze(const std::string& order_id, std::int64_t now_ms) {
  // An empty id could not be told apart from "not frozen" afterwards.
  if (order_id.empty())
    return cart_error::frozen;
  if (!frozen_for_.empty())
    return frozen_for_ == order_id ? cart_error::none : cart_error::frozen;
  frozen_for_ = order_id;
  touched_at_ms_ = now_ms;
  return cart_error::none;
}

void cart::unfreeze(const std::string& order_id, std::int64_t now_ms) {
  // Late or duplicate saga messages must not thaw a cart another checkout holds.
  if (frozen_for_.empty() || frozen_for_ != order_id)
    return;
  frozen_for_.clear();
  touched_at_ms_ = now_ms;
}

void cart::checked_out(const std::string& order_id, std::int64_t now_ms) {
  if (frozen_for_.empty() || frozen_for_ != order_id)
    return;
  frozen_for_.clear();
  lines_.clear();
  touch(now_ms);
}

bool cart::expire_if_idle(std::int64_t now_ms, std::int64_t ttl_ms) {
  if (!frozen_for_.empty() || lines_.empty() || now_ms < touched_at_ms_)
    return false;
  // Unsigned, so that any pair of loaded timestamps gives the exact distance without overflow.
  const auto idle = static_cast<std::uint64_t>(now_ms) - static_cast<std::uint64_t>(touched_at_ms_);
  if (ttl_ms > 0 && idle < static_cast<std::uint64_t>(ttl_ms))
    return false;
  lines_.clear();
  touch(now_ms);
  return true;
}

std::int64_t cart::subtotal() const {
  std::int64_t sum = 0;
  for (const auto& line : lines_)
    sum += line.line_total();
  return sum;
}

void cart::write_head(base::json_writer& w) const {
  w.key("version").value(version_).key("touched_at_ms").value(touched_at_ms_);
  w.key("frozen_for").value(frozen_for_).key("lines").begin_array();
}

void cart::write_tail(base::json_writer& w) {
  w.end_array();
}

void cart::write_line(base::json_writer& w, const cart_line& line) {
  w.begin_object().key("sku").value(line.sku).key("product_id").value(line.product_id);
  w.key("title").value(line.title).key("qty").value(line.qty);
  w.key("unit_price").value(line.unit_price).end_object();
}

void cart::write_fields(base::json_writer& w) const {
  write_fields(
      w, [](base::json_writer& out, std::size_t, const cart_line& line) { write_line(out, line); });
}

json cart::to_json() const {
  std::string out;
  base::json_writer w{out};
  w.begin_object();
  write_fields(w);
  w.end_object();
  return json::parse(out);
}

cart cart::from_json(const json& j, cart_limits limits) {
  if (!j.is_object())
    throw malformed_cart("not an object");
  cart result{limits};
  result.version_ = integer_at(j, "version");
  if (result.version_ < 0)
    throw malformed_cart("negative version");
  result.touched_at_ms_ = integer_at(j, "touched_at_ms");
  result.frozen_for_ = string_at(j, "frozen_for");
  const auto& lines = j.at("lines");
  if (!lines.is_array())
    throw malformed_cart("lines is not an array");
  std::set<std::string> seen;
  for (const auto& x : lines) {
    if (!x.is_object())
      throw malformed_cart("a line is not an object");
    cart_line line;
    line.sku = string_at(x, "sku");
    line.product_id = integer_at(x, "product_id");
    line.title = string_at(x, "title");
    line.qty = integer_at(x, "qty");
    line.unit_price = integer_at(x, "unit_price");
    if (line.qty < 1)
      throw malformed_cart("qty below 1 for " + line.sku);
    if (!seen.insert(line.sku).second)
      throw malformed_cart("repeated sku " + line.sku);
    result.lines_.push_back(std::move(line));
  }
  return result;
}

} // namespace souk::actors
