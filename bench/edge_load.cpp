// Load against a running soukd's client API over real HTTP/1.1 keep-alive connections, for the
// issue-5 benchmarks (README "Benchmarks"; bench/client_bench.sh runs it):
//   --mode rate   open loop: POST /v1/checkout at --rate per second for --seconds, each on a
//                 fresh cart (one guest per checkout, its cart filled before the clock starts);
//                 prints achieved checkouts/s and the latency p50/p90/p99/max of the checkouts.
//   --mode flash  --buyers guests each put one unit of --sku in their cart, the SKU is set to
//                 --units on hand, then every buyer checks out at once; prints how many got 201,
//                 409 insufficient_stock and anything else, and the time until the last answer.
//   --mode max    closed loop: as many checkouts as --connections keep in flight (throughput).
// The setup (guest sessions, carts, stock) uses the admin account (--admin-password).
// --pause-ms N (rate/max): after the setup, print "setup done" on standard error and wait N ms
// before the clock starts, so a profiler can tell the checkouts' cost from the setup's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

struct options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string mode = "rate";
  int rate = 2000;
  int seconds = 10;
  int connections = 128;
  int buyers = 2000;
  int units = 50;
  std::string sku;
  int skus = 200; ///< rate/max: SKUs the checkouts spread over (stock set high first)
  std::string admin_email = "admin@souk.local";
  std::string admin_password;
  int pause_ms = 0; ///< between the setup and the checkouts
};

/// One request to send and, when answered, what came back.
struct call {
  http::verb method;
  std::string target;
  std::string body;
  std::string token;
  std::string idempotency_key;
  clock_type::time_point due;
  unsigned status = 0;
  std::string answer;
  double latency_ms = 0;
};

/// A fixed pool of keep-alive connections working through a list of calls; a call is sent at
/// its `due` time (open loop) or as soon as a connection is free (when due is in the past).
class driver {
public:
  driver(const options& o, int connections) : opt_(o), connections_(connections) {}

  void run(std::vector<call>& calls) {
    calls_ = &calls;
    next_ = 0;
    tcp::resolver resolver{io_};
    auto endpoints = resolver.resolve(opt_.host, opt_.port);
    for (int i = 0; i < connections_; ++i) {
      auto c = std::make_shared<conn>(io_);
      c->stream.connect(endpoints);
      start(c);
    }
    io_.run();
    io_.restart();
  }

private:
  struct conn {
    explicit conn(asio::io_context& io) : stream(io), timer(io) {}
    beast::tcp_stream stream;
    asio::steady_timer timer;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    std::size_t index = 0;
    clock_type::time_point sent;
  };

  void start(std::shared_ptr<conn> c) {
    if (next_ >= calls_->size())
      return;
    c->index = next_++;
    auto& k = (*calls_)[c->index];
    auto now = clock_type::now();
    if (k.due > now) {
      c->timer.expires_at(k.due);
      c->timer.async_wait([this, c](beast::error_code) { send(c); });
    } else {
      send(c);
    }
  }

  void send(std::shared_ptr<conn> c) {
    auto& k = (*calls_)[c->index];
    c->req = {k.method, k.target, 11};
    c->req.set(http::field::host, opt_.host);
    c->req.keep_alive(true);
    if (!k.token.empty())
      c->req.set(http::field::authorization, "Bearer " + k.token);
    if (!k.idempotency_key.empty())
      c->req.set("Idempotency-Key", k.idempotency_key);
    if (!k.body.empty())
      c->req.set(http::field::content_type, "application/json");
    c->req.body() = k.body;
    c->req.prepare_payload();
    c->sent = clock_type::now();
    c->stream.expires_after(std::chrono::seconds(30));
    http::async_write(c->stream, c->req, [this, c](beast::error_code ec, std::size_t) {
      if (ec)
        return fail(c, ec);
      c->res = {};
      http::async_read(c->stream, c->buffer, c->res, [this, c](beast::error_code ec2, std::size_t) {
        if (ec2)
          return fail(c, ec2);
        auto& answered = (*calls_)[c->index];
        answered.status = c->res.result_int();
        answered.answer = std::move(c->res.body());
        answered.latency_ms =
            std::chrono::duration<double, std::milli>(clock_type::now() - c->sent).count();
        start(c);
      });
    });
  }

