#include "base/time.hpp"

namespace souk::base {

namespace {

/// The proleptic Gregorian date of day `z` since 1970-01-01 (Howard Hinnant's civil_from_days):
/// plain arithmetic, where gmtime_r also takes a lock and reads the time zone.
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719'468; // days from 0000-03-01, the start of a 400-year era
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const auto doe = static_cast<unsigned>(z - era * 146'097);                    // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365; // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                 // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                      // March = 0
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

char* digits(char* p, long v, int width) {
  for (int i = width - 1; i >= 0; --i, v /= 10)
    p[i] = static_cast<char>('0' + v % 10);
  return p + width;
}

} // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  auto secs = us / 1'000'000;
  auto frac = static_cast<long>(us % 1'000'000);
  if (frac < 0) { // times before 1970: borrow a second so the fraction is positive
    frac += 1'000'000;
    --secs;
  }
  auto days = secs >= 0 ? secs / 86'400 : (secs - 86'399) / 86'400;
  auto sod = static_cast<long>(secs - days * 86'400);
  std::int64_t year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, year, month, day);
  // (A nanosecond system_clock spans the years 1677-2262: always four digits.)
  std::string out(27, '\0'); // YYYY-MM-DDTHH:MM:SS.ffffffZ
  char* p = digits(out.data(), static_cast<long>(year), 4);
  *p++ = '-';
  p = digits(p, month, 2);
  *p++ = '-';
  p = digits(p, day, 2);
  *p++ = 'T';
  p = digits(p, sod / 3600, 2);
  *p++ = ':';
  p = digits(p, sod / 60 % 60, 2);
  *p++ = ':';
  p = digits(p, sod % 60, 2);
  *p++ = '.';
  p = digits(p, frac, 6);
  *p = 'Z';
  return out;
}

std::int64_t unix_millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

} // namespace souk::base
