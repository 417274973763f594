#pragma once

#include <chrono>
#include <cstdint>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Fault knobs of the simulated bank (config `[bank]`). Rates are probabilities in [0, 1],
/// drawn from a generator seeded with `seed`, so a run repeats under the test scheduler.
struct bank_faults {
  double decline_rate = 0;            ///< an approved 3-DS page still declines
  double refuse_rate = 0;             ///< create refused outright (code "refused")
  double no_answer_rate = 0;          ///< a call is neither performed nor answered (a timeout)
  double lost_reply_rate = 0;         ///< a call is performed but its answer is lost
  std::chrono::milliseconds delay{0}; ///< every answer comes this late
  bool duplicate_callbacks = false;   ///< every callback is sent twice
  std::chrono::milliseconds callback_delay{0}; ///< callbacks come this late
  bool auto_approve = false; ///< the buyer approves at once (benchmarks, demo scripts)
  std::uint64_t seed = 1;
};

/// Spawns the in-process simulated bank: the payment provider of API.md "Payments" as an
/// actor speaking actors/api/payment_api.hpp's provider calls (bank_create/cancel/refund,
/// bank_decide for the 3-DS page), idempotent by key, with `faults`. Callbacks go to the
/// payment entities through `directory`. Its ledger lives in memory: it stands for a system
/// outside souk.
caf::actor spawn_bank_sim(caf::actor_system& sys, caf::actor directory, bank_faults faults);

} // namespace souk::actors
