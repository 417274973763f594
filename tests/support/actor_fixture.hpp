#pragma once

#include "actors/api/register.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

namespace souk::test {

/// A GoogleTest fixture running CAF's deterministic scheduler: nothing runs until the test calls
/// `sched_.run()` (deliver every message) or `sched_.run_once()`, and timers fire only on
/// `sched_.trigger_timeouts()` / `advance_time`. Tests are single-threaded and repeatable.
class actor_fixture : public ::testing::Test {
public:
  static caf::actor_system_config& make_config(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.file-verbosity", caf::atom("quiet"));
    cfg.set("logger.console-verbosity", caf::atom("quiet"));
    actors::register_types(cfg);
    return cfg;
  }

  actor_fixture()
      : sys_(make_config(cfg_)),
        sched_(dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())),
        self_(sys_, true) {
    // nop
  }

  ~actor_fixture() override { sched_.run(); }

protected:
  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  caf::scheduler::test_coordinator& sched_;
  caf::scoped_actor self_;
};

} // namespace souk::test
