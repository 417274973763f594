#include "http/routes/health.hpp"

#include "http/problem.hpp"

namespace souk::http {

void add_health_routes(router& routes, std::string node, std::function<readiness()> probe) {
  routes.add(bhttp::verb::get, "/healthz", [node](const request_context&, responder respond) {
    respond(make_json(200, {{"status", "alive"}, {"node", node}}));
  });
  routes.add(
      bhttp::verb::get, "/readyz", [node, probe](const request_context& ctx, responder respond) {
        auto r = probe();
        if (r.ready)
          return respond(make_json(200, {{"status", "ready"}, {"node", node}}));
        auto res = make_problem(503, "not_ready", "node " + node + " is not ready: " + r.reason,
                                ctx.trace_id, {{"node", node}, {"reason", r.reason}});
        res.set(bhttp::field::retry_after, "1");
        respond(std::move(res));
      });
}

} // namespace souk::http
