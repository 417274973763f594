#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace souk::actors {

/// Durable-before-reply bookkeeping of one entity actor, with write coalescing: while one
/// snapshot write is in flight, further changes only mark the state dirty, and the next write
/// (taken when the first completes) carries all of them at once. A reply registered with
/// `after_durable` goes out when every change made before it is on disk, so replies keep their
/// order and a duplicate request cannot overtake the write of the original. Not thread-safe:
/// the owning actor calls it from its handlers. Plain C++ so the rule is tested without CAF.
class durability {
public:
  /// The state changed; it must be written before later replies.
  void changed() { ++changes_; }

  /// Runs `reply(true)` once everything changed so far is durable (at once when it is), or
  /// `reply(false)` when that write fails.
  void after_durable(std::function<void(bool ok)> reply);

  /// True when a write should be started now (dirty and none in flight); the caller then
  /// writes the current state and calls `written(ok)` when the write completes.
  bool should_write() const { return !in_flight_ && changes_ > durable_; }
  /// Marks the write of everything changed so far as started.
  void write_started() {
    in_flight_ = true;
    writing_ = changes_;
  }
  /// The write started last completed. Delivers the replies it covers.
  void written(bool ok);

  bool idle() const { return !in_flight_ && changes_ == durable_ && head_ == waiting_.size(); }
  bool in_flight() const { return in_flight_; }
  std::uint64_t writes() const { return writes_; }

private:
  struct waiter {
    std::uint64_t needs; ///< changes_ when it was registered
    std::function<void(bool)> reply;
  };
  std::uint64_t changes_ = 0; ///< changes made
  std::uint64_t durable_ = 0; ///< changes known durable
  std::uint64_t writing_ = 0; ///< changes covered by the write in flight
  bool in_flight_ = false;
  std::uint64_t writes_ = 0;
  /// Replies in registration order, from `head_` on. A vector rather than a std::deque: every
  /// entity has one and is mostly idle, and libstdc++'s empty deque allocates about 0.6 KiB.
  std::vector<waiter> waiting_;
  std::size_t head_ = 0; ///< waiting_[0, head_) were delivered (moved from)
};

} // namespace souk::actors
