#include "http/routes/catalog_routes.hpp"

#include "http/problem.hpp"
#include "http/query.hpp"

#include <cerrno>
#include <cstdlib>

namespace souk::http {
namespace {

using actors::catalog_error;

constexpr const char* currency = "RUB";
constexpr const char* default_region = "msk";

nlohmann::json money(std::int64_t amount) {
  return {{"amount", amount}, {"currency", currency}};
}

/// The HTTP status of a catalog error code.
unsigned status_of(const std::string& code) {
  if (code == "not_found" || code == "unknown_sku")
    return 404;
  if (code == "invalid_cursor" || code == "bad_query")
    return 400;
  if (code == "sku_taken" || code == "below_reserved")
    return 409;
  if (code == "store_failed" || code == "unavailable")
    return 503;
  return 422;
}

response problem_of(const catalog_error& err, const std::string& trace) {
  nlohmann::json extra = nullptr;
  if (!err.pointer.empty())
    extra = {{"errors", nlohmann::json::array({{{"pointer", err.pointer},
                                                 {"code", err.code},
                                                 {"detail", err.detail}}})}};
  auto code = status_of(err.code) == 422 ? std::string{"validation_failed"} : err.code;
  if (err.code == "unknown_category" || err.code == "unknown_warehouse")
    code = "validation_failed";
  return make_problem(status_of(err.code), code, err.detail, trace, extra);
}

response invalid(const std::string& pointer, const std::string& detail, const std::string& trace) {
  return problem_of({"validation_failed", pointer, detail}, trace);
}

/// Parses a whole decimal integer; nullopt for anything else (signs, spaces, overflow).
std::optional<std::int64_t> to_int(const std::string& text) {
  if (text.empty() || text.size() > 18 || (text[0] == '-' && text.size() == 1))
    return std::nullopt;
  // strtoll alone would take leading spaces and a '+': only an optional '-' and digits pass.
  for (std::size_t i = text[0] == '-' ? 1 : 0; i < text.size(); ++i)
    if (text[i] < '0' || text[i] > '9')
      return std::nullopt;
  errno = 0;
  char* end = nullptr;
  auto v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size())
    return std::nullopt;
  return v;
}

nlohmann::json summary_json(const actors::product_summary& p) {
  return {{"id", p.id},
          {"title", p.title},
          {"brand", p.brand},
          {"category", p.category},
          {"price", money(p.price)},
          {"rating", p.rating},
          {"reviews", p.reviews},
          {"image_url", "https://img.souk.local/products/" + std::to_string(p.id) + ".jpg"},
          {"in_stock", p.in_stock}};
}

nlohmann::json attributes_json(const std::vector<std::pair<std::string, std::string>>& attrs) {
  auto obj = nlohmann::json::object();
  for (auto& [k, v] : attrs)
    obj[k] = v;
  return obj;
}

const std::vector<std::string> search_params = {"q",        "category", "brand", "min_price",
                                                "max_price", "in_stock", "sort",  "limit",
                                                "cursor",   "region"};

void search(actors::catalog_service& catalog, const request_context& ctx, responder& respond) {
  auto params = parse_query(ctx.req.target());
  if (!params)
    return respond(make_problem(400, "bad_query", "the query string has a broken % escape",
                                ctx.trace_id));
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
        return respond(invalid(name, name + " must be an integer amount in minor units",
                               ctx.trace_id));
      (name == "min_price" ? req.min_price : req.max_price) = *v;
    } else if (name == "in_stock") {
      if (value != "true" && value != "false" && value != "1" && value != "0")
        return respond(invalid(name, "in_stock must be true or false", ctx.trace_id));
      req.in_stock = value == "true" || value == "1";
    } else if (name == "sort") {
      static const std::vector<std::pair<std::string, actors::product_sort>> sorts = {
        {"relevance", actors::product_sort::relevance}, {"price_asc", actors::product_sort::price_asc},
        {"price_desc", actors::product_sort::price_desc}, {"rating", actors::product_sort::rating},
        {"new", actors::product_sort::newest}};
      auto it = std::find_if(sorts.begin(), sorts.end(), [&](auto& s) { return s.first == value; });
      if (it == sorts.end())
        return respond(invalid(name, "sort must be relevance, price_asc, price_desc, rating or new",
                               ctx.trace_id));
      req.sort = it->second;
    } else if (name == "limit") {
      auto v = to_int(value);
      if (!v || *v < 1 || *v > 100)
        return respond(invalid(name, "limit must be 1..100", ctx.trace_id));
      req.limit = static_cast<int>(*v);
    } else if (name == "cursor") {
      req.cursor = value;
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

std::string region_of(const request_context& ctx) {
  auto params = parse_query(ctx.req.target());
  if (params)
    if (auto r = param(*params, "region"))
      return *r;
  return default_region;
}

} // namespace

void add_catalog_routes(router& routes, actors::catalog_service& catalog) {
  routes.add(bhttp::verb::get, "/v1/products",
             [&catalog](const request_context& ctx, responder respond) {
               search(catalog, ctx, respond);
             });

  routes.add(bhttp::verb::get, "/v1/products/{id}",
             [&catalog](const request_context& ctx, responder respond) {
               auto id = to_int(ctx.params.at("id"));
               if (!id || *id <= 0)
                 return respond(make_problem(404, "not_found", "no product " + ctx.params.at("id"),
                                             ctx.trace_id));
               auto region = region_of(ctx);
               auto result = catalog.product(*id, region);
               if (!result.ok())
                 return respond(problem_of(result.error, ctx.trace_id));
               auto& p = *result.value;
               nlohmann::json skus = nlohmann::json::array();
               for (auto& s : p.skus) {
                 nlohmann::json delivery = nullptr;
                 if (!s.delivery.warehouse_id.empty())
                   delivery = {{"warehouse_id", s.delivery.warehouse_id}, {"days", s.delivery.days}};
                 skus.push_back({{"sku", s.sku},
                                 {"price", money(s.price)},
                                 {"attributes", attributes_json(s.attributes)},
                                 {"available", s.delivery.available},
                                 {"delivery", delivery}});
               }
               auto body = summary_json(p.summary);
               body["description"] = p.description;
               body["attributes"] = attributes_json(p.attributes);
               body["skus"] = std::move(skus);
               body["region"] = region;
               respond(make_json(200, body));
             });

  routes.add(bhttp::verb::get, "/v1/suggest",
             [&catalog](const request_context& ctx, responder respond) {
               auto params = parse_query(ctx.req.target());
               if (!params)
                 return respond(make_problem(400, "bad_query",
                                             "the query string has a broken % escape", ctx.trace_id));
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

  routes.add(bhttp::verb::get, "/v1/regions", [&catalog](const request_context&, responder respond) {
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
