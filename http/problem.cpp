#include "http/problem.hpp"

namespace souk::http {

response make_problem(unsigned status, const std::string& code, const std::string& detail,
                      const std::string& trace_id, const nlohmann::json& extra) {
  auto st = static_cast<bhttp::status>(status);
  nlohmann::ordered_json body = {
      {"type", "https://souk.dev/problems/" + code},
      {"title", std::string{bhttp::obsolete_reason(st)}},
      {"status", status},
      {"detail", detail},
      {"code", code},
      {"trace_id", trace_id},
  };
  if (extra.is_object())
    for (auto& [key, value] : extra.items())
      body[key] = value;
  response res{st, 11};
  res.set(bhttp::field::content_type, "application/problem+json");
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

response invalid(const std::string& pointer, const std::string& detail, const std::string& trace) {
  // Always with errors[]: "" is a valid pointer (the whole body), not "no pointer".
  return invalid({{pointer, detail}}, trace);
}

response invalid(const std::vector<std::pair<std::string, std::string>>& fields,
                 const std::string& trace) {
  auto errors = nlohmann::json::array();
  for (auto& [pointer, detail] : fields)
    errors.push_back({{"pointer", pointer}, {"code", "validation_failed"}, {"detail", detail}});
  auto detail = fields.empty() ? std::string{"the request is not valid"} : fields.front().second;
  if (fields.size() > 1)
    detail += " (and " + std::to_string(fields.size() - 1) + " more in errors[])";
  return make_problem(422, "validation_failed", detail, trace, {{"errors", errors}});
}

response make_json(unsigned status, const nlohmann::json& body) {
  response res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "application/json; charset=utf-8");
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

} // namespace souk::http
