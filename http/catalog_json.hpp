#pragma once

#include "actors/api/catalog_api.hpp"
#include "actors/api/money.hpp"
#include "http/message.hpp"
#include "http/problem.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace souk::http {

/// The currency of every amount (actors/api/money.hpp).
constexpr const char* currency = actors::shop_currency;

/// `{"amount": amount, "currency": "RUB"}`.
nlohmann::json money(std::int64_t amount);

/// The HTTP status of a catalog error code (validation_failed → 422, not_found → 404, ...).
unsigned status_of(const std::string& code);

/// A catalog error as problem+json, with an `errors[]` entry when it names a pointer.
response problem_of(const actors::catalog_error& err, const std::string& trace);

/// A whole decimal integer (an optional '-' and digits only); nullopt for anything else.
std::optional<std::int64_t> to_int(const std::string& text);

/// A product in a list, as API.md shows it.
nlohmann::json summary_json(const actors::product_summary& p);

/// Attributes as a JSON object.
nlohmann::json attributes_json(const std::vector<std::pair<std::string, std::string>>& attrs);

/// A product page (`actors::product_body`) as a JSON value (for bodies that add members to it).
nlohmann::json product_json(const actors::product_view& p);

} // namespace souk::http
