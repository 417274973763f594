#include "http/routes/seller_routes.hpp"

#include "http/auth.hpp"
#include "http/catalog_json.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <string_view>

namespace souk::http {
namespace {

using json = nlohmann::json;
using attributes = std::vector<std::pair<std::string, std::string>>;

/// Checks the bearer token: true when the caller may write the catalog, else answers.
bool authorised(const request_context& ctx, const std::string& secret, responder& respond) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  token_error err = token_error::missing;
  auto token = bearer_of(ctx.req, err);
  auto who =
      err == token_error::several_headers ? std::nullopt : verify_token(token, secret, now, err);
  if (!who) {
    auto res = make_problem(
        401, "unauthorized",
        std::string{"a valid bearer token is required ("} + to_string(err) + ")", ctx.trace_id);
    res.set(bhttp::field::www_authenticate, "Bearer");
    respond(std::move(res));
    return false;
  }
  if (who->role != "seller" && who->role != "admin") {
    respond(make_problem(403, "forbidden", "catalog writes need the seller or admin role",
                         ctx.trace_id));
    return false;
  }
  return true;
}

/// `name` as one RFC 6901 reference token: '~' becomes "~0" and '/' becomes "~1".
std::string pointer_token(std::string_view name) {
  std::string out;
  for (char c : name)
    out += c == '~' ? std::string{"~0"} : c == '/' ? std::string{"~1"} : std::string(1, c);
  return out;
}

/// One refusal of a body field: where and why.
struct field_error {
  std::string pointer;
  std::string detail;
};

std::optional<field_error> read_attributes(const json& j, const std::string& ptr, attributes& out) {
  if (!j.is_object())
    return field_error{ptr, "attributes must be an object of strings"};
  if (j.size() > 50)
    return field_error{ptr, "at most 50 attributes"};
  for (auto& [k, v] : j.items()) {
    if (!v.is_string() || k.empty() || k.size() > 64 || v.get<std::string>().size() > 256)
      return field_error{ptr + "/" + pointer_token(k),
                         "attribute values are strings of at most 256 characters"};
    out.emplace_back(k, v.get<std::string>());
  }
  return std::nullopt;
}

std::optional<field_error> read_text(const json& body, const char* name,
                                     std::optional<std::string>& out) {
  if (!body.contains(name))
    return std::nullopt;
  if (!body[name].is_string())
    return field_error{std::string{"/"} + name, std::string{name} + " must be a string"};
  out = body[name].get<std::string>();
  return std::nullopt;
}

/// The first member of the object `j` that is not in `known`, as a refusal under `ptr`.
std::optional<field_error> unknown_member(const json& j, const std::string& ptr,
                                          std::initializer_list<std::string_view> known) {
  for (auto& [k, v] : j.items())
    if (std::find(known.begin(), known.end(), k) == known.end())
      return field_error{ptr + "/" + pointer_token(k), "unknown field '" + k + "'"};
  return std::nullopt;
}

/// Reads a product change: a body with members other than the known ones is refused.
std::optional<field_error> read_change(const json& body, actors::product_change& c) {
  if (auto err = unknown_member(
          body, "", {"title", "description", "brand", "category", "attributes", "skus"}))
    return err;
  for (auto name : {"title", "description", "brand", "category"}) {
    std::optional<std::string> value;
    if (auto err = read_text(body, name, value))
      return err;
    if (!value)
      continue;
    std::string n = name;
    (n == "title"         ? c.title
     : n == "description" ? c.description
     : n == "brand"       ? c.brand
                          : c.category) = value;
  }
  if (body.contains("attributes")) {
    attributes attrs;
    if (auto err = read_attributes(body["attributes"], "/attributes", attrs))
      return err;
    c.attributes = std::move(attrs);
  }
  if (body.contains("skus")) {
    if (!body["skus"].is_array())
      return field_error{"/skus", "skus must be an array"};
    for (std::size_t i = 0; i < body["skus"].size(); ++i) {
      auto& s = body["skus"][i];
      auto ptr = "/skus/" + std::to_string(i);
      if (!s.is_object())
        return field_error{ptr, "each SKU must be an object {sku, price, attributes?}"};
      if (auto err = unknown_member(s, ptr, {"sku", "price", "attributes"}))
        return err;
      if (!s.contains("sku") || !s["sku"].is_string())
        return field_error{ptr + "/sku", "each SKU needs a string sku"};
      if (!s.contains("price") || !s["price"].is_object() || !s["price"].contains("amount") ||
          !s["price"]["amount"].is_number_integer())
        return field_error{ptr + "/price", std::string{"price must be {\"amount\": <minor units>, "
                                                       "\"currency\": \""} +
                                               currency + "\"}"};
      if (auto err = unknown_member(s["price"], ptr + "/price", {"amount", "currency"}))
        return err;
      if (s["price"].contains("currency") && s["price"]["currency"] != currency)
        return field_error{ptr + "/price/currency",
                           std::string{"the currency must be "} + currency};
      actors::sku_view v;
      v.sku = s["sku"].get<std::string>();
      v.price = s["price"]["amount"].get<std::int64_t>();
      if (s.contains("attributes"))
        if (auto err = read_attributes(s["attributes"], ptr + "/attributes", v.attributes))
          return err;
      c.skus.push_back(std::move(v));
    }
  }
  return std::nullopt;
}

response refused(const field_error& e, const std::string& trace) {
  return invalid(e.pointer, e.detail, trace);
}

} // namespace

