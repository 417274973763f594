// The cart's rules without an actor: limits, versions (ETag / If-Match), merge at login, the
// checkout freeze, idle expiry and the snapshot round trip.
#include "actors/cart/cart.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::actors {
namespace {

using json = nlohmann::json;

constexpr std::int64_t t0 = 1'700'000'000'000;
constexpr std::int64_t day_ms = 24 * 60 * 60 * 1000;

cart_line item(const std::string& sku, std::int64_t qty, std::int64_t unit_price = 1000,
               std::int64_t product_id = 1, const std::string& title = "Thing") {
  return cart_line{sku, product_id, title, qty, unit_price};
}

/// The observable state of a cart, to show that a refused change left it as it was.
json state(const cart& c) {
  return c.to_json();
}

/// A cart holding sku "a" ×2 at 1000 and "b" ×1 at 250, at version 2.
cart two_lines(cart_limits limits = {}) {
  cart c{limits};
  EXPECT_EQ(c.add(item("a", 2, 1000), t0), cart_error::none);
  EXPECT_EQ(c.add(item("b", 1, 250), t0 + 1), cart_error::none);
  return c;
}

// -- to_string -------------------------------------------------------------------------------

TEST(Cart, EveryErrorHasItsSnakeCaseName) {
  EXPECT_STREQ(to_string(cart_error::none), "none");
  EXPECT_STREQ(to_string(cart_error::invalid_quantity), "invalid_quantity");
  EXPECT_STREQ(to_string(cart_error::too_many_lines), "too_many_lines");
  EXPECT_STREQ(to_string(cart_error::not_in_cart), "not_in_cart");
  EXPECT_STREQ(to_string(cart_error::version_mismatch), "version_mismatch");
  EXPECT_STREQ(to_string(cart_error::frozen), "frozen");
}

// -- a new cart --------------------------------------------------------------------------------

TEST(Cart, ANewCartIsEmptyAtVersionZero) {
  cart c;
  EXPECT_TRUE(c.empty());
  EXPECT_TRUE(c.lines().empty());
  EXPECT_EQ(c.version(), 0);
  EXPECT_EQ(c.touched_at_ms(), 0);
  EXPECT_EQ(c.subtotal(), 0);
  EXPECT_EQ(c.frozen_for(), "");
}

// -- add ----------------------------------------------------------------------------------------

TEST(Cart, AddingANewSkuAppendsALineAndBumpsTheVersion) {
  cart c;
  ASSERT_EQ(c.add(item("a", 3, 1500, 7, "Lamp"), t0), cart_error::none);
  ASSERT_EQ(c.lines().size(), 1u);
  const auto& line = c.lines()[0];
  EXPECT_EQ(line.sku, "a");
  EXPECT_EQ(line.product_id, 7);
  EXPECT_EQ(line.title, "Lamp");
  EXPECT_EQ(line.qty, 3);
  EXPECT_EQ(line.unit_price, 1500);
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(c.touched_at_ms(), t0);
  EXPECT_FALSE(c.empty());
}

TEST(Cart, NewSkusGoAtTheEndInTheOrderTheyWereAdded) {
  cart c;
  ASSERT_EQ(c.add(item("b", 1), t0), cart_error::none);
  ASSERT_EQ(c.add(item("a", 1), t0), cart_error::none);
  ASSERT_EQ(c.add(item("c", 1), t0), cart_error::none);
  ASSERT_EQ(c.lines().size(), 3u);
  EXPECT_EQ(c.lines()[0].sku, "b");
  EXPECT_EQ(c.lines()[1].sku, "a");
  EXPECT_EQ(c.lines()[2].sku, "c");
}

TEST(Cart, AddingTheSameSkuTwiceAddsToTheExistingLine) {
  cart c;
  ASSERT_EQ(c.add(item("a", 2), t0), cart_error::none);
  ASSERT_EQ(c.add(item("b", 1), t0), cart_error::none);
  ASSERT_EQ(c.add(item("a", 5), t0 + 10), cart_error::none);
  ASSERT_EQ(c.lines().size(), 2u);
  EXPECT_EQ(c.lines()[0].sku, "a");
  EXPECT_EQ(c.lines()[0].qty, 7);
  EXPECT_EQ(c.version(), 3);
  EXPECT_EQ(c.touched_at_ms(), t0 + 10);
}

TEST(Cart, AddingAgainTakesTheNewTitleProductAndPrice) {
  cart c;
  ASSERT_EQ(c.add(item("a", 1, 1000, 1, "Old"), t0), cart_error::none);
  ASSERT_EQ(c.add(item("a", 1, 900, 2, "New"), t0), cart_error::none);
  ASSERT_EQ(c.lines().size(), 1u);
  EXPECT_EQ(c.lines()[0].qty, 2);
  EXPECT_EQ(c.lines()[0].unit_price, 900);
  EXPECT_EQ(c.lines()[0].product_id, 2);
  EXPECT_EQ(c.lines()[0].title, "New");
}

TEST(Cart, AddingZeroNegativeOrMoreThanTheLimitIsAnInvalidQuantity) {
  for (std::int64_t qty :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{101},
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    cart c;
    EXPECT_EQ(c.add(item("a", qty), t0), cart_error::invalid_quantity) << qty;
    EXPECT_TRUE(c.empty()) << qty;
    EXPECT_EQ(c.version(), 0) << qty;
    EXPECT_EQ(c.touched_at_ms(), 0) << qty;
  }
}

TEST(Cart, AddingOneAndTheLimitIsAccepted) {
  cart c;
  EXPECT_EQ(c.add(item("a", 1), t0), cart_error::none);
  EXPECT_EQ(c.add(item("b", 100), t0), cart_error::none);
  EXPECT_EQ(c.lines()[0].qty, 1);
  EXPECT_EQ(c.lines()[1].qty, 100);
}

TEST(Cart, AddingPastTheLimitOnAnExistingLineIsRefusedAndKeepsTheLine) {
  cart c;
  ASSERT_EQ(c.add(item("a", 60, 1000, 1, "Old"), t0), cart_error::none);
  const auto before = state(c);
  EXPECT_EQ(c.add(item("a", 41, 500, 2, "New"), t0 + 5), cart_error::invalid_quantity);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.lines()[0].qty, 60);
  EXPECT_EQ(c.lines()[0].title, "Old");
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(c.add(item("a", 40), t0 + 5), cart_error::none);
  EXPECT_EQ(c.lines()[0].qty, 100);
}

