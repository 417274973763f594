// The cart actor's answer text: `rendered_lines` patches one line per change and must always
// equal the lines written afresh, whatever the changes and however many versions it skipped.
#include "actors/cart/rendered_lines.hpp"

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::actors {
namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;

void write_line(base::json_writer& w, const cart_line& l) {
  w.begin_object().key("sku").value(l.sku).key("title").value(l.title);
  w.key("qty").value(l.qty).key("line_total").value(l.line_total()).end_object();
}

using renderer = rendered_lines<void (*)(base::json_writer&, const cart_line&)>;

/// The lines written afresh, comma-joined: what `rendered_lines` must give.
std::string fresh(const cart& c) {
  std::string out;
  for (const auto& l : c.lines()) {
    if (!out.empty())
      out += ',';
    base::json_writer w{out};
    write_line(w, l);
  }
  return out;
}

cart_line item(const std::string& sku, std::int64_t qty, std::int64_t price = 100) {
  return {sku, 1, "Item " + sku, qty, price};
}

TEST(CartChange, EachChangeNamesTheLineItTouched) {
  cart c;
  ASSERT_EQ(c.add(item("a", 1), t0), cart_error::none);
  EXPECT_EQ(c.last_change().what, cart_change::kind::appended);
  EXPECT_EQ(c.last_change().line, 0U);
  EXPECT_EQ(c.last_change().version, c.version());
  ASSERT_EQ(c.add(item("b", 1), t0), cart_error::none);
  ASSERT_EQ(c.add(item("a", 9), t0), cart_error::none);
  EXPECT_EQ(c.last_change().what, cart_change::kind::updated);
  EXPECT_EQ(c.last_change().line, 0U);
  ASSERT_EQ(c.set("b", 4, t0), cart_error::none);
  EXPECT_EQ(c.last_change().what, cart_change::kind::updated);
  EXPECT_EQ(c.last_change().line, 1U);
  ASSERT_EQ(c.set("a", 0, t0), cart_error::none);
  EXPECT_EQ(c.last_change().what, cart_change::kind::removed);
  EXPECT_EQ(c.last_change().line, 0U);
  ASSERT_EQ(c.remove("b", t0), cart_error::none);
  EXPECT_EQ(c.last_change().what, cart_change::kind::removed);
  ASSERT_EQ(c.clear(t0), cart_error::none);
  EXPECT_EQ(c.last_change().what, cart_change::kind::several);
  EXPECT_EQ(c.last_change().version, c.version());
  // A refused change leaves the last change as it was.
  auto before = c.last_change();
  EXPECT_EQ(c.remove("zz", t0), cart_error::not_in_cart);
  EXPECT_EQ(c.last_change().version, before.version);
}

TEST(RenderedLines, PatchesEqualAFreshRenderingThroughEveryKindOfChange) {
  cart c;
  renderer r{write_line};
  EXPECT_EQ(r.of(c), "");
  ASSERT_EQ(c.add(item("a", 1), t0), cart_error::none);
  EXPECT_EQ(r.of(c), fresh(c));
  ASSERT_EQ(c.add(item("b", 2), t0), cart_error::none);
  ASSERT_EQ(r.of(c), fresh(c));
  ASSERT_EQ(c.add(item("c", 3), t0), cart_error::none);
  ASSERT_EQ(r.of(c), fresh(c));
  ASSERT_EQ(c.add(item("a", 9), t0), cart_error::none); // qty 1 → 10: the text grows
  EXPECT_EQ(r.of(c), fresh(c));
  ASSERT_EQ(c.set("a", 2, t0), cart_error::none); // and shrinks
  EXPECT_EQ(r.of(c), fresh(c));
  ASSERT_EQ(c.remove("b", t0), cart_error::none); // the middle
  EXPECT_EQ(r.of(c), fresh(c));
  ASSERT_EQ(c.remove("c", t0), cart_error::none); // the last
  EXPECT_EQ(r.of(c), fresh(c));
  ASSERT_EQ(c.remove("a", t0), cart_error::none); // the only one
  EXPECT_EQ(r.of(c), "");
  ASSERT_EQ(c.add(item("d", 1), t0), cart_error::none);
  ASSERT_EQ(c.add(item("e", 1), t0), cart_error::none); // two versions at once: written afresh
  EXPECT_EQ(r.of(c), fresh(c));
  r.release();
  EXPECT_EQ(r.of(c), fresh(c));
}

TEST(RenderedLines, AnotherCartAtTheSameVersionIsWrittenAfresh) {
  cart a, b;
  ASSERT_EQ(a.add(item("a", 1), t0), cart_error::none);
  ASSERT_EQ(b.add(item("b", 1), t0), cart_error::none);
  renderer r{write_line};
  EXPECT_EQ(r.of(a), fresh(a));
  // A cart loaded from a snapshot knows nothing of its last change: a full rendering.
  auto loaded = cart::from_json(b.to_json());
  ASSERT_EQ(loaded.add(item("c", 1), t0), cart_error::none);
  renderer s{write_line};
  EXPECT_EQ(s.of(loaded), fresh(loaded));
}

TEST(RenderedLines, RandomChangesAlwaysGiveTheFreshText) {
  std::mt19937 rng(7);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int patched_steps = 0;
  for (int round = 0; round < 50; ++round) {
    cart c{cart_limits{100, 8}};
    renderer r{write_line};
    for (int step = 0; step < 300; ++step) {
      auto sku = std::string(1, static_cast<char>('a' + pick(0, 9)));
      switch (pick(0, 9)) {
      case 0:
      case 1:
      case 2:
      case 3:
        c.add(item(sku, pick(1, 40), pick(1, 100'000)), t0 + step);
        break;
      case 4:
      case 5:
        c.set(sku, pick(0, 100), t0 + step);
        break;
      case 6:
        c.remove(sku, t0 + step);
        break;
      case 7:
        if (pick(0, 9) == 0)
          c.clear(t0 + step);
        break;
      case 8: {
        cart other;
        other.add(item(sku, pick(1, 5)), t0);
        c.merge(other, t0 + step);
        break;
      }
      case 9:
        break; // no change: the text is reused
      }
      if (pick(0, 4) == 0)
        continue; // versions skipped: the next call writes afresh
      ++patched_steps;
      ASSERT_EQ(r.of(c), fresh(c)) << "round " << round << " step " << step;
      ASSERT_TRUE(nlohmann::json::accept("[" + r.of(c) + "]"));
    }
  }
  EXPECT_GT(patched_steps, 10'000);
}

// A cart edited about every 150 ms answers once per 100 ms flush. The rule before kept the texts
// only for more than two answers per flush, so such a cart rendered all its lines afresh for
// every answer and every snapshot (with 1,000 carts of 50 lines under wrk, almost half of the CAF
// workers' time).
TEST(LineTextKeepingTest, ACartFlushingAgainSoonKeepsItsTextsWithOneAnswerPerFlush) {
  using std::chrono::milliseconds;
  line_text_keeping k;
  const milliseconds gap{1'000};
  k.answered();
  EXPECT_TRUE(k.release_at_flush(t0, gap)) << "a first flush with one answer: nothing says busy";
  for (int i = 1; i <= 20; ++i) {
    k.answered();
    EXPECT_FALSE(k.release_at_flush(t0 + i * 150, gap)) << "flush " << i << ", 150 ms apart";
  }
  k.answered();
  EXPECT_TRUE(k.release_at_flush(t0 + 20 * 150 + 5'000, gap))
      << "edited again five seconds later: now and then";
}

TEST(LineTextKeepingTest, MoreThanTwoAnswersBetweenFlushesKeepTheTexts) {
  line_text_keeping k;
  const std::chrono::milliseconds gap{1'000};
  for (int i = 0; i < 3; ++i)
    k.answered();
  EXPECT_FALSE(k.release_at_flush(t0, gap));
  k.answered();
  k.answered();
  EXPECT_TRUE(k.release_at_flush(t0 + 60'000, gap)) << "two answers, a minute after the last";
}

TEST(LineTextKeepingTest, AnIdleCheckDropsTheTextsOnlyWhenNothingWasAnswered) {
  line_text_keeping k;
  const std::chrono::milliseconds gap{1'000};
  k.answered();
  EXPECT_TRUE(k.release_at_flush(t0, gap));
  k.answered();
  EXPECT_FALSE(k.release_at_flush(t0 + 100, gap)) << "busy";
  k.answered();
  EXPECT_FALSE(k.release_at_idle()) << "answered since the flush";
  EXPECT_TRUE(k.release_at_idle()) << "nothing since the last idle check";
  // Without write-behind flushes (cart.write_behind_ms = 0) the idle checks alone drop them.
  line_text_keeping no_flush;
  no_flush.answered();
  EXPECT_FALSE(no_flush.release_at_idle());
  EXPECT_TRUE(no_flush.release_at_idle());
}

} // namespace
} // namespace souk::actors
