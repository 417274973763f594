#include "config/load.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <sstream>
#include <string_view>
#include <toml++/toml.h>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

extern char** environ;

namespace souk::config {
namespace {

// -- value parsers: each returns an empty string or what is allowed ----------------------------

std::string parse_int(const std::string& text, long long lo, long long hi, long long& out) {
  auto allowed = "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
  // strtoll would skip leading blanks; " 4" is refused like "4 ".
  if (text.empty() || text.size() > 20 || std::isspace(static_cast<unsigned char>(text[0])))
    return allowed;
  errno = 0;
  char* end = nullptr;
  auto value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size() || value < lo || value > hi)
    return allowed;
  out = value;
  return {};
}

/// Makes the `apply` function of an integer setting that stores into `field(settings)`.
template <class Field>
auto int_apply(long long lo, long long hi, Field field) {
  return [lo, hi, field](settings& s, const std::string& text) -> std::string {
    long long value = 0;
    if (auto err = parse_int(text, lo, hi, value); !err.empty())
      return err;
    field(s, value);
    return {};
  };
}

/// `text` as a TOML basic string. Control characters are escaped too, so that a value with a
/// newline keeps an error on one line and a printed config file valid.
std::string quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + '"';
}

/// The names of an enum setting's values, in the order an error lists them.
template <class E>
using choices = std::vector<std::pair<std::string, E>>;

/// Makes the `apply` function of an enum setting: `text` must be one of `names` exactly, and
/// is stored into `field(settings)`.
template <class E, class Field>
auto choice_apply(choices<E> names, Field field) {
  return [names, field](settings& s, const std::string& text) -> std::string {
    for (auto& [name, value] : names)
      if (text == name) {
        field(s) = value;
        return {};
      }
    std::string allowed; // "a, b or c"
    for (std::size_t i = 0; i < names.size(); ++i)
      allowed += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i].first;
    return allowed;
  };
}

/// Makes the `show` function of the same setting: the name of its value, quoted.
template <class E, class Field>
auto choice_show(choices<E> names, Field field) {
  return [names, field](const settings& s) {
    for (auto& [name, value] : names)
      if (field(s) == value)
        return quote(name);
    return quote(names.front().first);
  };
}

const choices<scheduler_policy> scheduler_names = {{"sharing", scheduler_policy::sharing},
                                                   {"stealing", scheduler_policy::stealing}};
const choices<bank_mode> bank_mode_names = {{"http", bank_mode::http},
                                            {"internal", bank_mode::internal},
                                            {"external", bank_mode::external}};

// -- the table of settings ----------------------------------------------------------------------

struct setting_def {
  std::string section;
  std::string key;
  std::vector<std::string> aliases; ///< extra flags (the short ones API.md fixes)
  std::string help;
  std::function<std::string(settings&, const std::string&)> apply;
  std::function<std::string(const settings&)> show; ///< a TOML value
  bool is_list = false;

  std::string name() const { return section + "." + key; }
  std::string flag() const {
    auto text = "--" + section + "-" + key;
    std::replace(text.begin(), text.end(), '_', '-');
    return text;
  }
  std::string env() const {
    auto text = "SOUK_" + section + "_" + key;
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
  }
};

std::string endpoint_apply(endpoint& field, const std::string& text) {
  auto parsed = parse_endpoint(text, true);
  if (!parsed)
    return "HOST:PORT with a port in 0..65535 (0: any free port), IPv6 hosts in brackets";
  field = *parsed;
  return {};
}

bool valid_node_name(const std::string& name) {
  if (name.empty() || name.size() > 32)
    return false;
  auto ok = [](unsigned char c) {
    return std::isdigit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
  };
  return std::all_of(name.begin(), name.end(), ok) && std::isalnum(name[0]);
}

