// The idempotency record (kind "idem") through the real directory on CAF's deterministic
// scheduler over a real SQLite store: begin / finish / abort, the lease a running request holds,
// the retention of a record, and that what it answered survives a crash and a restart.

#include "actors/api/directory.hpp"
#include "actors/api/errors.hpp"
#include "actors/api/idempotency_api.hpp"
#include "actors/api/payment_api.hpp" // test_node.hpp uses it
#include "persistence/writer.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_node.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using namespace std::chrono_literals;
using actors::idem_abort_atom;
using actors::idem_answer;
using actors::idem_begin_atom;
using actors::idem_finish_atom;
using actors::stored_response;

/// The defaults of entity_context: the test node runs with them.
const std::chrono::milliseconds lease = actors::entity_context{}.idempotency_lease;
const std::chrono::milliseconds ttl = actors::entity_context{}.idempotency_ttl;

using test::pending_call;

class IdemActorTest : public ::testing::Test {
protected:
  static idem_answer begin(test::test_node& node, const std::string& key,
                           const std::string& fingerprint) {
    return node.ask<idem_answer>("idem", key, idem_begin_atom::value, fingerprint);
  }
  /// Finishes `attempt` (1: the first request that began under the key).
  static bool finish(test::test_node& node, const std::string& key, const std::string& fingerprint,
                     stored_response r, std::int64_t attempt = 1) {
    return node.ask<bool>("idem", key, idem_finish_atom::value, fingerprint, attempt, std::move(r));
  }
  /// A begin whose running mark stays in memory (idem_begin_atom with `durable_mark` false).
  static idem_answer begin_in_memory(test::test_node& node, const std::string& key,
                                     const std::string& fingerprint) {
    return node.ask<idem_answer>("idem", key, idem_begin_atom::value, fingerprint, false);
  }
  static bool abort(test::test_node& node, const std::string& key, const std::string& fingerprint,
                    std::int64_t attempt = 1) {
    return node.ask<bool>("idem", key, idem_abort_atom::value, fingerprint, attempt);
  }

  static stored_response created(const std::string& body = R"({"id":"o1"})") {
    return {201, "application/json", "\"v1\"", "/v1/orders/o1", body};
  }

  static void expect_same(const stored_response& a, const stored_response& b) {
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.content_type, b.content_type);
    EXPECT_EQ(a.etag, b.etag);
    EXPECT_EQ(a.location, b.location);
    EXPECT_EQ(a.body, b.body);
  }

  static std::int64_t stored_version(test::test_node& node, const std::string& key) {
    auto r = node.store().load_snapshot("idem", key);
    EXPECT_TRUE(r.ok());
    return r.ok() && *r ? (*r)->version : 0;
  }

  static void run_without_writes(test::test_node& node) {
    while (node.step()) {
    }
  }

  test::temp_dir dir_;
};

TEST_F(IdemActorTest, TheFirstBeginIsNewAndARepeatWhileItRunsIsInFlight) {
  test::test_node node{dir_.path(), {}};
  auto first = begin(node, "k1", "POST /v1/orders #abc");
  EXPECT_EQ(first.code, "new");
  EXPECT_EQ(first.response.status, 0);
  EXPECT_GT(stored_version(node, "k1"), 0) << "the running mark is durable before the answer";
  EXPECT_EQ(begin(node, "k1", "POST /v1/orders #abc").code, "in_flight");
  EXPECT_EQ(begin(node, "k1", "POST /v1/orders #abc").code, "in_flight");
  // Another key is another record.
  EXPECT_EQ(begin(node, "k2", "POST /v1/orders #abc").code, "new");
}

TEST_F(IdemActorTest, AnotherFingerprintIsAMismatchWhileRunningAndWhenDone) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp-a").code, "new");
  auto running = begin(node, "k1", "fp-b");
  EXPECT_EQ(running.code, "mismatch");
  EXPECT_EQ(running.response.body, "");
  ASSERT_TRUE(finish(node, "k1", "fp-a", created()));
  auto done = begin(node, "k1", "fp-b");
  EXPECT_EQ(done.code, "mismatch");
  EXPECT_EQ(done.response.body, "") << "another request's response is never shown";
  EXPECT_EQ(done.response.status, 0);
  // A mismatch changes nothing: the first request's response is still replayed.
  EXPECT_EQ(begin(node, "k1", "fp-a").code, "done");
}

