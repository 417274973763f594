#pragma once

#include "persistence/sqlite.hpp"
#include "persistence/store.hpp"
#include "persistence/writer.hpp"
#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <functional>
#include <future>
#include <memory>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include <gtest/gtest.h>

namespace souk::test {

/// Store settings for tests: the defaults unless a test changes them.
inline config::store_settings store_defaults() {
  return config::store_settings{};
}

/// Opens a store in `dir`; on failure records a test failure naming the error and returns null.
inline std::unique_ptr<persistence::store>
open_store(const std::string& dir, const config::store_settings& settings = store_defaults()) {
  auto opened = persistence::store::open(dir, settings);
  EXPECT_TRUE(opened.ok()) << persistence::to_string(opened.error().code) << ": "
                           << opened.error().message;
  return opened.ok() ? std::move(*opened) : nullptr;
}

/// A snapshot with the given identity; `state` defaults to something derived from the version.
inline persistence::snapshot make_snapshot(std::string kind, std::string key, std::int64_t version,
                                           std::int64_t epoch = 1, std::string state = {}) {
  if (state.empty())
    state = "state-v" + std::to_string(version);
  return persistence::snapshot{std::move(kind), std::move(key),   version,
                               epoch,           std::move(state), 1'700'000'000'000};
}

/// A write of `ops` whose callback fulfils the returned future.
inline std::pair<persistence::write_request, std::future<persistence::status>>
request_with_future(std::vector<persistence::write_op> ops) {
  auto done = std::make_shared<std::promise<persistence::status>>();
  auto fut = done->get_future();
  persistence::write_request req{std::move(ops),
                                 [done](const persistence::status& st) { done->set_value(st); }};
  return {std::move(req), std::move(fut)};
}

/// Submits `ops` as one write and waits for its callback; a refused submit is returned as is.
inline persistence::status write_and_wait(persistence::writer& w,
                                          std::vector<persistence::write_op> ops) {
  auto [req, fut] = request_with_future(std::move(ops));
  if (auto st = w.submit(std::move(req)); !st.ok())
    return st;
  return fut.get();
}

/// Writes one snapshot and waits.
inline persistence::status put_and_wait(persistence::store& s, persistence::snapshot snap) {
  return write_and_wait(s.writer(), {persistence::put_snapshot{std::move(snap)}});
}

/// A custom write that blocks the writer thread until `release()`: it tells `started()` when the
/// writer runs it. Lets a test fill the queue behind it deterministically.
class writer_blocker {
public:
  writer_blocker() : started_fut_(started_.get_future()), release_fut_(release_.get_future()) {}
  writer_blocker(const writer_blocker&) = delete;
  writer_blocker& operator=(const writer_blocker&) = delete;
  /// Releases the writer, so that a failed test does not hang in the store's destructor:
  /// declare the blocker after the store.
  ~writer_blocker() { release(); }

  persistence::write_request request() {
    return persistence::write_request{{persistence::custom_write{[this](persistence::connection&) {
                                        started_.set_value();
                                        release_fut_.wait();
                                        return persistence::status{};
                                      }}},
                                      [this](const persistence::status& st) { done_ = st; }};
  }
  /// Waits (bounded) until the writer thread runs the blocking write.
  bool wait_started() {
    return started_fut_.wait_for(std::chrono::seconds{30}) == std::future_status::ready;
  }
  void release() {
    if (!released_) {
      released_ = true;
      release_.set_value();
    }
  }
  const persistence::status& done() const { return done_; }

private:
  std::promise<void> started_;
  std::future<void> started_fut_;
  std::promise<void> release_;
  std::shared_future<void> release_fut_;
  bool released_ = false;
  persistence::status done_{persistence::errc::io_error, "callback not called"};
};

/// The single text result of `sql` on `db` (e.g. PRAGMA integrity_check), or "error: ...".
inline std::string query_text(persistence::connection& db, const std::string& sql) {
  persistence::status err;
  auto stmt = db.prepare(sql, &err);
  if (!stmt)
    return "error: " + err.message;
  if (!stmt.step())
    return stmt.error().ok() ? std::string{} : "error: " + stmt.error().message;
  return stmt.column_text(0);
}

/// What a forked child reported: its exit code (or -signal) and what it wrote to its pipe.
struct child_report {
  int exit_code = -1;
  std::string output;
};

/// Runs `body(fd)` in a forked child, which writes what it wants to say to `fd` and returns its
/// exit code; the child leaves with `_exit` (no gtest teardown, no atexit handlers). The parent
/// collects the output until the child closes the pipe, killing it after `limit`.
inline child_report run_in_child(const std::function<int(int fd)>& body,
                                 std::chrono::seconds limit = std::chrono::seconds{60}) {
  child_report report;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe failed";
    return report;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    ::close(fds[0]);
    ::close(fds[1]);
    return report;
  }
  if (pid == 0) {
    ::close(fds[0]);
    int code = 99;
    try {
      code = body(fds[1]);
    } catch (...) {
      code = 98;
    }
    ::_exit(code);
  }
  ::close(fds[1]);
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ADD_FAILURE() << "child " << pid << " ran too long; killing it";
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    auto n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0)
      break;
    report.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  report.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus);
  return report;
}

/// Writes all of `text` to `fd` (for children reporting to their parent).
inline void write_all(int fd, const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    auto n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0)
      return;
    off += static_cast<std::size_t>(n);
  }
}

} // namespace souk::test
