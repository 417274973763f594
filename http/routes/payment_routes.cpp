#include "http/routes/payment_routes.hpp"

#include "http/json_body.hpp"
#include "http/problem.hpp"
#include "http/signature.hpp"

#include <chrono>
#include <memory>

#include <nlohmann/json.hpp>

namespace souk::http {
namespace {

using json = nlohmann::json;

std::int64_t system_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A string member of at most 255 characters, non-empty.
bool read_id(const json& body, const char* name, std::string& out) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string())
    return false;
  out = it->get<std::string>();
  return !out.empty() && out.size() <= 255;
}

} // namespace

void add_payment_routes(router& routes, std::string webhook_secret, bank_event_sink deliver,
                        std::function<std::int64_t()> now) {
  if (!now)
    now = system_seconds;
  routes.add(
      bhttp::verb::post, "/v1/payments/callback",
      [secret = std::move(webhook_secret), deliver = std::move(deliver),
       now = std::move(now)](const request_context& ctx, responder respond) {
        signature_error why = signature_error::missing;
        if (!verify_callback(ctx.req[signature_header], ctx.req.body(), secret, now(), why))
          return respond(make_problem(400, code_of(why), describe(why), ctx.trace_id));
        auto parsed = object_body(ctx, respond);
        if (!parsed)
          return;
        auto& body = *parsed;
        actors::bank_event ev;
        for (auto name : {"event_id", "payment_id", "order_id"}) {
          auto& field = std::string{name} == "event_id"     ? ev.event_id
                        : std::string{name} == "payment_id" ? ev.payment_id
                                                            : ev.order_id;
          if (!read_id(body, name, field))
            return respond(invalid(std::string{"/"} + name,
                                   std::string{name} + " must be a string of 1 to 255 characters",
                                   ctx.trace_id));
        }
        auto status = body.find("status");
        if (status == body.end() || !status->is_string() ||
            (*status != "authorized" && *status != "captured" && *status != "declined" &&
             *status != "refunded"))
          return respond(invalid("/status",
                                 "status must be authorized, captured, declined or refunded",
                                 ctx.trace_id));
        ev.status = status->get<std::string>();
        auto amount = body.find("amount");
        if (amount == body.end() || !amount->is_number_integer() || amount->get<std::int64_t>() < 0)
          return respond(invalid("/amount", "amount must be a non-negative integer (minor units)",
                                 ctx.trace_id));
        ev.amount = amount->get<std::int64_t>();
        if (auto total = body.find("refunded"); total != body.end()) {
          if (!total->is_number_integer() || total->get<std::int64_t>() < 0)
            return respond(invalid("/refunded",
                                   "refunded must be a non-negative integer (minor units)",
                                   ctx.trace_id));
          ev.refunded = total->get<std::int64_t>();
        }
        auto trace = ctx.trace_id;
        auto order_id = ev.order_id;
        deliver(std::move(ev), [respond, trace, order_id](delivery_outcome out) {
          switch (out) {
          case delivery_outcome::applied:
            return respond(make_json(200, {{"status", "ok"}}));
          case delivery_outcome::duplicate:
            return respond(make_json(200, {{"status", "duplicate"}}));
          case delivery_outcome::unknown:
            return respond(make_problem(404, "unknown_payment",
                                        "no payment of order " + order_id + " matches", trace));
          case delivery_outcome::timeout:
          case delivery_outcome::failed:
            break;
          }
          auto res = make_problem(503, "payment_unavailable",
                                  "the payment of order " + order_id +
                                      " could not record the event now; send it again",
                                  trace);
          res.set(bhttp::field::retry_after, "1");
          respond(std::move(res));
        });
      });
}

} // namespace souk::http