TEST_F(IdemActorTest, FinishStoresTheResponseAndEveryLaterBeginReplaysIt) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  // Quotes, newlines, a NUL and non-ASCII text come back byte for byte.
  std::string body =
      "{\"id\":\"o1\",\n\"note\":\"\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82\"}";
  body.push_back('\0');
  body += "tail";
  auto r = created(body);
  EXPECT_TRUE(finish(node, "k1", "fp", r));
  for (int i = 0; i < 3; ++i) {
    auto replay = begin(node, "k1", "fp");
    EXPECT_EQ(replay.code, "done");
    expect_same(replay.response, r);
  }
  // A second finish (a duplicate) does not overwrite the stored response.
  auto other = r;
  other.status = 500;
  other.body = "late duplicate";
  EXPECT_FALSE(finish(node, "k1", "fp", other));
  expect_same(begin(node, "k1", "fp").response, r);
}

TEST_F(IdemActorTest, FinishAndAbortNeedARunningRequestWithTheSameFingerprint) {
  test::test_node node{dir_.path(), {}};
  EXPECT_FALSE(finish(node, "k1", "fp", created())) << "nothing began";
  EXPECT_FALSE(abort(node, "k1", "fp")) << "nothing began";
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  EXPECT_FALSE(finish(node, "k1", "other", created()));
  EXPECT_FALSE(abort(node, "k1", "other"));
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight") << "still running";
  ASSERT_TRUE(finish(node, "k1", "fp", created()));
  EXPECT_FALSE(abort(node, "k1", "fp")) << "a finished request is not forgotten";
  EXPECT_EQ(begin(node, "k1", "fp").code, "done");
}

TEST_F(IdemActorTest, AbortForgetsTheRunningRequestSoARetryRunsAgain) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp-a").code, "new");
  EXPECT_TRUE(abort(node, "k1", "fp-a"));
  auto retry = begin(node, "k1", "fp-a");
  EXPECT_EQ(retry.code, "new") << "the retry runs";
  EXPECT_EQ(retry.attempt, 2);
  EXPECT_FALSE(abort(node, "k1", "fp-a", 1)) << "the first attempt is over";
  EXPECT_TRUE(abort(node, "k1", "fp-a", 2));
  // Forgotten entirely: the key may even be used for another request now.
  auto other = begin(node, "k1", "fp-b");
  EXPECT_EQ(other.code, "new");
  EXPECT_TRUE(finish(node, "k1", "fp-b", created(), other.attempt));
  EXPECT_EQ(begin(node, "k1", "fp-b").code, "done");
  EXPECT_EQ(begin(node, "k1", "fp-a").code, "mismatch");
}

TEST_F(IdemActorTest, ARunningRequestBlocksRetriesUntilItsLeasePassesThenOneRetryTakesOver) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  node.run_for(lease - 1ms);
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight") << "the lease has 1 ms left";
  EXPECT_EQ(begin(node, "k1", "other").code, "mismatch");
  node.run_for(1ms);
  EXPECT_EQ(begin(node, "k1", "other").code, "mismatch") << "an expired lease is not for others";
  EXPECT_EQ(begin(node, "k1", "fp").code, "new") << "the lease ran out: this retry takes over";
  // The retry holds a fresh lease.
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight");
  node.run_for(lease - 1ms);
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight");
  node.run_for(1ms);
  auto third = begin(node, "k1", "fp");
  EXPECT_EQ(third.code, "new");
  EXPECT_EQ(third.attempt, 3);
  // The runners whose leases ran out finish late: neither overwrites nor forgets the third's.
  EXPECT_FALSE(finish(node, "k1", "fp", created(R"({"late":1})"), 1));
  EXPECT_FALSE(abort(node, "k1", "fp", 2));
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight");
  ASSERT_TRUE(finish(node, "k1", "fp", created(), 3));
  // A done record has no lease: it replays however long after.
  node.run_for(2 * lease);
  EXPECT_EQ(begin(node, "k1", "fp").code, "done");
}

TEST_F(IdemActorTest, ARecordOlderThanTheRetentionCountsAsAbsent) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp-a").code, "new");
  ASSERT_TRUE(finish(node, "k1", "fp-a", created()));
  // Retention counts from the first use of the key.
  node.run_for(ttl - 1ms);
  EXPECT_EQ(begin(node, "k1", "fp-a").code, "done");
  EXPECT_EQ(begin(node, "k1", "fp-b").code, "mismatch");
  node.run_for(1ms);
  auto later = begin(node, "k1", "fp-b");
  EXPECT_EQ(later.code, "new") << "the key is free again, for any request";
  EXPECT_EQ(later.response.body, "");
  EXPECT_EQ(begin(node, "k1", "fp-b").code, "in_flight");
  EXPECT_EQ(begin(node, "k1", "fp-a").code, "mismatch");
}

