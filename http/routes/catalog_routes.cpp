#include "http/routes/catalog_routes.hpp"

#include "http/catalog_json.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>

namespace souk::http {
namespace {

constexpr const char* default_region = "msk";

const std::vector<std::string> search_params = {"q",         "category", "brand", "min_price",
                                                "max_price", "in_stock", "sort",  "limit",
                                                "cursor",    "region"};

void search(actors::catalog_service& catalog, const request_context& ctx, responder& respond) {
  auto params = parse_query(ctx.req.target());
  if (!params)
    return respond(
        make_problem(400, "bad_query", "the query string has a broken % escape", ctx.trace_id));
  // brand=a&brand=b means either brand; every other parameter takes one value.
  if (auto twice = repeated_name(*params, {"brand"}))
    return respond(invalid(*twice, *twice + " is given more than once", ctx.trace_id));
  actors::search_request req;
  for (auto& [name, value] : *params) {
    if (std::find(search_params.begin(), search_params.end(), name) == search_params.end())
      return respond(invalid(name, "unknown parameter '" + name + "'", ctx.trace_id));
    if (name == "q") {
      req.q = value;
    } else if (name == "category") {
      req.category = value;
    } else if (name == "brand") {
      // brand=a&brand=b or brand=a,b: any of them.
      std::size_t pos = 0;
      while (pos <= value.size()) {
        auto comma = value.find(',', pos);
        auto one = value.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!one.empty())
          req.brands.push_back(one);
        if (comma == std::string::npos)
          break;
        pos = comma + 1;
      }
      if (req.brands.size() > 50)
        return respond(invalid("brand", "at most 50 brands", ctx.trace_id));
    } else if (name == "min_price" || name == "max_price") {
      auto v = to_int(value);
      if (!v)
        return respond(
            invalid(name, name + " must be an integer amount in minor units", ctx.trace_id));
      (name == "min_price" ? req.min_price : req.max_price) = *v;
    } else if (name == "in_stock") {
      if (value != "true" && value != "false" && value != "1" && value != "0")
        return respond(invalid(name, "in_stock must be true or false", ctx.trace_id));
      req.in_stock = value == "true" || value == "1";
    } else if (name == "sort") {
      static const std::vector<std::pair<std::string, actors::product_sort>> sorts = {
          {"relevance", actors::product_sort::relevance},
          {"price_asc", actors::product_sort::price_asc},
          {"price_desc", actors::product_sort::price_desc},
          {"rating", actors::product_sort::rating},
          {"new", actors::product_sort::newest}};
      // Named capture: clang 14 refuses to capture a structured binding (fuzz/ builds with it).
      auto it = std::find_if(sorts.begin(), sorts.end(),
                             [&wanted = value](auto& s) { return s.first == wanted; });
      if (it == sorts.end())
        return respond(invalid(name, "sort must be relevance, price_asc, price_desc, rating or new",
                               ctx.trace_id));
      req.sort = it->second;
    } else if (name == "limit") {
      auto v = to_int(value);
      if (!v || *v < 1 || *v > 100)
        return respond(invalid(name, "limit must be an integer from 1 to 100", ctx.trace_id));
      req.limit = static_cast<int>(*v);
    } else if (name == "cursor") {
      req.cursor = value;
    } else if (name == "region") {
      if (!catalog.has_region(value))
        return respond(
            invalid(name, "region must be the id of a region of GET /v1/regions", ctx.trace_id));
    }
  }
  auto result = catalog.search(req);
  if (!result.ok())
    return respond(problem_of(result.error, ctx.trace_id));
  auto& r = *result.value;
  nlohmann::json data = nlohmann::json::array();
  for (auto& p : r.data)
    data.push_back(summary_json(p));
  nlohmann::json cats = nlohmann::json::array();
  for (auto& f : r.category_facet)
    cats.push_back({{"value", f.value}, {"count", f.count}});
  nlohmann::json brands = nlohmann::json::array();
  for (auto& f : r.brand_facet)
    brands.push_back({{"value", f.value}, {"count", f.count}});
  nlohmann::json prices = nlohmann::json::array();
  for (auto& b : r.price_facet)
    prices.push_back({{"min", b.min},
                      {"max", b.max ? nlohmann::json(*b.max) : nlohmann::json(nullptr)},
                      {"count", b.count}});
  respond(make_json(200, {{"data", std::move(data)},
                          {"next_cursor", r.next_cursor.empty() ? nlohmann::json(nullptr)
                                                                : nlohmann::json(r.next_cursor)},
                          {"total_estimate", r.total_estimate},
                          {"facets", {{"category", cats}, {"brand", brands}, {"price", prices}}}}));
}

/// The region a product page answers for (see add_catalog_routes), or nullopt after a 422.
std::optional<std::string>
region_of(actors::catalog_service& catalog, const request_context& ctx,
          const std::function<std::string(const request_context&)>& caller_region,
          responder& respond) {
  auto params = parse_query(ctx.req.target());
  if (params && repeated(*params, "region")) {
    respond(invalid("region", "region is given more than once", ctx.trace_id));
    return std::nullopt;
  }
  if (params)
    if (auto r = param(*params, "region")) {
      if (!catalog.has_region(*r)) {
        respond(invalid("region", "region must be the id of a region of GET /v1/regions",
                        ctx.trace_id));
        return std::nullopt;
      }
      return *r;
    }
  if (caller_region)
    if (auto mine = caller_region(ctx); !mine.empty())
      return mine;
  return std::string{default_region};
}

} // namespace

