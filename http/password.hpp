#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace souk::http {

/// The stored form of a password: `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` with a
/// fresh 16-byte salt from OpenSSL's generator and a 32-byte PBKDF2-HMAC-SHA256 key.
std::string hash_password(std::string_view password, int iterations);

/// True when `password` matches the stored `record` (compared in constant time). A record
/// that cannot be parsed never matches.
bool verify_password(std::string_view password, std::string_view record);

/// Runs the slow key derivation off the edge's I/O threads and off CAF's workers, on its own
/// small pool, with a bound on the calls waiting (a login flood gets `overloaded` answers
/// instead of an ever longer queue). Callbacks run on the pool's threads.
class password_hasher {
public:
  /// `threads` ≥ 1, `iterations` ≥ 1, `max_pending` ≥ 1.
  password_hasher(int threads, int iterations, std::size_t max_pending);
  ~password_hasher();
  password_hasher(const password_hasher&) = delete;
  password_hasher& operator=(const password_hasher&) = delete;

  /// `done(record)` with the stored form, or `done(nullopt)` when too many calls wait.
  void hash(std::string password, std::function<void(std::optional<std::string>)> done);

  /// `done(match)`, or `done(nullopt)` when too many calls wait.
  void verify(std::string password, std::string record,
              std::function<void(std::optional<bool>)> done);

  int iterations() const { return iterations_; }

  /// Lets the calls already accepted finish, then joins the threads; later calls are answered
  /// nullopt at once. Idempotent. The node calls it before it stops its actor system, so no
  /// callback races the shutdown.
  void stop();

private:
  bool admit();
  struct pool;
  std::unique_ptr<pool> pool_;
  int iterations_;
  std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<bool> stopped_{false};
};

} // namespace souk::http
