#pragma once

#include "actors/api/catalog_api.hpp"
#include "http/router.hpp"

#include <string>

namespace souk::http {

/// Registers the seller/ops catalog writes of API.md: `POST /v1/products`,
/// `PATCH /v1/products/{id}` and `PUT /v1/skus/{sku}/stock`. Each needs a bearer token signed
/// with `token_secret` whose role is `seller` or `admin` (401 without a valid one, 403 for
/// another role). A change reaches this node's search index before the answer.
void add_seller_routes(router& routes, actors::catalog_service& catalog, std::string token_secret);

} // namespace souk::http