TEST(Cart, TheQuantityLimitComesFromTheConfiguredLimits) {
  cart c{cart_limits{5, 100}};
  EXPECT_EQ(c.add(item("a", 6), t0), cart_error::invalid_quantity);
  EXPECT_EQ(c.add(item("a", 5), t0), cart_error::none);
  EXPECT_EQ(c.add(item("a", 1), t0), cart_error::invalid_quantity);
  EXPECT_EQ(c.lines()[0].qty, 5);
}

TEST(Cart, AddingANewSkuPastMaxLinesIsRefused) {
  cart c{cart_limits{100, 2}};
  ASSERT_EQ(c.add(item("a", 1), t0), cart_error::none);
  ASSERT_EQ(c.add(item("b", 1), t0), cart_error::none);
  const auto before = state(c);
  EXPECT_EQ(c.add(item("c", 1), t0 + 1), cart_error::too_many_lines);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.lines().size(), 2u);
  EXPECT_EQ(c.version(), 2);
}

TEST(Cart, AFullCartStillAcceptsMoreOfASkuItHas) {
  cart c{cart_limits{100, 2}};
  ASSERT_EQ(c.add(item("a", 1), t0), cart_error::none);
  ASSERT_EQ(c.add(item("b", 1), t0), cart_error::none);
  EXPECT_EQ(c.add(item("a", 4), t0), cart_error::none);
  EXPECT_EQ(c.lines()[0].qty, 5);
}

TEST(Cart, AnInvalidQuantityIsReportedBeforeAFullCart) {
  cart c{cart_limits{100, 1}};
  ASSERT_EQ(c.add(item("a", 1), t0), cart_error::none);
  EXPECT_EQ(c.add(item("b", 0), t0), cart_error::invalid_quantity);
}

// -- versions and If-Match ----------------------------------------------------------------------

TEST(Cart, EverySuccessfulChangeBumpsTheVersionByOne) {
  cart c;
  ASSERT_EQ(c.add(item("a", 1), t0), cart_error::none);
  EXPECT_EQ(c.version(), 1);
  ASSERT_EQ(c.add(item("b", 1), t0), cart_error::none);
  EXPECT_EQ(c.version(), 2);
  ASSERT_EQ(c.set("a", 4, t0), cart_error::none);
  EXPECT_EQ(c.version(), 3);
  ASSERT_EQ(c.remove("b", t0), cart_error::none);
  EXPECT_EQ(c.version(), 4);
  ASSERT_EQ(c.clear(t0), cart_error::none);
  EXPECT_EQ(c.version(), 5);
}

