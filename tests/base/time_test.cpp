#include "base/time.hpp"

#include <chrono>

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
