// The order event hub behind GET /v1/events: fan-out to a buyer's streams only, Last-Event-ID
// resume from what is kept, resync when it cannot resume, bounded memory.
#include "http/event_hub.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::http {
namespace {

actors::order_event paid(const std::string& user, const std::string& order) {
  return {user, order, "PAID", "captured", 1'796'000'000'000, "", -1};
}

struct recorder {
  std::vector<event_hub::event> seen;
  bool open = true;
  event_hub::sink sink() {
    return [this](const event_hub::event& e) {
      seen.push_back(e);
      return open;
    };
  }
};

/// A stream that takes nothing (and is dropped at the first event).
event_hub::sink ignore() {
  return [](const event_hub::event&) { return false; };
}

TEST(EventHubTest, DeliversToEveryStreamOfTheBuyerAndNoOneElse) {
  event_hub hub{10, 100};
  recorder a1, a2, b;
  hub.subscribe("u_a", "", a1.sink());
  hub.subscribe("u_a", "", a2.sink());
  hub.subscribe("u_b", "", b.sink());
  hub.publish(paid("u_a", "o_1"));
  ASSERT_EQ(a1.seen.size(), 1U);
  ASSERT_EQ(a2.seen.size(), 1U);
  EXPECT_TRUE(b.seen.empty());
  EXPECT_EQ(a1.seen[0].type, "order.paid");
  auto data = nlohmann::json::parse(a1.seen[0].data);
  EXPECT_EQ(data["order_id"], "o_1");
  EXPECT_EQ(data["status"], "PAID");
  EXPECT_EQ(data["payment_status"], "captured");
  EXPECT_EQ(data["at"], "2026-11-30T00:53:20.000000Z");
  EXPECT_EQ(a1.seen[0].id, a2.seen[0].id);
}

TEST(EventHubTest, APartialReturnIsItsOwnTypeAndCarriesTheReturnedUnits) {
  event_hub hub{10, 100};
  recorder a;
  hub.subscribe("u_a", "", a.sink());
  auto e = paid("u_a", "o_1");
  e.status = "DELIVERED";
  e.payment_status = "partially_refunded";
  e.type = "order.partially_returned";
  e.returned_units = 2;
  hub.publish(e);
  hub.publish(paid("u_a", "o_2"));
  ASSERT_EQ(a.seen.size(), 2U);
  EXPECT_EQ(a.seen[0].type, "order.partially_returned");
  auto data = nlohmann::json::parse(a.seen[0].data);
  EXPECT_EQ(data["status"], "DELIVERED");
  EXPECT_EQ(data["returned_units"], 2);
  EXPECT_EQ(a.seen[1].type, "order.paid");
  EXPECT_FALSE(nlohmann::json::parse(a.seen[1].data).contains("returned_units"))
      << "only return events tell units";
}

TEST(EventHubTest, ResumesAfterLastEventIdWithExactlyTheMissedEvents) {
  event_hub hub{10, 100};
  recorder first;
  auto sub = hub.subscribe("u_a", "", first.sink());
  for (int i = 0; i < 5; ++i)
    hub.publish(paid("u_a", "o_" + std::to_string(i)));
  hub.publish(paid("u_other", "o_x"));
  ASSERT_EQ(first.seen.size(), 5U);
  hub.unsubscribe("u_a", sub.id);
  recorder second;
  auto resumed = hub.subscribe("u_a", first.seen[1].id, second.sink());
  EXPECT_FALSE(resumed.resync);
  ASSERT_EQ(resumed.backlog.size(), 3U);
  EXPECT_EQ(resumed.backlog[0].id, first.seen[2].id);
  EXPECT_EQ(resumed.backlog[2].id, first.seen[4].id);
  auto latest = hub.subscribe("u_a", first.seen[4].id, ignore());
  EXPECT_FALSE(latest.resync);
  EXPECT_TRUE(latest.backlog.empty());
}

TEST(EventHubTest, AskForResyncWhenTheIdIsForeignMalformedOrNoLongerKept) {
  event_hub hub{3, 100};
  std::vector<std::string> ids;
  recorder r;
  hub.subscribe("u_a", "", r.sink());
  for (int i = 0; i < 6; ++i)
    hub.publish(paid("u_a", "o_" + std::to_string(i)));
  ASSERT_EQ(r.seen.size(), 6U);
  // Only the last three are kept: resuming after the second missed the third.
  auto old = hub.subscribe("u_a", r.seen[1].id, ignore());
  EXPECT_TRUE(old.resync);
  EXPECT_TRUE(old.backlog.empty());
  auto kept = hub.subscribe("u_a", r.seen[2].id, ignore());
  EXPECT_FALSE(kept.resync);
  EXPECT_EQ(kept.backlog.size(), 3U);
  for (auto id : {"123-4", "garbage", "-", "99999999999999999999999-1"}) {
    EXPECT_TRUE(hub.subscribe("u_a", id, ignore()).resync) << id;
  }
  // An id of this hub from the future is not resumable either.
  auto future = r.seen[5].id.substr(0, r.seen[5].id.rfind('-')) + "-999";
  EXPECT_TRUE(hub.subscribe("u_a", future, ignore()).resync);
}

TEST(EventHubTest, AClosedStreamIsDroppedAndUnsubscribeIsIdempotent) {
  event_hub hub{10, 100};
  recorder r;
  auto sub = hub.subscribe("u_a", "", r.sink());
  EXPECT_EQ(hub.streams(), 1U);
  r.open = false;
  hub.publish(paid("u_a", "o_1"));
  EXPECT_EQ(hub.streams(), 0U);
  hub.publish(paid("u_a", "o_2"));
  EXPECT_EQ(r.seen.size(), 1U);
  hub.unsubscribe("u_a", sub.id);
  hub.unsubscribe("u_nobody", 42);
  EXPECT_EQ(hub.streams(), 0U);
}

TEST(EventHubTest, ForgetsTheLeastRecentBuyersWithoutStreamsAndResyncsThem) {
  event_hub hub{5, 3};
  recorder watcher;
  hub.subscribe("u_watched", "", watcher.sink());
  recorder early;
  auto sub = hub.subscribe("u_0", "", early.sink());
  hub.publish(paid("u_0", "o_0"));
  hub.unsubscribe("u_0", sub.id);
  for (int i = 1; i < 50; ++i)
    hub.publish(paid("u_" + std::to_string(i), "o"));
  EXPECT_LE(hub.users(), 3U);
  hub.publish(paid("u_watched", "o_w"));
  EXPECT_EQ(watcher.seen.size(), 1U) << "a buyer with an open stream is never forgotten";
  // u_0 was forgotten: its id can no longer be resumed.
  EXPECT_TRUE(hub.subscribe("u_0", early.seen[0].id, ignore()).resync);
}

} // namespace
} // namespace souk::http
