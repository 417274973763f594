// Password records (PBKDF2-HMAC-SHA256) and the hasher's pool with its bound on waiting calls.

#include "http/password.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace souk::http {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr int iterations = 1'000; // fast; the format does not depend on it

/// The record's four `$`-separated fields.
std::vector<std::string> fields(const std::string& record) {
  std::vector<std::string> out;
  std::string::size_type from = 0;
  for (;;) {
    auto pos = record.find('$', from);
    out.push_back(record.substr(from, pos - from));
    if (pos == std::string::npos)
      return out;
    from = pos + 1;
  }
}

TEST(PasswordHash, HasTheDocumentedFormat) {
  auto record = hash_password("correct horse", iterations);
  EXPECT_TRUE(
      std::regex_match(record, std::regex{"pbkdf2-sha256\\$1000\\$[0-9a-f]{32}\\$[0-9a-f]{64}"}))
      << record;
  auto f = fields(record);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], "pbkdf2-sha256");
  EXPECT_EQ(f[1], "1000");
  EXPECT_EQ(f[2].size(), 32u) << "16 bytes of salt";
  EXPECT_EQ(f[3].size(), 64u) << "a 32-byte key";
  EXPECT_EQ(fields(hash_password("x", 1))[1], "1");
}

TEST(PasswordHash, VerifiesTheRightPasswordOnly) {
  auto record = hash_password("correct horse", iterations);
  EXPECT_TRUE(verify_password("correct horse", record));
  EXPECT_FALSE(verify_password("correct horsE", record));
  EXPECT_FALSE(verify_password("correct horse ", record));
  EXPECT_FALSE(verify_password("correct hors", record));
  EXPECT_FALSE(verify_password("", record));
}

TEST(PasswordHash, AnyBytesArePassword) {
  std::string odd = "pa$$ w\xC3\xB6rd";
  odd.push_back('\0');
  odd += "after the nul";
  auto record = hash_password(odd, iterations);
  EXPECT_TRUE(verify_password(odd, record));
  EXPECT_FALSE(verify_password(odd.substr(0, odd.find('\0')), record)) << "the NUL counts";
  auto empty = hash_password("", iterations);
  EXPECT_TRUE(verify_password("", empty));
  EXPECT_FALSE(verify_password(" ", empty));
}

TEST(PasswordHash, TwoHashesOfTheSamePasswordHaveDifferentSalts) {
  auto a = hash_password("same", iterations);
  auto b = hash_password("same", iterations);
  EXPECT_NE(a, b);
  EXPECT_NE(fields(a)[2], fields(b)[2]);
  EXPECT_NE(fields(a)[3], fields(b)[3]);
  EXPECT_TRUE(verify_password("same", a));
  EXPECT_TRUE(verify_password("same", b));
}

TEST(PasswordHash, VerifiesRecordsMadeElsewhere) {
  // RFC 7914 section 11 (PBKDF2-HMAC-SHA256 "passwd"/"salt", c = 1), first 32 bytes, and the
  // same KDF from Python's hashlib for "Password"/"NaCl" with 80,000 iterations.
  EXPECT_TRUE(verify_password(
      "passwd",
      "pbkdf2-sha256$1$73616c74$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"));
  EXPECT_TRUE(verify_password("Password",
                              "pbkdf2-sha256$80000$4e61436c$"
                              "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"));
  EXPECT_FALSE(verify_password("Passwd",
                               "pbkdf2-sha256$80000$4e61436c$"
                               "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"));
  // Upper-case hex spells the same bytes.
  EXPECT_TRUE(verify_password(
      "passwd",
      "pbkdf2-sha256$1$73616C74$55AC046E56E3089FEC1691C22544B605F94185216DDE0465E68B9D57C20DACBC"));
}

