#include "http/catalog_json.hpp"
#include "http/problem.hpp"
#include "http/routes/client_routes.hpp"

namespace souk::http {

namespace {

using json = nlohmann::json;

/// Answers a cart call: 200 with the cart and its `ETag`, or the problem of its code. With
/// `absent_ok` (a DELETE of one line), a line that is not in the cart is the cart as it is:
/// DELETE is idempotent, and a retry after a lost answer must not turn into a 404.
actors::entity_gateway::callback<actors::cart_answer>
cart_reply(responder respond, std::string trace, bool absent_ok = false) {
  return [respond = std::move(respond), trace = std::move(trace),
          absent_ok](actors::call_status st, actors::cart_answer a) mutable {
    if (absent_ok && a.code == "not_in_cart")
      a.code.clear();
    if (!st.ok()) {
      respond(gateway_problem(st, trace));
      return;
    }
    auto etag = "\"" + std::to_string(version_of(a.body)) + "\"";
    response res;
    if (a.code.empty()) {
      res = json_text(200, std::move(a.body));
    } else if (a.code == "version_mismatch") {
      res =
          make_problem(412, "version_mismatch",
                       "the cart changed since the version in If-Match (now " + etag + ")", trace);
    } else if (a.code == "invalid_quantity") {
      res = invalid("/qty", "qty is out of range for one line", trace);
    } else if (a.code == "too_many_lines") {
      res = make_problem(422, "too_many_lines", "the cart has as many lines as it may hold", trace);
    } else if (a.code == "not_in_cart") {
      res = make_problem(404, "not_in_cart", "this SKU is not in the cart", trace);
    } else if (a.code == "frozen") {
      res = make_problem(409, "checkout_in_progress",
                         "a checkout of this cart is running; try again when it answered", trace);
    } else {
      res = make_problem(409, a.code, "the cart refused the change", trace);
    }
    res.set(bhttp::field::etag, etag);
    respond(std::move(res));
  };
}

/// The `If-Match` version, or answers 412 for one that cannot be a cart version.
std::optional<std::int64_t> expected_version(const request_context& ctx, responder& respond) {
  auto v = if_match_version(ctx);
  if (v < 0) {
    respond(make_problem(412, "version_mismatch", "If-Match must be a cart ETag such as \"3\"",
                         ctx.trace_id));
    return std::nullopt;
  }
  return v;
}

/// A quantity member: an integer in [min, max], or answers 422.
std::optional<std::int64_t> quantity(const json& body, std::int64_t min, std::int64_t max,
                                     const std::string& trace, responder& respond) {
  auto it = body.find("qty");
  if (it == body.end() || !it->is_number_integer()) {
    respond(invalid("/qty", "qty must be an integer", trace));
    return std::nullopt;
  }
  auto q = it->get<std::int64_t>();
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > 1'000'000'000ULL)
    q = max + 1;
  if (q < min || q > max) {
    respond(invalid("/qty",
                    "qty must be between " + std::to_string(min) + " and " + std::to_string(max),
                    trace));
    return std::nullopt;
  }
  return q;
}

std::optional<std::int64_t> product_id_of(const std::string& text) {
  auto v = to_int(text);
  if (!v || *v <= 0)
    return std::nullopt;
  return v;
}

/// The wishlist as the API shows it: product ids with title and lowest price when the catalog
/// still has the product.
response wishlist_response(const client_env& env, const actors::wishlist_answer& a) {
  auto items = json::array();
  for (auto id : a.product_ids) {
    json item = {{"product_id", id}};
    auto p = env.catalog->product(id, "");
    if (p.ok()) {
      item["title"] = p.value->summary.title;
      item["price"] = money(p.value->summary.price);
      item["in_stock"] = p.value->summary.in_stock;
    }
    items.push_back(std::move(item));
  }
  return make_json(200, {{"items", std::move(items)}});
}

/// Answers a wishlist call. With `absent_ok` (a DELETE), a product that is not on the list is
/// the list as it is: DELETE is idempotent.
actors::entity_gateway::callback<actors::wishlist_answer>
wishlist_reply(std::shared_ptr<const client_env> env, responder respond, std::string trace,
               bool absent_ok = false) {
  return [env, respond = std::move(respond), trace = std::move(trace),
          absent_ok](actors::call_status st, actors::wishlist_answer a) mutable {
    if (absent_ok && a.code == "not_in_wishlist")
      a.code.clear();
    if (!st.ok())
      respond(gateway_problem(st, trace));
    else if (a.code == "wishlist_full")
      respond(make_problem(409, "wishlist_full", "the wishlist holds as many products as it may",
                           trace));
    else if (a.code == "not_in_wishlist")
      respond(make_problem(404, "not_in_wishlist", "this product is not on the wishlist", trace));
    else
      respond(wishlist_response(*env, a));
  };
}

} // namespace

void add_cart_routes(router& routes, std::shared_ptr<const client_env> env) {
  routes.add(bhttp::verb::get, "/v1/cart", [env](const request_context& ctx, responder respond) {
    auto who = authenticate(ctx, *env, respond);
    if (!who)
      return;
    env->gateway->cart_get(who->subject, env->call_deadline,
                           cart_reply(std::move(respond), ctx.trace_id));
  });

  routes.add(bhttp::verb::delete_, "/v1/cart",
             [env](const request_context& ctx, responder respond) {
               auto who = authenticate(ctx, *env, respond);
               if (!who)
                 return;
               auto version = expected_version(ctx, respond);
               if (!version)
                 return;
               env->gateway->cart_clear(who->subject, *version, env->call_deadline,
                                        cart_reply(std::move(respond), ctx.trace_id));
             });

  routes.add(
      bhttp::verb::post, "/v1/cart/items", [env](const request_context& ctx, responder respond) {
        auto who = authenticate(ctx, *env, respond);
        if (!who)
          return;
        auto body = object_body(ctx, respond);
        if (!body || refuse_unknown_members(*body, {"sku", "qty"}, ctx.trace_id, respond))
          return;
        auto sku = body->find("sku");
        if (sku == body->end() || !sku->is_string() || sku->get<std::string>().empty() ||
            sku->get<std::string>().size() > 64) {
          respond(invalid("/sku", "sku must be a SKU id", ctx.trace_id));
          return;
        }
        auto qty = quantity(*body, 1, env->max_qty_per_line, ctx.trace_id, respond);
        if (!qty)
          return;
        auto version = expected_version(ctx, respond);
        if (!version)
          return;
        auto offer = env->catalog->offer(sku->get<std::string>());
        if (!offer.ok()) {
          respond(make_problem(404, "unknown_sku", "no SKU " + sku->get<std::string>(),
                               ctx.trace_id,
                               {{"errors", json::array({{{"pointer", "/sku"},
                                                         {"code", "unknown_sku"},
                                                         {"detail", "no such SKU"}}})}}));
          return;
        }
        actors::cart_add_cmd cmd{offer.value->sku,   offer.value->product_id,
                                 offer.value->title, *qty,
                                 offer.value->price, *version};
        auto subject = who->subject;
        idempotent(
            ctx, env, subject, false,
            [env, subject, cmd, trace = ctx.trace_id](const std::string&, responder reply) mutable {
              env->gateway->cart_add(subject, std::move(cmd), env->call_deadline,
                                     cart_reply(std::move(reply), trace));
            },
            std::move(respond));
      });

  routes.add(bhttp::verb::patch, "/v1/cart/items/{sku}",
             [env](const request_context& ctx, responder respond) {
               auto who = authenticate(ctx, *env, respond);
               if (!who)
                 return;
               auto body = object_body(ctx, respond);
               if (!body || refuse_unknown_members(*body, {"qty"}, ctx.trace_id, respond))
                 return;
               auto qty = quantity(*body, 0, env->max_qty_per_line, ctx.trace_id, respond);
               if (!qty)
                 return;
               auto version = expected_version(ctx, respond);
               if (!version)
                 return;
               env->gateway->cart_set(
                   who->subject, actors::cart_set_cmd{ctx.params.at("sku"), *qty, *version},
                   env->call_deadline, cart_reply(std::move(respond), ctx.trace_id));
             });

  routes.add(bhttp::verb::delete_, "/v1/cart/items/{sku}",
             [env](const request_context& ctx, responder respond) {
               auto who = authenticate(ctx, *env, respond);
               if (!who)
                 return;
               auto version = expected_version(ctx, respond);
               if (!version)
                 return;
               env->gateway->cart_remove(
                   who->subject, actors::cart_remove_cmd{ctx.params.at("sku"), *version},
                   env->call_deadline, cart_reply(std::move(respond), ctx.trace_id, true));
             });

  routes.add(bhttp::verb::get, "/v1/wishlist/items",
             [env](const request_context& ctx, responder respond) {
               auto who = authenticate(ctx, *env, respond);
               if (!who)
                 return;
               env->gateway->wishlist(who->subject, env->call_deadline,
                                      wishlist_reply(env, std::move(respond), ctx.trace_id));
             });

  routes.add(
      bhttp::verb::post, "/v1/wishlist/items",
      [env](const request_context& ctx, responder respond) {
        auto who = authenticate(ctx, *env, respond);
        if (!who)
          return;
        auto body = object_body(ctx, respond);
        if (!body || refuse_unknown_members(*body, {"product_id"}, ctx.trace_id, respond))
          return;
        auto it = body->find("product_id");
        if (it == body->end() || !it->is_number_integer() || it->get<std::int64_t>() <= 0) {
          respond(invalid("/product_id", "product_id must be a positive integer", ctx.trace_id));
          return;
        }
        auto id = it->get<std::int64_t>();
        if (!env->catalog->product(id, "").ok()) {
          respond(make_problem(404, "unknown_product", "no product " + std::to_string(id),
                               ctx.trace_id));
          return;
        }
        auto subject = who->subject;
        idempotent(
            ctx, env, subject, false,
            [env, subject, id, trace = ctx.trace_id](const std::string&, responder reply) mutable {
              env->gateway->wish_add(subject, id, env->call_deadline,
                                     wishlist_reply(env, std::move(reply), trace));
            },
            std::move(respond));
      });

  routes.add(
      bhttp::verb::delete_, "/v1/wishlist/items/{product_id}",
      [env](const request_context& ctx, responder respond) {
        auto who = authenticate(ctx, *env, respond);
        if (!who)
          return;
        auto id = product_id_of(ctx.params.at("product_id"));
        if (!id) {
          respond(invalid("product_id", "product_id must be a positive integer", ctx.trace_id));
          return;
        }
        env->gateway->wish_remove(who->subject, *id, env->call_deadline,
                                  wishlist_reply(env, std::move(respond), ctx.trace_id, true));
      });
}

} // namespace souk::http
