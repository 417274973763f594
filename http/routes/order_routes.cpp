#include "http/catalog_json.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"
#include "http/routes/client_routes.hpp"

#include <atomic>
#include <map>
#include <mutex>

namespace souk::http {

namespace {

using json = nlohmann::json;

constexpr int default_limit = 20;
constexpr int max_limit = 100;

/// The order id of a checkout: derived from the caller and the Idempotency-Key (through the
/// key's scope digest), so a retry after a crash or a lost answer reaches the same saga.
std::string order_id_of(const std::string& scope) {
  return "o_" + scope.substr(0, 24);
}

/// Whether `body` (an order's view) belongs to `subject`.
bool owned_by(const std::string& body, const std::string& subject) {
  auto j = json::parse(body, nullptr, false);
  return j.is_object() && j.value("user_id", "") == subject;
}

response order_response(unsigned status, std::string body, const std::string& id) {
  auto res = json_text(status, std::move(body));
  res.set(bhttp::field::location, "/v1/orders/" + id);
  return res;
}

/// The problem for a checkout that did not produce a payable order.
response checkout_problem(const actors::order_answer& a, const std::string& trace) {
  if (a.code == "insufficient_stock") {
    auto errors = json::array();
    auto order = json::parse(a.body, nullptr, false);
    if (order.is_object() && order.contains("lines")) {
      auto& lines = order["lines"];
      for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].contains("available"))
          errors.push_back({{"pointer", "/lines/" + std::to_string(i)},
                            {"code", "insufficient_stock"},
                            {"sku", lines[i].value("sku", "")},
                            {"requested", lines[i].value("qty", std::int64_t{0})},
                            {"available", lines[i]["available"]},
                            {"detail", "only " + lines[i]["available"].dump() + " available"}});
    }
    json extra = {{"errors", errors}};
    if (order.is_object())
      extra["order_id"] = order.value("id", "");
    return make_problem(409, "insufficient_stock", "some lines cannot be covered by the stock",
                        trace, extra);
  }
  if (a.code == "cart_empty")
    return make_problem(409, "cart_empty", "the cart is empty", trace);
  if (a.code == "frozen")
    return make_problem(409, "checkout_in_progress",
                        "another checkout of this cart is running; retry with its key", trace);
  json extra = nullptr;
  auto order = json::parse(a.body, nullptr, false);
  if (order.is_object())
    extra = {{"order_id", order.value("id", "")}, {"order_status", order.value("status", "")}};
  return make_problem(409, a.code.empty() ? std::string{"checkout_failed"} : a.code,
                      "the checkout did not go through (" + a.status + ")", trace, extra);
}

/// Reads `{shipping: {region, city, address}}`; answers 422 and returns false when bad.
bool read_shipping(const json& body, const client_env& env, actors::cart_checkout_cmd& cmd,
                   const std::string& trace, responder& respond) {
  auto it = body.find("shipping");
  if (it == body.end() || !it->is_object()) {
    respond(invalid("/shipping", "shipping must be an object {region, city, address}", trace));
    return false;
  }
  if (refuse_unknown_members(*it, {"region", "city", "address"}, trace, respond, "/shipping"))
    return false;
  // Every field's problem at once, so that a form can mark them all.
  std::vector<std::pair<std::string, std::string>> wrong;
  for (auto [name, out, max] : {std::tuple{"region", &cmd.region, std::size_t{64}},
                                std::tuple{"city", &cmd.city, std::size_t{100}},
                                std::tuple{"address", &cmd.address, std::size_t{300}}}) {
    auto f = it->find(name);
    if (f == it->end() || !f->is_string() || f->get<std::string>().empty() ||
        f->get<std::string>().size() > max)
      wrong.emplace_back(std::string{"/shipping/"} + name, std::string{name} +
                                                               " must be a string of 1 to " +
                                                               std::to_string(max) + " characters");
    else
      *out = f->get<std::string>();
  }
  if (!cmd.region.empty() && !env.catalog->has_region(cmd.region))
    wrong.insert(wrong.begin(), {"/shipping/region", "region must be one of GET /v1/regions"});
  if (!wrong.empty()) {
    respond(invalid(wrong, trace));
    return false;
  }
  return true;
}