TEST(Cart, AChangeWithTheCurrentVersionSucceeds) {
  auto c = two_lines();
  ASSERT_EQ(c.version(), 2);
  EXPECT_EQ(c.add(item("c", 1), t0, 2), cart_error::none);
  EXPECT_EQ(c.set("c", 2, t0, 3), cart_error::none);
  EXPECT_EQ(c.remove("c", t0, 4), cart_error::none);
  EXPECT_EQ(c.clear(t0, 5), cart_error::none);
  EXPECT_EQ(c.version(), 6);
}

TEST(Cart, AChangeWithAStaleVersionIsAMismatchAndChangesNothing) {
  auto c = two_lines();
  const auto before = state(c);
  EXPECT_EQ(c.add(item("c", 1), t0 + 9, 1), cart_error::version_mismatch);
  EXPECT_EQ(c.set("a", 5, t0 + 9, 1), cart_error::version_mismatch);
  EXPECT_EQ(c.remove("a", t0 + 9, 1), cart_error::version_mismatch);
  EXPECT_EQ(c.clear(t0 + 9, 1), cart_error::version_mismatch);
  EXPECT_EQ(c.add(item("c", 1), t0 + 9, 3), cart_error::version_mismatch);
  EXPECT_EQ(c.add(item("c", 1), t0 + 9, -1), cart_error::version_mismatch);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.version(), 2);
  EXPECT_EQ(c.touched_at_ms(), t0 + 1);
}

TEST(Cart, VersionZeroMeansAnyVersion) {
  auto c = two_lines();
  EXPECT_EQ(c.set("a", 9, t0, 0), cart_error::none);
  EXPECT_EQ(c.lines()[0].qty, 9);
}

TEST(Cart, AVersionMismatchIsReportedBeforeAnInvalidArgument) {
  auto c = two_lines();
  EXPECT_EQ(c.add(item("c", 0), t0, 1), cart_error::version_mismatch);
  EXPECT_EQ(c.set("zzz", 1, t0, 1), cart_error::version_mismatch);
  EXPECT_EQ(c.remove("zzz", t0, 1), cart_error::version_mismatch);
}

TEST(Cart, ARefusedChangeKeepsTheTouchTime) {
  auto c = two_lines();
  EXPECT_EQ(c.set("zzz", 1, t0 + day_ms), cart_error::not_in_cart);
  EXPECT_EQ(c.touched_at_ms(), t0 + 1);
}

// -- subtotal -----------------------------------------------------------------------------------

TEST(Cart, LineTotalIsQuantityTimesUnitPrice) {
  EXPECT_EQ(item("a", 3, 1250).line_total(), 3750);
  EXPECT_EQ(item("a", 1, 0).line_total(), 0);
}

TEST(Cart, SubtotalSumsTheLineTotals) {
  auto c = two_lines();
  EXPECT_EQ(c.subtotal(), 2 * 1000 + 1 * 250);
  ASSERT_EQ(c.set("b", 4, t0), cart_error::none);
  EXPECT_EQ(c.subtotal(), 2 * 1000 + 4 * 250);
}

// -- set ----------------------------------------------------------------------------------------

TEST(Cart, SetReplacesTheQuantityOfALine) {
  auto c = two_lines();
  ASSERT_EQ(c.set("a", 7, t0 + 50), cart_error::none);
  EXPECT_EQ(c.lines()[0].qty, 7);
  EXPECT_EQ(c.lines()[1].qty, 1);
  EXPECT_EQ(c.version(), 3);
  EXPECT_EQ(c.touched_at_ms(), t0 + 50);
}

TEST(Cart, SetToZeroRemovesTheLine) {
  auto c = two_lines();
  ASSERT_EQ(c.set("a", 0, t0 + 50), cart_error::none);
  ASSERT_EQ(c.lines().size(), 1u);
  EXPECT_EQ(c.lines()[0].sku, "b");
  EXPECT_EQ(c.version(), 3);
}

TEST(Cart, SetAcceptsTheLimitAndRefusesNegativeOrPastIt) {
  auto c = two_lines();
  EXPECT_EQ(c.set("a", 100, t0), cart_error::none);
  EXPECT_EQ(c.lines()[0].qty, 100);
  const auto before = state(c);
  EXPECT_EQ(c.set("a", 101, t0 + 1), cart_error::invalid_quantity);
  EXPECT_EQ(c.set("a", -1, t0 + 1), cart_error::invalid_quantity);
  EXPECT_EQ(state(c), before);
}

