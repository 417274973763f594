#include "bank/routes.hpp"

#include "base/time.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

namespace souk::bank {
namespace {

using json = nlohmann::json;
using http::invalid;
using http::object_body;
using http::request_context;
using http::responder;
using http::response;
using http::bhttp::verb;

json view(const service& svc, const payment& p) {
  json out = {{"payment_id", p.payment_id}, {"order_id", p.order_id},  {"status", p.status},
              {"amount", p.amount},         {"currency", p.currency},  {"captured", p.captured},
              {"refunded", p.refunded},     {"redirect_url", nullptr}, {"created", nullptr}};
  if (!p.payment_id.empty()) {
    out["redirect_url"] = svc.redirect_url(p.payment_id);
    out["created"] = base::format_rfc3339(std::chrono::system_clock::time_point{
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::milliseconds{p.created})});
  }
  return out;
}

/// A string member of 1 to 255 characters.
bool text_of(const json& body, const char* name, std::string& out) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string())
    return false;
  out = it->get<std::string>();
  return !out.empty() && out.size() <= 255;
}

/// The idempotency key: the body's `idempotency_key`, else the `Idempotency-Key` header.
bool key_of(const request_context& ctx, const json& body, std::string& out) {
  if (body.contains("idempotency_key"))
    return text_of(body, "idempotency_key", out);
  out = std::string{ctx.req["Idempotency-Key"]};
  return !out.empty() && out.size() <= 255;
}

unsigned status_of(const std::string& code) {
  if (code == "unknown_payment")
    return 404;
  if (code == "refused")
    return 402;
  if (code == "not_pending")
    return 409;
  if (code == "invalid_amount")
    return 422;
  return 503; // store_failed
}

response answer_of(const service& svc, const outcome& o, unsigned ok_status,
                   const std::string& trace) {
  if (o.code.empty())
    return http::make_json(ok_status, view(svc, o.pay));
  auto detail = o.code == "unknown_payment"  ? "no such payment"
                : o.code == "refused"        ? "the bank refused the payment"
                : o.code == "not_pending"    ? "the payment was decided already"
                : o.code == "invalid_amount" ? "amount must be a positive integer"
                                             : "the bank could not store the operation; try again";
  json extra = json::object();
  if (!o.pay.order_id.empty())
    extra["payment"] = view(svc, o.pay);
  return http::make_problem(status_of(o.code), o.code, detail, trace, extra);
}