TEST_F(IdemActorTest, AnExpiredRunningRecordIsAbsentToo) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp-a").code, "new");
  node.run_for(ttl);
  EXPECT_EQ(begin(node, "k1", "fp-b").code, "new");
}

TEST_F(IdemActorTest, EveryAnswerWaitsForTheWriteOfTheBeginBeforeIt) {
  test::test_node node{dir_.path(), {}};
  pending_call first{node, {"idem", "k1"}, idem_begin_atom::value, std::string{"fp"}};
  pending_call second{node, {"idem", "k1"}, idem_begin_atom::value, std::string{"fp"}};
  pending_call other{node, {"idem", "k1"}, idem_begin_atom::value, std::string{"fp-x"}};
  run_without_writes(node);
  EXPECT_EQ(node.sink().held(), 1u);
  EXPECT_FALSE(first.answered());
  EXPECT_FALSE(second.answered()) << "in_flight is not said before new is durable";
  EXPECT_FALSE(other.answered());
  node.settle();
  ASSERT_TRUE(first.answered());
  ASSERT_TRUE(second.answered());
  ASSERT_TRUE(other.answered());
  EXPECT_EQ(first.take<idem_answer>()->code, "new");
  EXPECT_EQ(second.take<idem_answer>()->code, "in_flight");
  EXPECT_EQ(other.take<idem_answer>()->code, "mismatch");

  pending_call fin{
      node, {"idem", "k1"}, idem_finish_atom::value, std::string{"fp"}, std::int64_t{1}, created()};
  pending_call replay{node, {"idem", "k1"}, idem_begin_atom::value, std::string{"fp"}};
  run_without_writes(node);
  EXPECT_FALSE(fin.answered());
  EXPECT_FALSE(replay.answered());
  node.settle();
  ASSERT_TRUE(fin.answered());
  ASSERT_TRUE(replay.answered());
  EXPECT_EQ(fin.take<bool>(), true);
  auto r = replay.take<idem_answer>();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "done");
  expect_same(r->response, created());
}

TEST_F(IdemActorTest, ADoneRecordReplaysAfterARestartInPlace) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  auto r = created("{\"id\":\"o1\",\"total\":{\"amount\":1500,\"currency\":\"RUB\"}}");
  ASSERT_TRUE(finish(node, "k1", "fp", r));
  node.restart_in_place(10s);
  auto replay = begin(node, "k1", "fp");
  EXPECT_EQ(replay.code, "done");
  expect_same(replay.response, r);
  EXPECT_EQ(begin(node, "k1", "other").code, "mismatch");
  // And again after a second restart (the replay itself wrote nothing it depends on).
  node.restart_in_place(10s);
  expect_same(begin(node, "k1", "fp").response, r);
}

TEST_F(IdemActorTest, TheStoredBodyIsKeptAsItIsAndARecordOfTheEarlierFormatStillReplays) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  std::string body = "{\"id\":\"o1\",\n\"note\":\"line\\nbreak\"}";
  body.push_back('\0');
  body += "\n{\"tail\":1}";
  ASSERT_TRUE(finish(node, "k1", "fp", created(body)));
  // The snapshot: a JSON header line, then the body byte for byte (no escaping).
  auto snap = node.store().load_snapshot("idem", "k1");
  ASSERT_TRUE(snap.ok() && snap->has_value());
  const auto& text = (*snap)->state;
  auto nl = text.find('\n');
  ASSERT_NE(nl, std::string::npos);
  auto header = nlohmann::json::parse(text.substr(0, nl));
  EXPECT_EQ(header.at("status"), "done");
  EXPECT_EQ(header.at("response").size(), 4u);
  EXPECT_EQ(text.substr(nl + 1), body);
  node.restart_in_place(1s);
  expect_same(begin(node, "k1", "fp").response, created(body));

  // A record as souk wrote it before: one JSON object, the body inside it.
  auto now = node.now_ms();
  nlohmann::json old{{"status", "done"},
                     {"fingerprint", "fp-old"},
                     {"created_at_ms", now},
                     {"started_at_ms", now},
                     {"attempt", 1},
                     {"response", {201, "application/json", "\"v1\"", "/v1/orders/o2", body}}};
  persistence::write_request req;
  req.ops.emplace_back(persistence::put_snapshot{{"idem", "k2", 1, 0, old.dump(), 0}});
  ASSERT_TRUE(node.store().writer().submit(std::move(req)).ok());
  node.store().writer().flush();
  auto replay = begin(node, "k2", "fp-old");
  EXPECT_EQ(replay.code, "done");
  EXPECT_EQ(replay.response.body, body);
  EXPECT_EQ(replay.response.location, "/v1/orders/o2");
  EXPECT_EQ(begin(node, "k2", "other").code, "mismatch");
}

