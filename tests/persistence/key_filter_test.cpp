// The store's key filter: never a false "no" for a key it was told of, few false "maybe"s at
// its rated load, and the store answering new keys without a read, stored ones with one.
#include "persistence/key_filter.hpp"
#include "persistence/store.hpp"
#include "tests/support/persistence_test_support.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using namespace souk::persistence;
using souk::test::make_snapshot;
using souk::test::open_store;
using souk::test::put_and_wait;
using souk::test::store_defaults;
using souk::test::temp_dir;

TEST(KeyFilter, EveryAddedKeyIsAMaybeAndFewOthersAre) {
  key_filter f{1 << 20}; // 1 Mi bits, rated for ~85,000 keys at 1%
  for (int i = 0; i < 80'000; ++i)
    f.add("order", "o_" + std::to_string(i));
  for (int i = 0; i < 80'000; ++i)
    ASSERT_TRUE(f.may_contain("order", "o_" + std::to_string(i))) << i;
  int false_hits = 0;
  for (int i = 80'000; i < 180'000; ++i)
    false_hits += f.may_contain("order", "o_" + std::to_string(i));
  EXPECT_LT(false_hits, 2'000) << "more than 2% of new keys were maybes";
  EXPECT_GT(false_hits, 0) << "a Bloom filter this full has some false hits";
}

TEST(KeyFilter, TheKindIsPartOfTheKey) {
  key_filter f{1 << 16};
  f.add("cart", "u1");
  EXPECT_TRUE(f.may_contain("cart", "u1"));
  EXPECT_FALSE(f.may_contain("user", "u1"));
  EXPECT_FALSE(f.may_contain("cartu", "1")) << "kind and key do not run together";
  EXPECT_FALSE(f.may_contain("car", "tu1"));
}

TEST(KeyFilter, SizeIsRoundedUpToWholeWords) {
  EXPECT_EQ(key_filter{1}.bits(), 64U);
  EXPECT_EQ(key_filter{65}.bits(), 128U);
}

TEST(StoreKeyFilter, NewKeysAreAnsweredWithoutAReadAndStoredOnesAreRead) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(put_and_wait(*s, make_snapshot("cart", "a", 1)).ok());
  auto skipped = s->loads_skipped(), read = s->loads_read();
  for (int i = 0; i < 100; ++i) {
    auto got = s->load_snapshot("order", "new-" + std::to_string(i));
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(got->has_value());
  }
  EXPECT_GE(s->loads_skipped() - skipped, 95U) << "a 4 MiB filter holding one key";
  auto got = s->load_snapshot("cart", "a");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->version, 1);
  EXPECT_GE(s->loads_read() - read, 1U);
}

TEST(StoreKeyFilter, KeysWrittenBeforeAReopenAreFoundAfterIt) {
  temp_dir dir;
  {
    auto off = store_defaults();
    off.key_filter_mib = 0; // written by a store without a filter
    auto s = open_store(dir.path(), off);
    ASSERT_TRUE(s);
    for (int i = 0; i < 500; ++i)
      ASSERT_TRUE(put_and_wait(*s, make_snapshot("user", "u" + std::to_string(i), 1)).ok());
    EXPECT_EQ(s->loads_skipped(), 0U);
    auto none = s->load_snapshot("user", "nobody");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    EXPECT_EQ(s->loads_skipped(), 0U) << "without a filter every load reads";
  }
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  for (int i = 0; i < 500; ++i) {
    auto got = s->load_snapshot("user", "u" + std::to_string(i));
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->has_value()) << "u" << i << " was in the file when it opened";
  }
}

TEST(StoreKeyFilter, AKeyIsKnownFromSubmitOnSoAWriteInFlightIsNotMissed) {
  temp_dir dir;
  auto s = open_store(dir.path());
  ASSERT_TRUE(s);
  write_request req;
  req.ops.emplace_back(put_snapshot{make_snapshot("payment", "p1", 1)});
  auto skipped = s->loads_skipped();
  ASSERT_TRUE(s->writer().submit(std::move(req)).ok());
  // Committed or not yet: the load reads (and finds it once committed), never skips.
  ASSERT_TRUE(s->load_snapshot("payment", "p1").ok());
  EXPECT_EQ(s->loads_skipped(), skipped);
  s->writer().flush();
  auto got = s->load_snapshot("payment", "p1");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->has_value());
  EXPECT_EQ(s->loads_skipped(), skipped);
}

} // namespace
