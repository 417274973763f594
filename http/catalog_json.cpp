#include "http/catalog_json.hpp"

#include "actors/api/product_text.hpp"
#include "http/problem.hpp"

#include <cerrno>
#include <cstdlib>

namespace souk::http {

using actors::catalog_error;

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
    extra = {
        {"errors", nlohmann::json::array(
                       {{{"pointer", err.pointer}, {"code", err.code}, {"detail", err.detail}}})}};
  auto code = status_of(err.code) == 422 ? std::string{"validation_failed"} : err.code;
  if (err.code == "unknown_category" || err.code == "unknown_warehouse")
    code = "validation_failed";
  return make_problem(status_of(err.code), code, err.detail, trace, extra);
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

nlohmann::json product_json(const actors::product_view& p) {
  // One shape, written once: the DOM form (for bodies that add members) parses the text form.
  return nlohmann::json::parse(actors::product_body(p));
}

} // namespace souk::http
