#include "actors/common/durability.hpp"

#include <iterator>
#include <utility>

namespace souk::actors {

namespace {
/// Capacity an idle entity may keep for its replies; a burst's larger buffer is given back.
constexpr std::size_t kept_capacity = 16;
} // namespace

void durability::after_durable(std::function<void(bool ok)> reply) {
  if (changes_ == durable_ && head_ == waiting_.size()) {
    reply(true);
    return;
  }
  waiting_.push_back({changes_, std::move(reply)});
}

void durability::written(bool ok) {
  in_flight_ = false;
  ++writes_;
  if (ok)
    durable_ = writing_;
  // On failure, every reply that needed this write is told so: the actor then stops and is
  // activated again from its last durable snapshot, so nothing unwritten is ever confirmed.
  // A reply may register another one (appended, so it is looked at in this loop too); each is
  // taken out before it runs, so `after_durable` sees the ones still waiting, as before.
  while (head_ < waiting_.size() && (!ok || waiting_[head_].needs <= durable_)) {
    auto w = std::move(waiting_[head_]);
    ++head_;
    if (!ok && w.needs <= durable_) {
      w.reply(true);
      continue;
    }
    w.reply(ok);
  }
  if (head_ == waiting_.size()) {
    waiting_.clear();
    if (waiting_.capacity() > kept_capacity)
      std::vector<waiter>{}.swap(waiting_);
  } else {
    waiting_.erase(waiting_.begin(),
                   std::next(waiting_.begin(), static_cast<std::ptrdiff_t>(head_)));
  }
  head_ = 0;
}

} // namespace souk::actors
