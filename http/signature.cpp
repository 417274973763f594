#include "http/signature.hpp"

#include <cctype>
#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace souk::http {
namespace {

std::string hmac_hex(std::string_view secret, std::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &len);
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[mac[i] >> 4];
    out += digits[mac[i] & 0xf];
  }
  return out;
}

/// The `name=` part of a comma-separated header value; false when absent.
bool part_of(std::string_view header, std::string_view name, std::string_view& out) {
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    if (item.size() > name.size() && item.substr(0, name.size()) == name &&
        item[name.size()] == '=') {
      out = item.substr(name.size() + 1);
      return true;
    }
    if (comma == std::string_view::npos)
      break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace

const char* code_of(signature_error e) {
  return e == signature_error::expired ? "signature_expired" : "bad_signature";
}

const char* describe(signature_error e) {
  switch (e) {
  case signature_error::missing:
    return "the Souk-Signature header is missing";
  case signature_error::malformed:
    return "the Souk-Signature header is not t=<unix seconds>,v1=<hex HMAC-SHA256>";
  case signature_error::bad_signature:
    return "the signature does not match the body";
  case signature_error::expired:
    return "the signature's time is more than 300 s away from now";
  }
  return "bad signature";
}

std::string sign_callback(std::string_view secret, std::int64_t t, std::string_view body) {
  auto ts = std::to_string(t);
  std::string text;
  text.reserve(ts.size() + 1 + body.size());
  text.append(ts).append(".").append(body);
  return "t=" + ts + ",v1=" + hmac_hex(secret, text);
}

bool verify_callback(std::string_view header, std::string_view body, std::string_view secret,
                     std::int64_t now, signature_error& error) {
  if (header.empty()) {
    error = signature_error::missing;
    return false;
  }
  std::string_view t_text;
  std::string_view v1;
  if (!part_of(header, "t", t_text) || !part_of(header, "v1", v1) || t_text.empty() ||
      t_text.size() > 18 || v1.size() != 64) {
    error = signature_error::malformed;
    return false;
  }
  std::int64_t t = 0;
  for (char c : t_text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      error = signature_error::malformed;
      return false;
    }
    t = t * 10 + (c - '0');
  }
  std::string text;
  text.reserve(t_text.size() + 1 + body.size());
  text.append(t_text).append(".").append(body);
  auto expected = hmac_hex(secret, text);
  std::string given{v1};
  for (auto& c : given)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // The signature first, in constant time: a forged header learns nothing from the timing.
  if (CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    error = signature_error::bad_signature;
    return false;
  }
  if (std::llabs(now - t) > signature_tolerance_seconds) {
    error = signature_error::expired;
    return false;
  }
  return true;
}

} // namespace souk::http
