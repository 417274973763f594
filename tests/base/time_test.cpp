#include "base/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono;
using souk::base::format_rfc3339;
using souk::base::unix_millis;

system_clock::time_point at_micros(std::int64_t us) {
  return system_clock::time_point{duration_cast<system_clock::duration>(microseconds{us})};
}

TEST(FormatRfc3339, TheEpochIsMidnightOfNewYear1970) {
  EXPECT_EQ(format_rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
}

TEST(FormatRfc3339, KnownTimePointGivesExactStringWithMicroseconds) {
  // 2026-11-22T14:03:07Z is 1795356187 seconds after the epoch.
  EXPECT_EQ(format_rfc3339(at_micros(1'795'356'187'123'456)), "2026-11-22T14:03:07.123456Z");
}

TEST(FormatRfc3339, LeapDayIsFormatted) {
  // 2024-02-29T23:59:59.000001Z
  EXPECT_EQ(format_rfc3339(at_micros(1'709'251'199'000'001)), "2024-02-29T23:59:59.000001Z");
}

TEST(FormatRfc3339, OneMicrosecondBefore1970BorrowsASecond) {
  EXPECT_EQ(format_rfc3339(at_micros(-1)), "1969-12-31T23:59:59.999999Z");
}

// What format_rfc3339 computes by arithmetic, the C library's way.
std::string with_gmtime(std::int64_t us) {
  auto secs = static_cast<std::time_t>(us / 1'000'000);
  auto frac = static_cast<long>(us % 1'000'000);
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

TEST(FormatRfc3339, AgreesWithGmtimeOverTheClocksWholeRange) {
  std::mt19937_64 rng{20261202};
  // A nanosecond system_clock spans 1677-09-21 .. 2262-04-11; these are 1678-12 .. 2262-01, in
  // microseconds, and the days around every year's turn.
  constexpr std::int64_t from = -9'183'427'200LL, to = 9'214'646'400LL; // seconds
  std::uniform_int_distribution<std::int64_t> any{from * 1'000'000, to * 1'000'000};
  for (int i = 0; i < 200'000; ++i) {
    auto us = any(rng);
    ASSERT_EQ(format_rfc3339(at_micros(us)), with_gmtime(us)) << us;
  }
  for (std::int64_t year_start = from; year_start < to; year_start += 31'556'952) // mean year
    for (std::int64_t d : {-86'401LL, -1LL, 0LL, 1LL, 86'400LL})
      ASSERT_EQ(format_rfc3339(at_micros((year_start + d) * 1'000'000)),
                with_gmtime((year_start + d) * 1'000'000))
          << year_start + d;
}

TEST(FormatRfc3339, TimeLongBefore1970IsExact) {
  // 1969-07-20T20:17:40.5Z: the Moon landing, -14182940 seconds.
  EXPECT_EQ(format_rfc3339(at_micros(-14'182'940'000'000 + 500'000)),
            "1969-07-20T20:17:40.500000Z");
}

TEST(FormatRfc3339, SubMicrosecondPrecisionIsTruncated) {
  auto t = at_micros(1'000'000) + nanoseconds{999};
  EXPECT_EQ(format_rfc3339(t), "1970-01-01T00:00:01.000000Z");
}

TEST(UnixMillis, CountsMillisecondsSinceTheEpoch) {
  EXPECT_EQ(unix_millis(system_clock::time_point{}), 0);
  EXPECT_EQ(unix_millis(at_micros(1'795'356'187'123'456)), 1'795'356'187'123);
  EXPECT_EQ(unix_millis(at_micros(-2'000)), -2);
}

} // namespace
