// The single-node directory on CAF's test scheduler, with stand-in entities: it monitors the
// entities it activates (no links, whose bookkeeping CAF keeps in one list per actor that grows
// with every active entity), drops one that stopped so the next message activates it again, and
// stops every entity when it is told to exit, waiting (up to a deadline) for those that write
// before they stop.

#include "actors/api/directory.hpp"
#include "actors/api/errors.hpp"
#include "actors/api/register.hpp"
#include "actors/directory/local_directory.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace souk {
namespace {

using stop_atom = caf::atom_constant<caf::atom("teststop")>;
using finish_atom = caf::atom_constant<caf::atom("testfin")>;

class LocalDirectoryTest : public ::testing::Test {
protected:
  LocalDirectoryTest()
      : sys_(configure(cfg_)),
        sched_(dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())),
        self_(sys_, true) {
    auto factories = std::make_shared<actors::entity_factories>();
    // A stand-in entity: answers its key with a serial number of its activation, and crashes
    // on `stop_atom`.
    (*factories)["echo"] = [this](caf::actor_system& s, const std::string& key) {
      int serial = ++spawned_;
      // (An unused argument: CAF 0.17.6 rejects a function-based spawn without any.)
      return s.spawn(
          [key, serial](caf::event_based_actor* self, int) -> caf::behavior {
            return {
                [key, serial](const std::string&) { return key + "#" + std::to_string(serial); },
                [self](stop_atom) { self->quit(caf::sec::runtime_error); }, // a crash
            };
          },
          0);
    };
    // A stand-in for an entity with a write in flight when the stop comes: it stops only on
    // `finish_atom` after its exit (or when killed).
    (*factories)["slow"] = [this](caf::actor_system& s, const std::string&) {
      auto a = s.spawn(
          [](caf::event_based_actor* self, int) -> caf::behavior {
            auto told = std::make_shared<bool>(false);
            self->set_exit_handler([told](caf::exit_msg&) { *told = true; });
            return {
                [](const std::string&) { return std::string{"slow"}; },
                [self, told](finish_atom) {
                  if (*told)
                    self->quit(caf::exit_reason::user_shutdown);
                },
            };
          },
          0);
      slow_.push_back(a);
      return a;
    };
    directory_ = actors::spawn_local_directory(sys_, factories, std::chrono::seconds(30));
    sched_.run();
  }

  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    actors::register_types(cfg);
    return cfg;
  }

  std::string ask(const std::string& key) {
    auto h = self_->request(directory_, caf::infinite, actors::route_atom_v,
                            actors::entity_ref{"echo", key}, caf::make_message(std::string{"hi"}));
    sched_.run();
    std::string out = "no answer";
    if (!self_->mailbox().empty())
      h.receive([&](std::string& s) { out = s; },
                [&](caf::error& e) { out = "error: " + sys_.render(e); });
    return out;
  }

  nlohmann::json stats() {
    auto h = self_->request(directory_, caf::infinite, actors::stats_atom_v);
    sched_.run();
    nlohmann::json out;
    h.receive([&](std::string& s) { out = nlohmann::json::parse(s); }, [](caf::error&) {});
    return out;
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  caf::scheduler::test_coordinator& sched_;
  caf::scoped_actor self_;
  caf::actor directory_;
  int spawned_ = 0;
  std::vector<caf::actor> slow_;
};

TEST_F(LocalDirectoryTest, AnEntityThatStoppedIsDroppedAndTheNextMessageActivatesItAgain) {
  EXPECT_EQ(ask("a"), "a#1");
  EXPECT_EQ(ask("a"), "a#1");
  EXPECT_EQ(ask("b"), "b#2");
  caf::anon_send(directory_, actors::route_atom_v, actors::entity_ref{"echo", "a"},
                 caf::make_message(stop_atom::value));
  sched_.run();
  EXPECT_EQ(stats().at("active").at("echo"), 1) << "the directory heard of the stop";
  EXPECT_EQ(ask("a"), "a#3");
  EXPECT_EQ(ask("b"), "b#2");
}

TEST_F(LocalDirectoryTest, ItsExitStopsEveryEntityButAnEntityStoppingLeavesItRunning) {
  auto running = sys_.registry().running();
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(ask("k" + std::to_string(i)), "k" + std::to_string(i) + "#" + std::to_string(i + 1));
  EXPECT_EQ(sys_.registry().running(), running + 50);
  // An entity crashing does not take the directory down.
  caf::anon_send(directory_, actors::route_atom_v, actors::entity_ref{"echo", "k0"},
                 caf::make_message(stop_atom::value));
  sched_.run();
  EXPECT_EQ(ask("k1"), "k1#2");
  EXPECT_EQ(sys_.registry().running(), running + 49);
  // The node's stop: one exit to the directory ends every entity and the directory.
  caf::anon_send_exit(directory_, caf::exit_reason::user_shutdown);
  sched_.run();
  EXPECT_EQ(sys_.registry().running(), running - 1);
}

TEST_F(LocalDirectoryTest, ItsExitWaitsForEntitiesStillWritingAndRefusesMessagesMeanwhile) {
  auto running = sys_.registry().running();
  ASSERT_EQ(ask("k"), "k#1");
  auto h = self_->request(directory_, caf::infinite, actors::route_atom_v,
                          actors::entity_ref{"slow", "s"}, caf::make_message(std::string{"hi"}));
  sched_.run();
  h.receive([](std::string&) {}, [](caf::error&) {});
  ASSERT_EQ(slow_.size(), 1U);
  EXPECT_EQ(sys_.registry().running(), running + 2);
  caf::anon_send_exit(directory_, caf::exit_reason::user_shutdown);
  sched_.run();
  // The echo stopped; the slow one writes, and the directory waits for it.
  EXPECT_EQ(sys_.registry().running(), running + 1);
  EXPECT_EQ(ask("k"), "error: " + sys_.render(caf::make_error(actors::errc::shutting_down,
                                                              std::string{"echo/k"})))
      << "no entity is activated or reached while the others write their last changes";
  EXPECT_EQ(spawned_, 1);
  caf::anon_send(slow_[0], finish_atom::value);
  sched_.run();
  EXPECT_EQ(sys_.registry().running(), running - 1) << "the directory goes when the last one did";
}

TEST_F(LocalDirectoryTest, EntitiesThatDoNotStopByTheDeadlineAreKilled) {
  auto running = sys_.registry().running();
  for (auto key : {"a", "b"}) {
    auto h = self_->request(directory_, caf::infinite, actors::route_atom_v,
                            actors::entity_ref{"slow", key}, caf::make_message(std::string{"hi"}));
    sched_.run();
    h.receive([](std::string&) {}, [](caf::error&) {});
  }
  EXPECT_EQ(sys_.registry().running(), running + 2);
  caf::anon_send_exit(directory_, caf::exit_reason::user_shutdown);
  sched_.run();
  sched_.advance_time(std::chrono::seconds(29));
  sched_.run();
  EXPECT_EQ(sys_.registry().running(), running + 2) << "still within the stop's time";
  sched_.advance_time(std::chrono::seconds(2));
  sched_.run();
  EXPECT_EQ(sys_.registry().running(), running - 1) << "a store that hangs does not hang the stop";
}

} // namespace
} // namespace souk