  void fail(std::shared_ptr<conn> c, beast::error_code ec) {
    auto& k = (*calls_)[c->index];
    k.status = 0;
    k.answer = ec.message();
    // The connection is gone: the rest of its share goes to the others.
  }

  const options& opt_;
  int connections_;
  asio::io_context io_;
  std::vector<call>* calls_ = nullptr;
  std::size_t next_ = 0;
};

std::vector<call> run_calls(const options& o, std::vector<call> calls, int connections) {
  driver d{o, std::max(1, std::min<int>(connections, static_cast<int>(calls.size())))};
  d.run(calls);
  return calls;
}

call make(http::verb m, std::string target, std::string body = {}, std::string token = {}) {
  call c;
  c.method = m;
  c.target = std::move(target);
  c.body = std::move(body);
  c.token = std::move(token);
  return c;
}

[[noreturn]] void die(const std::string& why) {
  std::cerr << "edge_load: " << why << "\n";
  std::exit(1);
}

std::string admin_token(const options& o) {
  auto r = run_calls(o,
                     {make(http::verb::post, "/v1/sessions",
                           json{{"email", o.admin_email}, {"password", o.admin_password}}.dump())},
                     1);
  if (r[0].status != 201)
    die("admin login failed (" + std::to_string(r[0].status) + "): " + r[0].answer);
  return json::parse(r[0].answer)["token"];
}

/// `n` guest tokens.
std::vector<std::string> guests(const options& o, int n) {
  std::vector<call> calls(static_cast<std::size_t>(n),
                          make(http::verb::post, "/v1/sessions/guest"));
  auto r = run_calls(o, std::move(calls), o.connections);
  std::vector<std::string> out;
  for (auto& c : r) {
    if (c.status != 201)
      die("guest session failed: " + std::to_string(c.status) + " " + c.answer);
    out.push_back(json::parse(c.answer)["token"]);
  }
  return out;
}

void set_stock(const options& o, const std::string& token, const std::string& sku,
               std::int64_t units) {
  // The whole amount in the first warehouse, none in the others.
  auto regions = run_calls(o, {make(http::verb::get, "/v1/regions")}, 1);
  auto whs = json::parse(regions[0].answer)["warehouses"];
  std::vector<call> calls;
  for (std::size_t i = 0; i < whs.size(); ++i)
    calls.push_back(
        make(http::verb::put, "/v1/skus/" + sku + "/stock",
             json{{"warehouse_id", whs[i]["id"]}, {"on_hand", i == 0 ? units : 0}}.dump(), token));
  for (auto& c : run_calls(o, std::move(calls), 1))
    if (c.status != 200)
      die("set stock of " + sku + " failed: " + std::to_string(c.status) + " " + c.answer);
}

std::vector<std::string> some_skus(const options& o, int n) {
  std::vector<std::string> out;
  for (int id = 1; static_cast<int>(out.size()) < n && id <= n * 4; ++id) {
    auto r = run_calls(o, {make(http::verb::get, "/v1/products/" + std::to_string(id))}, 1);
    if (r[0].status == 200)
      out.push_back(json::parse(r[0].answer)["skus"][0]["sku"]);
  }
  if (out.empty())
    die("no products: start soukd with a demo catalog");
  return out;
}

std::vector<call> checkouts(const std::vector<std::string>& tokens, const std::string& tag) {
  std::vector<call> out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto c =
        make(http::verb::post, "/v1/checkout",
             R"({"shipping":{"region":"msk","city":"Moscow","address":"Tverskaya 1"}})", tokens[i]);
    c.idempotency_key = tag + "-" + std::to_string(i);
    out.push_back(std::move(c));
  }
  return out;
}

void fill_carts(const options& o, const std::vector<std::string>& tokens,
                const std::vector<std::string>& skus) {
  std::vector<call> adds;
  for (std::size_t i = 0; i < tokens.size(); ++i)
    adds.push_back(make(http::verb::post, "/v1/cart/items",
                        json{{"sku", skus[i % skus.size()]}, {"qty", 1}}.dump(), tokens[i]));
  for (auto& c : run_calls(o, std::move(adds), o.connections))
    if (c.status != 200)
      die("add to cart failed: " + std::to_string(c.status) + " " + c.answer);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void report(const std::vector<call>& done, double seconds, const std::string& what) {
  std::map<unsigned, int> by_status;
  std::vector<double> lat;
  for (auto& c : done) {
    ++by_status[c.status];
    lat.push_back(c.latency_ms);
  }
  std::printf("%s: %zu checkouts in %.2f s = %.0f /s; p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max "
              "%.1f ms; status:",
              what.c_str(), done.size(), seconds, static_cast<double>(done.size()) / seconds,
              percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99),
              percentile(lat, 1.0));
  for (auto& [s, n] : by_status)
    std::printf(" %u×%d", s, n);
  std::printf("\n");
}

} // namespace

