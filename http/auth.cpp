#include "http/auth.hpp"

#include <cctype>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <tuple>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace souk::http {
namespace {

constexpr std::string_view prefix = "v1.";

std::string b64url(std::string_view in) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += table[(buf >> bits) & 0x3f];
    }
  }
  if (bits > 0)
    out += table[(buf << (6 - bits)) & 0x3f];
  return out;
}

std::optional<std::string> unb64url(std::string_view in) {
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (v < 0)
      return std::nullopt;
    buf = (buf << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  // Only the canonical text of some bytes is accepted: a lone last character (6 bits, no whole
  // byte) or non-zero unused low bits would let several texts decode to the same signature, so
  // a token edited in its last character would still verify.
  if (bits >= 6 || (buf & ((1U << bits) - 1)) != 0)
    return std::nullopt;
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

} // namespace

const char* to_string(token_error e) {
  switch (e) {
  case token_error::missing:
    return "missing";
  case token_error::malformed:
    return "malformed";
  case token_error::bad_signature:
    return "bad_signature";
  case token_error::expired:
    return "expired";
  case token_error::several_headers:
    return "several_headers";
  }
  return "malformed";
}

std::string sign_token(const principal& p, std::string_view secret) {
  nlohmann::json claims = {{"sub", p.subject}, {"role", p.role}, {"exp", p.expires_at}};
  if (!p.region.empty())
    claims["region"] = p.region;
  auto body = std::string{prefix} + b64url(claims.dump());
  return body + "." + b64url(hmac_sha256(secret, body));
}

std::optional<principal> verify_token(std::string_view token, std::string_view secret,
                                      std::int64_t now, token_error& error) {
  if (token.empty()) {
    error = token_error::missing;
    return std::nullopt;
  }
  auto dot = token.rfind('.');
  if (token.size() > 4096 || token.substr(0, prefix.size()) != prefix || dot < prefix.size()) {
    error = token_error::malformed;
    return std::nullopt;
  }
  auto body = token.substr(0, dot);
  auto sig = unb64url(token.substr(dot + 1));
  auto expected = hmac_sha256(secret, body);
  // Constant time: the comparison must not tell an attacker how many bytes were right.
  if (!sig || sig->size() != expected.size() ||
      CRYPTO_memcmp(sig->data(), expected.data(), expected.size()) != 0) {
    error = token_error::bad_signature;
    return std::nullopt;
  }
  auto json = unb64url(body.substr(prefix.size()));
  auto claims = json ? nlohmann::json::parse(*json, nullptr, false) : nlohmann::json{};
  if (!claims.is_object() || !claims.contains("sub") || !claims["sub"].is_string() ||
      !claims.contains("role") || !claims["role"].is_string() || !claims.contains("exp") ||
      !claims["exp"].is_number_integer()) {
    error = token_error::malformed;
    return std::nullopt;
  }
  auto region = claims.find("region");
  if (region != claims.end() && !region->is_string()) {
    error = token_error::malformed;
    return std::nullopt;
  }
  principal p{claims["sub"].get<std::string>(), claims["role"].get<std::string>(),
              claims["exp"].get<std::int64_t>(),
              region != claims.end() ? region->get<std::string>() : std::string{}};
  if (p.expires_at <= now) {
    error = token_error::expired;
    return std::nullopt;
  }
  return p;
}

token_cache::token_cache(std::size_t capacity)
    : per_shard_((capacity + std::tuple_size_v<decltype(shards_)> - 1) /
                 std::tuple_size_v<decltype(shards_)>) {}

token_cache::shard& token_cache::shard_of(std::string_view token) {
  return shards_[std::hash<std::string_view>{}(token) % shards_.size()];
}

std::optional<principal> token_cache::find(std::string_view token) {
  if (per_shard_ == 0)
    return std::nullopt;
  auto& s = shard_of(token);
  std::lock_guard<std::mutex> guard{s.mtx};
  auto it = s.tokens.find(std::string{token});
  if (it == s.tokens.end())
    return std::nullopt;
  return it->second;
}

void token_cache::remember(std::string_view token, const principal& p) {
  if (per_shard_ == 0)
    return;
  auto& s = shard_of(token);
  std::lock_guard<std::mutex> guard{s.mtx};
  if (s.tokens.size() >= per_shard_)
    s.tokens.clear(); // simple and bounded: the tokens in use come back at their next request
  s.tokens.emplace(std::string{token}, p);
}

std::optional<principal> verify_token_cached(token_cache* cache, std::string_view token,
                                             std::string_view secret, std::int64_t now,
                                             token_error& error) {
  if (cache != nullptr && !token.empty()) {
    if (auto p = cache->find(token)) {
      if (p->expires_at > now)
        return p;
      error = token_error::expired;
      return std::nullopt;
    }
  }
  auto p = verify_token(token, secret, now, error);
  if (p && cache != nullptr)
    cache->remember(token, *p);
  return p;
}

std::string_view bearer_of(std::string_view authorization) {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() <= scheme.size())
    return {};
  for (std::size_t i = 0; i < scheme.size(); ++i) // the scheme is case-insensitive
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(scheme[i])))
      return {};
  return authorization.substr(scheme.size());
}

std::string_view bearer_of(const request& req, token_error& error) {
  auto [first, last] = req.equal_range(bhttp::field::authorization);
  if (first == last) {
    error = token_error::missing;
    return {};
  }
  if (std::next(first) != last) {
    error = token_error::several_headers;
    return {};
  }
  error = token_error::missing;
  return bearer_of(first->value());
}

std::string random_secret(std::size_t n) {
  std::string bytes(n, '\0');
  // A secret from a failed generator would be all zeros: anyone could sign tokens with it.
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("random_secret: OpenSSL's random generator failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

} // namespace souk::http
