#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace souk::http {

/// Who a bearer token speaks for.
struct principal {
  std::string subject;         ///< user id ("u-…", "g-…") or an ops name
  std::string role;            ///< "buyer", "seller" or "admin"
  std::int64_t expires_at = 0; ///< Unix seconds
};

/// Why a token was refused.
enum class token_error { missing, malformed, bad_signature, expired };

/// Stable snake_case name of `e` (the problem `code` detail).
const char* to_string(token_error e);

/// Signs `p` with `secret`: `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`.
std::string sign_token(const principal& p, std::string_view secret);

/// Checks the signature (constant-time compare) and expiry of `token` against `now` (Unix
/// seconds). Returns the principal, or sets `error`.
std::optional<principal> verify_token(std::string_view token, std::string_view secret,
                                      std::int64_t now, token_error& error);

/// The token of an `Authorization: Bearer <token>` header value; empty when it is not one.
std::string_view bearer_of(std::string_view authorization);

/// `n` random bytes from OpenSSL's generator, hex encoded (for secrets). Throws
/// std::runtime_error when the generator fails (never returns a predictable secret).
std::string random_secret(std::size_t n);

} // namespace souk::http