TEST(Cart, SetOfAnAbsentSkuIsNotInCart) {
  auto c = two_lines();
  const auto before = state(c);
  EXPECT_EQ(c.set("zzz", 1, t0 + 1), cart_error::not_in_cart);
  EXPECT_EQ(c.set("zzz", 0, t0 + 1), cart_error::not_in_cart);
  EXPECT_EQ(state(c), before);
}

// -- remove and clear ---------------------------------------------------------------------------

TEST(Cart, RemoveDropsOnlyThatLine) {
  auto c = two_lines();
  ASSERT_EQ(c.remove("a", t0 + 3), cart_error::none);
  ASSERT_EQ(c.lines().size(), 1u);
  EXPECT_EQ(c.lines()[0].sku, "b");
  EXPECT_EQ(c.version(), 3);
  EXPECT_EQ(c.touched_at_ms(), t0 + 3);
}

TEST(Cart, RemovingAnAbsentSkuIsNotInCartAndChangesNothing) {
  auto c = two_lines();
  const auto before = state(c);
  EXPECT_EQ(c.remove("zzz", t0 + 3), cart_error::not_in_cart);
  EXPECT_EQ(state(c), before);
  cart empty;
  EXPECT_EQ(empty.remove("a", t0), cart_error::not_in_cart);
  EXPECT_EQ(empty.version(), 0);
}

TEST(Cart, ClearEmptiesTheCart) {
  auto c = two_lines();
  ASSERT_EQ(c.clear(t0 + 4), cart_error::none);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.subtotal(), 0);
  EXPECT_EQ(c.version(), 3);
  EXPECT_EQ(c.touched_at_ms(), t0 + 4);
}

TEST(Cart, ClearingAnEmptyCartStillGetsANewVersion) {
  cart c;
  ASSERT_EQ(c.clear(t0), cart_error::none);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(c.touched_at_ms(), t0);
}

// -- merge --------------------------------------------------------------------------------------

TEST(Cart, MergeAddsNewLinesAndSumsExistingOnesWithOneNewVersion) {
  auto c = two_lines();
  cart guest;
  ASSERT_EQ(guest.add(item("b", 3, 999, 9, "Guest title"), t0), cart_error::none);
  ASSERT_EQ(guest.add(item("c", 2, 300), t0), cart_error::none);
  ASSERT_EQ(guest.add(item("d", 1, 400), t0), cart_error::none);
  c.merge(guest, t0 + 100);
  ASSERT_EQ(c.lines().size(), 4u);
  EXPECT_EQ(c.lines()[0].sku, "a");
  EXPECT_EQ(c.lines()[0].qty, 2);
  EXPECT_EQ(c.lines()[1].sku, "b");
  EXPECT_EQ(c.lines()[1].qty, 4);
  EXPECT_EQ(c.lines()[2].sku, "c");
  EXPECT_EQ(c.lines()[2].qty, 2);
  EXPECT_EQ(c.lines()[2].unit_price, 300);
  EXPECT_EQ(c.lines()[3].sku, "d");
  EXPECT_EQ(c.version(), 3);
  EXPECT_EQ(c.touched_at_ms(), t0 + 100);
}

TEST(Cart, MergeKeepsTheTitleAndPriceOfAnExistingLine) {
  auto c = two_lines();
  cart guest;
  ASSERT_EQ(guest.add(item("b", 3, 999, 9, "Guest title"), t0), cart_error::none);
  c.merge(guest, t0 + 100);
  EXPECT_EQ(c.lines()[1].unit_price, 250);
  EXPECT_EQ(c.lines()[1].title, "Thing");
  EXPECT_EQ(c.lines()[1].product_id, 1);
}

TEST(Cart, MergeLeavesTheOtherCartAsItWas) {
  auto c = two_lines();
  auto guest = two_lines();
  const auto before = state(guest);
  c.merge(guest, t0 + 100);
  EXPECT_EQ(state(guest), before);
}

TEST(Cart, MergeCapsTheSumAtTheQuantityLimit) {
  cart c;
  ASSERT_EQ(c.add(item("a", 60), t0), cart_error::none);
  cart guest;
  ASSERT_EQ(guest.add(item("a", 70), t0), cart_error::none);
  c.merge(guest, t0 + 1);
  EXPECT_EQ(c.lines()[0].qty, 100);
  EXPECT_EQ(c.version(), 2);
}