/// Asks the order and answers it when `subject` owns it; 404 otherwise.
void view_owned(std::shared_ptr<const client_env> env, const std::string& id,
                const std::string& subject, const std::string& trace, responder respond) {
  env->gateway->order_view(id, env->call_deadline,
                           [subject, trace, respond = std::move(respond)](
                               actors::call_status st, actors::order_answer a) mutable {
                             if (!st.ok()) {
                               respond(gateway_problem(st, trace));
                               return;
                             }
                             if (!a.code.empty() || !owned_by(a.body, subject)) {
                               respond(make_problem(404, "not_found", "no such order", trace));
                               return;
                             }
                             respond(json_text(200, std::move(a.body)));
                           });
}

/// Runs `act` on the order when `subject` owns it (the user's order index says so); 404 else.
void act_on_owned(std::shared_ptr<const client_env> env, const std::string& id,
                  const std::string& subject, const std::string& trace, responder respond,
                  std::function<void(responder)> act) {
  env->gateway->user_owns(subject, id, env->call_deadline,
                          [trace, respond = std::move(respond),
                           act = std::move(act)](actors::call_status st, bool owns) mutable {
                            if (!st.ok())
                              respond(gateway_problem(st, trace));
                            else if (!owns)
                              respond(make_problem(404, "not_found", "no such order", trace));
                            else
                              act(std::move(respond));
                          });
}

/// A cancel or return answer: 200 with the order, 409 with the refusal, 404 when unknown.
actors::entity_gateway::callback<actors::order_answer>
change_reply(responder respond, std::string trace, std::string refusal_detail) {
  return [respond = std::move(respond), trace = std::move(trace),
          refusal_detail = std::move(refusal_detail)](actors::call_status st,
                                                      actors::order_answer a) mutable {
    if (!st.ok())
      respond(gateway_problem(st, trace));
    else if (a.code == "unknown_entity")
      respond(make_problem(404, "not_found", "no such order", trace));
    else if (a.code == "held")
      // API.md's refusal, for now rather than for good: the saga went unanswered past
      // orders.retry_horizon_ms and an operator has to look at it first.
      respond(make_problem(409, "not_cancellable",
                           "the order waits for an operator (a step went unanswered past "
                           "orders.retry_horizon_ms); try again later (the order is " +
                               a.status + ")",
                           trace, {{"retry_later", true}}));
    else if (!a.code.empty())
      respond(
          make_problem(409, a.code, refusal_detail + " (the order is " + a.status + ")", trace));
    else
      respond(json_text(200, std::move(a.body)));
  };
}

/// One `errors[]` entry per requested line the order (`order_text`, as it answered) cannot
/// take back: a SKU it does not hold, or more units of a SKU than are delivered and not
/// returned yet (counting every requested line of that SKU).
json return_line_errors(const std::vector<actors::checkout_line>& requested,
                        const std::string& order_text) {
  auto errors = json::array();
  auto order = json::parse(order_text, nullptr, false);
  if (!order.is_object() || !order.contains("lines") || !order["lines"].is_array())
    return errors;
  std::map<std::string, std::int64_t> returnable, asked;
  for (auto& l : order["lines"])
    if (l.is_object())
      returnable[l.value("sku", "")] +=
          l.value("qty", std::int64_t{0}) - l.value("returned", std::int64_t{0});
  for (auto& l : requested)
    asked[l.sku] += l.qty;
  for (std::size_t i = 0; i < requested.size(); ++i) {
    auto& l = requested[i];
    auto it = returnable.find(l.sku);
    auto at = "/lines/" + std::to_string(i);
    if (it == returnable.end())
      errors.push_back({{"pointer", at},
                        {"code", "return_not_in_order"},
                        {"sku", l.sku},
                        {"detail", "the order has no line of " + l.sku}});
    else if (asked[l.sku] > it->second)
      errors.push_back(
          {{"pointer", at + "/qty"},
           {"code", "return_too_many_units"},
           {"sku", l.sku},
           {"requested", asked[l.sku]},
           {"returnable", it->second},
           {"detail", std::to_string(it->second) + " of " + l.sku + " can still be returned"}});
  }
  return errors;
}

