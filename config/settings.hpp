#pragma once

#include "base/log.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace souk::config {

/// A `HOST:PORT` pair; IPv6 hosts are written in brackets (`[::1]:8080`).
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  /// `HOST:PORT`, bracketing an IPv6 host.
  std::string to_string() const;

  friend bool operator==(const endpoint& a, const endpoint& b) {
    return a.host == b.host && a.port == b.port;
  }
};

/// Parses `HOST:PORT` with a port in 0..65535 when `allow_zero_port` (0: the OS picks one),
/// 1..65535 otherwise. Returns nullopt for anything else.
std::optional<endpoint> parse_endpoint(const std::string& text, bool allow_zero_port);

/// The node's identity and where it keeps its files.
struct node_settings {
  std::string name = "n1";
  std::string data_dir = "./data";
};

/// The embedded HTTP edge (consumed by http/).
struct http_settings {
  endpoint listen{"127.0.0.1", 8080};
  int threads = 2;
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  /// Deepest nesting of objects and arrays in a JSON body (souk's own go 3 deep).
  std::size_t json_max_depth = 32;
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t max_connections = 10'000;
  std::chrono::milliseconds drain_timeout{10'000};
  /// TLS: PEM certificate chain and private key. Both set: the edge speaks only HTTPS (TLS 1.2
  /// or later); both empty: plain HTTP. The files are read when the server starts.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Bytes an event stream (SSE) may have queued and unwritten; a client further behind is
  /// disconnected.
  std::size_t sse_max_queued_bytes = 256 * 1024;
  /// How often an event stream sends a `: ping` comment line to keep proxies and clients awake.
  std::chrono::milliseconds sse_heartbeat{15'000};
};

/// Cluster membership (consumed by runtime/ and cluster/).
struct cluster_settings {
  endpoint listen{"127.0.0.1", 7400};
  std::vector<endpoint> seeds;
};

/// How CAF's scheduler hands work to its threads (`scheduler.policy`).
enum class scheduler_policy {
  /// One shared queue; an idle thread sleeps until work arrives. The default: with few cores
  /// shared with the edge and the store's writer, a thread spinning for work steals their time.
  sharing,
  /// A queue per thread; an idle thread polls the others' queues before it sleeps (CAF's default).
  stealing,
};

/// The CAF actor system.
struct actor_settings {
  int threads = 2;
  scheduler_policy scheduler = scheduler_policy::sharing;
  /// The gateway between the edge and the entities (actors/directory/gateway.hpp).
  std::size_t gateway_actors = 4;
  std::size_t gateway_window = 128;
  std::chrono::milliseconds gateway_tick{10};
  /// Resolution of the entities' timers (idle checks, saga deadlines, write-behind), kept on
  /// a thread of their own; 0: each timer is a CAF delayed message.
  std::chrono::milliseconds timer_tick{10};
};

/// `PRAGMA synchronous` of the node's SQLite file.
enum class sync_mode { normal, full };

/// The node's SQLite store and its group-commit writer (consumed by persistence/).
struct store_settings {
  sync_mode synchronous = sync_mode::normal;
  std::size_t batch_max_writes = 1000;
  std::chrono::microseconds batch_max_delay{0};
  std::size_t max_pending_writes = 100'000;
  std::chrono::milliseconds busy_timeout{5'000};
  /// The WAL is copied back into the file on a thread of its own every this many new pages;
  /// 0: by SQLite inside the commit that crosses 1,000 pages (its default).
  std::size_t checkpoint_pages = 1'000;
  /// From this many WAL pages on, the writer copies the rest back itself so that the WAL starts
  /// over (the background checkpoints alone stay a little behind steady writes).
  std::size_t wal_max_pages = 10'000;
  /// Size of the filter that tells a new entity's key from a stored one without a read
  /// (persistence::key_filter); 0: every activation reads.
  std::size_t key_filter_mib = 4;
};

/// The catalog read model.
struct catalog_settings {
  /// Demo products to generate; nullopt means "2,000 when the data folder is new".
  std::optional<int> demo_products;
  /// Product pages whose static part (text, attributes, SKUs) is kept in memory at most; when
  /// full, the cache is emptied and refills with the pages read next. 0: no cache, every page
  /// is read from SQLite.
  std::size_t page_cache_entries = 100'000;
};

/// The order saga.
struct order_settings {
  std::chrono::seconds hold{900};
  std::chrono::milliseconds step_timeout{5'000}; ///< deadline of one attempt of a saga step
  int max_attempts = 5;                          ///< of a forward step before it compensates
  std::chrono::milliseconds backoff_max{60'000}; ///< cap of the retry delay
  std::size_t max_timeline = 500;                ///< timeline entries kept per order
  std::size_t return_reason_max = 500; ///< bytes of a return's reason (it goes in the timeline)
  /// How long `POST /v1/checkout` waits for the saga's decision before answering 202.
  std::chrono::milliseconds checkout_wait{5'000};
  /// How long a saga resends an unanswered step after payment (pick lists, a return's stock and
  /// refund) on its own; then an operator retries it. Below what the participants remember
  /// (entities.tombstone_ttl_ms, bank.retention_ms). 0: no limit.
  std::chrono::milliseconds retry_horizon{72'000'000};
};

/// Entity actors (every kind).
struct entity_settings {
  std::chrono::milliseconds idle_timeout{60'000}; ///< passivate an entity idle this long
  /// On a stop, how long the entities have to write what is still unwritten (a cart's
  /// write-behind) before the rest are killed.
  std::chrono::milliseconds stop_timeout{30'000};
  /// Released and expired reservation ids are remembered this long (late duplicates).
  std::chrono::milliseconds tombstone_ttl{86'400'000};
  /// Deadline of one call from the HTTP edge to an entity.
  std::chrono::milliseconds call_timeout{5'000};
  /// Idempotency keys are kept this long (API.md: at least 24 h).
  std::chrono::seconds idempotency_ttl{86'400};
  /// A request still running this long under its key may be retried with the key.
  std::chrono::milliseconds idempotency_lease{60'000};
};

/// Carts.
struct cart_settings {
  int max_qty_per_line = 100;
  int max_lines = 100;
  std::chrono::seconds ttl{7 * 86'400};        ///< an untouched cart is emptied after this
  std::chrono::milliseconds write_behind{100}; ///< a change reaches the store within this
  int wishlist_max = 500;                      ///< products on one wishlist
};

/// Where the payment provider runs (config `bank.mode`).
enum class bank_mode {
  http,     ///< soukd serves the simulated bank on its own edge and calls it over loopback HTTP
  internal, ///< the in-process bank_sim actor (deterministic tests, benchmarks)
  external, ///< a bank in another process at `bank.url` (e.g. `soukd --bank-only`)
};

/// The simulated bank, how souk reaches it, and its faults (DESIGN.md "Processes").
struct bank_settings {
  bank_mode mode = bank_mode::http;
  std::string url;            ///< base URL of an external bank, e.g. http://127.0.0.1:8090
  std::string webhook_secret; ///< callback HMAC key; empty: generated, kept in the store
  std::string callback_url;   ///< empty: this node's edge + /v1/payments/callback
  std::chrono::milliseconds call_timeout{3'000}; ///< of one HTTP call to the bank
  int connections = 64;      ///< souk's connections to the bank at once; more calls wait for one
  int callback_attempts = 8; ///< per callback before the bank gives up
  std::chrono::milliseconds callback_backoff{200}; ///< first retry wait; doubles after
  bool only = false;          ///< run only the bank (its routes and /healthz): `soukd --bank-only`
  int decline_percent = 0;    ///< approved payments that still decline
  int refuse_percent = 0;     ///< payments refused at creation
  int no_answer_percent = 0;  ///< calls neither performed nor answered
  int lost_reply_percent = 0; ///< calls performed whose answer is lost
  std::chrono::milliseconds delay{0};
  bool duplicate_callbacks = false;
  std::chrono::milliseconds callback_delay{0};
  bool auto_approve = false; ///< approve every payment at once (no 3-DS page)
  std::uint64_t seed = 1;
  /// Simulated bank: idempotency records and delivered callbacks are kept this long.
  std::chrono::milliseconds retention{86'400'000};
  std::chrono::milliseconds sweep_every{600'000}; ///< how often the bank forgets old records
  int sweep_batch = 1'000; ///< rows one sweep transaction looks at (the bank waits meanwhile)
};

/// The simulated warehouses.
struct warehouse_settings {
  /// How long each simulated step takes; zero means steps move only by ops calls.
  std::chrono::seconds step{30};
};

/// Log lines (base/log.hpp).
struct log_settings {
  base::log_level level = base::log_level::info;
  std::string file; ///< empty: standard error
};

/// The admin account created at first start.
struct admin_settings {
  std::string email = "admin@souk.local";
  std::string password; ///< empty: generated and printed once to the log
};

/// Bearer tokens (HMAC-SHA256), checked on every request.
struct auth_settings {
  /// The cluster's shared signing secret (at least 32 characters). Empty: a single node
  /// generates one at its first start and keeps it in its store.
  std::string token_secret;
  std::chrono::seconds token_ttl{86'400};
  /// Verified tokens remembered, so a token seen again skips its HMAC (0: none).
  std::size_t token_cache_entries = 20'000;
  /// PBKDF2-HMAC-SHA256 rounds of a stored password (OWASP suggests 600,000 for SHA-256; the
  /// default is lower so a 2-core node logs in hundreds of users a second).
  int password_iterations = 100'000;
  int kdf_threads = 1;       ///< threads deriving password keys (off the edge and CAF threads)
  int kdf_max_pending = 256; ///< derivations waiting at most; more are answered 503
};

/// Buyers' order event streams (`GET /v1/events`).
struct event_settings {
  int per_user = 100;      ///< events kept per buyer for Last-Event-ID resume
  int max_users = 100'000; ///< buyers whose events are kept at most
};

/// Everything a node is configured with. Each consumer gets only its own part.
struct settings {
  std::string config_file; ///< the file these came from, empty if none
  node_settings node;
  http_settings http;
  cluster_settings cluster;
  actor_settings actors;
  store_settings store;
  catalog_settings catalog;
  order_settings orders;
  entity_settings entities;
  cart_settings cart;
  bank_settings bank;
  warehouse_settings warehouse;
  log_settings log;
  admin_settings admin;
  auth_settings auth;
  event_settings events;
};

} // namespace souk::config