TEST(Cart, MergeCapsANewLineAtASmallerLimitOfTheReceivingCart) {
  cart c{cart_limits{5, 100}};
  cart guest;
  ASSERT_EQ(guest.add(item("a", 8), t0), cart_error::none);
  c.merge(guest, t0 + 1);
  ASSERT_EQ(c.lines().size(), 1u);
  EXPECT_EQ(c.lines()[0].qty, 5);
}

TEST(Cart, MergeDropsLinesPastMaxLines) {
  cart c{cart_limits{100, 3}};
  ASSERT_EQ(c.add(item("a", 1), t0), cart_error::none);
  ASSERT_EQ(c.add(item("b", 1), t0), cart_error::none);
  cart guest;
  ASSERT_EQ(guest.add(item("c", 1), t0), cart_error::none);
  ASSERT_EQ(guest.add(item("d", 1), t0), cart_error::none);
  ASSERT_EQ(guest.add(item("a", 2), t0), cart_error::none);
  c.merge(guest, t0 + 1);
  ASSERT_EQ(c.lines().size(), 3u);
  EXPECT_EQ(c.lines()[0].qty, 3); // an existing line still sums when the cart is full
  EXPECT_EQ(c.lines()[2].sku, "c");
  EXPECT_EQ(c.version(), 3);
}

TEST(Cart, MergingAnEmptyCartChangesNothing) {
  auto c = two_lines();
  const auto before = state(c);
  c.merge(cart{}, t0 + 100);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.version(), 2);
  EXPECT_EQ(c.touched_at_ms(), t0 + 1);
}

TEST(Cart, MergingLinesAlreadyAtTheCapChangesNothing) {
  cart c{cart_limits{100, 1}};
  ASSERT_EQ(c.add(item("a", 100), t0), cart_error::none);
  cart guest;
  ASSERT_EQ(guest.add(item("a", 1), t0), cart_error::none);
  ASSERT_EQ(guest.add(item("b", 1), t0), cart_error::none);
  const auto before = state(c);
  c.merge(guest, t0 + 100);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.version(), 1);
}

TEST(Cart, MergeIntoAnEmptyCartCopiesTheLines) {
  cart c;
  auto guest = two_lines();
  c.merge(guest, t0 + 7);
  EXPECT_EQ(c.to_json()["lines"], guest.to_json()["lines"]);
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(c.touched_at_ms(), t0 + 7);
}

TEST(Cart, MergingACartIntoItselfDoublesItsQuantities) {
  auto c = two_lines();
  c.merge(c, t0 + 7);
  ASSERT_EQ(c.lines().size(), 2u);
  EXPECT_EQ(c.lines()[0].qty, 4);
  EXPECT_EQ(c.lines()[1].qty, 2);
  EXPECT_EQ(c.version(), 3);
}

TEST(Cart, MergeIntoAFrozenCartChangesNothing) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 2), cart_error::none);
  const auto before = state(c);
  c.merge(two_lines(), t0 + 100);
  EXPECT_EQ(state(c), before);
}

// -- freeze, unfreeze, checked_out --------------------------------------------------------------

TEST(Cart, FreezeRecordsTheOrderAndKeepsLinesAndVersion) {
  auto c = two_lines();
  const auto lines = c.to_json()["lines"];
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  EXPECT_EQ(c.frozen_for(), "o_1");
  EXPECT_EQ(c.to_json()["lines"], lines);
  EXPECT_EQ(c.version(), 2);
  EXPECT_EQ(c.touched_at_ms(), t0 + 20);
}

TEST(Cart, FreezingAgainForTheSameOrderIsANoOp) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  const auto before = state(c);
  EXPECT_EQ(c.freeze("o_1", t0 + 30), cart_error::none);
  EXPECT_EQ(state(c), before);
}

TEST(Cart, FreezingForAnotherOrderIsRefused) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  const auto before = state(c);
  EXPECT_EQ(c.freeze("o_2", t0 + 30), cart_error::frozen);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.frozen_for(), "o_1");
}

TEST(Cart, FreezingForAnEmptyOrderIdIsRefused) {
  auto c = two_lines();
  const auto before = state(c);
  EXPECT_EQ(c.freeze("", t0 + 20), cart_error::frozen);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.frozen_for(), "");
}

