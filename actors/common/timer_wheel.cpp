#include "actors/common/timer_wheel.hpp"

#include "base/thread.hpp"

#include <algorithm>
#include <limits>

#include <caf/actor_cast.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/message_id.hpp>

namespace souk::actors {

namespace {
constexpr auto never = std::numeric_limits<std::int64_t>::max();
}

timer_wheel::timer_wheel(std::chrono::milliseconds resolution)
    : resolution_(std::max(resolution, std::chrono::milliseconds{1})) {
  sleeping_until_ = never;
  thread_ = std::thread{[this] {
    base::name_this_thread("souk-timers");
    run();
  }};
}

timer_wheel::~timer_wheel() {
  stop();
}

void timer_wheel::send_later(const caf::actor_addr& target, std::chrono::milliseconds delay,
                             caf::message msg) {
  auto due = clock::now() + std::max(delay, std::chrono::milliseconds{0}) - origin_;
  auto res = std::chrono::duration_cast<clock::duration>(resolution_);
  // Rounded up: a timer never fires before its delay has passed.
  auto tick = static_cast<std::int64_t>((due + res - clock::duration{1}) / res);
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return;
    buckets_[tick].push_back(entry{target, std::move(msg)});
    ++pending_;
    wake = tick < sleeping_until_;
  }
  if (wake)
    wake_.notify_one();
}

void timer_wheel::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
    buckets_.clear();
    pending_ = 0;
  }
  wake_.notify_one();
  // From a message this thread delivers, the loop ends on its own after it.
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

std::size_t timer_wheel::pending() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return pending_;
}

void timer_wheel::run() {
  auto res = std::chrono::duration_cast<clock::duration>(resolution_);
  std::vector<entry> due;
  std::unique_lock<std::mutex> guard{mtx_};
  while (!stopping_) {
    if (buckets_.empty()) {
      sleeping_until_ = never;
      wake_.wait(guard, [&] { return stopping_ || !buckets_.empty(); });
      continue;
    }
    auto now_tick = static_cast<std::int64_t>((clock::now() - origin_) / res);
    auto first = buckets_.begin()->first;
    if (first > now_tick) {
      sleeping_until_ = first;
      wake_.wait_until(guard, origin_ + first * res);
      continue;
    }
    for (auto it = buckets_.begin(); it != buckets_.end() && it->first <= now_tick;) {
      for (auto& e : it->second)
        due.push_back(std::move(e));
      it = buckets_.erase(it);
    }
    pending_ -= due.size();
    sleeping_until_ = now_tick; // busy delivering: a new timer needs no wake-up
    guard.unlock();
    for (auto& e : due)
      if (auto target = caf::actor_cast<caf::strong_actor_ptr>(e.target))
        target->enqueue(nullptr, caf::make_message_id(), std::move(e.msg), nullptr);
    due.clear();
    guard.lock();
  }
}

} // namespace souk::actors
