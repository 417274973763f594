#pragma once

#include "http/router.hpp"

#include <functional>
#include <string>

namespace souk::http {

/// What /readyz reports: ready, or why not (e.g. "draining", "store closed").
struct readiness {
  bool ready = false;
  std::string reason;
};

/// Registers `GET /healthz` (200 while the process serves HTTP) and `GET /readyz` (200 when
/// `probe` says ready, 503 with the reason otherwise). `probe` is called on an HTTP thread and
/// must be quick and thread-safe.
void add_health_routes(router& routes, std::string node, std::function<readiness()> probe);

} // namespace souk::http