TEST(Cart, EveryChangeIsRefusedWhileFrozen) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  const auto before = state(c);
  EXPECT_EQ(c.add(item("c", 1), t0 + 30), cart_error::frozen);
  EXPECT_EQ(c.add(item("a", 1), t0 + 30), cart_error::frozen);
  EXPECT_EQ(c.set("a", 5, t0 + 30), cart_error::frozen);
  EXPECT_EQ(c.set("a", 0, t0 + 30), cart_error::frozen);
  EXPECT_EQ(c.remove("a", t0 + 30), cart_error::frozen);
  EXPECT_EQ(c.clear(t0 + 30), cart_error::frozen);
  EXPECT_EQ(state(c), before);
}

TEST(Cart, FrozenIsReportedBeforeAVersionMismatchOrAnInvalidArgument) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  EXPECT_EQ(c.add(item("c", 0), t0, 99), cart_error::frozen);
  EXPECT_EQ(c.set("zzz", -1, t0, 99), cart_error::frozen);
  EXPECT_EQ(c.remove("zzz", t0, 99), cart_error::frozen);
  EXPECT_EQ(c.clear(t0, 99), cart_error::frozen);
}

TEST(Cart, UnfreezeKeepsTheLinesAndAllowsChangesAgain) {
  auto c = two_lines();
  const auto lines = c.to_json()["lines"];
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  c.unfreeze("o_1", t0 + 40);
  EXPECT_EQ(c.frozen_for(), "");
  EXPECT_EQ(c.to_json()["lines"], lines);
  EXPECT_EQ(c.version(), 2);
  EXPECT_EQ(c.touched_at_ms(), t0 + 40);
  EXPECT_EQ(c.set("a", 5, t0 + 50, 2), cart_error::none);
  EXPECT_EQ(c.lines()[0].qty, 5);
}

TEST(Cart, UnfreezeForAnotherOrderIsIgnored) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  const auto before = state(c);
  c.unfreeze("o_2", t0 + 40);
  c.unfreeze("", t0 + 40);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.frozen_for(), "o_1");
}

TEST(Cart, UnfreezeOfACartThatIsNotFrozenIsIgnored) {
  auto c = two_lines();
  const auto before = state(c);
  c.unfreeze("o_1", t0 + 40);
  c.unfreeze("", t0 + 40);
  EXPECT_EQ(state(c), before);
}

TEST(Cart, CheckedOutEmptiesUnfreezesAndBumpsTheVersion) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  c.checked_out("o_1", t0 + 60);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.frozen_for(), "");
  EXPECT_EQ(c.version(), 3);
  EXPECT_EQ(c.touched_at_ms(), t0 + 60);
  EXPECT_EQ(c.add(item("z", 1), t0 + 70), cart_error::none);
}

TEST(Cart, CheckedOutForAnotherOrderIsIgnored) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  const auto before = state(c);
  c.checked_out("o_2", t0 + 60);
  c.checked_out("", t0 + 60);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.frozen_for(), "o_1");
  EXPECT_EQ(c.lines().size(), 2u);
}

TEST(Cart, ALateCheckedOutAfterUnfreezeIsIgnored) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  c.unfreeze("o_1", t0 + 30);
  const auto before = state(c);
  c.checked_out("o_1", t0 + 60);
  c.checked_out("", t0 + 60);
  EXPECT_EQ(state(c), before);
  EXPECT_EQ(c.lines().size(), 2u);
}

TEST(Cart, ADuplicateCheckedOutDoesNotEmptyTheNextCart) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  c.checked_out("o_1", t0 + 60);
  ASSERT_EQ(c.add(item("new", 1), t0 + 70), cart_error::none);
  const auto before = state(c);
  c.checked_out("o_1", t0 + 80);
  EXPECT_EQ(state(c), before);
}

TEST(Cart, ACartCanBeFrozenForANewOrderAfterUnfreeze) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 20), cart_error::none);
  c.unfreeze("o_1", t0 + 30);
  EXPECT_EQ(c.freeze("o_2", t0 + 40), cart_error::none);
  EXPECT_EQ(c.frozen_for(), "o_2");
}

// -- expire_if_idle -----------------------------------------------------------------------------

TEST(Cart, ACartTouchedWithinTheTtlDoesNotExpire) {
  auto c = two_lines(); // touched at t0 + 1
  const auto before = state(c);
  EXPECT_FALSE(c.expire_if_idle(t0 + 1 + 7 * day_ms - 1, 7 * day_ms));
  EXPECT_EQ(state(c), before);
}

