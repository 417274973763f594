#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/message.hpp>

namespace souk::actors {

/// Timers for entity actors, kept to a coarse resolution on one thread of their own.
///
/// CAF 0.17's clock wakes its thread for every timer it is given (CAF-NOTES.md), and an entity
/// arms several per checkout: its idle check, the saga's next deadline, a cart's write-behind.
/// Under load those wake-ups cost a tenth of the node's CPU. Here a timer is one entry in a
/// bucket of its due tick, added under a mutex; the thread sleeps until the earliest bucket and
/// is woken by a new timer only when that timer is due before it. A timer never fires early; it
/// fires at most one resolution (plus scheduling) late.
///
/// A timer holds its target weakly: an actor that quits is not kept alive, and its timers are
/// dropped when due. Timers still pending at `stop` are dropped: entities do not rely on a
/// timer across a restart (a saga's deadlines are in its snapshot and are armed again on
/// resume).
class timer_wheel {
public:
  using clock = std::chrono::steady_clock;

  /// Starts the thread. `resolution` is at least 1 ms.
  explicit timer_wheel(std::chrono::milliseconds resolution);
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;
  /// Stops (see `stop`).
  ~timer_wheel();

  /// Sends `msg` to `target` (anonymously) once `delay` has passed. Any thread.
  void send_later(const caf::actor_addr& target, std::chrono::milliseconds delay, caf::message msg);

  /// Drops the pending timers and joins the thread; later `send_later` calls are ignored.
  /// Idempotent; safe from any thread, including from a message the wheel delivers.
  void stop();

  /// Timers waiting now.
  std::size_t pending() const;
  std::chrono::milliseconds resolution() const { return resolution_; }

private:
  struct entry {
    caf::actor_addr target;
    caf::message msg;
  };

  void run();

  const std::chrono::milliseconds resolution_;
  const clock::time_point origin_ = clock::now();
  mutable std::mutex mtx_;
  std::condition_variable wake_;
  /// Due tick (resolution units since `origin_`, rounded up) → the timers due then.
  std::map<std::int64_t, std::vector<entry>> buckets_;
  std::size_t pending_ = 0;
  /// The tick the thread sleeps until; a new timer due before it wakes the thread.
  std::int64_t sleeping_until_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace souk::actors
