// The stock rules of one SKU without an actor system: reservations split over warehouses, every
// call idempotent by reservation id, and the invariants (`check`) holding after any sequence.
#include "actors/stock/stock_ledger.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk::actors {
namespace {

using json = nlohmann::json;
using parts_t = std::vector<allocation>;

constexpr std::int64_t t0 = 1'700'000'000'000;
constexpr std::int64_t hold_ms = 15 * 60 * 1000;
constexpr std::int64_t deadline = t0 + hold_ms;

/// A ledger with `stock` units restocked per warehouse.
stock_ledger with_stock(const std::vector<std::pair<std::string, std::int64_t>>& stock) {
  stock_ledger l;
  for (const auto& [wid, qty] : stock)
    EXPECT_EQ(l.restock(wid, qty), ledger_error::none);
  return l;
}

/// A ledger whose reservation "r" (4 of the 10 units in "w1") has been brought to `s` through
/// the public calls, one minute after the other.
stock_ledger with_reservation_in(hold_state s) {
  auto l = with_stock({{"w1", 10}});
  auto res = l.reserve("r", "o1", 4, {"w1"}, t0, deadline);
  EXPECT_EQ(res.outcome, reserve_outcome::reserved);
  auto later = t0 + 60'000;
  switch (s) {
  case hold_state::held:
    break;
  case hold_state::confirmed:
    EXPECT_EQ(l.confirm("r", later), ledger_error::none);
    break;
  case hold_state::shipped:
    EXPECT_EQ(l.confirm("r", later), ledger_error::none);
    EXPECT_EQ(l.ship("r", later), ledger_error::none);
    break;
  case hold_state::returned:
    EXPECT_EQ(l.confirm("r", later), ledger_error::none);
    EXPECT_EQ(l.ship("r", later), ledger_error::none);
    EXPECT_EQ(l.return_to_stock("r", later), ledger_error::none);
    break;
  case hold_state::released:
    EXPECT_EQ(l.release("r", "o1", later), ledger_error::none);
    break;
  case hold_state::expired:
    EXPECT_EQ(l.expire(deadline), std::vector<std::string>{"r"});
    break;
  }
  EXPECT_EQ(l.find("r")->state, s);
  EXPECT_EQ(l.check(), "");
  return l;
}

constexpr hold_state every_state[] = {hold_state::held,     hold_state::confirmed,
                                      hold_state::shipped,  hold_state::returned,
                                      hold_state::released, hold_state::expired};

struct transition {
  hold_state from;
  ledger_error error;
  hold_state to;
};

using ledger_call = ledger_error (*)(stock_ledger&, const std::string& id, std::int64_t now);

/// Applies `call` to "r" in each state of `table`: the error and the new state must match, and
/// a call that leaves the state where it was (an idempotent repeat or a refusal) changes
/// nothing at all, not even the time of the last change.
void expect_transitions(ledger_call call, const std::vector<transition>& table) {
  ASSERT_EQ(table.size(), std::size(every_state)) << "the table must cover every state";
  for (const auto& row : table) {
    SCOPED_TRACE(std::string("from ") + to_string(row.from));
    auto l = with_reservation_in(row.from);
    auto before = l.to_json();
    EXPECT_EQ(to_string(call(l, "r", t0 + 120'000)), std::string(to_string(row.error)));
    ASSERT_NE(l.find("r"), nullptr);
    EXPECT_EQ(l.find("r")->state, row.to);
    if (row.to == row.from)
      EXPECT_EQ(l.to_json(), before);
    else
      EXPECT_EQ(l.find("r")->changed_at_ms, t0 + 120'000);
    EXPECT_EQ(l.check(), "");
  }
}

/// Every observable value of `a` and `b` is the same.
void expect_same_state(const stock_ledger& a, const stock_ledger& b) {
  EXPECT_EQ(a.received(), b.received());
  EXPECT_EQ(a.sold(), b.sold());
  EXPECT_EQ(a.written_off(), b.written_off());
  EXPECT_EQ(a.available(), b.available());
  EXPECT_EQ(a.reserved(), b.reserved());
  EXPECT_EQ(a.on_hand(), b.on_hand());
  EXPECT_EQ(a.next_expiry(), b.next_expiry());
  ASSERT_EQ(a.warehouses().size(), b.warehouses().size());
  for (const auto& [wid, w] : a.warehouses()) {
    SCOPED_TRACE("warehouse " + wid);
    ASSERT_EQ(b.warehouses().count(wid), 1u);
    EXPECT_EQ(w.on_hand, b.warehouses().at(wid).on_hand);
    EXPECT_EQ(w.reserved, b.warehouses().at(wid).reserved);
  }
  ASSERT_EQ(a.reservations().size(), b.reservations().size());
  for (const auto& [id, r] : a.reservations()) {
    SCOPED_TRACE("reservation " + id);
    const auto* other = b.find(id);
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(r.id, other->id);
    EXPECT_EQ(r.order_id, other->order_id);
    EXPECT_EQ(r.parts, other->parts);
    EXPECT_EQ(r.state, other->state);
    EXPECT_EQ(r.expires_at_ms, other->expires_at_ms);
    EXPECT_EQ(r.changed_at_ms, other->changed_at_ms);
  }
}

/// Whether `a` and `b` hold exactly the same stock, reservations and counters (cheaper than
/// comparing snapshots, for the random test).
bool identical(const stock_ledger& a, const stock_ledger& b) {
  auto same_stock = [](const auto& x, const auto& y) {
    return x.first == y.first && x.second.on_hand == y.second.on_hand &&
           x.second.reserved == y.second.reserved;
  };
  auto same_reservation = [](const auto& x, const auto& y) {
    const auto& r = x.second;
    const auto& s = y.second;
    return x.first == y.first && r.id == s.id && r.order_id == s.order_id && r.parts == s.parts &&
           r.state == s.state && r.expires_at_ms == s.expires_at_ms &&
           r.changed_at_ms == s.changed_at_ms && r.returned == s.returned;
  };
  return a.received() == b.received() && a.sold() == b.sold() &&
         a.written_off() == b.written_off() &&
         std::equal(a.warehouses().begin(), a.warehouses().end(), b.warehouses().begin(),
                    b.warehouses().end(), same_stock) &&
         std::equal(a.reservations().begin(), a.reservations().end(), b.reservations().begin(),
                    b.reservations().end(), same_reservation);
}

// -- reserve --------------------------------------------------------------------------------------

TEST(StockLedger, ReserveTakesFromTheNearestWarehouseAndLowersAvailable) {
  auto l = with_stock({{"w1", 5}, {"w2", 5}});
  auto res = l.reserve("o1/0", "o1", 3, {"w2", "w1"}, t0, deadline);
  EXPECT_EQ(res.outcome, reserve_outcome::reserved);
  EXPECT_EQ(res.parts, (parts_t{{"w2", 3}}));
  EXPECT_EQ(res.available, 7);
  EXPECT_EQ(res.expires_at_ms, deadline);
  EXPECT_EQ(l.available(), 7);
  EXPECT_EQ(l.reserved(), 3);
  EXPECT_EQ(l.on_hand(), 10);
  EXPECT_EQ(l.warehouses().at("w2").reserved, 3);
  EXPECT_EQ(l.warehouses().at("w1").reserved, 0);
  const auto* r = l.find("o1/0");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->order_id, "o1");
  EXPECT_EQ(r->state, hold_state::held);
  EXPECT_EQ(r->qty(), 3);
  EXPECT_EQ(r->expires_at_ms, deadline);
  EXPECT_EQ(r->changed_at_ms, t0);
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, ReserveSplitsALineAcrossWarehousesInNearestOrder) {
  auto l = with_stock({{"w1", 2}, {"w2", 3}, {"w3", 4}});
  auto res = l.reserve("o1/0", "o1", 6, {"w3", "w1", "w2"}, t0, deadline);
  EXPECT_EQ(res.outcome, reserve_outcome::reserved);
  EXPECT_EQ(res.parts, (parts_t{{"w3", 4}, {"w1", 2}}));
  EXPECT_EQ(res.available, 3);
  EXPECT_EQ(l.warehouses().at("w3").available(), 0);
  EXPECT_EQ(l.warehouses().at("w1").available(), 0);
  EXPECT_EQ(l.warehouses().at("w2").available(), 3);
  EXPECT_EQ(l.find("o1/0")->parts, res.parts);
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, WarehousesMissingFromNearestComeAfterItInIdOrder) {
  auto l = with_stock({{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}});
  auto res = l.reserve("o1/0", "o1", 4, {"c"}, t0, deadline);
  EXPECT_EQ(res.outcome, reserve_outcome::reserved);
  EXPECT_EQ(res.parts, (parts_t{{"c", 1}, {"a", 1}, {"b", 1}, {"d", 1}}));
  EXPECT_EQ(res.available, 0);
}

TEST(StockLedger, NearestIgnoresUnknownAndRepeatedWarehouseIds) {
  auto l = with_stock({{"w1", 2}, {"w2", 2}});
  auto res = l.reserve("o1/0", "o1", 3, {"nowhere", "w2", "w2", "w1"}, t0, deadline);
  EXPECT_EQ(res.outcome, reserve_outcome::reserved);
  EXPECT_EQ(res.parts, (parts_t{{"w2", 2}, {"w1", 1}}));
  EXPECT_EQ(l.warehouses().count("nowhere"), 0u);
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, ReserveSkipsWarehousesWithNothingAvailable) {
  auto l = with_stock({{"w1", 2}, {"w2", 5}});
  ASSERT_EQ(l.reserve("o1/0", "o1", 2, {"w1"}, t0, deadline).outcome, reserve_outcome::reserved);
  auto res = l.reserve("o2/0", "o2", 2, {"w1", "w2"}, t0, deadline);
  EXPECT_EQ(res.parts, (parts_t{{"w2", 2}}));
}

TEST(StockLedger, ReserveBeyondStockFailsWithInsufficientAndChangesNothing) {
  auto l = with_stock({{"w1", 2}, {"w2", 3}});
  ASSERT_EQ(l.reserve("o1/0", "o1", 1, {}, t0, deadline).outcome, reserve_outcome::reserved);
  auto before = l.to_json();
  auto res = l.reserve("o2/0", "o2", 5, {"w1", "w2"}, t0, deadline);
  EXPECT_EQ(res.outcome, reserve_outcome::insufficient);
  EXPECT_TRUE(res.parts.empty());
  EXPECT_EQ(res.available, 4);
  EXPECT_EQ(l.to_json(), before);
  EXPECT_EQ(l.find("o2/0"), nullptr);
  // Not a tombstone: the same id may succeed once stock arrives.
  ASSERT_EQ(l.restock("w1", 1), ledger_error::none);
  EXPECT_EQ(l.reserve("o2/0", "o2", 5, {}, t0, deadline).outcome, reserve_outcome::reserved);
}

TEST(StockLedger, ReserveWithNoWarehousesIsInsufficient) {
  stock_ledger l;
  auto res = l.reserve("o1/0", "o1", 1, {"w1"}, t0, deadline);
  EXPECT_EQ(res.outcome, reserve_outcome::insufficient);
  EXPECT_EQ(res.available, 0);
  EXPECT_TRUE(l.reservations().empty());
  EXPECT_TRUE(l.warehouses().empty());
}

TEST(StockLedger, ReserveOfZeroOrNegativeQuantityFailsWithInsufficientAndChangesNothing) {
  auto l = with_stock({{"w1", 5}});
  auto before = l.to_json();
  for (std::int64_t qty :
       {std::int64_t{0}, std::int64_t{-3}, std::numeric_limits<std::int64_t>::min()}) {
    SCOPED_TRACE("qty " + std::to_string(qty));
    auto res = l.reserve("o1/0", "o1", qty, {"w1"}, t0, deadline);
    EXPECT_EQ(res.outcome, reserve_outcome::insufficient);
    EXPECT_TRUE(res.parts.empty());
    EXPECT_EQ(res.available, 5);
    EXPECT_EQ(l.to_json(), before);
  }
}

TEST(StockLedger, RepeatedReserveReturnsTheSamePartsAndReservesOnlyOnce) {
  auto l = with_stock({{"w1", 2}, {"w2", 8}});
  auto first = l.reserve("o1/0", "o1", 4, {"w1", "w2"}, t0, deadline);
  ASSERT_EQ(first.outcome, reserve_outcome::reserved);
  auto before = l.to_json();
  // A retry carries the same id; even a different quantity, order or deadline cannot change it.
  auto again = l.reserve("o1/0", "o1", 7, {"w2"}, t0 + 5000, deadline + 5000);
  EXPECT_EQ(again.outcome, reserve_outcome::reserved);
  EXPECT_EQ(again.parts, first.parts);
  EXPECT_EQ(again.expires_at_ms, first.expires_at_ms);
  EXPECT_EQ(again.available, 6);
  EXPECT_EQ(l.to_json(), before);
  EXPECT_EQ(l.reserved(), 4);
}

TEST(StockLedger, RepeatedReserveOfAConfirmedOrShippedReservationStillReportsItsParts) {
  for (auto s : {hold_state::confirmed, hold_state::shipped, hold_state::returned}) {
    SCOPED_TRACE(to_string(s));
    auto l = with_reservation_in(s);
    auto before = l.to_json();
    auto res = l.reserve("r", "o1", 4, {"w1"}, t0, deadline);
    EXPECT_EQ(res.outcome, reserve_outcome::reserved);
    EXPECT_EQ(res.parts, (parts_t{{"w1", 4}}));
    EXPECT_EQ(l.to_json(), before);
  }
}

TEST(StockLedger, ReserveOfAReleasedOrExpiredIdGivesAlreadyReleasedAndChangesNothing) {
  for (auto s : {hold_state::released, hold_state::expired}) {
    SCOPED_TRACE(to_string(s));
    auto l = with_reservation_in(s);
    auto before = l.to_json();
    auto res = l.reserve("r", "o1", 4, {"w1"}, t0, deadline);
    EXPECT_EQ(res.outcome, reserve_outcome::already_released);
    EXPECT_TRUE(res.parts.empty());
    EXPECT_EQ(res.available, 10);
    EXPECT_EQ(l.to_json(), before);
  }
}

TEST(StockLedger, ReleaseOfAnUnknownIdLeavesATombstoneThatTurnsALaterReserveAway) {
  auto l = with_stock({{"w1", 5}});
  EXPECT_EQ(l.release("o1/0", "o1", t0), ledger_error::none);
  const auto* tomb = l.find("o1/0");
  ASSERT_NE(tomb, nullptr);
  EXPECT_EQ(tomb->state, hold_state::released);
  EXPECT_EQ(tomb->order_id, "o1");
  EXPECT_TRUE(tomb->parts.empty());
  EXPECT_EQ(tomb->changed_at_ms, t0);
  EXPECT_EQ(l.check(), "");
  auto res = l.reserve("o1/0", "o1", 2, {"w1"}, t0 + 1, deadline);
  EXPECT_EQ(res.outcome, reserve_outcome::already_released);
  EXPECT_EQ(res.available, 5);
  EXPECT_EQ(l.reserved(), 0);
}

// -- confirm, release, ship, return in every state
// -------------------------------------------------

TEST(StockLedger, ConfirmPaysAHeldReservationIsIdempotentAfterwardsAndRefusesEndedOnes) {
  expect_transitions(
      [](stock_ledger& l, const std::string& id, std::int64_t now) { return l.confirm(id, now); },
      {{hold_state::held, ledger_error::none, hold_state::confirmed},
       {hold_state::confirmed, ledger_error::none, hold_state::confirmed},
       {hold_state::shipped, ledger_error::none, hold_state::shipped},
       {hold_state::returned, ledger_error::wrong_state, hold_state::returned},
       {hold_state::released, ledger_error::wrong_state, hold_state::released},
       {hold_state::expired, ledger_error::wrong_state, hold_state::expired}});
}

TEST(StockLedger, ReleaseGivesBackLiveReservationsIsIdempotentOnEndedOnesAndRefusesShipped) {
  expect_transitions([](stock_ledger& l, const std::string& id,
                        std::int64_t now) { return l.release(id, "o1", now); },
                     {{hold_state::held, ledger_error::none, hold_state::released},
                      {hold_state::confirmed, ledger_error::none, hold_state::released},
                      {hold_state::shipped, ledger_error::wrong_state, hold_state::shipped},
                      {hold_state::returned, ledger_error::wrong_state, hold_state::returned},
                      {hold_state::released, ledger_error::none, hold_state::released},
                      {hold_state::expired, ledger_error::none, hold_state::expired}});
}

TEST(StockLedger, ShipTakesOnlyConfirmedReservationsAndIsIdempotent) {
  expect_transitions(
      [](stock_ledger& l, const std::string& id, std::int64_t now) { return l.ship(id, now); },
      {{hold_state::held, ledger_error::wrong_state, hold_state::held},
       {hold_state::confirmed, ledger_error::none, hold_state::shipped},
       {hold_state::shipped, ledger_error::none, hold_state::shipped},
       {hold_state::returned, ledger_error::wrong_state, hold_state::returned},
       {hold_state::released, ledger_error::wrong_state, hold_state::released},
       {hold_state::expired, ledger_error::wrong_state, hold_state::expired}});
}

TEST(StockLedger, ReturnToStockTakesOnlyShippedReservationsAndIsIdempotent) {
  expect_transitions([](stock_ledger& l, const std::string& id,
                        std::int64_t now) { return l.return_to_stock(id, now); },
                     {{hold_state::held, ledger_error::wrong_state, hold_state::held},
                      {hold_state::confirmed, ledger_error::wrong_state, hold_state::confirmed},
                      {hold_state::shipped, ledger_error::none, hold_state::returned},
                      {hold_state::returned, ledger_error::none, hold_state::returned},
                      {hold_state::released, ledger_error::wrong_state, hold_state::released},
                      {hold_state::expired, ledger_error::wrong_state, hold_state::expired}});
}

TEST(StockLedger, ConfirmShipAndReturnOfAnUnknownIdFailAndChangeNothing) {
  auto l = with_stock({{"w1", 5}});
  auto before = l.to_json();
  EXPECT_EQ(l.confirm("nope", t0), ledger_error::unknown_reservation);
  EXPECT_EQ(l.ship("nope", t0), ledger_error::unknown_reservation);
  EXPECT_EQ(l.return_to_stock("nope", t0), ledger_error::unknown_reservation);
  EXPECT_EQ(l.to_json(), before);
  EXPECT_EQ(l.find("nope"), nullptr);
}

TEST(StockLedger, ReleaseOfAHeldOrConfirmedReservationMakesItsUnitsAvailableAgain) {
  for (auto s : {hold_state::held, hold_state::confirmed}) {
    SCOPED_TRACE(to_string(s));
    auto l = with_reservation_in(s);
    EXPECT_EQ(l.available(), 6);
    ASSERT_EQ(l.release("r", "o1", t0 + 1), ledger_error::none);
    EXPECT_EQ(l.available(), 10);
    EXPECT_EQ(l.reserved(), 0);
    EXPECT_EQ(l.on_hand(), 10);
    EXPECT_EQ(l.sold(), 0);
  }
}

TEST(StockLedger, ShipRemovesUnitsFromOnHandAndReservedAndCountsThemSold) {
  auto l = with_stock({{"w1", 2}, {"w2", 5}});
  ASSERT_EQ(l.reserve("r", "o1", 4, {"w1", "w2"}, t0, deadline).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.confirm("r", t0), ledger_error::none);
  ASSERT_EQ(l.ship("r", t0), ledger_error::none);
  EXPECT_EQ(l.warehouses().at("w1").on_hand, 0);
  EXPECT_EQ(l.warehouses().at("w1").reserved, 0);
  EXPECT_EQ(l.warehouses().at("w2").on_hand, 3);
  EXPECT_EQ(l.warehouses().at("w2").reserved, 0);
  EXPECT_EQ(l.sold(), 4);
  EXPECT_EQ(l.available(), 3);
  EXPECT_EQ(l.on_hand(), l.received() - l.written_off() - l.sold());
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, ReturnToStockPutsUnitsBackInTheWarehousesTheyLeft) {
  auto l = with_stock({{"w1", 2}, {"w2", 5}});
  ASSERT_EQ(l.reserve("r", "o1", 4, {"w1", "w2"}, t0, deadline).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.confirm("r", t0), ledger_error::none);
  ASSERT_EQ(l.ship("r", t0), ledger_error::none);
  ASSERT_EQ(l.return_to_stock("r", t0), ledger_error::none);
  EXPECT_EQ(l.warehouses().at("w1").on_hand, 2);
  EXPECT_EQ(l.warehouses().at("w2").on_hand, 5);
  EXPECT_EQ(l.sold(), 0);
  EXPECT_EQ(l.available(), 7);
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, PartialReturnsPutUnitsBackPartByPartUntilTheLastMakesItReturned) {
  auto l = with_stock({{"w1", 2}, {"w2", 5}});
  ASSERT_EQ(l.reserve("r", "o1", 4, {"w1", "w2"}, t0, deadline).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.confirm("r", t0), ledger_error::none);
  ASSERT_EQ(l.ship("r", t0), ledger_error::none); // w1 0 on hand (gave 2), w2 3 (gave 2)
  // One unit back: to w1, the first part.
  ASSERT_EQ(l.return_to_stock("r", 1, t0 + 1), ledger_error::none);
  EXPECT_EQ(l.find("r")->state, hold_state::shipped);
  EXPECT_EQ(l.find("r")->returned, 1);
  EXPECT_EQ(l.warehouses().at("w1").on_hand, 1);
  EXPECT_EQ(l.warehouses().at("w2").on_hand, 3);
  EXPECT_EQ(l.sold(), 3);
  EXPECT_EQ(l.check(), "");
  // Three in all: w1's second unit, then one of w2's.
  ASSERT_EQ(l.return_to_stock("r", 3, t0 + 2), ledger_error::none);
  EXPECT_EQ(l.warehouses().at("w1").on_hand, 2);
  EXPECT_EQ(l.warehouses().at("w2").on_hand, 4);
  EXPECT_EQ(l.sold(), 1);
  // A repeated or late call (fewer units than are back) changes nothing.
  auto before = l;
  EXPECT_EQ(l.return_to_stock("r", 3, t0 + 3), ledger_error::none);
  EXPECT_EQ(l.return_to_stock("r", 1, t0 + 3), ledger_error::none);
  EXPECT_TRUE(identical(l, before));
  // More units than the reservation has, or none, are invalid.
  EXPECT_EQ(l.return_to_stock("r", 5, t0 + 3), ledger_error::invalid_quantity);
  EXPECT_EQ(l.return_to_stock("r", 0, t0 + 3), ledger_error::invalid_quantity);
  EXPECT_TRUE(identical(l, before));
  // The last unit makes it returned; after that every call is a no-op, the full one included.
  ASSERT_EQ(l.return_to_stock("r", 4, t0 + 4), ledger_error::none);
  EXPECT_EQ(l.find("r")->state, hold_state::returned);
  EXPECT_EQ(l.warehouses().at("w2").on_hand, 5);
  EXPECT_EQ(l.sold(), 0);
  before = l;
  EXPECT_EQ(l.return_to_stock("r", t0 + 5), ledger_error::none);
  EXPECT_EQ(l.return_to_stock("r", 2, t0 + 5), ledger_error::none);
  EXPECT_TRUE(identical(l, before));
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, PartialReturnOfAnUnshippedReservationIsRefused) {
  for (auto s :
       {hold_state::held, hold_state::confirmed, hold_state::released, hold_state::expired}) {
    SCOPED_TRACE(to_string(s));
    auto l = with_reservation_in(s);
    auto before = l;
    EXPECT_EQ(l.return_to_stock("r", 1, t0 + 120'000), ledger_error::wrong_state);
    EXPECT_TRUE(identical(l, before));
  }
}

TEST(StockLedger, APartlyReturnedReservationSurvivesASnapshot) {
  auto l = with_reservation_in(hold_state::shipped);
  ASSERT_EQ(l.return_to_stock("r", 3, t0 + 120'000), ledger_error::none);
  auto copy = stock_ledger::from_json(json::parse(l.to_json().dump()));
  EXPECT_TRUE(identical(copy, l));
  EXPECT_EQ(copy.find("r")->returned, 3);
  ASSERT_EQ(copy.return_to_stock("r", 4, t0 + 180'000), ledger_error::none);
  EXPECT_EQ(copy.find("r")->state, hold_state::returned);
  EXPECT_EQ(copy.sold(), 0);
  // A count the state cannot have is refused, not loaded.
  auto j = l.to_json();
  j["reservations"][0]["returned"] = 9;
  EXPECT_THROW(stock_ledger::from_json(j), json::exception);
}

// -- expiry ---------------------------------------------------------------------------------------

TEST(StockLedger, ExpireLeavesHoldsAloneBeforeTheirDeadline) {
  auto l = with_reservation_in(hold_state::held);
  auto before = l.to_json();
  EXPECT_TRUE(l.expire(deadline - 1).empty());
  EXPECT_EQ(l.to_json(), before);
}

TEST(StockLedger, ExpireEndsAHoldExactlyAtItsDeadlineAndFreesItsUnits) {
  auto l = with_reservation_in(hold_state::held);
  EXPECT_EQ(l.expire(deadline), std::vector<std::string>{"r"});
  EXPECT_EQ(l.find("r")->state, hold_state::expired);
  EXPECT_EQ(l.find("r")->changed_at_ms, deadline);
  EXPECT_EQ(l.available(), 10);
  EXPECT_EQ(l.reserved(), 0);
  EXPECT_TRUE(l.expire(deadline + 1).empty()) << "an expired hold expires only once";
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, ExpireAfterTheDeadlineEndsEveryOverdueHoldAndNoOther) {
  auto l = with_stock({{"w1", 10}});
  ASSERT_EQ(l.reserve("a", "o1", 1, {}, t0, t0 + 100).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.reserve("b", "o2", 1, {}, t0, t0 + 200).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.reserve("c", "o3", 1, {}, t0, t0 + 300).outcome, reserve_outcome::reserved);
  EXPECT_EQ(l.expire(t0 + 250), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(l.find("c")->state, hold_state::held);
  EXPECT_EQ(l.reserved(), 1);
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, NextExpiryIsTheEarliestDeadlineOfAHeldReservation) {
  auto l = with_stock({{"w1", 10}});
  EXPECT_EQ(l.next_expiry(), std::nullopt);
  ASSERT_EQ(l.reserve("a", "o1", 1, {}, t0, t0 + 300).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.reserve("b", "o2", 1, {}, t0, t0 + 100).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.reserve("c", "o3", 1, {}, t0, t0 + 200).outcome, reserve_outcome::reserved);
  EXPECT_EQ(l.next_expiry(), t0 + 100);
  ASSERT_EQ(l.confirm("b", t0), ledger_error::none);
  EXPECT_EQ(l.next_expiry(), t0 + 200);
  ASSERT_EQ(l.release("c", "o3", t0), ledger_error::none);
  EXPECT_EQ(l.next_expiry(), t0 + 300);
  ASSERT_EQ(l.expire(t0 + 300).size(), 1u);
  EXPECT_EQ(l.next_expiry(), std::nullopt);
}

TEST(StockLedger, ConfirmedHoldsNeverExpire) {
  auto l = with_reservation_in(hold_state::confirmed);
  EXPECT_TRUE(l.expire(deadline).empty());
  EXPECT_TRUE(l.expire(std::numeric_limits<std::int64_t>::max()).empty());
  EXPECT_EQ(l.find("r")->state, hold_state::confirmed);
  EXPECT_EQ(l.reserved(), 4);
}

// -- prune ----------------------------------------------------------------------------------------

TEST(StockLedger, PruneDropsOnlyTombstonesOlderThanTheCutoff) {
  auto l = with_stock({{"w1", 20}});
  for (const auto* id : {"held", "confirmed", "shipped", "returned", "released"})
    ASSERT_EQ(l.reserve(id, "o", 1, {}, t0, deadline).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.reserve("expired", "o", 1, {}, t0, t0 + 10).outcome, reserve_outcome::reserved);
  for (const auto* id : {"confirmed", "shipped", "returned"})
    ASSERT_EQ(l.confirm(id, t0), ledger_error::none);
  ASSERT_EQ(l.ship("shipped", t0), ledger_error::none);
  ASSERT_EQ(l.ship("returned", t0), ledger_error::none);
  ASSERT_EQ(l.return_to_stock("returned", t0 + 5), ledger_error::none);
  ASSERT_EQ(l.release("released", "o", t0 + 5), ledger_error::none);
  ASSERT_EQ(l.release("unknown", "o", t0 + 5), ledger_error::none);
  ASSERT_EQ(l.expire(t0 + 10), std::vector<std::string>{"expired"});
  ASSERT_EQ(l.release("released-late", "o", t0 + 11), ledger_error::none);
  auto reserved_before = l.reserved();
  auto available_before = l.available();
  auto sold_before = l.sold();

  EXPECT_EQ(l.prune(t0 + 10), 5u);
  for (const auto* gone : {"shipped", "returned", "released", "unknown", "expired"})
    EXPECT_EQ(l.find(gone), nullptr) << gone;
  // Live reservations stay however old; a tombstone younger than the cutoff stays too.
  for (const auto* kept : {"held", "confirmed", "released-late"})
    EXPECT_NE(l.find(kept), nullptr) << kept;
  EXPECT_EQ(l.reserved(), reserved_before);
  EXPECT_EQ(l.available(), available_before);
  EXPECT_EQ(l.sold(), sold_before);
  EXPECT_EQ(l.check(), "");
  EXPECT_EQ(l.prune(t0 + 10), 0u);
  EXPECT_EQ(l.prune(t0 + 11), 1u);
  EXPECT_EQ(l.reservations().size(), 2u);
}

// -- on hand, received, written off, sold ---------------------------------------------------------

TEST(StockLedger, SetOnHandBelowReservedIsRefusedAndChangesNothing) {
  auto l = with_stock({{"w1", 5}, {"w2", 5}});
  ASSERT_EQ(l.reserve("r", "o1", 3, {"w1"}, t0, deadline).outcome, reserve_outcome::reserved);
  auto before = l.to_json();
  EXPECT_EQ(l.set_on_hand("w1", 2), ledger_error::below_reserved);
  EXPECT_EQ(l.to_json(), before);
  EXPECT_EQ(l.set_on_hand("w1", 3), ledger_error::none);
  EXPECT_EQ(l.warehouses().at("w1").available(), 0);
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, SetOnHandCountsIncreasesAsReceivedAndDecreasesAsWrittenOff) {
  stock_ledger l;
  EXPECT_EQ(l.set_on_hand("w1", 10), ledger_error::none);
  EXPECT_EQ(l.received(), 10);
  EXPECT_EQ(l.set_on_hand("w1", 7), ledger_error::none);
  EXPECT_EQ(l.written_off(), 3);
  EXPECT_EQ(l.set_on_hand("w1", 9), ledger_error::none);
  EXPECT_EQ(l.received(), 12);
  EXPECT_EQ(l.set_on_hand("w1", 9), ledger_error::none);
  EXPECT_EQ(l.received(), 12);
  EXPECT_EQ(l.written_off(), 3);
  EXPECT_EQ(l.on_hand(), 9);
  EXPECT_EQ(l.on_hand(), l.received() - l.written_off() - l.sold());
}

TEST(StockLedger, SetOnHandCreatesTheWarehouseRecordEvenAtZero) {
  stock_ledger l;
  EXPECT_EQ(l.set_on_hand("w1", 0), ledger_error::none);
  ASSERT_EQ(l.warehouses().count("w1"), 1u);
  EXPECT_EQ(l.warehouses().at("w1").on_hand, 0);
  EXPECT_EQ(l.received(), 0);
  EXPECT_EQ(l.written_off(), 0);
}

TEST(StockLedger, NegativeOnHandAndNonPositiveRestockAreInvalidAndChangeNothing) {
  auto l = with_stock({{"w1", 5}});
  auto before = l.to_json();
  EXPECT_EQ(l.set_on_hand("w1", -1), ledger_error::invalid_quantity);
  EXPECT_EQ(l.set_on_hand("w2", -1), ledger_error::invalid_quantity);
  EXPECT_EQ(l.restock("w1", 0), ledger_error::invalid_quantity);
  EXPECT_EQ(l.restock("w2", -4), ledger_error::invalid_quantity);
  EXPECT_EQ(l.to_json(), before);
}

TEST(StockLedger, RestockThatWouldOverflowReceivedIsInvalid) {
  auto l = with_stock({{"w1", 5}});
  auto before = l.to_json();
  EXPECT_EQ(l.restock("w2", std::numeric_limits<std::int64_t>::max()),
            ledger_error::invalid_quantity);
  EXPECT_EQ(l.set_on_hand("w2", std::numeric_limits<std::int64_t>::max()),
            ledger_error::invalid_quantity);
  EXPECT_EQ(l.to_json(), before);
}

TEST(StockLedger, OnHandIsAlwaysReceivedLessWrittenOffLessSold) {
  auto l = with_stock({{"w1", 10}, {"w2", 10}});
  auto balanced = [&] { return l.on_hand() == l.received() - l.written_off() - l.sold(); };
  ASSERT_EQ(l.reserve("a", "o1", 12, {"w1", "w2"}, t0, deadline).outcome,
            reserve_outcome::reserved);
  ASSERT_EQ(l.confirm("a", t0), ledger_error::none);
  ASSERT_EQ(l.ship("a", t0), ledger_error::none);
  EXPECT_EQ(l.sold(), 12);
  EXPECT_TRUE(balanced());
  ASSERT_EQ(l.set_on_hand("w2", 5), ledger_error::none); // 8 -> 5
  EXPECT_EQ(l.written_off(), 3);
  EXPECT_TRUE(balanced());
  ASSERT_EQ(l.restock("w1", 4), ledger_error::none);
  EXPECT_EQ(l.received(), 24);
  EXPECT_TRUE(balanced());
  ASSERT_EQ(l.return_to_stock("a", t0), ledger_error::none);
  EXPECT_EQ(l.sold(), 0);
  EXPECT_EQ(l.on_hand(), 21);
  EXPECT_TRUE(balanced());
  EXPECT_LE(l.sold(), l.received());
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, CheckIsEmptyOnAFreshLedgerAndThroughATypicalDay) {
  stock_ledger l;
  EXPECT_EQ(l.check(), "");
  ASSERT_EQ(l.restock("w1", 3), ledger_error::none);
  ASSERT_EQ(l.restock("w2", 3), ledger_error::none);
  EXPECT_EQ(l.check(), "");
  ASSERT_EQ(l.reserve("a", "o1", 4, {"w2"}, t0, deadline).outcome, reserve_outcome::reserved);
  EXPECT_EQ(l.check(), "");
  ASSERT_EQ(l.reserve("b", "o2", 1, {"w1"}, t0, deadline).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.confirm("a", t0), ledger_error::none);
  EXPECT_EQ(l.check(), "");
  ASSERT_EQ(l.expire(deadline).size(), 1u);
  EXPECT_EQ(l.check(), "");
  ASSERT_EQ(l.ship("a", deadline), ledger_error::none);
  EXPECT_EQ(l.check(), "");
  ASSERT_EQ(l.prune(deadline), 2u); // "b" expired, "a" shipped
  EXPECT_EQ(l.check(), "");
}

TEST(StockLedger, StateAndErrorNamesAreStable) {
  EXPECT_STREQ(to_string(hold_state::held), "held");
  EXPECT_STREQ(to_string(hold_state::confirmed), "confirmed");
  EXPECT_STREQ(to_string(hold_state::shipped), "shipped");
  EXPECT_STREQ(to_string(hold_state::returned), "returned");
  EXPECT_STREQ(to_string(hold_state::released), "released");
  EXPECT_STREQ(to_string(hold_state::expired), "expired");
  EXPECT_STREQ(to_string(ledger_error::none), "none");
  EXPECT_STREQ(to_string(ledger_error::unknown_reservation), "unknown_reservation");
  EXPECT_STREQ(to_string(ledger_error::wrong_state), "wrong_state");
  EXPECT_STREQ(to_string(ledger_error::below_reserved), "below_reserved");
  EXPECT_STREQ(to_string(ledger_error::invalid_quantity), "invalid_quantity");
  EXPECT_STREQ(to_string(ledger_error::unknown_warehouse), "unknown_warehouse");
}

// -- JSON -----------------------------------------------------------------------------------------

/// A ledger with a reservation in every state, split reservations and every counter non-zero.
stock_ledger busy_ledger() {
  auto l = with_stock({{"w1", 10}, {"w2", 6}, {"w3", 6}});
  EXPECT_EQ(l.set_on_hand("w3", 4), ledger_error::none);
  for (const auto* id : {"held", "confirmed", "shipped", "returned", "released"})
    EXPECT_EQ(l.reserve(id, std::string("o-") + id, 2, {"w2", "w1"}, t0, deadline).outcome,
              reserve_outcome::reserved);
  EXPECT_EQ(l.reserve("expired", "o-expired", 2, {"w2", "w1"}, t0, t0 + 5).outcome,
            reserve_outcome::reserved);
  EXPECT_EQ(l.reserve("split", "o-split", 5, {"w1", "w3"}, t0, deadline + 7).parts,
            (parts_t{{"w1", 4}, {"w3", 1}}));
  for (const auto* id : {"confirmed", "shipped", "returned"})
    EXPECT_EQ(l.confirm(id, t0 + 1), ledger_error::none);
  EXPECT_EQ(l.ship("shipped", t0 + 2), ledger_error::none);
  EXPECT_EQ(l.ship("returned", t0 + 2), ledger_error::none);
  EXPECT_EQ(l.return_to_stock("returned", t0 + 3), ledger_error::none);
  EXPECT_EQ(l.release("released", "o-released", t0 + 4), ledger_error::none);
  EXPECT_EQ(l.release("tombstone", "o-x", t0 + 4), ledger_error::none);
  EXPECT_EQ(l.expire(t0 + 5), std::vector<std::string>{"expired"});
  EXPECT_EQ(l.check(), "");
  return l;
}

TEST(StockLedger, JsonRoundTripKeepsEveryObservableValue) {
  auto original = busy_ledger();
  auto j = original.to_json();
  auto copy = stock_ledger::from_json(json::parse(j.dump()));
  expect_same_state(original, copy);
  EXPECT_EQ(copy.to_json(), j);
  EXPECT_EQ(copy.check(), "");
  EXPECT_GT(copy.sold(), 0);
  EXPECT_GT(copy.written_off(), 0);
  // The copy behaves like the original from here on, idempotency included.
  EXPECT_EQ(copy.reserve("tombstone", "o-x", 1, {}, t0, deadline).outcome,
            reserve_outcome::already_released);
  EXPECT_EQ(copy.ship("shipped", t0 + 9), ledger_error::none);
  EXPECT_EQ(copy.expire(deadline), original.expire(deadline));
  expect_same_state(original, copy);
}

/// The ledger's stored form, rebuilt the way the SKU actor stores it: the head plus one part
/// per reservation.
stock_ledger through_parts(const stock_ledger& l) {
  std::vector<json> parts;
  for (const auto& entry : l.reservations())
    parts.push_back(json::parse(stock_ledger::reservation_json(entry.second).dump()));
  return stock_ledger::from_parts(json::parse(l.head_json().dump()), parts);
}

TEST(StockLedger, HeadAndPartsRoundTripLikeTheWholeDocument) {
  auto original = busy_ledger();
  EXPECT_FALSE(original.head_json().contains("reservations"));
  auto copy = through_parts(original);
  expect_same_state(original, copy);
  EXPECT_EQ(copy.to_json(), original.to_json());
}

TEST(StockLedger, PartsThatDoNotMatchTheHeadAreRefused) {
  auto l = with_stock({{"w1", 5}});
  ASSERT_EQ(l.reserve("r", "o1", 2, {}, t0, deadline).outcome, reserve_outcome::reserved);
  auto head = l.head_json();
  auto part = stock_ledger::reservation_json(*l.find("r"));
  EXPECT_NO_THROW(stock_ledger::from_parts(head, {part}));
  // A lost part would free its units silently: the head's `reserved` catches it.
  EXPECT_THROW(stock_ledger::from_parts(head, {}), json::exception);
  EXPECT_THROW(stock_ledger::from_parts(head, {part, part}), json::exception);
  EXPECT_THROW(stock_ledger::from_parts(head, {json::array()}), json::exception);
  EXPECT_THROW(stock_ledger::from_parts(l.to_json(), {}), json::exception); // embedded
}

TEST(StockLedger, TakeChangedNamesEachTouchedReservationOnceThenForgets) {
  auto l = with_stock({{"w1", 10}});
  EXPECT_TRUE(l.take_changed().empty()); // stock alone lives in the head
  ASSERT_EQ(l.reserve("b", "o1", 1, {}, t0, deadline).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.reserve("a", "o2", 1, {}, t0, deadline).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.confirm("a", t0), ledger_error::none);
  EXPECT_EQ(l.take_changed(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(l.take_changed().empty());
  // Calls that change nothing touch nothing.
  ASSERT_EQ(l.reserve("a", "o2", 1, {}, t0, deadline).outcome, reserve_outcome::reserved);
  ASSERT_EQ(l.confirm("a", t0), ledger_error::none);
  EXPECT_EQ(l.confirm("zz", t0), ledger_error::unknown_reservation);
  EXPECT_EQ(l.reserve("big", "o3", 100, {}, t0, deadline).outcome, reserve_outcome::insufficient);
  EXPECT_TRUE(l.take_changed().empty());
  // Each kind of change is named: ship, return, release (also of an unknown id), expiry, prune.
  ASSERT_EQ(l.ship("a", t0 + 1), ledger_error::none);
  ASSERT_EQ(l.return_to_stock("a", t0 + 2), ledger_error::none);
  ASSERT_EQ(l.release("ghost", "o4", t0 + 3), ledger_error::none);
  EXPECT_EQ(l.take_changed(), (std::vector<std::string>{"a", "ghost"}));
  EXPECT_EQ(l.expire(deadline), std::vector<std::string>{"b"});
  EXPECT_EQ(l.take_changed(), std::vector<std::string>{"b"});
  EXPECT_EQ(l.prune(deadline), 3u); // a (returned), ghost, b: dropped, so erased from the store
  EXPECT_EQ(l.take_changed(), (std::vector<std::string>{"a", "b", "ghost"}));
  EXPECT_TRUE(l.reservations().empty());
}

TEST(StockLedger, AppliedChangesKeepTheStoredFormEqualToTheLedger) {
  // Replays random calls, and after each batch applies only `take_changed` to a stored copy
  // (upsert the reservations that exist, erase the others), as the SKU actor's writes do.
  std::mt19937_64 rng{7};
  auto l = with_stock({{"w1", 20}, {"w2", 20}});
  std::map<std::string, json> stored;
  auto now = t0;
  for (int step = 0; step < 2000; ++step) {
    auto id = "r" + std::to_string(rng() % 60);
    now += static_cast<std::int64_t>(rng() % 1000);
    switch (rng() % 6) {
    case 0:
    case 1:
      l.reserve(id, "o-" + id, 1 + static_cast<std::int64_t>(rng() % 3), {}, now, now + 5'000);
      break;
    case 2:
      l.confirm(id, now);
      break;
    case 3:
      l.release(id, "o-" + id, now);
      break;
    case 4:
      l.ship(id, now);
      break;
    default:
      l.expire(now);
      l.prune(now - 3'000);
    }
    if (rng() % 4 == 0 || step == 1999) {
      for (const auto& changed : l.take_changed()) {
        if (auto r = l.find(changed))
          stored[changed] = stock_ledger::reservation_json(*r);
        else
          stored.erase(changed);
      }
      std::vector<json> parts;
      for (auto& entry : stored)
        parts.push_back(entry.second);
      auto copy = stock_ledger::from_parts(l.head_json(), parts);
      ASSERT_EQ(copy.to_json(), l.to_json()) << "after step " << step;
    }
  }
}

TEST(StockLedger, EmptyLedgerRoundTripsThroughJson) {
  stock_ledger empty;
  auto copy = stock_ledger::from_json(empty.to_json());
  expect_same_state(empty, copy);
  EXPECT_TRUE(copy.warehouses().empty());
  EXPECT_TRUE(copy.reservations().empty());
}

/// `edit` applied to a valid snapshot of a small ledger.
json broken(void (*edit)(json&)) {
  auto l = with_stock({{"w1", 5}});
  EXPECT_EQ(l.reserve("r", "o1", 2, {}, t0, deadline).outcome, reserve_outcome::reserved);
  EXPECT_EQ(l.release("gone", "o2", t0), ledger_error::none);
  auto j = l.to_json();
  EXPECT_NO_THROW(stock_ledger::from_json(j)) << "the unedited snapshot must load";
  edit(j);
  return j;
}

TEST(StockLedger, FromJsonThrowsOnMalformedDocumentsAndSaysWhy) {
  // The snapshot holds "gone" (a released tombstone) then "r" (2 units held in w1 of 5).
  struct named_edit {
    const char* what;
    void (*edit)(json&);
    const char* reason; ///< part of the exception's message
  };
  const named_edit edits[] = {
      {"not an object", [](json& j) { j = json::array(); }, "must be an object"},
      {"missing warehouses", [](json& j) { j.erase("warehouses"); }, "'warehouses' not found"},
      {"warehouses as an array", [](json& j) { j["warehouses"] = json::array(); },
       "warehouses must be an object"},
      {"missing reservations", [](json& j) { j.erase("reservations"); },
       "'reservations' not found"},
      {"reservations as an object", [](json& j) { j["reservations"] = json::object(); },
       "reservations must be an array"},
      {"missing counter", [](json& j) { j.erase("sold"); }, "'sold' not found"},
      {"on_hand as a string", [](json& j) { j["warehouses"]["w1"]["on_hand"] = "5"; },
       "on_hand must be an integer"},
      {"on_hand as a fraction", [](json& j) { j["warehouses"]["w1"]["on_hand"] = 5.5; },
       "on_hand must be an integer"},
      {"on_hand beyond int64",
       [](json& j) {
         j["warehouses"]["w1"]["on_hand"] = std::numeric_limits<std::uint64_t>::max();
       },
       "on_hand is out of range"},
      {"missing reserved", [](json& j) { j["warehouses"]["w1"].erase("reserved"); },
       "'reserved' not found"},
      {"negative on_hand",
       [](json& j) {
         j["warehouses"]["w1"]["on_hand"] = -1;
         j["warehouses"]["w1"]["reserved"] = -1;
       },
       "negative reserved"},
      {"unknown state", [](json& j) { j["reservations"][0]["state"] = "lost"; },
       "unknown reservation state \"lost\""},
      {"state as a number", [](json& j) { j["reservations"][0]["state"] = 1; }, "string"},
      {"missing id", [](json& j) { j["reservations"][0].erase("id"); }, "'id' not found"},
      {"parts not an array", [](json& j) { j["reservations"][1]["parts"] = 2; },
       "parts must be an array"},
      {"zero part",
       [](json& j) {
         j["reservations"][1]["parts"][0]["qty"] = 0;
         j["warehouses"]["w1"]["reserved"] = 0;
       },
       "has a part with quantity 0"},
      {"part from an unknown warehouse",
       [](json& j) {
         j["reservations"][1]["parts"][0]["warehouse_id"] = "w9";
         j["warehouses"]["w1"]["reserved"] = 0;
       },
       "takes from unknown warehouse \"w9\""},
      {"reserving more than on hand",
       [](json& j) {
         j["reservations"][1]["parts"][0]["qty"] = 6;
         j["warehouses"]["w1"]["reserved"] = 6;
       },
       "reserves 6 of 5 on hand"},
      {"reserved disagreeing with the reservations",
       [](json& j) { j["warehouses"]["w1"]["reserved"] = 1; },
       "has reserved 1 but its live reservations hold 2"},
      {"lost reservation", [](json& j) { j["reservations"].erase(1); },
       "has reserved 2 but its live reservations hold 0"},
      {"live reservation without parts",
       [](json& j) {
         j["reservations"][1]["parts"] = json::array();
         j["warehouses"]["w1"]["reserved"] = 0;
       },
       "is held but has no parts"},
      {"duplicate id", [](json& j) { j["reservations"].push_back(j["reservations"][0]); },
       "duplicate reservation \"gone\""},
      {"counters that do not add up", [](json& j) { j["received"] = 6; }, "is not received 6"},
      {"negative counter",
       [](json& j) {
         j["written_off"] = -1;
         j["received"] = 4;
       },
       "a counter is negative"},
  };
  for (const auto& e : edits) {
    SCOPED_TRACE(e.what);
    auto j = broken(e.edit);
    try {
      stock_ledger::from_json(j);
      ADD_FAILURE() << "from_json accepted " << j.dump();
    } catch (const json::exception& ex) {
      EXPECT_NE(std::string(ex.what()).find(e.reason), std::string::npos) << ex.what();
    }
  }
}

// -- random operations ----------------------------------------------------------------------------

/// What the random walks reached, so that the test can tell a walk that went nowhere.
struct walk_stats {
  bool state_seen[std::size(every_state)] = {};
  int split_reserves = 0;
  int insufficient = 0;
  int already_released = 0;
  int refused_calls = 0;
  int partial_returns = 0;
};

/// 500 random operations on one ledger, checking every invariant after each; a refused or
/// idempotent call must leave the ledger as it was.
void run_random_operations(std::uint32_t seed, walk_stats& stats) {
  std::mt19937 rng(seed);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  const std::vector<std::string> warehouses = {"w1", "w2", "w3"};
  auto any_warehouse = [&] { return warehouses[static_cast<std::size_t>(pick(0, 2))]; };
  auto any_id = [&] { return "r" + std::to_string(pick(0, 19)); };
  stock_ledger l;
  auto now = t0;
  for (int step = 0; step < 500; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    now += pick(0, 10);
    const auto before = l;
    auto available_before = l.available();
    bool unchanged_expected = false;
    switch (pick(0, 10)) {
    case 0:
      unchanged_expected = l.restock(any_warehouse(), pick(-1, 6)) != ledger_error::none;
      break;
    case 1: {
      auto err = l.set_on_hand(any_warehouse(), pick(-1, 12));
      unchanged_expected = err != ledger_error::none;
      break;
    }
    case 2:
    case 3:
    case 4: {
      auto id = any_id();
      const auto* existing = l.find(id);
      auto existing_parts = existing ? existing->parts : parts_t{};
      bool was_there = existing != nullptr;
      auto qty = pick(-1, 8);
      auto nearest = warehouses;
      std::shuffle(nearest.begin(), nearest.end(), rng);
      nearest.resize(static_cast<std::size_t>(pick(0, 3)));
      auto res = l.reserve(id, "o" + id, qty, nearest, now, now + pick(0, 60));
      if (was_there || res.outcome != reserve_outcome::reserved)
        unchanged_expected = true;
      if (was_there && res.outcome == reserve_outcome::reserved) {
        ASSERT_EQ(res.parts, existing_parts);
      }
      if (!was_there && res.outcome == reserve_outcome::reserved) {
        ASSERT_EQ(l.find(id)->qty(), qty);
        ASSERT_EQ(res.available, available_before - qty);
      }
      if (res.outcome == reserve_outcome::insufficient) {
        ASSERT_TRUE(qty <= 0 || qty > available_before);
      }
      stats.split_reserves += !was_there && res.parts.size() > 1;
      stats.insufficient += res.outcome == reserve_outcome::insufficient;
      stats.already_released += res.outcome == reserve_outcome::already_released;
      ASSERT_EQ(res.available, l.available());
      break;
    }
    case 5:
      unchanged_expected = l.confirm(any_id(), now) != ledger_error::none;
      break;
    case 6:
      unchanged_expected = l.release(any_id(), "o", now) == ledger_error::wrong_state;
      break;
    case 7:
      unchanged_expected = l.ship(any_id(), now) != ledger_error::none;
      break;
    case 8:
      if (pick(0, 1) == 0) {
        unchanged_expected = l.return_to_stock(any_id(), now) != ledger_error::none;
      } else { // a partial return: some units back in all, perhaps fewer than already are
        auto id = any_id();
        for (const auto& [rid, r] : l.reservations()) // mostly of a shipped reservation
          if (r.state == hold_state::shipped && pick(0, 3) != 0) {
            id = rid;
            break;
          }
        const auto* r = l.find(id);
        auto back_before = r ? r->returned : 0;
        auto err = l.return_to_stock(id, pick(-1, 8), now);
        unchanged_expected =
            err != ledger_error::none || (r && l.find(id)->returned == back_before);
        stats.partial_returns += err == ledger_error::none &&
                                 l.find(id)->state == hold_state::shipped &&
                                 l.find(id)->returned > 0;
      }
      break;
    case 9: {
      auto next = l.next_expiry();
      auto expired = l.expire(now);
      ASSERT_EQ(expired.empty(), !next || *next > now);
      for (const auto& id : expired)
        ASSERT_EQ(l.find(id)->state, hold_state::expired);
      break;
    }
    case 10:
      l.prune(now - 100);
      ASSERT_EQ(l.reserved(), before.reserved());
      break;
    }
    for (const auto& entry : l.reservations())
      stats.state_seen[static_cast<int>(entry.second.state)] = true;
    if (unchanged_expected) {
      ++stats.refused_calls;
      ASSERT_TRUE(identical(l, before)) << "a refused or repeated call changed the ledger";
    }
    // A restart loads the snapshot; the loaded ledger must carry on exactly where it was.
    if (step % 50 == 49) {
      auto snapshot = l.to_json();
      auto copy = stock_ledger::from_json(json::parse(snapshot.dump()));
      ASSERT_TRUE(identical(copy, l));
      ASSERT_EQ(copy.to_json(), snapshot);
      l = std::move(copy);
    }
    ASSERT_EQ(l.check(), "");
    ASSERT_GE(l.available(), 0);
    for (const auto& [wid, w] : l.warehouses())
      ASSERT_GE(w.available(), 0) << wid;
    ASSERT_EQ(l.on_hand(), l.received() - l.written_off() - l.sold());
  }
}

TEST(StockLedger, RandomOperationsKeepEveryInvariant) {
  walk_stats stats;
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    run_random_operations(seed, stats);
    if (HasFatalFailure())
      return;
  }
  for (auto s : every_state)
    EXPECT_TRUE(stats.state_seen[static_cast<int>(s)]) << "no walk reached " << to_string(s);
  EXPECT_GT(stats.split_reserves, 1000);
  EXPECT_GT(stats.insufficient, 1000);
  EXPECT_GT(stats.already_released, 1000);
  EXPECT_GT(stats.refused_calls, 10000);
  EXPECT_GT(stats.partial_returns, 100);
}

} // namespace
} // namespace souk::actors
