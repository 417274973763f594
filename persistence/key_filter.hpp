#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace souk::persistence {

/// A Bloom filter over the (kind, key) of every snapshot in the store: `may_contain` false
/// means the store has no snapshot of it, so activating a new entity (every order, payment,
/// cart and idempotency key starts as one) skips the read. Never a false "no" for a key that
/// was `add`ed: the store adds every key in the file when it opens and every key the writer is
/// given, before the write is queued. A deleted key stays in (a needless read, no harm); as the
/// keys outgrow the bits, more "maybe"s are wrong, which costs reads, not answers.
/// Thread-safe: `add` and `may_contain` from any threads (relaxed atomics: whoever reads a key
/// learned of it through a message, which orders the `add` before).
class key_filter {
public:
  /// `bits` rounded up to a multiple of 64 (at least 64).
  explicit key_filter(std::size_t bits);

  void add(std::string_view kind, std::string_view key);
  bool may_contain(std::string_view kind, std::string_view key) const;

  std::size_t bits() const { return words_ * 64; }

private:
  static constexpr int probes = 3;
  std::size_t words_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> data_;
};

} // namespace souk::persistence
