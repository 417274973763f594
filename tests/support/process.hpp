#pragma once

// A child process for end-to-end tests: fork/exec with its own arguments and environment, its
// stdout and stderr captured through pipes, signals, and a bounded wait for its exit. The
// destructor kills (SIGKILL) and reaps a child that still runs, so a failing test leaves no
// stray soukd behind.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

namespace souk::test {

/// The current environment as name → value.
inline std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text{*entry};
    auto eq = text.find('=');
    if (eq != std::string::npos)
      out.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return out;
}

/// One child process, owned: spawned in the constructor, SIGKILLed and reaped in the destructor
/// if it still runs. Every wait is bounded by a timeout. Not thread-safe.
class process {
public:
  using clock = std::chrono::steady_clock;

  /// Starts `path` with `args` (not including argv[0]) and exactly the environment `env`.
  /// Check `running()`/`error()`: a failed exec shows as exit code 127.
  process(const std::string& path, const std::vector<std::string>& args,
          const std::map<std::string, std::string>& env) {
    // Everything the child needs is built before fork: after it only async-signal-safe calls.
    std::vector<std::string> argv_text{path};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<std::string> env_text;
    for (auto& [name, value] : env)
      env_text.push_back(name + "=" + value);
    std::vector<char*> argv;
    for (auto& a : argv_text)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_text)
      envp.push_back(e.data());
    envp.push_back(nullptr);

    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
      error_ = errno;
      return;
    }
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
      error_ = errno;
      ::close(out_pipe[0]);
      ::close(out_pipe[1]);
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      // The child: default signal handling and mask, pipes on fds 1 and 2, stdin from /dev/null.
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int sig : {SIGPIPE, SIGTERM, SIGINT})
        sigaction(sig, &dfl, nullptr);
      int null_fd = ::open("/dev/null", O_RDONLY);
      if (null_fd >= 0)
        ::dup2(null_fd, 0);
      ::dup2(out_pipe[1], 1);
      ::dup2(err_pipe[1], 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (pid_ < 0) {
      error_ = errno;
      ::close(out_pipe[0]);
      ::close(err_pipe[0]);
      return;
    }
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
    ::fcntl(err_fd_, F_SETFL, O_NONBLOCK);
  }

  process(const process&) = delete;
  process& operator=(const process&) = delete;

  ~process() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    for (int fd : {out_fd_, err_fd_})
      if (fd >= 0)
        ::close(fd);
  }

  pid_t pid() const { return pid_; }
  /// errno of a failed pipe or fork; 0 when the child was started.
  int error() const { return error_; }
  /// True while the child has not been reaped.
  bool running() const { return pid_ > 0 && !exit_code_; }

  /// Sends `sig` to the child. False when it is no longer running.
  bool signal(int sig) { return running() && ::kill(pid_, sig) == 0; }

  /// The next complete stderr line (without the newline), waiting at most `timeout`.
  /// nullopt on timeout or when stderr closed with no further complete line.
  std::optional<std::string> next_stderr_line(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    for (;;) {
      if (next_line_ < lines_.size())
        return lines_[next_line_++];
      if (err_fd_ < 0)
        return std::nullopt; // stderr closed: no more lines
      if (!pump(deadline))
        return next_line_ < lines_.size() ? std::optional{lines_[next_line_++]} : std::nullopt;
    }
  }

  /// Reads stderr lines until one satisfies `pred`, at most `timeout`; returns that line.
  template <class Predicate>
  std::optional<std::string> wait_for_stderr_line(Predicate pred,
                                                  std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left.count() < 0)
        return std::nullopt;
      auto line = next_stderr_line(left);
      if (!line)
        return std::nullopt;
      if (pred(*line))
        return line;
    }
  }

  /// Waits at most `timeout` for the child to exit, reading its output meanwhile (so that it
  /// never blocks on a full pipe). The exit code, or 128 + signal number when a signal
  /// killed it; nullopt when it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    for (;;) {
      if (exit_code_ || pid_ <= 0)
        break;
      int status = 0;
      auto rc = ::waitpid(pid_, &status, WNOHANG);
      if (rc == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (rc < 0 && errno != EINTR)
        break;
      if (clock::now() >= deadline)
        return std::nullopt;
      auto slice = std::min(deadline, clock::now() + std::chrono::milliseconds{20});
      if (!pump(slice))
        std::this_thread::sleep_until(slice);
    }
    // Collect what the child wrote before it exited (the pipes may outlive it briefly when a
    // grandchild holds them: bounded).
    auto drain_until = clock::now() + std::chrono::milliseconds{2000};
    while (pump(drain_until)) {
    }
    return exit_code_;
  }

  /// Every complete stderr line read so far (also those already returned).
  const std::vector<std::string>& stderr_lines() const { return lines_; }
  /// All stderr text read so far, including an unterminated last line.
  std::string stderr_text() const {
    std::string out;
    for (auto& line : lines_)
      out += line + "\n";
    return out + err_partial_;
  }
  /// All stdout text read so far.
  const std::string& stdout_text() const { return out_; }

private:
  /// Reads whatever either pipe offers, waiting until `deadline` for something.
  /// False when nothing more can come (both closed) or the time ran out without data.
  bool pump(clock::time_point deadline) {
    for (;;) {
      pollfd fds[2];
      nfds_t n = 0;
      if (out_fd_ >= 0)
        fds[n++] = {out_fd_, POLLIN, 0};
      if (err_fd_ >= 0)
        fds[n++] = {err_fd_, POLLIN, 0};
      if (n == 0)
        return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      auto rc = ::poll(fds, n, static_cast<int>(std::max<long long>(0, left.count())));
      if (rc < 0 && errno == EINTR)
        continue;
      if (rc <= 0)
        return false;
      bool got = false;
      for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0)
          continue;
        bool is_err = fds[i].fd == err_fd_;
        char chunk[4096];
        auto r = ::read(fds[i].fd, chunk, sizeof(chunk));
        if (r > 0) {
          got = true;
          if (is_err)
            add_stderr(chunk, static_cast<std::size_t>(r));
          else
            out_.append(chunk, static_cast<std::size_t>(r));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          ::close(fds[i].fd);
          (is_err ? err_fd_ : out_fd_) = -1;
          got = true; // a state change: let the caller look again
        }
      }
      if (got)
        return true;
    }
  }

  void add_stderr(const char* data, std::size_t size) {
    err_partial_.append(data, size);
    std::size_t pos;
    while ((pos = err_partial_.find('\n')) != std::string::npos) {
      lines_.push_back(err_partial_.substr(0, pos));
      err_partial_.erase(0, pos + 1);
    }
  }

  pid_t pid_ = -1;
  int error_ = 0;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::optional<int> exit_code_;
  std::string out_;
  std::string err_partial_;
  std::vector<std::string> lines_;
  std::size_t next_line_ = 0;
};

} // namespace souk::test
