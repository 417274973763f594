#pragma once

#include "actors/api/catalog_api.hpp"
#include "actors/api/gateway.hpp"
#include "http/auth.hpp"
#include "http/json_body.hpp"
#include "http/message.hpp"
#include "http/password.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace souk::http {

/// What the client routes (accounts, cart, wishlist, checkout, orders) work with. Built once
/// by the runtime; shared read-only by every handler.
struct client_env {
  std::shared_ptr<actors::entity_gateway> gateway;
  actors::catalog_service* catalog = nullptr;
  std::shared_ptr<password_hasher> passwords;
  std::string token_secret;
  /// Tokens of `token_secret` that verified before (null: verify each time).
  std::shared_ptr<token_cache> tokens;
  std::chrono::seconds token_ttl{86'400};
  /// Deadline of one call to an entity (a cart, a user, an order view).
  std::chrono::milliseconds call_deadline{5'000};
  /// How long `POST /v1/checkout` waits for the saga before answering 202 PROCESSING.
  std::chrono::milliseconds checkout_deadline{5'000};
  std::int64_t max_qty_per_line = 100;
  std::size_t max_lines = 100;         ///< of a cart, so of an order and of a return
  std::size_t return_reason_max = 500; ///< bytes of a return's reason
};

/// Unix seconds now.
std::int64_t unix_now();

/// The caller of a request from its bearer token, or nullopt after answering 401.
std::optional<principal> authenticate(const request_context& ctx, const client_env& env,
                                      responder& respond);
/// The same for a token given otherwise than in the header (a stream's `access_token`).
std::optional<principal> authenticate_token(const request_context& ctx, const client_env& env,
                                            std::string_view token, responder& respond);

/// 422 when `body` has a member not in `known`; true when it answered. `at` is the JSON pointer
/// of `body` within the request body ("" for the body itself, "/shipping" for a member).
bool refuse_unknown_members(const nlohmann::json& body,
                            std::initializer_list<std::string_view> known, const std::string& trace,
                            responder& respond, const std::string& at = {});

/// A failed gateway call as problem+json: 503 `unavailable` (with Retry-After) or 504
/// `timeout`; 503 `overloaded` and `store_failed` likewise.
response gateway_problem(const actors::call_status& status, const std::string& trace);

/// An already serialised JSON body.
response json_text(unsigned status, std::string body);

/// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Runs `run` at most once per (principal, Idempotency-Key) as API.md says: a repeat with the
/// same fingerprint (method, path, body) gets the stored response byte for byte (with
/// `Idempotent-Replayed: true`), another body 422 `idempotency_key_reused`, a repeat while the
/// first runs 409 `idempotency_in_flight`. 2xx and 4xx answers are stored; 5xx and 202 are not
/// (the key is released so a retry runs again). Without the header `run` just runs, unless
/// `required` (400 `idempotency_key_required`). `subject` empty means an anonymous caller: its
/// key is then scoped by the body as well, so nobody can replay another caller's answer.
/// `run` gets the key's scope digest (stable per principal and key) and the responder to use.
/// `in_memory_mark`: the route is idempotent by construction (a second run of it has no second
/// effect), so the key's running mark is not written before `run` starts (idem_begin_atom).
void idempotent(const request_context& ctx, std::shared_ptr<const client_env> env,
                const std::string& subject, bool required,
                std::function<void(const std::string& scope, responder)> run, responder respond,
                bool in_memory_mark = false);

/// The version in a body this edge serialised with a trailing `"version":N` member (carts).
std::int64_t version_of(const std::string& body);

/// The expected version of an `If-Match` header: 0 when absent or `*`, -1 when unparseable.
std::int64_t if_match_version(const request_context& ctx);

} // namespace souk::http