TEST(Cart, ACartIdleForTheTtlIsEmptied) {
  auto c = two_lines();
  EXPECT_TRUE(c.expire_if_idle(t0 + 1 + 7 * day_ms, 7 * day_ms));
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.version(), 3);
  EXPECT_EQ(c.touched_at_ms(), t0 + 1 + 7 * day_ms);
}

TEST(Cart, AnyChangeRestartsTheIdleClock) {
  auto c = two_lines();
  ASSERT_EQ(c.set("a", 3, t0 + 5 * day_ms), cart_error::none);
  EXPECT_FALSE(c.expire_if_idle(t0 + 8 * day_ms, 7 * day_ms));
  EXPECT_EQ(c.lines().size(), 2u);
  EXPECT_TRUE(c.expire_if_idle(t0 + 12 * day_ms, 7 * day_ms));
}

TEST(Cart, ATtlOfZeroExpiresAtOnce) {
  auto c = two_lines();
  EXPECT_TRUE(c.expire_if_idle(t0 + 1, 0));
  EXPECT_TRUE(c.empty());
}

TEST(Cart, AFrozenCartNeverExpires) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 2), cart_error::none);
  const auto before = state(c);
  EXPECT_FALSE(c.expire_if_idle(t0 + 365 * day_ms, 7 * day_ms));
  EXPECT_EQ(state(c), before);
}

TEST(Cart, AnEmptyCartHasNothingToExpire) {
  cart c;
  EXPECT_FALSE(c.expire_if_idle(t0 + 365 * day_ms, 7 * day_ms));
  EXPECT_EQ(c.version(), 0);
}

TEST(Cart, AClockThatWentBackDoesNotExpireTheCart) {
  auto c = two_lines();
  EXPECT_FALSE(c.expire_if_idle(t0 - 365 * day_ms, 7 * day_ms));
  EXPECT_EQ(c.lines().size(), 2u);
}

TEST(Cart, ExtremeTimestampsDoNotOverflow) {
  auto c = cart::from_json(
      json{{"version", 1},
           {"touched_at_ms", std::numeric_limits<std::int64_t>::min()},
           {"frozen_for", ""},
           {"lines",
            {{{"sku", "a"}, {"product_id", 1}, {"title", "T"}, {"qty", 1}, {"unit_price", 1}}}}});
  EXPECT_TRUE(c.expire_if_idle(std::numeric_limits<std::int64_t>::max(),
                               std::numeric_limits<std::int64_t>::max()));
}

// -- to_json / from_json ------------------------------------------------------------------------

TEST(Cart, ToJsonWritesEveryField) {
  cart c;
  ASSERT_EQ(c.add(item("a", 2, 1500, 42, "Lamp"), t0), cart_error::none);
  ASSERT_EQ(c.freeze("o_9", t0 + 3), cart_error::none);
  const json expected = {
      {"version", 1},
      {"touched_at_ms", t0 + 3},
      {"frozen_for", "o_9"},
      {"lines",
       {{{"sku", "a"}, {"product_id", 42}, {"title", "Lamp"}, {"qty", 2}, {"unit_price", 1500}}}}};
  EXPECT_EQ(c.to_json(), expected);
}

TEST(Cart, ARoundTripKeepsEveryFieldIncludingTheFreeze) {
  auto c = two_lines();
  ASSERT_EQ(c.add(item("ü-🙂", 3, 77, 5, "Title with \"quotes\" and ü"), t0 + 2),
            cart_error::none);
  ASSERT_EQ(c.freeze("o_7", t0 + 9), cart_error::none);
  const auto back = cart::from_json(json::parse(c.to_json().dump()));
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.version(), 3);
  EXPECT_EQ(back.touched_at_ms(), t0 + 9);
  EXPECT_EQ(back.frozen_for(), "o_7");
  ASSERT_EQ(back.lines().size(), 3u);
  EXPECT_EQ(back.lines()[2].sku, "ü-🙂");
  EXPECT_EQ(back.lines()[2].title, "Title with \"quotes\" and ü");
  EXPECT_EQ(back.lines()[2].product_id, 5);
  EXPECT_EQ(back.lines()[2].qty, 3);
  EXPECT_EQ(back.lines()[2].unit_price, 77);
  EXPECT_EQ(back.subtotal(), c.subtotal());
}

TEST(Cart, ARoundTripOfAnEmptyCartGivesAnEmptyCart) {
  const auto back = cart::from_json(cart{}.to_json());
  EXPECT_TRUE(back.empty());
  EXPECT_EQ(back.version(), 0);
  EXPECT_EQ(back.frozen_for(), "");
}

