// single_node: a whole souk node inside your own program, no soukd binary involved.
//
// Shows: building settings in code (config::load with your own arguments), starting a
// runtime::node, finding its ports, and stopping it cleanly. The scenario programs of later
// issues (flash sale, failed payments, node crash) start from this shape.
//
// Run:  build/release/examples/single_node [--data DIR] [--http HOST:PORT] ...   (any soukd flag)
//       then try the printed curl lines; Ctrl-C stops the node.
#include "config/load.hpp"
#include "runtime/node.hpp"

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  using namespace souk;
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // Defaults that suit a demo: any free ports, a scratch data folder.
  std::vector<std::string> args{"single_node", "--http", "127.0.0.1:0",       "--cluster",
                                "127.0.0.1:0", "--data", "./single_node_data"};
  args.insert(args.end(), argv + 1, argv + argc); // the caller's flags win: they come last
  auto loaded = config::load(args, {});
  if (loaded.exit_now) {
    for (auto& line : loaded.errors)
      std::cerr << "single_node: " << line << '\n';
    std::cout << loaded.output;
    return loaded.exit_code;
  }

  runtime::node node{loaded.values};
  if (auto err = node.start(); !err.empty()) {
    std::cerr << "single_node: cannot start: " << err << '\n';
    return 2;
  }
  auto base = "http://127.0.0.1:" + std::to_string(node.http_port());
  std::cout << "node " << loaded.values.node.name << " is up. Try:\n"
            << "  curl -s " << base << "/healthz\n"
            << "  curl -s " << base << "/readyz\n"
            << "Ctrl-C stops it.\n"
            << std::flush;
  int sig = 0;
  sigwait(&stop, &sig);
  node.stop();
  return 0;
}