void add_seller_routes(router& routes, actors::catalog_service& catalog, std::string secret) {
  routes.add(bhttp::verb::post, "/v1/products",
             [&catalog, secret](const request_context& ctx, responder respond) {
               if (!authorised(ctx, secret, respond))
                 return;
               auto body = object_body(ctx, respond);
               if (!body)
                 return;
               actors::product_change change;
               if (auto err = read_change(*body, change))
                 return respond(refused(*err, ctx.trace_id));
               auto result = catalog.create_product(change);
               if (!result.ok())
                 return respond(problem_of(result.error, ctx.trace_id));
               auto res = make_json(201, product_json(*result.value));
               res.set(bhttp::field::location,
                       "/v1/products/" + std::to_string(result.value->summary.id));
               respond(std::move(res));
             });

  routes.add(bhttp::verb::patch, "/v1/products/{id}",
             [&catalog, secret](const request_context& ctx, responder respond) {
               if (!authorised(ctx, secret, respond))
                 return;
               auto id = to_int(ctx.params.at("id"));
               if (!id || *id <= 0)
                 return respond(make_problem(404, "not_found", "no product " + ctx.params.at("id"),
                                             ctx.trace_id));
               auto body = object_body(ctx, respond);
               if (!body)
                 return;
               actors::product_change change;
               if (auto err = read_change(*body, change))
                 return respond(refused(*err, ctx.trace_id));
               auto result = catalog.update_product(*id, change);
               if (!result.ok())
                 return respond(problem_of(result.error, ctx.trace_id));
               respond(make_json(200, product_json(*result.value)));
             });

  routes.add(bhttp::verb::put, "/v1/skus/{sku}/stock",
             [&catalog, secret](const request_context& ctx, responder respond) {
               if (!authorised(ctx, secret, respond))
                 return;
               auto body = object_body(ctx, respond);
               if (!body)
                 return;
               for (auto& [k, v] : body->items())
                 if (k != "warehouse_id" && k != "on_hand")
                   return respond(
                       invalid("/" + pointer_token(k), "unknown field '" + k + "'", ctx.trace_id));
               if (!body->contains("warehouse_id") || !(*body)["warehouse_id"].is_string())
                 return respond(
                     invalid("/warehouse_id", "warehouse_id must be a string", ctx.trace_id));
               if (!body->contains("on_hand") || !(*body)["on_hand"].is_number_integer())
                 return respond(invalid("/on_hand", "on_hand must be an integer", ctx.trace_id));
               auto sku = ctx.params.at("sku");
               auto warehouse = (*body)["warehouse_id"].get<std::string>();
               auto on_hand = (*body)["on_hand"].get<std::int64_t>();
               auto result = catalog.set_stock(sku, warehouse, on_hand);
               if (!result.ok())
                 return respond(problem_of(result.error, ctx.trace_id));
               respond(make_json(200, {{"sku", sku},
                                       {"warehouse_id", warehouse},
                                       {"on_hand", on_hand},
                                       {"available", result.value->delivery.available}}));
             });
}

} // namespace souk::http