int run(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host")
      o.host = v;
    else if (k == "--port")
      o.port = v;
    else if (k == "--mode")
      o.mode = v;
    else if (k == "--rate")
      o.rate = std::atoi(v.c_str());
    else if (k == "--seconds")
      o.seconds = std::atoi(v.c_str());
    else if (k == "--connections")
      o.connections = std::atoi(v.c_str());
    else if (k == "--buyers")
      o.buyers = std::atoi(v.c_str());
    else if (k == "--units")
      o.units = std::atoi(v.c_str());
    else if (k == "--sku")
      o.sku = v;
    else if (k == "--skus")
      o.skus = std::atoi(v.c_str());
    else if (k == "--admin-email")
      o.admin_email = v;
    else if (k == "--admin-password")
      o.admin_password = v;
    else if (k == "--pause-ms")
      o.pause_ms = std::atoi(v.c_str());
    else
      die("unknown option " + k);
  }
  if (o.rate < 1 || o.seconds < 1 || o.seconds > 600 || o.connections < 1 || o.buyers < 1 ||
      o.buyers > 100'000 || o.units < 0 || o.pause_ms < 0 || o.pause_ms > 600'000)
    die("out-of-range option");
  auto admin = admin_token(o);

  if (o.mode == "flash") {
    // By default a SKU the other modes never touch (they use the first --skus products).
    auto sku = o.sku.empty() ? some_skus(o, o.skus + 1).back() : o.sku;
    auto tokens = guests(o, o.buyers);
    set_stock(o, admin, sku, o.buyers); // every cart add succeeds; the sale itself is --units
    fill_carts(o, tokens, {sku});
    set_stock(o, admin, sku, o.units);
    auto calls = checkouts(tokens, "flash");
    auto t0 = clock_type::now();
    auto done = run_calls(o, std::move(calls), o.buyers); // everyone at once
    auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    int created = 0, refused = 0, other = 0;
    for (auto& c : done) {
      if (c.status == 201 || c.status == 202)
        ++created;
      else if (c.status == 409 && c.answer.find("insufficient_stock") != std::string::npos)
        ++refused;
      else
        ++other;
    }
    std::printf("flash sale: %d units of %s, %d buyers at once: %d orders, %d refused 409 "
                "insufficient_stock, %d other; last answer after %.2f s\n",
                o.units, sku.c_str(), o.buyers, created, refused, other, secs);
    return created == o.units && other == 0 ? 0 : 3;
  }

  auto skus = some_skus(o, o.skus);
  for (auto& s : skus)
    set_stock(o, admin, s, 10'000'000);
  auto n = o.mode == "rate" ? o.rate * o.seconds : o.connections * 50 * o.seconds;
  auto tokens = guests(o, n);
  fill_carts(o, tokens, skus);
  auto calls =
      checkouts(tokens, o.mode + std::to_string(clock_type::now().time_since_epoch().count()));
  if (o.pause_ms > 0) {
    std::fprintf(stderr, "setup done\n");
    std::fflush(stderr);
    std::this_thread::sleep_for(std::chrono::milliseconds(o.pause_ms));
  }
  auto t0 = clock_type::now() + std::chrono::milliseconds(100);
  if (o.mode == "rate")
    for (std::size_t i = 0; i < calls.size(); ++i)
      calls[i].due = t0 + std::chrono::microseconds(static_cast<std::int64_t>(
                              1e6 * static_cast<double>(i) / static_cast<double>(o.rate)));
  auto started = clock_type::now();
  auto done = run_calls(o, std::move(calls), o.connections);
  auto secs = std::chrono::duration<double>(clock_type::now() - started).count();
  report(done, secs,
         o.mode == "rate" ? "checkout at " + std::to_string(o.rate) + "/s offered"
                          : "checkout, " + std::to_string(o.connections) + " in flight");
  return 0;
}

int main(int argc, char** argv) {
  // A node that is not there (or went away) is a readable message, not an abort.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    die(e.what());
  }
}
