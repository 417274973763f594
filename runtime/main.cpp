// soukd: one node of the souk marketplace. Settings: soukd --help; lifecycle: runtime/node.hpp.
#include "base/log.hpp"
#include "config/load.hpp"
#include "runtime/node.hpp"

#include <csignal>
#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  using namespace souk;
  // Block the stop signals before any thread starts (every thread inherits the mask), then
  // wait for them here: shutdown runs on the main thread, in order, not in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto loaded = config::load({argv, argv + argc}, config::process_environment());
  if (loaded.exit_now) {
    for (auto& line : loaded.errors)
      std::cerr << "soukd: " << line << '\n';
    std::cout << loaded.output;
    return loaded.exit_code;
  }
  auto& settings = loaded.values;
  if (auto err = base::init_logging(settings.node.name, settings.log.level, settings.log.file);
      !err.empty()) {
    std::cerr << "soukd: setting log.file: cannot open " << settings.log.file << ": " << err
              << '\n';
    return 2;
  }

  runtime::node node{settings};
  if (auto err = node.start(); !err.empty()) {
    base::log_error("cannot start", {{"error", err}});
    std::cerr << "soukd: cannot start: " << err << '\n';
    return 2;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  base::log_info("stop signal", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  node.stop();
  base::flush_log();
  return 0;
}
