#include "http/problem.hpp"
#include "http/query.hpp"
#include "http/routes/client_routes.hpp"
#include "http/routes/client_support.hpp"
#include "http/sse.hpp"

#include <mutex>

namespace souk::http {

namespace {

/// One open `GET /v1/events`: events that arrive while the backlog is still being written are
/// held back, so the client sees every event once and in order.
struct event_feed {
  std::shared_ptr<event_stream> stream;
  std::mutex mtx;
  bool live = false;
  std::vector<event_hub::event> held;

  bool deliver(const event_hub::event& ev) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!live) {
      held.push_back(ev);
      return stream->is_open();
    }
    return stream->send(format_sse_event(ev.data, ev.type, ev.id));
  }
};

} // namespace

void add_event_routes(router& routes, std::shared_ptr<const client_env> env,
                      std::shared_ptr<event_hub> hub) {
  routes.add(
      bhttp::verb::get, "/v1/events", [env, hub](const request_context& ctx, responder respond) {
        // A browser's EventSource cannot set headers: without an Authorization header the token
        // may come as `?access_token=` (RFC 6750 2.3). The access log records the route
        // template, never the query, so the token is not written anywhere.
        std::optional<principal> who;
        auto query = parse_query(ctx.req.target());
        if (query && repeated(*query, "access_token"))
          return respond(
              invalid("access_token", "access_token is given more than once", ctx.trace_id));
        auto from_query = query ? param(*query, "access_token") : std::nullopt;
        // Only without any Authorization header: with one (even empty, even two) the header
        // decides, and bearer_of refuses what it cannot read as one token.
        if (ctx.req.count(bhttp::field::authorization) == 0 && from_query)
          who = authenticate_token(ctx, *env, *from_query, respond);
        else
          who = authenticate(ctx, *env, respond);
        if (!who)
          return;
        if (!ctx.open_stream) {
          respond(make_problem(503, "unavailable", "this edge cannot stream", ctx.trace_id));
          return;
        }
        auto resume = last_event_id(ctx.req).value_or("");
        auto stream = ctx.open_stream();
        if (!stream)
          return;
        auto feed = std::make_shared<event_feed>();
        feed->stream = stream;
        auto sub = hub->subscribe(who->subject, resume,
                                  [feed](const event_hub::event& ev) { return feed->deliver(ev); });
        auto user = who->subject;
        stream->on_closed([hub, user, id = sub.id](stream_end) { hub->unsubscribe(user, id); });
        std::lock_guard<std::mutex> guard{feed->mtx};
        stream->send("retry: 3000\n" + format_sse_comment("order events of " + user));
        if (sub.resync)
          stream->send(format_sse_event(
              R"({"reason":"the events after Last-Event-ID are no longer kept; read GET /v1/orders"})",
              "resync"));
        for (auto& ev : sub.backlog)
          stream->send(format_sse_event(ev.data, ev.type, ev.id));
        for (auto& ev : feed->held)
          stream->send(format_sse_event(ev.data, ev.type, ev.id));
        feed->held.clear();
        feed->live = true;
      });
}

} // namespace souk::http
