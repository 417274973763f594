#include "http/password.hpp"

#include "base/thread.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace souk::http {

namespace {

constexpr std::size_t salt_bytes = 16;
constexpr std::size_t key_bytes = 32;
constexpr std::string_view scheme = "pbkdf2-sha256";

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  return out;
}

std::optional<std::vector<unsigned char>> unhex(std::string_view s) {
  if (s.size() % 2 != 0)
    return std::nullopt;
  std::vector<unsigned char> out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data() + 2 * i, s.data() + 2 * i + 2, v, 16);
    if (ec != std::errc{} || p != s.data() + 2 * i + 2)
      return std::nullopt;
    out[i] = static_cast<unsigned char>(v);
  }
  return out;
}

bool derive(std::string_view password, const unsigned char* salt, std::size_t salt_len,
            int iterations, unsigned char* out, std::size_t out_len) {
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt,
                           static_cast<int>(salt_len), iterations, EVP_sha256(),
                           static_cast<int>(out_len), out) == 1;
}

} // namespace

std::string hash_password(std::string_view password, int iterations) {
  unsigned char salt[salt_bytes];
  if (RAND_bytes(salt, sizeof salt) != 1)
    throw std::runtime_error("OpenSSL's random generator failed");
  unsigned char key[key_bytes];
  if (!derive(password, salt, sizeof salt, iterations, key, sizeof key))
    throw std::runtime_error("PBKDF2 failed");
  return std::string{scheme} + "$" + std::to_string(iterations) + "$" + hex(salt, sizeof salt) +
         "$" + hex(key, sizeof key);
}

bool verify_password(std::string_view password, std::string_view record) {
  // Exactly four fields: trailing text after the key is a corrupt record, not ignored.
  if (std::count(record.begin(), record.end(), '$') != 3)
    return false;
  auto next = [&record]() {
    auto pos = record.find('$');
    auto part = record.substr(0, pos);
    record = pos == std::string_view::npos ? std::string_view{} : record.substr(pos + 1);
    return part;
  };
  if (next() != scheme)
    return false;
  auto iter_text = next();
  int iterations = 0;
  auto [p, ec] = std::from_chars(iter_text.data(), iter_text.data() + iter_text.size(), iterations);
  if (ec != std::errc{} || p != iter_text.data() + iter_text.size() || iterations < 1 ||
      iterations > 10'000'000)
    return false;
  auto salt = unhex(next());
  auto expected = unhex(next());
  // The key must be whole: PBKDF2's shorter outputs are prefixes of the longer ones, so a
  // truncated key would still match the right password (and, cut to a byte, 1 in 256 wrong ones).
  if (!salt || !expected || expected->size() != key_bytes)
    return false;
  std::vector<unsigned char> key(expected->size());
  if (!derive(password, salt->data(), salt->size(), iterations, key.data(), key.size()))
    return false;
  return CRYPTO_memcmp(key.data(), expected->data(), key.size()) == 0;
}

struct password_hasher::pool {
  explicit pool(int threads) : threads_(static_cast<std::size_t>(threads)) {}
  boost::asio::thread_pool threads_;
};

password_hasher::password_hasher(int threads, int iterations, std::size_t max_pending)
    : pool_(std::make_unique<pool>(threads < 1 ? 1 : threads)),
      iterations_(iterations < 1 ? 1 : iterations),
      max_pending_(max_pending < 1 ? 1 : max_pending) {}

password_hasher::~password_hasher() {
  stop();
}

void password_hasher::stop() {
  stopped_ = true;
  pool_->threads_.join();
}

bool password_hasher::admit() {
  if (stopped_)
    return false;
  if (pending_.fetch_add(1) >= max_pending_) {
    pending_.fetch_sub(1);
    return false;
  }
  return true;
}

void password_hasher::hash(std::string password,
                           std::function<void(std::optional<std::string>)> done) {
  if (!admit()) {
    done(std::nullopt);
    return;
  }
  boost::asio::post(pool_->threads_, [this, pw = std::move(password), done = std::move(done)] {
    base::name_this_thread("souk-kdf"); // the pool's threads are Asio's: named by their work
    std::optional<std::string> out;
    try {
      out = hash_password(pw, iterations_);
    } catch (const std::exception&) {
      out = std::nullopt;
    }
    pending_.fetch_sub(1);
    done(std::move(out));
  });
}

void password_hasher::verify(std::string password, std::string record,
                             std::function<void(std::optional<bool>)> done) {
  if (!admit()) {
    done(std::nullopt);
    return;
  }
  boost::asio::post(pool_->threads_, [this, pw = std::move(password), rec = std::move(record),
                                      done = std::move(done)] {
    base::name_this_thread("souk-kdf");
    bool ok = verify_password(pw, rec);
    pending_.fetch_sub(1);
    done(ok);
  });
}

} // namespace souk::http
