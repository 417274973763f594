#pragma once

#include "http/message.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace souk::http {

/// Who a bearer token speaks for.
struct principal {
  std::string subject;         ///< user id ("u-…", "g-…") or an ops name
  std::string role;            ///< "buyer", "seller" or "admin"
  std::int64_t expires_at = 0; ///< Unix seconds
  /// The account's region (`GET /v1/regions` id), so that public reads can answer for the
  /// caller's region without a lookup; empty for guests and tokens from before the claim.
  std::string region = {};
};

/// Why a token was refused.
enum class token_error {
  missing,
  malformed,
  bad_signature,
  expired,
  several_headers, ///< more than one Authorization header: which would count?
};

/// Stable snake_case name of `e` (the problem `code` detail).
const char* to_string(token_error e);

/// Signs `p` with `secret`: `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`.
std::string sign_token(const principal& p, std::string_view secret);

/// Checks the signature (constant-time compare) and expiry of `token` against `now` (Unix
/// seconds). Returns the principal, or sets `error`.
std::optional<principal> verify_token(std::string_view token, std::string_view secret,
                                      std::int64_t now, token_error& error);

/// Tokens that verified, each with its principal, for ONE signing secret: a token seen again is
/// recognised by its whole text (a string compare) instead of a new HMAC and claims parse,
/// which cost more than the rest of a cart read (OpenSSL 3's one-shot HMAC looks its algorithm
/// up each time). A hit is still checked for expiry by the caller. Bounded: `capacity` tokens
/// in 16 shards, and a shard that fills up is emptied. Thread-safe.
class token_cache {
public:
  explicit token_cache(std::size_t capacity);
  /// The principal of `token` when it verified before.
  std::optional<principal> find(std::string_view token);
  void remember(std::string_view token, const principal& p);

private:
  struct shard {
    std::mutex mtx;
    std::unordered_map<std::string, principal> tokens;
  };
  shard& shard_of(std::string_view token);
  std::size_t per_shard_;
  std::array<shard, 16> shards_;
};

/// `verify_token` through `cache` (when not null): a token that verified before is taken from
/// it, and one that verifies now is added.
std::optional<principal> verify_token_cached(token_cache* cache, std::string_view token,
                                             std::string_view secret, std::int64_t now,
                                             token_error& error);

/// The token of an `Authorization: Bearer <token>` header value; empty when it is not one.
std::string_view bearer_of(std::string_view authorization);

/// The bearer token of `req`'s Authorization header: empty when it has none or it is not a
/// bearer token (`error` missing); empty with `error` several_headers when the request has
/// more than one (RFC 9110 allows one: a proxy may have added or kept the other).
std::string_view bearer_of(const request& req, token_error& error);

/// `n` random bytes from OpenSSL's generator, hex encoded (for secrets). Throws
/// std::runtime_error when the generator fails (never returns a predictable secret).
std::string random_secret(std::size_t n);

} // namespace souk::http
