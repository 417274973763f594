#pragma once

#include "config/settings.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace souk::runtime {

/// One souk node: the store, the actor system with its middleman, and the HTTP edge, started in
/// dependency order and stopped in reverse. Not thread-safe: start and stop from one thread.
class node {
public:
  explicit node(config::settings settings);
  node(const node&) = delete;
  node& operator=(const node&) = delete;
  /// Stops the node if it still runs.
  ~node();

  /// Opens the store (creating the data folder), starts the actor system and its middleman on
  /// `cluster.listen`, then the HTTP edge on `http.listen`: the edge comes last, so no request
  /// reaches a half-started node. Returns an error text naming what failed (a busy port, an
  /// unusable data folder, a corrupt database); empty on success. On error everything started
  /// so far is stopped again.
  std::string start();

  /// Stops accepting HTTP, drains requests in flight (`http.drain_timeout`), closes the cluster
  /// port, flushes the store and stops the actors. Idempotent.
  void stop();

  /// The bound HTTP port (meaningful after start; useful with port 0).
  std::uint16_t http_port() const;
  /// The bound cluster port.
  std::uint16_t cluster_port() const;
  /// True between a successful start and stop.
  bool ready() const { return ready_; }

  const config::settings& settings() const { return settings_; }

  /// Every (method, path template) the edge serves, in registration order (after start; for
  /// the OpenAPI check and the admin console).
  std::vector<std::pair<std::string, std::string>> routes() const;

  struct parts; // defined in node.cpp: keeps CAF and Beast out of this header

private:
  config::settings settings_;
  std::unique_ptr<parts> parts_;
  std::atomic<bool> ready_{false};
};

} // namespace souk::runtime
