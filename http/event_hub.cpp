#include "http/event_hub.hpp"

#include "base/time.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <nlohmann/json.hpp>

namespace souk::http {

namespace {

std::string type_of(const std::string& status) {
  std::string out = "order.";
  for (char c : status)
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace

event_hub::event_hub(std::size_t per_user, std::size_t max_users)
    : per_user_(std::max<std::size_t>(per_user, 1)),
      max_users_(std::max<std::size_t>(max_users, 1)),
      epoch_(std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count())) {}

void event_hub::touch(const std::string& user, user_events& u) {
  lru_.erase(u.lru);
  lru_.push_front(user);
  u.lru = lru_.begin();
}

void event_hub::evict() {
  // From the least recently active end: forget buyers with no open stream.
  auto it = lru_.end();
  while (users_.size() > max_users_ && it != lru_.begin()) {
    --it;
    auto u = users_.find(*it);
    if (u != users_.end() && u->second.sinks.empty()) {
      if (!u->second.recent.empty())
        evicted_upto_ = std::max(evicted_upto_, u->second.recent.back().first);
      evicted_upto_ = std::max(evicted_upto_, u->second.dropped_upto);
      users_.erase(u);
      it = lru_.erase(it);
    }
  }
}

void event_hub::publish(const actors::order_event& e) {
  event ev;
  ev.type = e.type.empty() ? type_of(e.status) : e.type;
  auto data = nlohmann::json{{"order_id", e.order_id},
                             {"status", e.status},
                             {"payment_status", e.payment_status},
                             {"at", base::format_rfc3339(std::chrono::system_clock::time_point{
                                        std::chrono::milliseconds{e.at_ms}})}};
  if (e.returned_units >= 0)
    data["returned_units"] = e.returned_units;
  ev.data = data.dump();
  std::vector<std::pair<std::uint64_t, sink>> targets;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto seq = next_seq_++;
    ev.id = epoch_ + "-" + std::to_string(seq);
    auto [it, fresh] = users_.try_emplace(e.user_id);
    auto& u = it->second;
    if (fresh) {
      lru_.push_front(e.user_id);
      u.lru = lru_.begin();
    } else {
      touch(e.user_id, u);
    }
    u.recent.emplace_back(seq, ev);
    while (u.recent.size() > per_user_) {
      u.dropped_upto = u.recent.front().first;
      u.recent.pop_front();
    }
    for (auto& [id, s] : u.sinks)
      targets.emplace_back(id, s);
    evict();
  }
  // Outside the lock: a sink may close its stream, which unsubscribes.
  for (auto& [id, s] : targets)
    if (!s(ev))
      unsubscribe(e.user_id, id);
}

event_hub::subscription event_hub::subscribe(const std::string& user,
                                             const std::string& last_event_id, sink out) {
  subscription sub;
  std::lock_guard<std::mutex> guard{mtx_};
  auto [it, fresh] = users_.try_emplace(user);
  auto& u = it->second;
  if (fresh) {
    lru_.push_front(user);
    u.lru = lru_.begin();
  } else {
    touch(user, u);
  }
  if (!last_event_id.empty()) {
    auto dash = last_event_id.rfind('-');
    std::uint64_t seq = 0;
    bool ours = dash != std::string::npos && last_event_id.substr(0, dash) == epoch_;
    if (ours) {
      try {
        seq = std::stoull(last_event_id.substr(dash + 1));
      } catch (const std::exception&) {
        ours = false;
      }
    }
    // Resumable when it is one of ours and no event after it was dropped: from this buyer's
    // `recent`, or with the buyer when it was forgotten (then only the hub knows how far).
    bool covered =
        ours && seq < next_seq_ && seq >= u.dropped_upto && (!fresh || seq >= evicted_upto_);
    if (!covered)
      sub.resync = true;
    for (auto& [s, ev] : u.recent)
      if (covered && s > seq)
        sub.backlog.push_back(ev);
  }
  sub.id = next_sub_++;
  u.sinks.emplace(sub.id, std::move(out));
  ++streams_;
  evict();
  return sub;
}

void event_hub::unsubscribe(const std::string& user, std::uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = users_.find(user);
  if (it == users_.end())
    return;
  if (it->second.sinks.erase(id) > 0)
    --streams_;
}

std::size_t event_hub::users() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return users_.size();
}

std::size_t event_hub::streams() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return streams_;
}

} // namespace souk::http
