// libFuzzer target: arbitrary bytes as raw HTTP/1.1 from a client, through what the edge does
// with them — Beast's request parser with the edge's limits, the router populated by
// register_targets (the real route handlers and their JSON decoding), and problem rendering —
// checking the answers' invariants. Pipelined requests in one input are all served.
//
// Run: build/fuzz/fuzz/souk_fuzz_http -max_total_time=60 build/fuzz/corpus fuzz/corpus/http_request
#include "fuzz/targets.hpp"
#include "http/problem.hpp"
#include "http/server.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <nlohmann/json.hpp>

namespace {

namespace bhttp = boost::beast::http;
using souk::http::response;

/// Stops the run with `what`: libFuzzer saves the input that got here.
[[noreturn]] void fail(const std::string& what, const response* res = nullptr) {
  std::fprintf(stderr, "invariant broken: %s\n", what.c_str());
  if (res != nullptr)
    std::fprintf(stderr, "status %u, body: %.2000s\n", res->result_int(), res->body().c_str());
  std::abort();
}

/// What every answer of the edge must satisfy.
void check(const response& res) {
  auto status = res.result_int();
  if (status < 100 || status > 599)
    fail("status " + std::to_string(status) + " outside 100..599", &res);
  // Client input never makes the edge fail: 500 means a handler threw or mapped an error badly.
  if (status >= 500 && status != 503)
    fail("server error for client input", &res);
  auto type = res[bhttp::field::content_type];
  if (status >= 400 && type != "application/problem+json")
    fail("an error that is not problem+json", &res);
  if (type == "application/problem+json") {
    auto body = nlohmann::json::parse(res.body(), nullptr, false);
    if (!body.is_object())
      fail("problem body is not a JSON object", &res);
    if (body.value("status", 0U) != status)
      fail("problem status differs from the response's", &res);
    for (auto* key : {"type", "title", "detail", "code", "trace_id"})
      if (!body.contains(key) || !body[key].is_string())
        fail(std::string{"problem member missing or not a string: "} + key, &res);
    if (body["code"].get<std::string>().empty())
      fail("problem code is empty", &res);
  } else if (type.substr(0, 16) == "application/json") {
    if (nlohmann::json::parse(res.body(), nullptr, false).is_discarded())
      fail("JSON body does not parse", &res);
  }
}

/// An event stream that keeps what the handler sends, bounded.
class capture_stream final : public souk::http::event_stream {
public:
  bool send(std::string chunk) override {
    if (closed_ || text_.size() + chunk.size() > 1 << 20)
      return false;
    text_ += chunk;
    return true;
  }
  void close() override { closed_ = true; }
  bool is_open() const override { return !closed_; }
  void on_closed(std::function<void(souk::http::stream_end)> fn) override {
    callbacks_.push_back(std::move(fn));
  }
  ~capture_stream() override {
    for (auto& fn : callbacks_)
      fn(souk::http::stream_end::client_gone);
  }

private:
  bool closed_ = false;
  std::string text_;
  std::vector<std::function<void(souk::http::stream_end)>> callbacks_;
};

const souk::http::router& routes() {
  static const souk::http::router* r = [] {
    auto* out = new souk::http::router;
    souk::fuzz::register_targets(*out);
    return out;
  }();
  return *r;
}

/// Routes `req` as the server's session does and checks the answer.
void serve(souk::http::request& req) {
  const std::string trace(32, 'f');
  auto target = req.target();
  auto path = target.substr(0, target.find('?'));
  auto match = routes().match(req.method(), path);
  if (match.target == nullptr)
    return check(souk::http::unmatched_problem(match, req, path, trace));
  souk::http::request_context ctx{req, std::move(match.params), trace, match.route};
  std::shared_ptr<capture_stream> stream;
  int answers = 0;
  ctx.open_stream = [&]() -> std::shared_ptr<souk::http::event_stream> {
    ++answers;
    stream = std::make_shared<capture_stream>();
    return stream;
  };
  std::optional<response> answer;
  try {
    (*match.target)(ctx, [&](response res) {
      ++answers;
      answer = std::move(res);
    });
  } catch (const std::exception& e) {
    fail("handler of " + match.route + " threw: " + e.what());
  }
  if (answers != 1)
    fail("handler of " + match.route + " answered " + std::to_string(answers) +
         " times before returning");
  if (answer)
    check(*answer);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const souk::config::http_settings limits; // the edge's defaults
  boost::asio::const_buffer input{data, size};
  // Up to 8 pipelined requests per input, as one connection would send them.
  for (int i = 0; i < 8 && input.size() > 0; ++i) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    parser.eager(true);
    boost::system::error_code ec;
    while (input.size() > 0 && !parser.is_done()) {
      auto used = parser.put(input, ec);
      input += used;
      if (ec || used == 0)
        break;
    }
    if (ec == bhttp::error::need_more || (!ec && !parser.is_done())) {
      // The input ends inside a request: the client closed the connection there.
      ec = {};
      parser.put_eof(ec);
      if (ec == bhttp::error::end_of_stream)
        return 0; // nothing started: the server just closes
    }
    if (ec)
      return check(souk::http::read_error_problem(ec, limits, std::string(32, 'f'))), 0;
    if (!parser.is_done())
      return 0;
    auto req = parser.release();
    serve(req);
  }
  return 0;
}
