#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace souk::http {

// The bank's webhook signature (API.md "Payments"): header
// `Souk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.

/// The header that carries it.
inline constexpr const char* signature_header = "Souk-Signature";

/// How far `t` may be from now, either way, before a signature counts as expired.
inline constexpr std::int64_t signature_tolerance_seconds = 300;

/// Why a signature was refused.
enum class signature_error { missing, malformed, bad_signature, expired };

/// Stable snake_case problem `code` of `e`: `bad_signature` for missing, malformed and wrong
/// signatures (a caller cannot tell them apart usefully), `signature_expired` for an old or
/// future `t`.
const char* code_of(signature_error e);

/// A readable reason for `e` (the problem `detail`).
const char* describe(signature_error e);

/// The header value signing `body` at time `t` (Unix seconds) with `secret`.
std::string sign_callback(std::string_view secret, std::int64_t t, std::string_view body);

/// Checks `header` (the Souk-Signature value) against `body` and `secret`: the HMAC compared
/// in constant time (CRYPTO_memcmp), then `t` within `signature_tolerance_seconds` of `now`.
/// True when valid; otherwise sets `error`. Thread-safe.
bool verify_callback(std::string_view header, std::string_view body, std::string_view secret,
                     std::int64_t now, signature_error& error);

} // namespace souk::http