const std::vector<setting_def>& definitions() {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  static const std::vector<setting_def> defs = {
      {"node",
       "name",
       {"--node"},
       "this node's name in the cluster",
       [](settings& s, const std::string& v) -> std::string {
         if (!valid_node_name(v))
           return "1 to 32 characters of a-z, 0-9, '-' and '_', starting with a letter or digit";
         s.node.name = v;
         return {};
       },
       [](const settings& s) { return quote(s.node.name); }},
      {"node",
       "data",
       {"--data"},
       "folder of the node's SQLite file and other state",
       [](settings& s, const std::string& v) -> std::string {
         if (v.empty())
           return "a folder path";
         s.node.data_dir = v;
         return {};
       },
       [](const settings& s) { return quote(s.node.data_dir); }},
      {"http",
       "listen",
       {"--http"},
       "HOST:PORT of the HTTP edge",
       [](settings& s, const std::string& v) { return endpoint_apply(s.http.listen, v); },
       [](const settings& s) { return quote(s.http.listen.to_string()); }},
      {"http",
       "threads",
       {},
       "Asio threads serving HTTP",
       int_apply(1, 64, [](settings& s, long long v) { s.http.threads = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.http.threads); }},
      {"http",
       "max_header_bytes",
       {},
       "largest request header block (431 beyond)",
       int_apply(1024, 1 << 20,
                 [](settings& s, long long v) { s.http.max_header_bytes = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.http.max_header_bytes); }},
      {"http",
       "max_body_bytes",
       {},
       "largest request body (413 beyond)",
       int_apply(1024, 64 << 20,
                 [](settings& s, long long v) { s.http.max_body_bytes = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.http.max_body_bytes); }},
      {"http",
       "json_max_depth",
       {},
       "deepest nesting of objects and arrays in a JSON body (400 malformed_json beyond)",
       int_apply(2, 1000, [](settings& s, long long v) { s.http.json_max_depth = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.http.json_max_depth); }},
      {"http",
       "read_timeout_ms",
       {},
       "time a client has to send a whole request",
       int_apply(100, 600'000,
                 [](settings& s, long long v) { s.http.read_timeout = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.http.read_timeout.count()); }},
      {"http",
       "idle_timeout_ms",
       {},
       "how long a keep-alive connection may wait for a request",
       int_apply(100, 3'600'000,
                 [](settings& s, long long v) { s.http.idle_timeout = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.http.idle_timeout.count()); }},
      {"http",
       "max_connections",
       {},
       "open connections at most; more are closed at once",
       int_apply(1, 1'000'000,
                 [](settings& s, long long v) { s.http.max_connections = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.http.max_connections); }},
      {"http",
       "drain_timeout_ms",
       {},
       "how long shutdown waits for requests in flight",
       int_apply(0, 600'000,
                 [](settings& s, long long v) { s.http.drain_timeout = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.http.drain_timeout.count()); }},
      {"http",
       "tls_cert_file",
       {},
       "PEM certificate chain: with tls_key_file the edge speaks only HTTPS (empty: plain HTTP)",
       [](settings& s, const std::string& v) -> std::string {
         s.http.tls_cert_file = v;
         return {};
       },
       [](const settings& s) { return quote(s.http.tls_cert_file); }},
      {"http",
       "tls_key_file",
       {},
       "PEM private key of tls_cert_file (empty: plain HTTP)",
       [](settings& s, const std::string& v) -> std::string {
         s.http.tls_key_file = v;
         return {};
       },
       [](const settings& s) { return quote(s.http.tls_key_file); }},
      {"http",
       "sse_max_queued_bytes",
       {},
       "unwritten bytes an event stream may queue; a client further behind is disconnected",
       int_apply(1024, 64 << 20,
                 [](settings& s, long long v) { s.http.sse_max_queued_bytes = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.http.sse_max_queued_bytes); }},
      {"http",
       "sse_heartbeat_ms",
       {},
       "how often an event stream sends a ': ping' comment",
       int_apply(100, 3'600'000,
                 [](settings& s, long long v) { s.http.sse_heartbeat = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.http.sse_heartbeat.count()); }},
      {"cluster",
       "listen",
       {"--cluster"},
       "HOST:PORT of the CAF middleman for other nodes",
       [](settings& s, const std::string& v) { return endpoint_apply(s.cluster.listen, v); },
       [](const settings& s) { return quote(s.cluster.listen.to_string()); }},
      {"cluster",
       "seeds",
       {"--seeds"},
       "comma-separated HOST:PORT cluster ports of other nodes",
       [](settings& s, const std::string& v) -> std::string {
         std::vector<endpoint> seeds;
         std::stringstream in{v};
         std::string item;
         while (std::getline(in, item, ',')) {
           if (item.empty())
             continue;
           auto parsed = parse_endpoint(item, false);
           if (!parsed)
             return "a comma-separated list of HOST:PORT with ports in 1..65535";
           seeds.push_back(*parsed);
         }
         s.cluster.seeds = std::move(seeds);
         return {};
       },
       [](const settings& s) {
         std::string out = "[";
         for (auto& seed : s.cluster.seeds)
           out += (out.size() > 1 ? ", " : "") + quote(seed.to_string());
         return out + "]";
       },
       true},
      {"actors",
       "threads",
       {},
       "CAF scheduler threads",
       int_apply(1, 64, [](settings& s, long long v) { s.actors.threads = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.actors.threads); }},
      {"actors",
       "scheduler",
       {},
       "how CAF's threads share work: sharing (one queue, idle threads sleep) or stealing",
       choice_apply(
           scheduler_names, [](auto& s) -> auto& { return s.actors.scheduler; }),
       choice_show(
           scheduler_names, [](auto& s) -> auto& { return s.actors.scheduler; })},
      {"actors",
       "gateway_actors",
       {},
       "long-lived actors that carry the edge's calls to the entities",
       int_apply(1, 256,
                 [](settings& s, long long v) { s.actors.gateway_actors = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.actors.gateway_actors); }},
      {"actors",
       "gateway_window",
       {},
       "calls one gateway actor has open at most; more wait their turn",
       int_apply(1, 10'000,
                 [](settings& s, long long v) { s.actors.gateway_window = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.actors.gateway_window); }},
      {"actors",
       "gateway_tick_ms",
       {},
       "how often a gateway actor checks its calls' deadlines",
       int_apply(1, 1'000,
                 [](settings& s, long long v) { s.actors.gateway_tick = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.actors.gateway_tick.count()); }},
      {"actors",
       "timer_tick_ms",
       {},
       "resolution of entity timers (idle checks, saga deadlines); 0: a CAF timer each",
       int_apply(0, 1'000, [](settings& s, long long v) { s.actors.timer_tick = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.actors.timer_tick.count()); }},
      {"store",
       "synchronous",
       {},
       "SQLite PRAGMA synchronous: NORMAL or FULL",
       [](settings& s, const std::string& v) -> std::string {
         std::string upper = v;
         std::transform(upper.begin(), upper.end(), upper.begin(),
                        [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
         if (upper == "NORMAL")
           s.store.synchronous = sync_mode::normal;
         else if (upper == "FULL")
           s.store.synchronous = sync_mode::full;
         else
           return "NORMAL or FULL";
         return {};
       },
       [](const settings& s) {
         return quote(s.store.synchronous == sync_mode::full ? "FULL" : "NORMAL");
       }},
      {"store",
       "batch_max_writes",
       {},
       "writes at most in one group-commit transaction",
       int_apply(1, 100'000,
                 [](settings& s, long long v) { s.store.batch_max_writes = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.store.batch_max_writes); }},
      {"store",
       "batch_max_delay_us",
       {},
       "how long a batch waits for more writes (0: never)",
       int_apply(0, 1'000'000,
                 [](settings& s, long long v) { s.store.batch_max_delay = microseconds(v); }),
       [](const settings& s) { return std::to_string(s.store.batch_max_delay.count()); }},
      {"store",
       "max_pending_writes",
       {},
       "queued writes at most; more are refused as overload",
       int_apply(1, 10'000'000,
                 [](settings& s, long long v) { s.store.max_pending_writes = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.store.max_pending_writes); }},
      {"store",
       "busy_timeout_ms",
       {},
       "how long a reader waits for a lock held by the writer",
       int_apply(0, 600'000,
                 [](settings& s, long long v) { s.store.busy_timeout = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.store.busy_timeout.count()); }},
      {"store",
       "checkpoint_pages",
       {},
       "copy the WAL back into the file on a thread of its own every this many pages; 0: in "
       "the commits",
       int_apply(0, 1'000'000,
                 [](settings& s, long long v) { s.store.checkpoint_pages = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.store.checkpoint_pages); }},
      {"store",
       "wal_max_pages",
       {},
       "WAL pages at which the writer copies the rest back itself (at least checkpoint_pages)",
       int_apply(1, 10'000'000,
                 [](settings& s, long long v) { s.store.wal_max_pages = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.store.wal_max_pages); }},
      {"store",
       "key_filter_mib",
       {},
       "memory of the filter that spares new entities a read of the store (it tells about "
       "680,000 keys per MiB with 1% false hits); 0: every activation reads",
       int_apply(0, 4'096,
                 [](settings& s, long long v) { s.store.key_filter_mib = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.store.key_filter_mib); }},
      {"catalog",
       "demo_products",
       {"--demo-catalog"},
       "demo products to generate: a count, or auto (2000 when the data folder is new)",
       [](settings& s, const std::string& v) -> std::string {
         if (v == "auto") {
           s.catalog.demo_products.reset();
           return {};
         }
         long long value = 0;
         if (!parse_int(v, 0, 10'000'000, value).empty())
           return "auto or an integer in 0..10000000";
         s.catalog.demo_products = static_cast<int>(value);
         return {};
       },
       [](const settings& s) {
         return s.catalog.demo_products ? std::to_string(*s.catalog.demo_products) : quote("auto");
       }},
      {"catalog",
       "page_cache_entries",
       {},
       "product pages kept in memory at most (0: no cache, every page read from SQLite)",
       int_apply(0, 10'000'000,
                 [](settings& s, long long v) { s.catalog.page_cache_entries = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.catalog.page_cache_entries); }},
      {"orders",
       "hold_seconds",
       {"--hold-seconds"},
       "how long checkout holds stock unpaid",
       int_apply(1, 7 * 86'400, [](settings& s, long long v) { s.orders.hold = seconds(v); }),
       [](const settings& s) { return std::to_string(s.orders.hold.count()); }},
      {"orders",
       "step_timeout_ms",
       {},
       "deadline of one attempt of a saga step",
       int_apply(10, 600'000,
                 [](settings& s, long long v) { s.orders.step_timeout = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.orders.step_timeout.count()); }},
      {"orders",
       "max_attempts",
       {},
       "attempts of a forward saga step before it compensates",
       int_apply(1, 100,
                 [](settings& s, long long v) { s.orders.max_attempts = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.orders.max_attempts); }},
      {"orders",
       "backoff_max_ms",
       {},
       "longest wait between two attempts of a saga step",
       int_apply(10, 3'600'000,
                 [](settings& s, long long v) { s.orders.backoff_max = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.orders.backoff_max.count()); }},
      {"orders",
       "max_timeline",
       {},
       "timeline entries kept per order (the oldest go first)",
       int_apply(10, 100'000,
                 [](settings& s, long long v) { s.orders.max_timeline = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.orders.max_timeline); }},
      {"orders",
       "return_reason_max",
       {},
       "bytes of a return's reason, which the order's timeline keeps",
       int_apply(0, 100'000,
                 [](settings& s, long long v) { s.orders.return_reason_max = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.orders.return_reason_max); }},
      {"orders",
       "checkout_wait_ms",
       {},
       "how long POST /v1/checkout waits for the saga before answering 202 PROCESSING",
       int_apply(10, 600'000,
                 [](settings& s, long long v) { s.orders.checkout_wait = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.orders.checkout_wait.count()); }},
      {"orders",
       "retry_horizon_ms",
       {},
       "how long a saga resends an unanswered step after payment (pick lists, a return's stock "
       "and refund) before it waits for an operator; below entities.tombstone_ttl_ms and "
       "bank.retention_ms (0: no limit)",
       int_apply(0, 30LL * 86'400'000,
                 [](settings& s, long long v) { s.orders.retry_horizon = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.orders.retry_horizon.count()); }},
      {"entities",
       "idle_timeout_ms",
       {},
       "an entity idle this long is passivated (stopped; its snapshot stays)",
       int_apply(10, 86'400'000,
                 [](settings& s, long long v) { s.entities.idle_timeout = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.entities.idle_timeout.count()); }},
      {"entities",
       "stop_timeout_ms",
       {},
       "on a stop, how long the entities have to write what is unwritten before the rest are "
       "killed",
       int_apply(100, 3'600'000,
                 [](settings& s, long long v) { s.entities.stop_timeout = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.entities.stop_timeout.count()); }},
      {"entities",
       "tombstone_ttl_ms",
       {},
       "released reservation ids are remembered this long",
       int_apply(1'000, 30LL * 86'400'000,
                 [](settings& s, long long v) { s.entities.tombstone_ttl = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.entities.tombstone_ttl.count()); }},
      {"entities",
       "call_timeout_ms",
       {},
       "deadline of one call from the HTTP edge to an entity",
       int_apply(10, 600'000,
                 [](settings& s, long long v) { s.entities.call_timeout = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.entities.call_timeout.count()); }},
      {"entities",
       "idempotency_ttl_seconds",
       {},
       "how long an Idempotency-Key and its stored answer are kept (at least a day)",
       int_apply(86'400, 365LL * 86'400,
                 [](settings& s, long long v) { s.entities.idempotency_ttl = seconds(v); }),
       [](const settings& s) { return std::to_string(s.entities.idempotency_ttl.count()); }},
      {"entities",
       "idempotency_lease_ms",
       {},
       "a request running this long under its key may be retried with the same key",
       int_apply(100, 3'600'000,
                 [](settings& s, long long v) { s.entities.idempotency_lease = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.entities.idempotency_lease.count()); }},
      {"cart",
       "max_qty_per_line",
       {},
       "units of one SKU in a cart at most",
       int_apply(1, 1'000'000,
                 [](settings& s, long long v) { s.cart.max_qty_per_line = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.cart.max_qty_per_line); }},
      {"cart",
       "max_lines",
       {},
       "lines in a cart at most",
       int_apply(1, 10'000,
                 [](settings& s, long long v) { s.cart.max_lines = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.cart.max_lines); }},
      {"cart",
       "ttl_seconds",
       {},
       "a cart untouched this long is emptied",
       int_apply(60, 365LL * 86'400, [](settings& s, long long v) { s.cart.ttl = seconds(v); }),
       [](const settings& s) { return std::to_string(s.cart.ttl.count()); }},
      {"cart",
       "wishlist_max",
       {},
       "products on one wishlist at most",
       int_apply(1, 100'000,
                 [](settings& s, long long v) { s.cart.wishlist_max = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.cart.wishlist_max); }},
      {"cart",
       "write_behind_ms",
       {},
       "a cart change reaches the store within this",
       int_apply(0, 60'000,
                 [](settings& s, long long v) { s.cart.write_behind = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.cart.write_behind.count()); }},
      {"bank",
       "mode",
       {},
       "payment provider: http (the simulated bank on this node's edge, called over loopback "
       "HTTP), internal (the in-process actor) or external (a bank at bank.url)",
       choice_apply(
           bank_mode_names, [](auto& s) -> auto& { return s.bank.mode; }),
       choice_show(
           bank_mode_names, [](auto& s) -> auto& { return s.bank.mode; })},
      {"bank",
       "url",
       {},
       "base URL of the external bank, e.g. http://127.0.0.1:8090 (bank.mode = external)",
       [](settings& s, const std::string& v) -> std::string {
         auto host = v.rfind("http://", 0) == 0 ? v.substr(7) : std::string{};
         if (!v.empty() &&
             (host.empty() || host.find('/') != std::string::npos || !parse_endpoint(host, false)))
           return "empty, or http://HOST:PORT";
         s.bank.url = v;
         return {};
       },
       [](const settings& s) { return quote(s.bank.url); }},
      {"bank",
       "webhook_secret",
       {},
       "HMAC secret of the bank's signed callbacks, shared by souk and the bank (empty: "
       "generated at first start and kept in the store)",
       [](settings& s, const std::string& v) -> std::string {
         if (!v.empty() && (v.size() < 16 || v.size() > 1024))
           return "empty, or 16 to 1024 characters";
         s.bank.webhook_secret = v;
         return {};
       },
       [](const settings& s) { return quote(s.bank.webhook_secret.empty() ? "" : "********"); }},
      {"bank",
       "callback_url",
       {},
       "where the bank sends callbacks (empty: this node's edge + /v1/payments/callback)",
       [](settings& s, const std::string& v) -> std::string {
         if (!v.empty() && v.rfind("http://", 0) != 0)
           return "empty, or an http:// URL";
         s.bank.callback_url = v;
         return {};
       },
       [](const settings& s) { return quote(s.bank.callback_url); }},
      {"bank",
       "call_timeout_ms",
       {},
       "deadline of one HTTP call to the bank (keep it below orders.step_timeout_ms)",
       int_apply(10, 600'000,
                 [](settings& s, long long v) { s.bank.call_timeout = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.bank.call_timeout.count()); }},
      {"bank",
       "connections",
       {},
       "connections souk keeps open to the bank at most, reused call after call; a call that "
       "finds them all busy waits for one within bank.call_timeout_ms",
       int_apply(1, 10'000,
                 [](settings& s, long long v) { s.bank.connections = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.bank.connections); }},
      {"bank",
       "callback_attempts",
       {},
       "simulated bank: attempts per callback until a 2xx answer",
       int_apply(1, 1000,
                 [](settings& s, long long v) { s.bank.callback_attempts = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.bank.callback_attempts); }},
      {"bank",
       "callback_backoff_ms",
       {},
       "simulated bank: wait before retrying a callback, doubled each attempt (at most 30 s)",
       int_apply(1, 600'000,
                 [](settings& s, long long v) { s.bank.callback_backoff = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.bank.callback_backoff.count()); }},
      {"bank",
       "only",
       {},
       "run only the simulated bank (its routes and /healthz) in this process; --bank-only "
       "alone means true",
       [](settings& s, const std::string& v) -> std::string {
         if (v != "true" && v != "false")
           return "true or false";
         s.bank.only = v == "true";
         return {};
       },
       [](const settings& s) { return std::string{s.bank.only ? "true" : "false"}; }},
      {"bank",
       "decline_percent",
       {},
       "simulated bank: approved payments that still decline (percent)",
       int_apply(0, 100,
                 [](settings& s, long long v) { s.bank.decline_percent = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.bank.decline_percent); }},
      {"bank",
       "refuse_percent",
       {},
       "simulated bank: payments refused at creation (percent)",
       int_apply(0, 100,
                 [](settings& s, long long v) { s.bank.refuse_percent = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.bank.refuse_percent); }},
      {"bank",
       "no_answer_percent",
       {},
       "simulated bank: calls neither performed nor answered (percent)",
       int_apply(0, 100,
                 [](settings& s, long long v) { s.bank.no_answer_percent = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.bank.no_answer_percent); }},
      {"bank",
       "lost_reply_percent",
       {},
       "simulated bank: calls performed whose answer is lost (percent)",
       int_apply(0, 100,
                 [](settings& s, long long v) { s.bank.lost_reply_percent = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.bank.lost_reply_percent); }},
      {"bank",
       "delay_ms",
       {},
       "simulated bank: every answer comes this late",
       int_apply(0, 600'000, [](settings& s, long long v) { s.bank.delay = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.bank.delay.count()); }},
      {"bank",
       "duplicate_callbacks",
       {},
       "simulated bank: send every callback twice",
       [](settings& s, const std::string& v) -> std::string {
         if (v != "true" && v != "false")
           return "true or false";
         s.bank.duplicate_callbacks = v == "true";
         return {};
       },
       [](const settings& s) {
         return std::string{s.bank.duplicate_callbacks ? "true" : "false"};
       }},
      {"bank",
       "callback_delay_ms",
       {},
       "simulated bank: callbacks come this late",
       int_apply(0, 600'000,
                 [](settings& s, long long v) { s.bank.callback_delay = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.bank.callback_delay.count()); }},
      {"bank",
       "auto_approve",
       {},
       "simulated bank: approve every payment at once, without the 3-DS page",
       [](settings& s, const std::string& v) -> std::string {
         if (v != "true" && v != "false")
           return "true or false";
         s.bank.auto_approve = v == "true";
         return {};
       },
       [](const settings& s) { return std::string{s.bank.auto_approve ? "true" : "false"}; }},
      {"bank",
       "seed",
       {},
       "simulated bank: seed of its fault draws",
       int_apply(0, std::numeric_limits<std::int64_t>::max(),
                 [](settings& s, long long v) { s.bank.seed = static_cast<std::uint64_t>(v); }),
       [](const settings& s) { return std::to_string(s.bank.seed); }},
      {"bank",
       "retention_ms",
       {},
       "simulated bank: idempotency records and delivered callbacks are kept this long",
       int_apply(1'000, 365LL * 86'400'000,
                 [](settings& s, long long v) { s.bank.retention = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.bank.retention.count()); }},
      {"bank",
       "sweep_every_ms",
       {},
       "simulated bank: how often it forgets records older than bank.retention_ms",
       int_apply(100, 86'400'000,
                 [](settings& s, long long v) { s.bank.sweep_every = milliseconds(v); }),
       [](const settings& s) { return std::to_string(s.bank.sweep_every.count()); }},
      {"bank",
       "sweep_batch",
       {},
       "simulated bank: rows one sweep transaction looks at (bank calls wait for it)",
       int_apply(1, 1'000'000,
                 [](settings& s, long long v) { s.bank.sweep_batch = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.bank.sweep_batch); }},
      {"warehouse",
       "step_seconds",
       {"--wms-step-seconds"},
       "length of each simulated warehouse step (0: only ops calls move orders)",
       int_apply(0, 86'400, [](settings& s, long long v) { s.warehouse.step = seconds(v); }),
       [](const settings& s) { return std::to_string(s.warehouse.step.count()); }},
      {"log",
       "level",
       {},
       "lowest level logged: debug, info, warn or error",
       [](settings& s, const std::string& v) -> std::string {
         if (!base::parse_log_level(v, s.log.level))
           return "debug, info, warn or error";
         return {};
       },
       [](const settings& s) { return quote(base::to_string(s.log.level)); }},
      {"log",
       "file",
       {},
       "append log lines to this file (empty: standard error)",
       [](settings& s, const std::string& v) -> std::string {
         s.log.file = v;
         return {};
       },
       [](const settings& s) { return quote(s.log.file); }},
      {"admin",
       "email",
       {},
       "e-mail of the admin account created at first start",
       [](settings& s, const std::string& v) -> std::string {
         auto at = v.find('@');
         if (v.size() > 254 || at == std::string::npos || at == 0 || at + 1 == v.size())
           return "an e-mail address such as admin@souk.local";
         s.admin.email = v;
         return {};
       },
       [](const settings& s) { return quote(s.admin.email); }},
      {"admin",
       "password",
       {},
       "password of that account (empty: generated, logged once)",
       [](settings& s, const std::string& v) -> std::string {
         if (!v.empty() && (v.size() < 8 || v.size() > 1024))
           return "empty, or 8 to 1024 characters";
         s.admin.password = v;
         return {};
       },
       [](const settings& s) { return quote(s.admin.password.empty() ? "" : "********"); }},
      {"auth",
       "token_secret",
       {},
       "HMAC secret of bearer tokens, shared by the cluster (empty: generated per node)",
       [](settings& s, const std::string& v) -> std::string {
         if (!v.empty() && (v.size() < 32 || v.size() > 1024))
           return "empty, or 32 to 1024 characters";
         s.auth.token_secret = v;
         return {};
       },
       [](const settings& s) { return quote(s.auth.token_secret.empty() ? "" : "********"); }},
      {"auth",
       "token_ttl_seconds",
       {},
       "how long a bearer token is valid",
       int_apply(60, 30 * 86'400,
                 [](settings& s, long long v) { s.auth.token_ttl = std::chrono::seconds(v); }),
       [](const settings& s) { return std::to_string(s.auth.token_ttl.count()); }},
      {"auth",
       "token_cache_entries",
       {},
       "verified tokens remembered, so a token seen again skips its HMAC (0: none)",
       int_apply(0, 10'000'000,
                 [](settings& s, long long v) { s.auth.token_cache_entries = std::size_t(v); }),
       [](const settings& s) { return std::to_string(s.auth.token_cache_entries); }},
      {"auth",
       "password_iterations",
       {},
       "PBKDF2-HMAC-SHA256 rounds of a new password hash",
       int_apply(
           1'000, 10'000'000,
           [](settings& s, long long v) { s.auth.password_iterations = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.auth.password_iterations); }},
      {"auth",
       "kdf_threads",
       {},
       "threads deriving password keys",
       int_apply(1, 64, [](settings& s, long long v) { s.auth.kdf_threads = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.auth.kdf_threads); }},
      {"auth",
       "kdf_max_pending",
       {},
       "password derivations waiting at most; more are answered 503",
       int_apply(1, 1'000'000,
                 [](settings& s, long long v) { s.auth.kdf_max_pending = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.auth.kdf_max_pending); }},
      {"events",
       "per_user",
       {},
       "order events kept per buyer, so a reconnecting stream gets what it missed",
       int_apply(1, 10'000,
                 [](settings& s, long long v) { s.events.per_user = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.events.per_user); }},
      {"events",
       "max_users",
       {},
       "buyers whose recent events are kept at most (the least recently active go first)",
       int_apply(1, 100'000'000,
                 [](settings& s, long long v) { s.events.max_users = static_cast<int>(v); }),
       [](const settings& s) { return std::to_string(s.events.max_users); }},
  };
  return defs;
}

const setting_def* find_def(const std::string& name) {
  for (auto& def : definitions())
    if (def.name() == name)
      return &def;
  return nullptr;
}

std::string keys_of_section(const std::string& section) {
  std::string out;
  for (auto& def : definitions())
    if (def.section == section)
      out += (out.empty() ? "" : ", ") + def.key;
  return out;
}

std::string sections() {
  std::string out;
  for (auto& def : definitions())
    if (out.find("[" + def.section + "]") == std::string::npos)
      out += (out.empty() ? "[" : ", [") + def.section + "]";
  return out;
}

/// Applies `value` for `def`, recording a one-line refusal in `errors`.
void apply(const setting_def& def, const std::string& value, const std::string& origin,
           settings& out, std::vector<std::string>& errors) {
  if (auto allowed = def.apply(out, value); !allowed.empty())
    errors.push_back("setting " + def.name() + ": value " + quote(value) + " from " + origin +
                     " is not allowed; expected " + allowed);
}

/// `text` with control characters written as escapes, so that an error stays on one line.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

/// One value of the config file with its dotted path: the section, then the key. Sections do
/// not nest, so a longer path means a key in a nested table, refused.
struct file_entry {
  std::vector<std::string> path;
  const toml::node* value;
  toml::source_position where; ///< of the key
};

/// Lists the values of `table` below `path` into `out`, descending into [section] tables and
/// dotted keys. Inline tables and empty tables below a section are listed as values, to be
/// refused.
void list_entries(const toml::table& table, std::vector<std::string>& path,
                  std::vector<file_entry>& out) {
  for (auto&& [key, node] : table) {
    path.emplace_back(key.str());
    auto* inner = node.as_table();
    if (inner != nullptr && !inner->is_inline() && !(inner->empty() && path.size() > 1))
      list_entries(*inner, path, out);
    else
      out.push_back({path, &node, key.source().begin});
    path.pop_back();
  }
}

/// What makes `node` a form the config file does not take, or an empty string.
std::string unsupported_form(const toml::node& node) {
  if (auto* table = node.as_table(); table != nullptr && table->is_inline())
    return "an inline table ({...})";
  if (auto* array = node.as_array()) {
    for (auto& item : *array) {
      if (item.is_table())
        return "an array of tables ([[...]] or [{...}])";
      if (item.is_array())
        return "a nested array";
    }
  }
  return {};
}

/// A scalar TOML value as the text `apply` takes: strings as they are, integers in decimal
/// (whatever base the file used), booleans as true or false, floats, dates and times as TOML
/// writes them (no setting takes those; the refusal shows the value).
std::string value_text(const toml::node& node) {
  if (auto* text = node.as_string())
    return text->get();
  if (auto* number = node.as_integer())
    return std::to_string(number->get());
  if (auto* flag = node.as_boolean())
    return flag->get() ? "true" : "false";
  std::ostringstream out;
  node.visit([&out](auto&& value) { out << value; });
  return out.str();
}

/// Reads the TOML file `path` with toml++ and applies every key, refusing unknown ones. Every
/// key belongs in one [section]; only cluster.seeds takes an array. toml++ refuses what is not
/// TOML 1.0 (a key set twice, a bare word as a value) with a line and column.
void apply_file(const std::string& path, settings& out, std::vector<std::string>& errors) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    errors.push_back("setting --config: cannot read config file " + quote(path) +
                     ": it is a folder");
    return;
  }
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    errors.push_back("setting --config: cannot read config file " + quote(path) + ": " +
                     std::strerror(errno));
    return;
  }
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  if (in.bad()) {
    errors.push_back("setting --config: cannot read config file " + quote(path));
    return;
  }
  auto origin = "config file " + quote(path);
  // Debian's toml++ is a compiled library built with exceptions, so toml::parse throws; the
  // error stays here.
  toml::table document;
  try {
    document = toml::parse(text);
  } catch (const toml::parse_error& e) {
    auto& at = e.source().begin;
    errors.push_back(origin + " is not valid TOML: line " + std::to_string(at.line) + ", column " +
                     std::to_string(at.column) + ": " + one_line(e.description()));
    return;
  } catch (const std::exception& e) {
    errors.push_back(origin + " could not be read: " + one_line(e.what()));
    return;
  }

  std::vector<file_entry> entries;
  std::vector<std::string> prefix;
  list_entries(document, prefix, entries);
  // toml++ keeps keys sorted by name; report in the file's order.
  std::stable_sort(entries.begin(), entries.end(), [](auto& a, auto& b) {
    return a.where.line != b.where.line ? a.where.line < b.where.line
                                        : a.where.column < b.where.column;
  });
  for (auto& entry : entries) {
    std::string full;
    for (auto& part : entry.path)
      full += (full.empty() ? "" : ".") + part;
    auto where = origin + " line " + std::to_string(entry.where.line);
    if (auto form = unsupported_form(*entry.value); !form.empty()) {
      errors.push_back(where + ": key " + quote(full) + " is " + form +
                       ", which is not supported; write one key = value per setting under its "
                       "[section]");
      continue;
    }
    if (entry.value->is_table()) { // an empty table below a section
      errors.push_back(where + ": table [" + full +
                       "] is not allowed; sections do not nest, every key belongs in one of the "
                       "sections " +
                       sections());
      continue;
    }
    if (entry.path.size() != 2) {
      errors.push_back(where + ": key " + quote(full) +
                       " is not allowed; every key belongs in one of the sections " + sections());
      continue;
    }
    auto* def = find_def(full);
    if (def == nullptr) {
      auto known = keys_of_section(entry.path.front());
      errors.push_back(where + ": unknown key " + quote(full) +
                       (known.empty() ? "; the sections are " + sections()
                                      : "; [" + entry.path.front() + "] knows " + known));
      continue;
    }
    std::string value;
    if (auto* array = entry.value->as_array()) {
      if (!def->is_list) {
        errors.push_back("setting " + full + " in " + where + " takes one value, got an array of " +
                         std::to_string(array->size()));
        continue;
      }
      for (auto& item : *array)
        value += (value.empty() ? "" : ",") + value_text(item);
    } else {
      value = value_text(*entry.value);
    }
    apply(*def, value, where, out, errors);
  }
}

void check_consistency(const settings& s, std::vector<std::string>& errors) {
  if (s.bank.mode == bank_mode::external && s.bank.url.empty() && !s.bank.only)
    errors.push_back("setting bank.mode is \"external\" but bank.url is empty; set bank.url to "
                     "the bank's http://HOST:PORT");
  // A bank-only process runs no sagas, so its horizon is nobody's.
  auto horizon = s.bank.only ? 0 : s.orders.retry_horizon.count();
  if (horizon > 0 && horizon >= s.entities.tombstone_ttl.count())
    errors.push_back("setting orders.retry_horizon_ms is " + std::to_string(horizon) +
                     " but must be below entities.tombstone_ttl_ms (" +
                     std::to_string(s.entities.tombstone_ttl.count()) +
                     "): a saga would resend steps the stock and the warehouses have forgotten");
  if (horizon > 0 && s.bank.mode != bank_mode::external && horizon >= s.bank.retention.count())
    errors.push_back("setting orders.retry_horizon_ms is " + std::to_string(horizon) +
                     " but must be below bank.retention_ms (" +
                     std::to_string(s.bank.retention.count()) +
                     "): a saga would resend refunds the bank has forgotten");
  if (s.http.listen == s.cluster.listen && s.http.listen.port != 0)
    errors.push_back("settings http.listen and cluster.listen are both " +
                     quote(s.http.listen.to_string()) + "; they must differ");
  if (s.http.tls_cert_file.empty() != s.http.tls_key_file.empty())
    errors.push_back(
        std::string{"settings http.tls_cert_file and http.tls_key_file go together: "} +
        (s.http.tls_cert_file.empty() ? "http.tls_key_file is " + quote(s.http.tls_key_file) +
                                            " but http.tls_cert_file is empty"
                                      : "http.tls_cert_file is " + quote(s.http.tls_cert_file) +
                                            " but http.tls_key_file is empty") +
        "; set both for HTTPS or neither for plain HTTP");
}

} // namespace

std::string endpoint::to_string() const {
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<endpoint> parse_endpoint(const std::string& text, bool allow_zero_port) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
      return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      return std::nullopt; // an IPv6 host must be bracketed
  }
  auto host_ok = [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == ':';
  };
  if (host.empty() || host.size() > 253 || !std::all_of(host.begin(), host.end(), host_ok))
    return std::nullopt;
  long long value = 0;
  if (!parse_int(port, allow_zero_port ? 0 : 1, 65535, value).empty())
    return std::nullopt;
  return endpoint{host, static_cast<std::uint16_t>(value)};
}

env_map process_environment() {
  env_map out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text{*entry};
    auto eq = text.find('=');
    if (eq != std::string::npos)
      out.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return out;
}

std::string to_toml(const settings& values) {
  std::string out = "# souk node settings (effective values)\n";
  std::string section;
  for (auto& def : definitions()) {
    if (def.section != section) {
      section = def.section;
      out += "\n[" + section + "]\n";
    }
    out += "# " + def.help + " (" + def.flag() + ", " + def.env() + ")\n";
    out += def.key + " = " + def.show(values) + "\n";
  }
  return out;
}

load_result load(const std::vector<std::string>& args, const env_map& env) {
  load_result result;
  auto& defs = definitions();

  // 1. Flags, parsed first so that --config and --help are known; applied last.
  CLI::App app{"soukd: one node of the souk marketplace", "soukd"};
  app.set_version_flag("--version", std::string{"soukd "} + SOUK_VERSION);
  std::string config_file;
  bool print_config = false;
  app.add_option("--config", config_file, "TOML config file (see config/souk.example.toml)");
  app.add_flag("--print-config", print_config, "print the effective settings as TOML and exit");
  std::vector<std::string> flag_values(defs.size());
  std::vector<CLI::Option*> flag_options(defs.size());
  for (std::size_t i = 0; i < defs.size(); ++i) {
    std::string names = defs[i].flag();
    for (auto& alias : defs[i].aliases)
      names += "," + alias;
    flag_options[i] =
        app.add_option(names, flag_values[i], defs[i].help + " [" + defs[i].env() + "]");
    // A flag given twice takes the last value, as with most Unix tools (scripts append).
    flag_options[i]->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  // CLI11 wants the arguments after the program name, last first. (Its argc/argv overload
  // throws std::length_error for an empty list.)
  std::vector<std::string> reversed;
  for (std::size_t i = args.size(); i > 1; --i) {
    // `--bank-only` is a switch: alone (not followed by true or false) it means true.
    auto& arg = args[i - 1];
    bool bare =
        arg == "--bank-only" && (i == args.size() || (args[i] != "true" && args[i] != "false"));
    reversed.push_back(bare ? std::string{"--bank-only=true"} : arg);
  }
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    result.exit_now = true;
    result.output = app.help();
    return result;
  } catch (const CLI::CallForVersion&) {
    result.exit_now = true;
    result.output = std::string{"soukd "} + SOUK_VERSION + "\n";
    return result;
  } catch (const CLI::ParseError& e) {
    result.exit_now = true;
    result.exit_code = 2;
    result.errors.push_back(std::string{"command line: "} + e.what() + " (see soukd --help)");
    return result;
  }

  // 2. The config file.
  if (!config_file.empty()) {
    result.values.config_file = config_file;
    apply_file(config_file, result.values, result.errors);
  }

  // 3. SOUK_<SECTION>_<KEY> variables; a SOUK_ variable that names no setting is refused.
  for (auto& [name, value] : env) {
    if (name.rfind("SOUK_", 0) != 0)
      continue;
    // (A structured binding cannot be captured before C++20: clang refuses it; name it.)
    auto def =
        std::find_if(defs.begin(), defs.end(), [&var = name](auto& d) { return d.env() == var; });
    if (def == defs.end()) {
      result.errors.push_back("environment variable " + name +
                              " names no setting; the SOUK_ variables are SOUK_<SECTION>_<KEY> "
                              "for the keys of soukd --print-config");
      continue;
    }
    apply(*def, value, "environment variable " + name, result.values, result.errors);
  }

  // 4. Flags.
  for (std::size_t i = 0; i < defs.size(); ++i)
    if (flag_options[i]->count() > 0)
      apply(defs[i], flag_values[i], "flag " + defs[i].flag(), result.values, result.errors);

  check_consistency(result.values, result.errors);
  if (!result.errors.empty()) {
    result.exit_now = true;
    result.exit_code = 2;
  } else if (print_config) {
    result.exit_now = true;
    result.output = to_toml(result.values);
  }
  return result;
}

} // namespace souk::config
