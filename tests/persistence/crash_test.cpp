// Durability under SIGKILL: every write whose callback said ok is in the file after the process
// is killed in the middle of a burst, for synchronous NORMAL and FULL alike.

#include "persistence/store.hpp"
#include "tests/support/persistence_test_support.hpp"

#include <chrono>
#include <csignal>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace {

using namespace souk::persistence;
using souk::config::sync_mode;
using souk::test::query_text;
using souk::test::store_defaults;
using souk::test::temp_dir;

constexpr int key_count = 10'000;
constexpr std::size_t wanted_acks = 20'000;
constexpr auto ack_time_limit = std::chrono::seconds{20};

/// The state written for `version`: 300 bytes that say which version they belong to.
std::string state_for(std::int64_t version) {
  auto text = "v" + std::to_string(version) + ";";
  text.resize(300, '.');
  return text;
}

/// The child: writes forever, acknowledging each durable write as "key version\n" on `fd`.
[[noreturn]] void write_until_killed(const std::string& dir, sync_mode mode, int fd) {
  ::alarm(120); // never outlive a parent that died
  auto settings = store_defaults();
  settings.synchronous = mode;
  auto opened = store::open(dir, settings);
  if (!opened.ok()) {
    souk::test::write_all(fd, "open failed: " + opened.error().message + "\n");
    ::_exit(3);
  }
  auto& s = *opened;
  for (std::int64_t version = 1;; ++version) {
    auto key = "k" + std::to_string(version % key_count);
    snapshot snap{"cart", key, version, 1, state_for(version), 0};
    auto line = key + " " + std::to_string(version) + "\n";
    write_request req{{put_snapshot{std::move(snap)}}, [fd, line](const status& st) {
                        if (st.ok())
                          souk::test::write_all(fd, line); // < PIPE_BUF: one atomic write
                      }};
    while (s->writer().submit(req).code == errc::overloaded)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
}

class KillDurability : public ::testing::TestWithParam<sync_mode> {};

TEST_P(KillDurability, EveryAcknowledgedWriteSurvivesSigkill) {
  temp_dir dir;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    write_until_killed(dir.path(), GetParam(), fds[1]);
  }
  ::close(fds[1]);

  // Read acknowledgements until there are enough (or time is up), then kill mid-burst.
  std::string received;
  std::size_t lines = 0;
  auto deadline = std::chrono::steady_clock::now() + ack_time_limit;
  char buf[65536];
  bool child_gone = false;
  while (lines < wanted_acks && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    auto n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0) {
      child_gone = true;
      break;
    }
    for (ssize_t i = 0; i < n; ++i)
      lines += buf[i] == '\n' ? 1 : 0;
    received.append(buf, static_cast<std::size_t>(n));
  }
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  // Acknowledgements written before the kill are still in the pipe: they count too.
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;)
    received.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  ASSERT_FALSE(child_gone) << "the child stopped early: " << received.substr(0, 300);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);

  std::map<std::string, std::int64_t> acked; // key → highest acknowledged version
  std::istringstream in{received};
  std::string line;
  std::size_t total = 0;
  while (std::getline(in, line)) {
    if (in.eof())
      break; // a partial last line was never a whole acknowledgement
    std::istringstream fields{line};
    std::string key;
    std::int64_t version = 0;
    ASSERT_TRUE(fields >> key >> version) << line;
    auto& best = acked[key];
    best = std::max(best, version);
    ++total;
  }
  EXPECT_GE(total, 1000u) << "too few acknowledgements to mean anything";
  RecordProperty("acknowledged_writes", static_cast<int>(total));

  auto opened = store::open(dir.path(), store_defaults());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto& s = *opened;
  std::size_t lost = 0;
  for (auto& [key, version] : acked) {
    auto got = s->load_snapshot("cart", key);
    ASSERT_TRUE(got.ok()) << got.error().message;
    if (!got->has_value() || (*got)->version < version) {
      if (++lost <= 5)
        ADD_FAILURE() << key << ": acknowledged version " << version << ", stored "
                      << (got->has_value() ? std::to_string((*got)->version) : "nothing");
      continue;
    }
    EXPECT_EQ((*got)->state, state_for((*got)->version)) << key;
  }
  EXPECT_EQ(lost, 0u) << "of " << acked.size() << " keys";
  s->close();

  auto db = connection::open(dir / "souk.db", false);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(query_text(*db, "PRAGMA integrity_check"), "ok");
}

INSTANTIATE_TEST_SUITE_P(SynchronousModes, KillDurability,
                         ::testing::Values(sync_mode::normal, sync_mode::full),
                         [](const ::testing::TestParamInfo<sync_mode>& param_info) {
                           return param_info.param == sync_mode::full ? std::string{"Full"}
                                                                      : std::string{"Normal"};
                         });

} // namespace