TEST(PasswordHash, CorruptRecordsNeverMatch) {
  const std::string pw = "correct horse";
  auto good = hash_password(pw, iterations);
  ASSERT_TRUE(verify_password(pw, good));
  auto f = fields(good);
  auto salt = f[2];
  auto key = f[3];
  auto join = [](const std::string& a, const std::string& b, const std::string& c,
                 const std::string& d) { return a + "$" + b + "$" + c + "$" + d; };
  std::vector<std::pair<std::string, std::string>> bad = {
      {"empty", ""},
      {"scheme only", "pbkdf2-sha256"},
      {"wrong scheme", join("pbkdf2-sha1", "1000", salt, key)},
      {"scheme in upper case", join("PBKDF2-SHA256", "1000", salt, key)},
      {"scheme with a space", join("pbkdf2-sha256 ", "1000", salt, key)},
      {"iterations 0", join("pbkdf2-sha256", "0", salt, key)},
      {"iterations negative", join("pbkdf2-sha256", "-1000", salt, key)},
      {"iterations with a plus", join("pbkdf2-sha256", "+1000", salt, key)},
      {"iterations with a space", join("pbkdf2-sha256", " 1000", salt, key)},
      {"iterations in hex", join("pbkdf2-sha256", "0x3e8", salt, key)},
      {"iterations with trailing text", join("pbkdf2-sha256", "1000x", salt, key)},
      {"iterations empty", join("pbkdf2-sha256", "", salt, key)},
      {"another iteration count", join("pbkdf2-sha256", "1001", salt, key)},
      {"salt not hex", join("pbkdf2-sha256", "1000", "zz" + salt.substr(2), key)},
      {"salt of odd length", join("pbkdf2-sha256", "1000", salt.substr(1), key)},
      {"salt with a sign", join("pbkdf2-sha256", "1000", "-1" + salt.substr(2), key)},
      {"salt changed",
       join("pbkdf2-sha256", "1000", (salt[0] == '0' ? "1" : "0") + salt.substr(1), key)},
      {"key not hex", join("pbkdf2-sha256", "1000", salt, key.substr(0, 62) + "g0")},
      {"key of odd length", join("pbkdf2-sha256", "1000", salt, key.substr(1))},
      {"key changed",
       join("pbkdf2-sha256", "1000", salt, key.substr(0, 63) + (key[63] == '0' ? "1" : "0"))},
      {"no key", "pbkdf2-sha256$1000$" + salt},
      {"empty key", "pbkdf2-sha256$1000$" + salt + "$"},
      {"no salt", "pbkdf2-sha256$1000$$" + key},
      {"truncated to the scheme and count", "pbkdf2-sha256$1000"},
      {"key truncated to 16 bytes", join("pbkdf2-sha256", "1000", salt, key.substr(0, 32))},
      {"key truncated to 1 byte", join("pbkdf2-sha256", "1000", salt, key.substr(0, 2))},
      {"key too long", join("pbkdf2-sha256", "1000", salt, key + "00")},
      {"an extra field", good + "$00"},
      {"a trailing separator", good + "$"},
  };
  for (auto& [what, record] : bad)
    EXPECT_FALSE(verify_password(pw, record)) << what << ": " << record;
}

TEST(PasswordHash, HugeIterationCountsAreRefusedWithoutDerivingAnything) {
  auto f = fields(hash_password("pw", iterations));
  for (std::string count : {"10000001", "2147483647", "2147483648", "99999999999999999999"}) {
    auto start = clock_type::now();
    EXPECT_FALSE(verify_password("pw", "pbkdf2-sha256$" + count + "$" + f[2] + "$" + f[3]))
        << count;
    EXPECT_LT(clock_type::now() - start, 500ms) << count << " iterations were not run";
  }
}

