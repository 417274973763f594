#include "http/stream_queue.hpp"

#include "base/log.hpp"

namespace souk::http {

bool stream_queue::send(std::string chunk) {
  std::shared_ptr<stream_link> link;
  bool overflow = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (ended_ || close_requested_ || overflowed_)
      return false;
    if (chunk.size() > max_bytes_ - unwritten_) {
      overflowed_ = true;
      overflow = true;
    } else {
      unwritten_ += chunk.size();
      queue_.push_back(std::move(chunk));
      if (wake_pending_)
        return true;
      wake_pending_ = true;
    }
    link = link_.lock();
  }
  // Outside the lock: the link posts, and dropping `link` may destroy the session, which
  // ends this stream (taking the lock).
  if (link) {
    if (overflow)
      link->abort(stream_end::too_slow);
    else
      link->wake();
  }
  return !overflow;
}

void stream_queue::close() {
  std::shared_ptr<stream_link> link;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (ended_ || close_requested_)
      return;
    close_requested_ = true;
    if (wake_pending_)
      return;
    wake_pending_ = true;
    link = link_.lock();
  }
  if (link)
    link->wake();
}

bool stream_queue::is_open() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return !ended_ && !close_requested_ && !overflowed_;
}

void stream_queue::on_closed(std::function<void(stream_end)> fn) {
  std::unique_lock<std::mutex> lock{mtx_};
  if (!ended_) {
    callbacks_.push_back(std::move(fn));
    return;
  }
  auto why = *ended_;
  lock.unlock();
  fn(why);
}

bool stream_queue::take(std::vector<std::string>& out) {
  std::lock_guard<std::mutex> guard{mtx_};
  wake_pending_ = false;
  for (auto& chunk : queue_)
    out.push_back(std::move(chunk));
  queue_.clear();
  return close_requested_;
}

void stream_queue::written(std::size_t bytes) {
  std::lock_guard<std::mutex> guard{mtx_};
  unwritten_ -= std::min(bytes, unwritten_);
}

bool stream_queue::end(stream_end why) {
  std::vector<std::function<void(stream_end)>> callbacks;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (ended_)
      return false;
    ended_ = why;
    queue_.clear();
    unwritten_ = 0;
    callbacks.swap(callbacks_);
  }
  for (auto& fn : callbacks) {
    try {
      fn(why);
    } catch (const std::exception& e) { // a callback must not throw; keep the edge alive
      base::log_error("event stream on-closed callback threw", {{"error", e.what()}});
    }
  }
  return true;
}

std::optional<stream_end> stream_queue::ended() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return ended_;
}

} // namespace souk::http