void add_catalog_routes(router& routes, actors::catalog_service& catalog,
                        std::function<std::string(const request_context&)> caller_region) {
  routes.add(
      bhttp::verb::get, "/v1/products",
      [&catalog](const request_context& ctx, responder respond) { search(catalog, ctx, respond); });

  routes.add(bhttp::verb::get, "/v1/products/{id}",
             [&catalog, caller_region](const request_context& ctx, responder respond) {
               auto id = to_int(ctx.params.at("id"));
               if (!id || *id <= 0)
                 return respond(make_problem(404, "not_found", "no product " + ctx.params.at("id"),
                                             ctx.trace_id));
               auto region = region_of(catalog, ctx, caller_region, respond);
               if (!region)
                 return;
               auto result = catalog.product_page(*id, *region);
               if (!result.ok())
                 return respond(problem_of(result.error, ctx.trace_id));
               response res{bhttp::status::ok, 11};
               res.set(bhttp::field::content_type, "application/json; charset=utf-8");
               res.body() = std::move(*result.value);
               res.prepare_payload();
               respond(std::move(res));
             });

  routes.add(bhttp::verb::get, "/v1/suggest",
             [&catalog](const request_context& ctx, responder respond) {
               auto params = parse_query(ctx.req.target());
               if (!params)
                 return respond(make_problem(
                     400, "bad_query", "the query string has a broken % escape", ctx.trace_id));
               if (repeated(*params, "q"))
                 return respond(invalid("q", "q is given more than once", ctx.trace_id));
               auto q = param(*params, "q").value_or("");
               auto result = catalog.suggest(q, 10);
               if (!result.ok())
                 return respond(problem_of(result.error, ctx.trace_id));
               nlohmann::json list = nlohmann::json::array();
               for (auto& s : *result.value) {
                 nlohmann::json item = {{"text", s.text}};
                 if (s.product_id)
                   item["product_id"] = *s.product_id;
                 list.push_back(std::move(item));
               }
               respond(make_json(200, {{"suggestions", std::move(list)}}));
             });

  routes.add(bhttp::verb::get, "/v1/categories",
             [&catalog](const request_context&, responder respond) {
               // A tree: each node with its children, counts over the subtree.
               auto flat = catalog.categories();
               std::function<nlohmann::json(const std::string&)> children =
                   [&](const std::string& parent) {
                     nlohmann::json list = nlohmann::json::array();
                     for (auto& c : flat)
                       if (c.parent == parent)
                         list.push_back({{"id", c.id},
                                         {"name", c.name},
                                         {"count", c.product_count},
                                         {"children", children(c.id)}});
                     return list;
                   };
               respond(make_json(200, {{"categories", children("")}}));
             });

  routes.add(bhttp::verb::get, "/v1/regions",
             [&catalog](const request_context&, responder respond) {
               nlohmann::json regions = nlohmann::json::array();
               for (auto& r : catalog.regions())
                 regions.push_back({{"id", r.id}, {"name", r.name}});
               nlohmann::json warehouses = nlohmann::json::array();
               for (auto& w : catalog.warehouses())
                 warehouses.push_back({{"id", w.id}, {"name", w.name}, {"region", w.region}});
               respond(make_json(200, {{"regions", regions}, {"warehouses", warehouses}}));
             });
}

} // namespace souk::http
