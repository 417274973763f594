#pragma once

#include "http/event_hub.hpp"
#include "http/router.hpp"
#include "http/routes/client_support.hpp"

#include <memory>

namespace souk::http {

/// `POST /v1/users`, `POST /v1/sessions` (with guest cart merge), `POST /v1/sessions/guest`.
void add_account_routes(router& routes, std::shared_ptr<const client_env> env);

/// `GET/DELETE /v1/cart`, `POST /v1/cart/items`, `PATCH/DELETE /v1/cart/items/{sku}` and the
/// wishlist: `GET/POST /v1/wishlist/items`, `DELETE /v1/wishlist/items/{product_id}`.
void add_cart_routes(router& routes, std::shared_ptr<const client_env> env);

/// `POST /v1/checkout`, `GET /v1/orders`, `GET /v1/orders/{id}`, `POST /v1/orders/{id}/cancel`
/// and `POST /v1/orders/{id}/return`. Another user's order is 404, never 403.
void add_order_routes(router& routes, std::shared_ptr<const client_env> env);

/// `GET /v1/events`: the caller's order events as Server-Sent Events (`order.paid`,
/// `order.shipped`, ...), resumed after `Last-Event-ID` from what `hub` keeps.
void add_event_routes(router& routes, std::shared_ptr<const client_env> env,
                      std::shared_ptr<event_hub> hub);

/// The account id of an e-mail address (lowercased): `u_` and 24 hex digits of its SHA-256,
/// so any node finds the user entity from the address alone, with no global index.
std::string user_id_of_email(const std::string& normalized_email);

/// The e-mail address as it is stored and compared: trimmed and lowercased.
std::string normalize_email(std::string_view email);

} // namespace souk::http