TEST(PasswordHasher, HashesAndVerifiesOnItsOwnThreads) {
  std::promise<std::optional<std::string>> hashed;
  std::promise<std::thread::id> hash_thread;
  std::promise<std::optional<bool>> right;
  std::promise<std::optional<bool>> wrong;
  password_hasher hasher{2, iterations, 8};
  EXPECT_EQ(hasher.iterations(), iterations);
  hasher.hash("secret", [&](std::optional<std::string> r) {
    hash_thread.set_value(std::this_thread::get_id());
    hashed.set_value(std::move(r));
  });
  auto record_future = hashed.get_future();
  ASSERT_EQ(record_future.wait_for(10s), std::future_status::ready);
  auto record = record_future.get();
  ASSERT_TRUE(record);
  EXPECT_EQ(fields(*record)[1], "1000") << "the hasher's iteration count";
  EXPECT_NE(hash_thread.get_future().get(), std::this_thread::get_id());
  EXPECT_TRUE(verify_password("secret", *record));

  hasher.verify("secret", *record, [&](std::optional<bool> r) { right.set_value(r); });
  hasher.verify("Secret", *record, [&](std::optional<bool> r) { wrong.set_value(r); });
  auto r = right.get_future();
  auto w = wrong.get_future();
  ASSERT_EQ(r.wait_for(10s), std::future_status::ready);
  ASSERT_EQ(w.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(r.get(), std::optional<bool>{true});
  EXPECT_EQ(w.get(), std::optional<bool>{false});
}

TEST(PasswordHasher, OutOfRangeSettingsAreClamped) {
  password_hasher hasher{0, 0, 0};
  EXPECT_EQ(hasher.iterations(), 1);
  std::promise<std::optional<std::string>> hashed;
  hasher.hash("pw", [&](std::optional<std::string> r) { hashed.set_value(std::move(r)); });
  auto f = hashed.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  auto record = f.get();
  ASSERT_TRUE(record) << "one thread and one pending call at least";
  EXPECT_EQ(fields(*record)[1], "1");
  EXPECT_TRUE(verify_password("pw", *record));
}

TEST(PasswordHasher, OverMaxPendingTheCallbackGetsNulloptAtOnce) {
  // The only pool thread is held inside the first call's callback; the second call waits in the
  // queue (the one pending call allowed), so the third is over the bound.
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  bool released_once = false;
  auto let_go = [&] {
    if (!released_once) {
      released_once = true;
      release.set_value();
    }
  };
  std::promise<std::optional<std::string>> second;
  std::optional<std::optional<std::string>> third;
  std::thread::id third_thread;
  std::optional<std::optional<bool>> fourth;
  {
    password_hasher hasher{1, iterations, 1};
    // Destroyed before the hasher: an early return (a failed assertion) unblocks the pool first.
    struct on_exit {
      std::function<void()> f;
      ~on_exit() { f(); }
    } unblock{let_go};
    hasher.hash("first", [&, released](std::optional<std::string>) {
      entered.set_value();
      released.wait_for(30s);
    });
    ASSERT_EQ(entered.get_future().wait_for(10s), std::future_status::ready);
    hasher.hash("second", [&](std::optional<std::string> r) { second.set_value(std::move(r)); });
    hasher.hash("third", [&](std::optional<std::string> r) {
      third = std::move(r);
      third_thread = std::this_thread::get_id();
    });
    ASSERT_TRUE(third) << "answered before hash() returned";
    EXPECT_FALSE(*third) << "over the bound: nullopt";
    EXPECT_EQ(third_thread, std::this_thread::get_id()) << "on the caller's thread";
    hasher.verify("fourth", "pbkdf2-sha256$1$00$00", [&](std::optional<bool> r) { fourth = r; });
    ASSERT_TRUE(fourth);
    EXPECT_FALSE(*fourth);

    let_go();
    auto s = second.get_future();
    ASSERT_EQ(s.wait_for(10s), std::future_status::ready);
    auto record = s.get();
    ASSERT_TRUE(record) << "the queued call was not refused";
    EXPECT_TRUE(verify_password("second", *record));

    // With the queue empty again, calls are taken.
    std::promise<std::optional<bool>> again;
    hasher.verify("second", *record, [&](std::optional<bool> r) { again.set_value(r); });
    auto a = again.get_future();
    ASSERT_EQ(a.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(a.get(), std::optional<bool>{true});
  }
}

TEST(PasswordHasher, DestructionWaitsForEveryAcceptedCall) {
  std::atomic<int> answered{0};
  std::atomic<int> with_record{0};
  {
    password_hasher hasher{2, iterations, 100};
    for (int i = 0; i < 16; ++i)
      hasher.hash("pw" + std::to_string(i), [&](std::optional<std::string> r) {
        if (r)
          ++with_record;
        ++answered;
      });
  } // joins: every accepted call ran its callback
  EXPECT_EQ(answered.load(), 16);
  EXPECT_EQ(with_record.load(), 16);
}

TEST(PasswordHasher, DestructionOfAnIdleHasherReturns) {
  auto start = clock_type::now();
  { password_hasher hasher{4, iterations, 10}; }
  EXPECT_LT(clock_type::now() - start, 5s);
}

} // namespace
} // namespace souk::http
