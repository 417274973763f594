// Server-Sent Events without sockets: event formatting, Last-Event-ID, and the bounded,
// thread-safe queue behind `event_stream`.
#include "http/sse.hpp"
#include "http/stream_queue.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace souk::http {
namespace {

TEST(FormatSseEvent, WritesIdEventAndDataLinesThenABlankLine) {
  EXPECT_EQ(format_sse_event("{\"a\":1}", "order.paid", "42"),
            "id: 42\nevent: order.paid\ndata: {\"a\":1}\n\n");
}

TEST(FormatSseEvent, OmitsIdAndEventWhenEmpty) {
  EXPECT_EQ(format_sse_event("hello"), "data: hello\n\n");
}

TEST(FormatSseEvent, SplitsMultiLineDataAtEveryKindOfLineBreak) {
  EXPECT_EQ(format_sse_event("a\nb\r\nc\rd"), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(format_sse_event("a\n\nb"), "data: a\ndata: \ndata: b\n\n");
  EXPECT_EQ(format_sse_event("end\n"), "data: end\ndata: \n\n");
}

TEST(FormatSseEvent, EmptyDataGivesOneEmptyDataLine) {
  EXPECT_EQ(format_sse_event(""), "data: \n\n");
}

TEST(FormatSseEvent, LineBreaksAndNulCannotEscapeIdOrEvent) {
  auto text = format_sse_event("x", std::string_view{"a\nb\0c", 5}, "1\r\ndata: forged");
  EXPECT_EQ(text, std::string{"id: 1data: forged\nevent: abc\ndata: x\n\n"});
}

TEST(FormatSseComment, IsAColonLine) {
  EXPECT_EQ(format_sse_comment("ping"), ": ping\n\n");
  EXPECT_EQ(format_sse_comment("a\nb"), ": ab\n\n");
}

request with_last_event_id(std::string value) {
  request req{bhttp::verb::get, "/v1/events", 11};
  req.set("Last-Event-ID", value);
  return req;
}

TEST(LastEventId, IsTheTrimmedHeader) {
  EXPECT_EQ(last_event_id(with_last_event_id("  abc-7 ")), "abc-7");
  request none{bhttp::verb::get, "/v1/events", 11};
  EXPECT_EQ(last_event_id(none), std::nullopt);
  EXPECT_EQ(last_event_id(with_last_event_id("")), std::nullopt);
  EXPECT_EQ(last_event_id(with_last_event_id(std::string(1025, 'x'))), std::nullopt);
  EXPECT_EQ(last_event_id(with_last_event_id(std::string(1024, 'x'))), std::string(1024, 'x'));
}

TEST(LastEventId, NumberAcceptsDecimalUint64Only) {
  EXPECT_EQ(last_event_number(with_last_event_id("0")), 0U);
  EXPECT_EQ(last_event_number(with_last_event_id("18446744073709551615")), UINT64_MAX);
  EXPECT_EQ(last_event_number(with_last_event_id("18446744073709551616")), std::nullopt);
  EXPECT_EQ(last_event_number(with_last_event_id("-1")), std::nullopt);
  EXPECT_EQ(last_event_number(with_last_event_id("12a")), std::nullopt);
  EXPECT_EQ(last_event_number(with_last_event_id("+5")), std::nullopt);
}

/// A link that counts what the queue asks of it.
class counting_link : public stream_link {
public:
  void wake() override { ++wakes; }
  void abort(stream_end why) override {
    ++aborts;
    last_abort = why;
  }
  std::atomic<int> wakes{0};
  std::atomic<int> aborts{0};
  stream_end last_abort = stream_end::closed;
};

TEST(StreamQueue, WakesOnceUntilTheConnectionTakesTheChunks) {
  auto link = std::make_shared<counting_link>();
  stream_queue q{1024};
  q.attach(link);
  EXPECT_TRUE(q.send("a"));
  EXPECT_TRUE(q.send("b"));
  EXPECT_EQ(link->wakes, 1);
  std::vector<std::string> out;
  EXPECT_FALSE(q.take(out));
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(q.send("c"));
  EXPECT_EQ(link->wakes, 2);
}

TEST(StreamQueue, OverTheBoundTheSendFailsAndTheStreamIsAbortedAsTooSlow) {
  auto link = std::make_shared<counting_link>();
  stream_queue q{10};
  q.attach(link);
  EXPECT_TRUE(q.send("12345"));
  std::vector<std::string> out;
  q.take(out); // taken but not yet written: still counts
  EXPECT_TRUE(q.send("12345"));
  EXPECT_FALSE(q.send("1"));
  EXPECT_EQ(link->aborts, 1);
  EXPECT_EQ(link->last_abort, stream_end::too_slow);
  EXPECT_FALSE(q.is_open());
  EXPECT_FALSE(q.send("1"));
  EXPECT_EQ(link->aborts, 1); // once
}

TEST(StreamQueue, WrittenBytesFreeRoom) {
  auto link = std::make_shared<counting_link>();
  stream_queue q{10};
  q.attach(link);
  ASSERT_TRUE(q.send("1234567890"));
  std::vector<std::string> out;
  q.take(out);
  q.written(10);
  EXPECT_TRUE(q.send("1234567890"));
  EXPECT_EQ(link->aborts, 0);
}

TEST(StreamQueue, CloseIsReportedByTakeAndRefusesLaterSends) {
  auto link = std::make_shared<counting_link>();
  stream_queue q{100};
  q.attach(link);
  ASSERT_TRUE(q.send("last"));
  q.close();
  EXPECT_FALSE(q.is_open());
  EXPECT_FALSE(q.send("after"));
  std::vector<std::string> out;
  EXPECT_TRUE(q.take(out));
  EXPECT_EQ(out, std::vector<std::string>{"last"});
}

TEST(StreamQueue, OnClosedRunsOnceWithTheReasonAndAtOnceWhenAlreadyEnded) {
  stream_queue q{100};
  std::vector<stream_end> seen;
  q.on_closed([&](stream_end why) { seen.push_back(why); });
  q.on_closed([&](stream_end why) { seen.push_back(why); });
  EXPECT_TRUE(q.end(stream_end::client_gone));
  EXPECT_FALSE(q.end(stream_end::server_stopping));
  EXPECT_EQ(seen, (std::vector<stream_end>{stream_end::client_gone, stream_end::client_gone}));
  q.on_closed([&](stream_end why) { seen.push_back(why); });
  EXPECT_EQ(seen.size(), 3U);
  EXPECT_FALSE(q.send("x"));
}

TEST(StreamQueue, ConcurrentSendersNeverExceedTheBound) {
  auto link = std::make_shared<counting_link>();
  stream_queue q{4096};
  q.attach(link);
  std::atomic<std::size_t> accepted{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (q.send(std::string(16, 'x')))
          accepted += 16;
    });
  for (auto& t : senders)
    t.join();
  EXPECT_LE(accepted.load(), 4096U);
  EXPECT_EQ(link->aborts, 1);
}

} // namespace
} // namespace souk::http