TEST(Cart, ALoadedCartKeepsCountingVersionsAndHonoursTheFreeze) {
  auto c = two_lines();
  ASSERT_EQ(c.freeze("o_1", t0 + 5), cart_error::none);
  auto back = cart::from_json(c.to_json());
  EXPECT_EQ(back.add(item("c", 1), t0 + 6), cart_error::frozen);
  back.unfreeze("o_1", t0 + 7);
  EXPECT_EQ(back.add(item("c", 1), t0 + 8, 2), cart_error::none);
  EXPECT_EQ(back.version(), 3);
}

TEST(Cart, ALoadedCartUsesTheLimitsItIsGiven) {
  auto c = two_lines();
  auto back = cart::from_json(c.to_json(), cart_limits{3, 2});
  EXPECT_EQ(back.add(item("a", 2), t0), cart_error::invalid_quantity);
  EXPECT_EQ(back.add(item("c", 1), t0), cart_error::too_many_lines);
  EXPECT_EQ(back.add(item("a", 1), t0), cart_error::none);
}

TEST(Cart, ACartSavedUnderWiderLimitsLoadsAsItWas) {
  cart c{cart_limits{500, 100}};
  ASSERT_EQ(c.add(item("a", 300), t0), cart_error::none);
  auto back = cart::from_json(c.to_json(), cart_limits{100, 100});
  ASSERT_EQ(back.lines().size(), 1u);
  EXPECT_EQ(back.lines()[0].qty, 300);
  EXPECT_EQ(back.add(item("a", 1), t0), cart_error::invalid_quantity);
  EXPECT_EQ(back.lines()[0].qty, 300);
  EXPECT_EQ(back.set("a", 100, t0), cart_error::none);
  EXPECT_EQ(back.lines()[0].qty, 100);
}

class CartFromMalformedJson : public ::testing::TestWithParam<std::string> {};

TEST_P(CartFromMalformedJson, Throws) {
  auto j = json::parse(GetParam());
  EXPECT_THROW(cart::from_json(j), json::exception);
}

json valid_snapshot() {
  return json{{"version", 2},
              {"touched_at_ms", 5},
              {"frozen_for", ""},
              {"lines",
               {{{"sku", "a"}, {"product_id", 1}, {"title", "T"}, {"qty", 1}, {"unit_price", 9}}}}};
}

std::string without(const char* key) {
  auto j = valid_snapshot();
  j.erase(key);
  return j.dump();
}

std::string line_without(const char* key) {
  auto j = valid_snapshot();
  j["lines"][0].erase(key);
  return j.dump();
}

std::string with(const char* key, json value) {
  auto j = valid_snapshot();
  j[key] = std::move(value);
  return j.dump();
}

std::string line_with(const char* key, json value) {
  auto j = valid_snapshot();
  j["lines"][0][key] = std::move(value);
  return j.dump();
}

TEST(Cart, TheDocumentTheMalformedCasesStartFromLoads) {
  // So that each malformed case below fails for its one change, not for the base document.
  const auto c = cart::from_json(valid_snapshot());
  EXPECT_EQ(c.version(), 2);
  EXPECT_EQ(c.touched_at_ms(), 5);
  ASSERT_EQ(c.lines().size(), 1u);
  EXPECT_EQ(c.lines()[0].unit_price, 9);
}

INSTANTIATE_TEST_SUITE_P(
    Snapshots, CartFromMalformedJson,
    ::testing::Values(
        "null", "[]", "42", "\"cart\"", "{}", without("version"), without("touched_at_ms"),
        without("frozen_for"), without("lines"), line_without("sku"), line_without("product_id"),
        line_without("title"), line_without("qty"), line_without("unit_price"),
        with("version", "2"), with("version", 2.5), with("version", -1),
        line_with("unit_price", 18446744073709551615u), with("touched_at_ms", nullptr),
        with("frozen_for", 7), with("lines", json::object()), with("lines", "a"),
        with("lines", json::array({1})), line_with("sku", 1), line_with("title", false),
        line_with("product_id", "1"), line_with("qty", 0), line_with("qty", -3),
        line_with("qty", 1.5), line_with("qty", "1"), line_with("unit_price", 9.99),
        with("lines", json::array({valid_snapshot()["lines"][0], valid_snapshot()["lines"][0]}))));

} // namespace
} // namespace souk::actors
