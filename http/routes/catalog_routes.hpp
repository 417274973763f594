#pragma once

#include "actors/api/catalog_api.hpp"
#include "http/router.hpp"

namespace souk::http {

/// Registers the public catalog reads of API.md "Catalog and search": `GET /v1/products`,
/// `GET /v1/products/{id}`, `GET /v1/suggest`, `GET /v1/categories`, `GET /v1/regions`.
/// Handlers run on the HTTP thread: the catalog answers locally in milliseconds.
/// The caller's region comes from `?region=` (default `msk`) until accounts carry one.
void add_catalog_routes(router& routes, actors::catalog_service& catalog);

} // namespace souk::http
