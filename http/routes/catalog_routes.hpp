#pragma once

#include "actors/api/catalog_api.hpp"
#include "http/router.hpp"

#include <functional>
#include <string>

namespace souk::http {

/// Registers the public catalog reads of API.md "Catalog and search": `GET /v1/products`,
/// `GET /v1/products/{id}`, `GET /v1/suggest`, `GET /v1/categories`, `GET /v1/regions`.
/// Handlers run on the HTTP thread: the catalog answers locally in milliseconds.
/// The caller's region (a product page's `available` and `delivery`): `?region=` when given
/// (422 when no region has that id), else `caller_region` (the region of the account whose
/// bearer token came, "" when none), else `msk`.
void add_catalog_routes(router& routes, actors::catalog_service& catalog,
                        std::function<std::string(const request_context&)> caller_region = {});

} // namespace souk::http
