#pragma once

#include "actors/cart/cart.hpp"
#include "base/json_writer.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace souk::actors {

/// The lines of a cart as `Write(json_writer&, const cart_line&)` writes each, joined with
/// commas, kept from one call to the next in one piece (the cart actor's answers): a change
/// re-renders only the line it touched (`cart::last_change`) and splices it in, and the answer
/// copies one contiguous text. Checking every line's cached text against the line and gathering
/// 50 texts from all over the heap took 13% of soukd's CPU for carts of 50 lines (perf).
template <class Write>
class rendered_lines {
public:
  explicit rendered_lines(Write write) : write_(write) {}

  const std::string& of(const cart& c) {
    if (version_ != c.version() || ends_.size() != c.lines().size()) {
      const auto& ch = c.last_change();
      if (version_ < 0 || version_ + 1 != c.version() || ch.version != c.version() || !patch(c, ch))
        render_all(c);
      version_ = c.version();
    }
    return text_;
  }
  /// Forgets the text and its memory.
  void release() {
    std::string{}.swap(text_);
    std::vector<std::size_t>{}.swap(ends_);
    version_ = -1;
  }

private:
  std::string render(const cart_line& l) const {
    std::string out;
    base::json_writer w{out};
    write_(w, l);
    return out;
  }
  std::size_t start(std::size_t i) const { return i == 0 ? 0 : ends_[i - 1] + 1; }
  void shift(std::size_t from, std::ptrdiff_t by) {
    for (auto j = from; j < ends_.size(); ++j)
      ends_[j] = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(ends_[j]) + by);
  }
  bool patch(const cart& c, const cart_change& ch) {
    const auto n = c.lines().size();
    switch (ch.what) {
    case cart_change::kind::updated: {
      if (n != ends_.size() || ch.line >= n)
        return false;
      auto text = render(c.lines()[ch.line]);
      auto from = start(ch.line);
      auto len = ends_[ch.line] - from;
      text_.replace(from, len, text);
      shift(ch.line, static_cast<std::ptrdiff_t>(text.size()) - static_cast<std::ptrdiff_t>(len));
      return true;
    }
    case cart_change::kind::appended:
      if (n != ends_.size() + 1 || ch.line + 1 != n)
        return false;
      if (!text_.empty())
        text_ += ',';
      text_ += render(c.lines().back());
      ends_.push_back(text_.size());
      return true;
    case cart_change::kind::removed: {
      if (n + 1 != ends_.size() || ch.line > n)
        return false;
      // The line and the comma after it; the last line, the comma before it.
      auto from = ch.line + 1 == ends_.size() && ch.line > 0 ? ends_[ch.line - 1] : start(ch.line);
      auto to = ch.line + 1 == ends_.size() ? text_.size() : ends_[ch.line] + 1;
      text_.erase(from, to - from);
      ends_.erase(ends_.begin() + static_cast<std::ptrdiff_t>(ch.line));
      shift(ch.line, -static_cast<std::ptrdiff_t>(to - from));
      return true;
    }
    case cart_change::kind::several:
      break;
    }
    return false;
  }
  void render_all(const cart& c) {
    text_.clear();
    ends_.clear();
    for (const auto& l : c.lines()) {
      if (!text_.empty())
        text_ += ',';
      base::json_writer w{text_}; // one per line: each is a document of its own
      write_(w, l);
      ends_.push_back(text_.size());
    }
  }

  Write write_;
  std::string text_;
  std::vector<std::size_t> ends_; ///< one past each line's text in `text_`
  std::int64_t version_ = -1;     ///< the cart version `text_` shows; -1: none
};

/// When a cart drops its lines' texts (`rendered_lines`, `line_texts`). They add about a third
/// to an idle cart's memory; without them every answer and every snapshot renders each line
/// again, the larger part of a 50-line cart's CPU. A cart is being edited, and keeps them, when it
/// answered more than two requests since its last write-behind flush or flushed less than
/// `busy_gap` before; a cart edited now and then drops them at each flush. An idle check drops
/// them when nothing was answered since the last flush or idle check, so a cart that was busy
/// does not hold them until it is passivated.
class line_text_keeping {
public:
  /// A request was answered with the cart.
  void answered() { ++answers_; }
  /// A write-behind flush at `now_ms` (Unix ms): whether to drop the texts now.
  bool release_at_flush(std::int64_t now_ms, std::chrono::milliseconds busy_gap) {
    const bool busy =
        answers_ > 2 || (last_flush_ != never && now_ms - last_flush_ < busy_gap.count());
    last_flush_ = now_ms;
    answers_ = 0;
    return !busy;
  }
  /// An idle check: whether to drop the texts now.
  bool release_at_idle() {
    const bool quiet = answers_ == 0;
    answers_ = 0;
    return quiet;
  }

private:
  static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::min();
  std::int64_t last_flush_ = never;
  int answers_ = 0;
};

} // namespace souk::actors