TEST_F(IdemActorTest, ARunningRecordBlocksRetriesAfterARestartUntilItsLeasePasses) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  // The node that ran the request dies; it never finishes nor aborts.
  node.restart_in_place(10s);
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight");
  EXPECT_EQ(begin(node, "k1", "other").code, "mismatch");
  node.run_for(lease - 10s - 1ms);
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight");
  node.run_for(1ms);
  auto retry = begin(node, "k1", "fp");
  EXPECT_EQ(retry.code, "new");
  EXPECT_EQ(retry.attempt, 2) << "attempts count on across the restart";
  ASSERT_TRUE(finish(node, "k1", "fp", created(), retry.attempt));
  EXPECT_EQ(begin(node, "k1", "fp").code, "done");
}

TEST_F(IdemActorTest, AnAbortSurvivesARestart) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  ASSERT_TRUE(abort(node, "k1", "fp"));
  node.restart_in_place(1s);
  EXPECT_EQ(begin(node, "k1", "other").code, "new") << "the forgotten key stays forgotten";
}

TEST_F(IdemActorTest, ABeginLostInACrashWasNeverConfirmedAndTheRetryRunsIt) {
  test::test_node node{dir_.path(), {}};
  pending_call lost{node, {"idem", "k1"}, idem_begin_atom::value, std::string{"fp"}};
  run_without_writes(node);
  ASSERT_EQ(node.sink().held(), 1u);
  node.restart_in_place(1s);
  EXPECT_FALSE(lost.answered()) << "nobody was told to run it";
  EXPECT_EQ(begin(node, "k1", "fp").code, "new");
}

TEST_F(IdemActorTest, AFinishLostInACrashLeavesTheRequestRunningNotDone) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  pending_call fin{
      node, {"idem", "k1"}, idem_finish_atom::value, std::string{"fp"}, std::int64_t{1}, created()};
  run_without_writes(node);
  ASSERT_EQ(node.sink().held(), 1u);
  node.restart_in_place(1s);
  EXPECT_FALSE(fin.answered());
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight") << "no response was stored";
  node.run_for(lease);
  EXPECT_EQ(begin(node, "k1", "fp").code, "new");
}

TEST_F(IdemActorTest, AFailedWriteIsNeverConfirmed) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  node.sink().fail = true;
  pending_call fin{
      node, {"idem", "k1"}, idem_finish_atom::value, std::string{"fp"}, std::int64_t{1}, created()};
  node.settle();
  node.sink().fail = false;
  ASSERT_TRUE(fin.answered());
  EXPECT_FALSE(fin.take<bool>());
  EXPECT_EQ(fin.error, caf::make_error(actors::errc::store_failed));
  // The record comes back from its last snapshot: still running, with its lease.
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight");
  EXPECT_TRUE(finish(node, "k1", "fp", created()));
  EXPECT_EQ(begin(node, "k1", "fp").code, "done");
}

TEST_F(IdemActorTest, ARecordSurvivesPassivation) {
  test::node_options opts;
  opts.idle_timeout = 1s;
  test::test_node node{dir_.path(), opts};
  ASSERT_EQ(begin(node, "k1", "fp").code, "new");
  ASSERT_TRUE(finish(node, "k1", "fp", created()));
  ASSERT_EQ(begin(node, "k2", "fp").code, "new");
  node.run_for(5s);
  expect_same(begin(node, "k1", "fp").response, created());
  EXPECT_EQ(begin(node, "k2", "fp").code, "in_flight");
}

