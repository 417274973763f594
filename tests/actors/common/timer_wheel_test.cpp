// The entities' timer wheel (actors/common/timer_wheel.hpp) with a real actor system: timers
// arrive, never early, in due order; an earlier timer wakes a wheel asleep until a later one;
// a target that quit and a stopped wheel drop their timers.
#include "actors/common/timer_wheel.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using souk::actors::timer_wheel;
using clock_type = std::chrono::steady_clock;

struct WheelTest : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  WheelTest() {
    cfg.set("scheduler.max-threads", std::size_t{2});
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

TEST_F(WheelTest, ATimerArrivesAfterItsDelayNeverBefore) {
  timer_wheel wheel{5ms};
  caf::scoped_actor self{*sys};
  auto start = clock_type::now();
  wheel.send_later(self->address(), 30ms, caf::make_message(std::string{"due"}));
  std::string got;
  clock_type::time_point arrived;
  self->receive([&](const std::string& s) { got = s, arrived = clock_type::now(); },
                caf::after(5s) >> [] { ADD_FAILURE() << "the timer never arrived"; });
  EXPECT_EQ(got, "due");
  EXPECT_GE(arrived - start, 30ms);
  EXPECT_EQ(wheel.pending(), 0u);
}

TEST_F(WheelTest, TimersArriveInTheOrderTheyAreDue) {
  timer_wheel wheel{1ms};
  caf::scoped_actor self{*sys};
  for (int ms : {60, 5, 30, 15, 45})
    wheel.send_later(self->address(), std::chrono::milliseconds(ms), caf::make_message(ms));
  std::vector<int> order;
  for (int i = 0; i < 5; ++i)
    self->receive([&](int ms) { order.push_back(ms); },
                  caf::after(5s) >> [] { ADD_FAILURE() << "a timer never arrived"; });
  EXPECT_EQ(order, (std::vector<int>{5, 15, 30, 45, 60}));
}

TEST_F(WheelTest, AnEarlierTimerWakesAWheelAsleepUntilALaterOne) {
  timer_wheel wheel{10ms};
  caf::scoped_actor self{*sys};
  wheel.send_later(self->address(), 60s, caf::make_message(std::string{"late"}));
  std::this_thread::sleep_for(20ms); // the wheel's thread now sleeps until the 60 s timer
  auto start = clock_type::now();
  wheel.send_later(self->address(), 20ms, caf::make_message(std::string{"soon"}));
  std::string got;
  self->receive([&](const std::string& s) { got = s; },
                caf::after(5s) >> [] { ADD_FAILURE() << "the earlier timer waited"; });
  EXPECT_EQ(got, "soon");
  EXPECT_LT(clock_type::now() - start, 5s);
  EXPECT_EQ(wheel.pending(), 1u);
}

TEST_F(WheelTest, ATargetThatQuitIsNotKeptAliveAndItsTimersAreDropped) {
  timer_wheel wheel{1ms};
  caf::actor_addr addr;
  {
    // (A function-based spawn needs an argument in CAF 0.17: CAF-NOTES.md.)
    auto target =
        sys->spawn([](caf::event_based_actor*, int) -> caf::behavior { return {[](int) {}}; }, 0);
    addr = target.address();
    wheel.send_later(addr, 60s, caf::make_message(1)); // pending for the whole test
    wheel.send_later(addr, 30ms, caf::make_message(2));
    caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  }
  sys->await_all_actors_done();
  // The wheel holds addresses only: nothing keeps the actor once it quit. (CAF and the wheel's
  // own delivery may hold it for an instant, hence the wait.)
  auto deadline = clock_type::now() + 5s;
  while (caf::actor_cast<caf::strong_actor_ptr>(addr) && clock_type::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(caf::actor_cast<caf::strong_actor_ptr>(addr));
  // The 30 ms timer came due and was dropped; the 60 s one waits, harmlessly.
  while (wheel.pending() > 1 && clock_type::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(wheel.pending(), 1u);
}

TEST_F(WheelTest, StopDropsPendingTimersAndIgnoresNewOnes) {
  timer_wheel wheel{1ms};
  caf::scoped_actor self{*sys};
  wheel.send_later(self->address(), 30ms, caf::make_message(1));
  wheel.stop();
  EXPECT_EQ(wheel.pending(), 0u);
  wheel.send_later(self->address(), 1ms, caf::make_message(2));
  EXPECT_EQ(wheel.pending(), 0u);
  bool got = false;
  self->receive([&](int) { got = true; }, caf::after(100ms) >> [] {});
  EXPECT_FALSE(got);
  wheel.stop(); // idempotent
}

} // namespace