/// A return's answer: 200 with the order (RETURNED, or DELIVERED after a partial return), 422
/// for lines the order cannot take back (naming them in `errors[]`), 409 when it cannot be
/// returned now.
actors::entity_gateway::callback<actors::order_answer>
return_reply(responder respond, std::string trace, std::vector<actors::checkout_line> requested) {
  auto refused =
      change_reply(respond, trace, "only a delivered order can be returned, one return at a time");
  return
      [respond = std::move(respond), trace = std::move(trace), refused = std::move(refused),
       requested = std::move(requested)](actors::call_status st, actors::order_answer a) mutable {
        if (!st.ok() || (a.code != "return_not_in_order" && a.code != "return_too_many_units"))
          return refused(st, std::move(a));
        json extra = {{"errors", return_line_errors(requested, a.body)}};
        respond(make_problem(422, a.code,
                             a.code == "return_not_in_order"
                                 ? "a returned sku is not in the order"
                                 : "more units than were delivered and not returned yet",
                             trace, extra));
      };
}

} // namespace

void add_order_routes(router& routes, std::shared_ptr<const client_env> env) {
  routes.add(bhttp::verb::post, "/v1/checkout",
             [env](const request_context& ctx, responder respond) {
               auto who = authenticate(ctx, *env, respond);
               if (!who)
                 return;
               auto body = object_body(ctx, respond);
               if (!body || refuse_unknown_members(*body, {"shipping"}, ctx.trace_id, respond))
                 return;
               actors::cart_checkout_cmd cmd;
               if (!read_shipping(*body, *env, cmd, ctx.trace_id, respond))
                 return;
               cmd.currency = currency;
               cmd.idempotency_key = std::string{ctx.req["Idempotency-Key"]};
               auto subject = who->subject;
               idempotent(
                   ctx, env, subject, true,
                   [env, subject, cmd, trace = ctx.trace_id](const std::string& scope,
                                                             responder reply) mutable {
                     cmd.order_id = order_id_of(scope);
                     // The order enters the user's index before it exists: a crash in between
                     // leaves an id that GET /v1/orders skips, never an order its buyer cannot
                     // find.
                     env->gateway->user_add_order(
                         subject, cmd.order_id, env->call_deadline,
                         [env, subject, cmd, trace,
                          reply = std::move(reply)](actors::call_status st, bool) mutable {
                           if (!st.ok()) {
                             reply(gateway_problem(st, trace));
                             return;
                           }
                           auto id = cmd.order_id;
                           env->gateway->checkout(
                               subject, std::move(cmd), env->checkout_deadline,
                               [id, trace, reply = std::move(reply)](
                                   actors::call_status st2, actors::order_answer a) mutable {
                                 if (st2.error == "timeout") {
                                   // Still running: the client polls the order (or retries the
                                   // key).
                                   reply(order_response(
                                       202, json{{"id", id}, {"status", "PROCESSING"}}.dump(), id));
                                   return;
                                 }
                                 if (!st2.ok()) {
                                   reply(gateway_problem(st2, trace));
                                   return;
                                 }
                                 if (!a.code.empty() || a.body.empty()) {
                                   reply(checkout_problem(a, trace));
                                   return;
                                 }
                                 reply(order_response(201, std::move(a.body), id));
                               });
                         });
                   },
                   std::move(respond),
                   // Idempotent by construction: the order id is derived from the key, and a
                   // second run finds the cart frozen for (or checked out to) that order and
                   // answers with it. So the key's running mark is not written first, which
                   // saves a write and a wait on every checkout's path.
                   true);
             });

  routes.add(bhttp::verb::get, "/v1/orders/{id}",
             [env](const request_context& ctx, responder respond) {
               auto who = authenticate(ctx, *env, respond);
               if (!who)
                 return;
               view_owned(env, ctx.params.at("id"), who->subject, ctx.trace_id, std::move(respond));
             });

  routes.add(bhttp::verb::get, "/v1/orders", [env](const request_context& ctx, responder respond) {
    auto who = authenticate(ctx, *env, respond);
    if (!who)
      return;
    std::int64_t limit = default_limit;
    std::int64_t before = -1;
    auto params = parse_query(ctx.req.target());
    if (!params) {
      respond(
          make_problem(400, "bad_query", "the query string has a broken % escape", ctx.trace_id));
      return;
    }
    if (auto twice = repeated_name(*params)) {
      respond(invalid(*twice, *twice + " is given more than once", ctx.trace_id));
      return;
    }
    for (auto& [name, value] : *params) {
      if (name == "limit") {
        auto v = to_int(value);
        if (!v || *v < 1 || *v > max_limit) {
          respond(invalid("limit", "limit must be an integer from 1 to 100", ctx.trace_id));
          return;
        }
        limit = *v;
      } else if (name == "cursor") {
        auto v = value.size() > 1 && value[0] == 'p' ? to_int(value.substr(1)) : std::nullopt;
        if (!v || *v < 1) {
          respond(make_problem(400, "invalid_cursor",
                               "cursor must be a next_cursor of a previous page", ctx.trace_id));
          return;
        }
        before = *v;
      } else if (!name.empty()) {
        respond(invalid(name, "unknown parameter '" + name + "'", ctx.trace_id));
        return;
      }
    }
    auto subject = who->subject;
    auto trace = ctx.trace_id;
    env->gateway->user_orders(
        subject, before, limit, env->call_deadline,
        [env, subject, trace, respond = std::move(respond)](actors::call_status st,
                                                            actors::user_orders_page page) mutable {
          if (!st.ok()) {
            respond(gateway_problem(st, trace));
            return;
          }
          json next = page.next > 0 ? json("p" + std::to_string(page.next)) : json(nullptr);
          if (page.order_ids.empty()) {
            respond(make_json(200, {{"data", json::array()}, {"next_cursor", next}}));
            return;
          }
          // Every order of the page is asked at once; the last answer writes the list.
          struct gather {
            std::mutex mtx;
            std::vector<std::string> bodies;
            std::atomic<std::size_t> left;
            actors::call_status failed;
            responder respond;
          };
          auto g = std::make_shared<gather>();
          g->bodies.resize(page.order_ids.size());
          g->left = page.order_ids.size();
          g->respond = std::move(respond);
          for (std::size_t i = 0; i < page.order_ids.size(); ++i)
            env->gateway->order_view(
                page.order_ids[i], env->call_deadline,
                [g, i, next, subject, trace](actors::call_status s, actors::order_answer a) {
                  {
                    std::lock_guard<std::mutex> guard{g->mtx};
                    if (!s.ok())
                      g->failed = s;
                    else if (a.code.empty() && owned_by(a.body, subject))
                      g->bodies[i] = std::move(a.body);
                  }
                  if (--g->left > 0)
                    return;
                  if (!g->failed.ok()) {
                    g->respond(gateway_problem(g->failed, trace));
                    return;
                  }
                  std::string out = "{\"data\":[";
                  bool first = true;
                  for (auto& b : g->bodies) {
                    if (b.empty())
                      continue; // an id whose checkout never created the order
                    out += first ? "" : ",";
                    out += b;
                    first = false;
                  }
                  out += "],\"next_cursor\":" + next.dump() + "}";
                  g->respond(json_text(200, std::move(out)));
                });
        });
  });

  routes.add(bhttp::verb::post, "/v1/orders/{id}/cancel",
             [env](const request_context& ctx, responder respond) {
               auto who = authenticate(ctx, *env, respond);
               if (!who)
                 return;
               auto body = object_body(ctx, respond, true);
               if (!body || refuse_unknown_members(*body, {"reason"}, ctx.trace_id, respond))
                 return;
               auto id = ctx.params.at("id");
               auto subject = who->subject;
               auto trace = ctx.trace_id;
               idempotent(
                   ctx, env, subject, false,
                   [env, id, subject, trace](const std::string&, responder reply) {
                     act_on_owned(env, id, subject, trace, std::move(reply),
                                  [env, id, trace](responder r) {
                                    env->gateway->order_cancel(
                                        id, env->checkout_deadline,
                                        change_reply(std::move(r), trace,
                                                     "the order can no longer be cancelled"));
                                  });
                   },
                   std::move(respond));
             });

  routes.add(
      bhttp::verb::post, "/v1/orders/{id}/return",
      [env](const request_context& ctx, responder respond) {
        auto who = authenticate(ctx, *env, respond);
        if (!who)
          return;
        auto body = object_body(ctx, respond, true);
        if (!body || refuse_unknown_members(*body, {"lines", "reason"}, ctx.trace_id, respond))
          return;
        if (body->contains("lines") && !(*body)["lines"].is_array()) {
          respond(invalid("/lines", "lines must be an array of {sku, qty}", ctx.trace_id));
          return;
        }
        // `lines`: the units to return, [{sku, qty}]; absent returns every unit not returned
        // yet. An empty list is refused: a selection that ended up empty must not become a
        // refund of the whole order. Checked against the order by the order itself.
        std::vector<actors::checkout_line> lines;
        if (body->contains("lines")) {
          auto& list = (*body)["lines"];
          if (list.empty()) {
            respond(invalid("/lines",
                            "lines must name at least one {sku, qty}; leave lines out to return "
                            "every unit not returned yet",
                            ctx.trace_id));
            return;
          }
          if (list.size() > env->max_lines) {
            respond(invalid("/lines",
                            "at most " + std::to_string(env->max_lines) + " lines in one return",
                            ctx.trace_id));
            return;
          }
          for (std::size_t i = 0; i < list.size(); ++i) {
            auto at = "/lines/" + std::to_string(i);
            auto& l = list[i];
            if (!l.is_object() || !l.contains("sku") || !l["sku"].is_string() ||
                !l.contains("qty") || !l["qty"].is_number_integer()) {
              respond(invalid(at, "each line must be {sku: string, qty: integer}", ctx.trace_id));
              return;
            }
            if (refuse_unknown_members(l, {"sku", "qty"}, ctx.trace_id, respond, at))
              return;
            auto qty = l["qty"].get<std::int64_t>();
            if (qty < 1 || qty > env->max_qty_per_line) {
              respond(invalid(at + "/qty",
                              "qty must be between 1 and " + std::to_string(env->max_qty_per_line),
                              ctx.trace_id));
              return;
            }
            actors::checkout_line line;
            line.sku = l["sku"].get<std::string>();
            line.qty = qty;
            lines.push_back(std::move(line));
          }
        }
        std::string reason;
        if (body->contains("reason")) {
          auto& r = (*body)["reason"];
          if (!r.is_string() || r.get_ref<const std::string&>().size() > env->return_reason_max) {
            respond(invalid("/reason",
                            "reason must be a string of at most " +
                                std::to_string(env->return_reason_max) + " bytes",
                            ctx.trace_id));
            return;
          }
          reason = r.get<std::string>();
        }
        auto id = ctx.params.at("id");
        auto subject = who->subject;
        auto trace = ctx.trace_id;
        idempotent(
            ctx, env, subject, false,
            [env, id, subject, trace, lines = std::move(lines),
             reason = std::move(reason)](const std::string&, responder reply) {
              act_on_owned(env, id, subject, trace, std::move(reply),
                           [env, id, trace, lines, reason](responder r) {
                             env->gateway->order_return(id, lines, reason, env->checkout_deadline,
                                                        return_reply(std::move(r), trace, lines));
                           });
            },
            std::move(respond));
      });
}

} // namespace souk::http