TEST_F(IdemActorTest, AnInMemoryMarkIsAnsweredWithoutAWriteAndTurnsDuplicatesAway) {
  test::test_node node{dir_.path(), {}};
  pending_call first{node, {"idem", "k1"}, idem_begin_atom::value, std::string{"fp"}, false};
  run_without_writes(node);
  ASSERT_TRUE(first.answered()) << "the answer does not wait for a write";
  EXPECT_EQ(first.take<idem_answer>()->code, "new");
  EXPECT_EQ(node.sink().held(), 0u) << "nothing to write";
  node.settle();
  EXPECT_EQ(stored_version(node, "k1"), 0);
  // Duplicates are turned away as with a written mark, whichever kind of begin they are.
  EXPECT_EQ(begin_in_memory(node, "k1", "fp").code, "in_flight");
  EXPECT_EQ(begin(node, "k1", "fp").code, "in_flight");
  EXPECT_EQ(begin_in_memory(node, "k1", "other").code, "mismatch");
  // Finishing writes the record, which replays from then on, also after a restart.
  ASSERT_TRUE(finish(node, "k1", "fp", created()));
  EXPECT_GT(stored_version(node, "k1"), 0);
  node.restart_in_place(1s);
  auto replay = begin_in_memory(node, "k1", "fp");
  EXPECT_EQ(replay.code, "done");
  expect_same(replay.response, created());
}

TEST_F(IdemActorTest, AnInMemoryMarkIsLostInACrashSoTheRetryRunsAtOnce) {
  test::test_node node{dir_.path(), {}};
  ASSERT_EQ(begin_in_memory(node, "k1", "fp").code, "new");
  node.restart_in_place(1s);
  auto retry = begin_in_memory(node, "k1", "fp");
  EXPECT_EQ(retry.code, "new") << "no lease to wait for: the request it marked died";
  EXPECT_EQ(begin_in_memory(node, "k1", "fp").code, "in_flight");
  ASSERT_TRUE(finish(node, "k1", "fp", created(), retry.attempt));
  EXPECT_EQ(begin_in_memory(node, "k1", "fp").code, "done");
}

TEST_F(IdemActorTest, AnInMemoryMarkKeepsItsRecordActiveWhileTheLeaseHolds) {
  test::node_options opts;
  opts.idle_timeout = 1s;
  test::test_node node{dir_.path(), opts};
  ASSERT_EQ(begin_in_memory(node, "k1", "fp").code, "new");
  ASSERT_EQ(begin(node, "k2", "fp").code, "new");
  node.run_for(lease - 2s);
  // Passivated, k1 would come back from its (empty) snapshot and run a duplicate.
  EXPECT_EQ(begin_in_memory(node, "k1", "fp").code, "in_flight");
  EXPECT_EQ(begin(node, "k2", "fp").code, "in_flight");
  node.run_for(5s);
  // The lease ran out: the record may go, and a retry takes the key over either way.
  auto retry = begin_in_memory(node, "k1", "fp");
  EXPECT_EQ(retry.code, "new");
  ASSERT_TRUE(finish(node, "k1", "fp", created(), retry.attempt));
  node.run_for(5s);
  EXPECT_EQ(begin_in_memory(node, "k1", "fp").code, "done") << "a done record was written";
}

TEST_F(IdemActorTest, AnAbortedInMemoryMarkOfANewKeyWritesNothing) {
  test::test_node node{dir_.path(), {}};
  auto writes = node.sink().writes;
  auto first = begin_in_memory(node, "k1", "fp");
  ASSERT_EQ(first.code, "new");
  EXPECT_TRUE(abort(node, "k1", "fp", first.attempt));
  EXPECT_EQ(node.sink().writes, writes) << "a 202 or 5xx must not leave an empty record behind";
  EXPECT_FALSE(*node.store().load_snapshot("idem", "k1"));
  auto second = begin_in_memory(node, "k1", "other");
  EXPECT_EQ(second.code, "new") << "the key is free again";
  // A key with a record on disk (here: a finished request past its retention) is written over.
  ASSERT_TRUE(finish(node, "k1", "other", created(), second.attempt));
  node.run_for(ttl);
  auto later = begin_in_memory(node, "k1", "fp");
  ASSERT_EQ(later.code, "new");
  auto before = node.sink().writes;
  EXPECT_TRUE(abort(node, "k1", "fp", later.attempt));
  EXPECT_EQ(node.sink().writes, before + 1);
}

TEST_F(IdemActorTest, AnInMemoryMarkIsWrittenWhenTheNodeStops) {
  {
    test::test_node node{dir_.path(), {}};
    ASSERT_EQ(begin_in_memory(node, "k1", "fp").code, "new");
    EXPECT_EQ(stored_version(node, "k1"), 0);
  } // a clean stop (or a handoff): every entity writes what it kept unwritten
  test::test_node node{dir_.path(), {}};
  EXPECT_EQ(begin_in_memory(node, "k1", "fp").code, "in_flight")
      << "the record's next owner knows the request is running";
  EXPECT_EQ(begin_in_memory(node, "k1", "other").code, "mismatch");
}

} // namespace
} // namespace souk