/// Sends `res` as the fault knobs decided: now, after `bank.delay_ms`, or (held back) as a
/// 504 long after the caller gave up.
void reply(service& svc, fate f, responder respond, response res, const std::string& trace) {
  if (f != fate::answer) {
    auto late = http::make_problem(504, "no_answer", "the bank did not answer in time", trace);
    svc.run_after(svc.hang_time(), [respond, late]() mutable { respond(std::move(late)); });
    return;
  }
  if (svc.answer_delay().count() > 0) {
    svc.run_after(svc.answer_delay(), [respond, res]() mutable { respond(std::move(res)); });
    return;
  }
  respond(std::move(res));
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

response html(unsigned status, const std::string& body) {
  response res{static_cast<http::bhttp::status>(status), 11};
  res.set(http::bhttp::field::content_type, "text/html; charset=utf-8");
  res.set(http::bhttp::field::cache_control, "no-store");
  res.body() = body;
  res.prepare_payload();
  return res;
}

std::string money(std::int64_t minor, const std::string& currency) {
  auto whole = std::to_string(minor / 100);
  auto cents = std::to_string(minor % 100);
  return whole + "." + (cents.size() < 2 ? "0" + cents : cents) + " " + currency;
}

std::string page(const payment& p) {
  auto id = html_escape(p.payment_id);
  std::string out = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>souk bank: "
                    "3-D Secure</title></head>\n<body>\n<h1>Confirm your payment</h1>\n<p>Order "
                    "<b>" +
                    html_escape(p.order_id) + "</b>: <b>" +
                    html_escape(money(p.amount, p.currency)) + "</b></p>\n<p>Payment " + id +
                    " is <b id=\"status\">" + html_escape(p.status) + "</b>.</p>\n";
  if (p.status == "pending")
    out += "<form method=\"post\" action=\"/bank/3ds/" + id +
           "\">\n<button type=\"submit\" name=\"approve\" value=\"true\">Approve</button>\n"
           "<button type=\"submit\" name=\"approve\" value=\"false\">Decline</button>\n</form>\n";
  return out + "</body></html>\n";
}

/// `approve` from a form body `approve=true|false` (`1`/`0` too); nullopt when it has none.
std::optional<bool> approve_of_form(std::string_view body) {
  for (std::string_view rest{body}; !rest.empty();) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    if (pair == "approve=true" || pair == "approve=1")
      return true;
    if (pair == "approve=false" || pair == "approve=0")
      return false;
    if (amp == std::string_view::npos)
      break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool valid_currency(const std::string& c) {
  if (c.size() != 3)
    return false;
  for (char ch : c)
    if (ch < 'A' || ch > 'Z')
      return false;
  return true;
}

} // namespace

void add_bank_routes(http::router& routes, service& svc) {
  routes.add(
      verb::post, "/bank/v1/payments", [&svc](const request_context& ctx, responder respond) {
        auto body = object_body(ctx, respond);
        if (!body)
          return;
        std::string order_id;
        std::string key;
        std::string callback_url;
        std::string currency = "RUB";
        if (!text_of(*body, "order_id", order_id))
          return respond(invalid("/order_id",
                                 "order_id must be a string of 1 to 255 "
                                 "characters",
                                 ctx.trace_id));
        auto amount = body->find("amount");
        if (amount == body->end() || !amount->is_number_integer() ||
            amount->get<std::int64_t>() <= 0)
          return respond(
              invalid("/amount", "amount must be a positive integer (minor units)", ctx.trace_id));
        if (body->contains("currency") && (!(*body)["currency"].is_string() ||
                                           !valid_currency((*body)["currency"].get<std::string>())))
          return respond(
              invalid("/currency", "currency must be three capital letters", ctx.trace_id));
        if (body->contains("currency"))
          currency = (*body)["currency"].get<std::string>();
        if (!text_of(*body, "callback_url", callback_url) || callback_url.rfind("http://", 0) != 0)
          return respond(
              invalid("/callback_url", "callback_url must be an http:// URL", ctx.trace_id));
        if (!key_of(ctx, *body, key))
          return respond(invalid("/idempotency_key",
                                 "idempotency_key must be a string of 1 to 255 characters",
                                 ctx.trace_id));
        auto f = svc.draw_fate();
        if (f == fate::no_answer)
          return reply(svc, f, std::move(respond), {}, ctx.trace_id);
        auto o = svc.create(order_id, amount->get<std::int64_t>(), currency, callback_url, key);
        reply(svc, f, std::move(respond), answer_of(svc, o, 201, ctx.trace_id), ctx.trace_id);
      });

  routes.add(
      verb::get, "/bank/v1/payments/{id}", [&svc](const request_context& ctx, responder respond) {
        auto p = svc.find(ctx.params.at("id"));
        if (!p)
          return respond(answer_of(svc, {"unknown_payment", {}, {}, false}, 200, ctx.trace_id));
        respond(http::make_json(200, view(svc, *p)));
      });

  routes.add(
      verb::get, "/bank/v1/orders/{order_id}/payment",
      [&svc](const request_context& ctx, responder respond) {
        auto p = svc.find_by_order(ctx.params.at("order_id"));
        if (!p)
          return respond(answer_of(svc, {"unknown_payment", {}, {}, false}, 200, ctx.trace_id));
        respond(http::make_json(200, view(svc, *p)));
      });

  routes.add(verb::get, "/bank/3ds/{id}", [&svc](const request_context& ctx, responder respond) {
    auto p = svc.find(ctx.params.at("id"));
    if (!p)
      return respond(html(404, "<!doctype html>\n<html><body><h1>No such payment</h1></body>"
                               "</html>\n"));
    respond(html(200, page(*p)));
  });

  routes.add(verb::post, "/bank/3ds/{id}", [&svc](const request_context& ctx, responder respond) {
    auto form = std::string{ctx.req[http::bhttp::field::content_type]}.rfind(
                    "application/x-www-form-urlencoded", 0) == 0;
    std::optional<bool> approve;
    if (form) {
      approve = approve_of_form(ctx.req.body());
    } else {
      auto body = object_body(ctx, respond);
      if (!body)
        return;
      auto it = body->find("approve");
      if (it != body->end() && it->is_boolean())
        approve = it->get<bool>();
    }
    if (!approve)
      return respond(invalid("/approve", "approve must be true or false", ctx.trace_id));
    auto o = svc.decide(ctx.params.at("id"), *approve);
    if (form && (o.code.empty() || o.code == "not_pending"))
      return respond(html(o.code.empty() ? 200 : 409, page(o.pay)));
    respond(answer_of(svc, o, 200, ctx.trace_id));
  });

  routes.add(
      verb::post, "/bank/v1/payments/{id}/refund",
      [&svc](const request_context& ctx, responder respond) {
        auto body = object_body(ctx, respond);
        if (!body)
          return;
        std::string key;
        auto amount = body->find("amount");
        if (amount == body->end() || !amount->is_number_integer() ||
            amount->get<std::int64_t>() <= 0)
          return respond(
              invalid("/amount", "amount must be a positive integer (minor units)", ctx.trace_id));
        if (!key_of(ctx, *body, key))
          return respond(invalid("/idempotency_key",
                                 "idempotency_key must be a string of 1 to 255 characters",
                                 ctx.trace_id));
        auto f = svc.draw_fate();
        if (f == fate::no_answer)
          return reply(svc, f, std::move(respond), {}, ctx.trace_id);
        auto o = svc.refund(ctx.params.at("id"), amount->get<std::int64_t>(), key);
        reply(svc, f, std::move(respond), answer_of(svc, o, 200, ctx.trace_id), ctx.trace_id);
      });

  auto cancel_route = [&svc](bool by_order) {
    return [&svc, by_order](const request_context& ctx, responder respond) {
      auto body = object_body(ctx, respond);
      if (!body)
        return;
      std::string key;
      if (!key_of(ctx, *body, key))
        return respond(invalid("/idempotency_key",
                               "idempotency_key must be a string of 1 to 255 characters",
                               ctx.trace_id));
      auto f = svc.draw_fate();
      if (f == fate::no_answer)
        return reply(svc, f, std::move(respond), {}, ctx.trace_id);
      auto o = by_order ? svc.cancel_order(ctx.params.at("order_id"), key)
                        : svc.cancel(ctx.params.at("id"), key);
      reply(svc, f, std::move(respond), answer_of(svc, o, 200, ctx.trace_id), ctx.trace_id);
    };
  };
  routes.add(verb::post, "/bank/v1/payments/{id}/cancel", cancel_route(false));
  routes.add(verb::post, "/bank/v1/orders/{order_id}/cancel", cancel_route(true));
}

} // namespace souk::bank
