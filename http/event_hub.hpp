#pragma once

#include "actors/api/events.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace souk::http {

/// The order events of this node's buyers, for `GET /v1/events`: the order actors publish
/// into it, every open stream of the buyer hears each event once, and the last
/// `per_user` events of each buyer are kept so a reconnect with `Last-Event-ID` gets what it
/// missed. Ids are `<hub start>-<sequence>`: an id from before a restart, or older than what
/// is kept, cannot be resumed and the stream starts with a `resync` event instead (the client
/// then reads `GET /v1/orders`). Memory is bounded: at most `max_users` buyers are remembered
/// (the least recently active without an open stream are forgotten first).
class event_hub final : public actors::order_event_listener {
public:
  struct event {
    std::string id;
    std::string type; ///< order.paid, order.shipped, ... (the status, lowercased)
    std::string data; ///< JSON {order_id, status, payment_status, at}
  };
  /// Delivers one event to a stream; false when the stream is gone (it is then dropped).
  using sink = std::function<bool(const event&)>;

  event_hub(std::size_t per_user, std::size_t max_users);

  void publish(const actors::order_event& e) override;

  /// What a new stream gets: its id, the missed events to send first, and whether the client
  /// must resync (its Last-Event-ID could not be resumed).
  struct subscription {
    std::uint64_t id = 0;
    std::vector<event> backlog;
    bool resync = false;
  };

  /// Subscribes `out` to `user`'s events after `last_event_id` (empty: only new ones).
  subscription subscribe(const std::string& user, const std::string& last_event_id, sink out);
  void unsubscribe(const std::string& user, std::uint64_t id);

  std::size_t users() const;
  std::size_t streams() const;

private:
  struct user_events {
    std::deque<std::pair<std::uint64_t, event>> recent;
    std::uint64_t dropped_upto = 0; ///< the newest sequence dropped from `recent`
    std::map<std::uint64_t, sink> sinks;
    std::list<std::string>::iterator lru;
  };
  void touch(const std::string& user, user_events& u);
  void evict();

  const std::size_t per_user_;
  const std::size_t max_users_;
  const std::string epoch_; ///< this hub's start, the first part of every id
  mutable std::mutex mtx_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_sub_ = 1;
  std::uint64_t evicted_upto_ = 0; ///< the newest sequence of a forgotten buyer
  std::size_t streams_ = 0;
  std::unordered_map<std::string, user_events> users_;
  std::list<std::string> lru_; ///< most recently active first
};

} // namespace souk::http
