#include "http/routes/client_support.hpp"

#include "http/catalog_json.hpp"
#include "http/problem.hpp"

#include <algorithm>

#include <openssl/sha.h>

namespace souk::http {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

std::optional<principal> verify(const request_context& ctx, const client_env& env,
                                std::string_view token, token_error err, responder& respond) {
  std::optional<principal> who;
  if (err != token_error::several_headers)
    who = verify_token_cached(env.tokens.get(), token, env.token_secret, unix_now(), err);
  if (!who) {
    auto res = make_problem(
        401, "unauthorized",
        std::string{"a valid bearer token is required ("} + to_string(err) + ")", ctx.trace_id);
    res.set(bhttp::field::www_authenticate, "Bearer");
    respond(std::move(res));
  }
  return who;
}

} // namespace

std::optional<principal> authenticate(const request_context& ctx, const client_env& env,
                                      responder& respond) {
  token_error err = token_error::missing;
  auto token = bearer_of(ctx.req, err);
  return verify(ctx, env, token, err, respond);
}

std::optional<principal> authenticate_token(const request_context& ctx, const client_env& env,
                                            std::string_view token, responder& respond) {
  return verify(ctx, env, token, token_error::missing, respond);
}

bool refuse_unknown_members(const nlohmann::json& body,
                            std::initializer_list<std::string_view> known, const std::string& trace,
                            responder& respond, const std::string& at) {
  for (auto& [k, v] : body.items()) {
    if (std::find(known.begin(), known.end(), k) != known.end())
      continue;
    std::string token;
    for (char c : k)
      token += c == '~' ? std::string{"~0"} : c == '/' ? std::string{"~1"} : std::string(1, c);
    respond(invalid(at + "/" + token, "unknown field '" + k + "'", trace));
    return true;
  }
  return false;
}

response gateway_problem(const actors::call_status& status, const std::string& trace) {
  if (status.error == "timeout") {
    auto res =
        make_problem(504, "timeout", "the service did not answer in time; retry later", trace);
    res.set(bhttp::field::retry_after, "1");
    return res;
  }
  auto code = status.error == "overloaded" ? std::string{"overloaded"} : std::string{"unavailable"};
  auto res = make_problem(503, code, "the service cannot answer now; retry later", trace);
  res.set(bhttp::field::retry_after, "1");
  return res;
}

response json_text(unsigned status, std::string body) {
  response res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "application/json; charset=utf-8");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char* digits = "0123456789abcdef";
  std::string out(2 * sizeof digest, '0');
  for (std::size_t i = 0; i < sizeof digest; ++i) {
    out[2 * i] = digits[digest[i] >> 4];
    out[2 * i + 1] = digits[digest[i] & 15];
  }
  return out;
}

namespace {

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > 255)
    return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

actors::stored_response to_stored(const response& res) {
  actors::stored_response out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string{res[bhttp::field::content_type]};
  out.etag = std::string{res[bhttp::field::etag]};
  out.location = std::string{res[bhttp::field::location]};
  out.body = res.body();
  return out;
}

response from_stored(const actors::stored_response& s) {
  response res{static_cast<bhttp::status>(s.status), 11};
  if (!s.content_type.empty())
    res.set(bhttp::field::content_type, s.content_type);
  if (!s.etag.empty())
    res.set(bhttp::field::etag, s.etag);
  if (!s.location.empty())
    res.set(bhttp::field::location, s.location);
  res.set("Idempotent-Replayed", "true");
  res.body() = s.body;
  res.prepare_payload();
  return res;
}

} // namespace

void idempotent(const request_context& ctx, std::shared_ptr<const client_env> env,
                const std::string& subject, bool required,
                std::function<void(const std::string& scope, responder)> run, responder respond,
                bool in_memory_mark) {
  auto header = ctx.req.find("Idempotency-Key");
  if (header == ctx.req.end()) {
    if (required) {
      respond(make_problem(400, "idempotency_key_required",
                           "this call needs an Idempotency-Key header (1-255 visible ASCII "
                           "characters)",
                           ctx.trace_id));
      return;
    }
    run(std::string{}, std::move(respond));
    return;
  }
  auto key = std::string{header->value()};
  if (!valid_key(key)) {
    respond(make_problem(400, "invalid_idempotency_key",
                         "Idempotency-Key must be 1-255 visible ASCII characters", ctx.trace_id));
    return;
  }
  auto target = std::string{ctx.req.target()};
  auto path = target.substr(0, target.find('?'));
  auto fingerprint = sha256_hex(std::string{ctx.req.method_string()} + " " + path + "\n" +
                                sha256_hex(ctx.req.body()));
  auto scope = subject.empty() ? sha256_hex("anonymous\n" + key + "\n" + fingerprint)
                               : sha256_hex("principal\n" + subject + "\n" + key);
  auto trace = ctx.trace_id;
  auto deadline = env->call_deadline;
  env->gateway->idem_begin(
      scope, fingerprint, !in_memory_mark, deadline,
      [env, scope, fingerprint, trace, deadline, run = std::move(run),
       respond = std::move(respond)](actors::call_status st, actors::idem_answer a) mutable {
        if (!st.ok()) {
          respond(gateway_problem(st, trace));
          return;
        }
        if (a.code == "done") {
          respond(from_stored(a.response));
          return;
        }
        if (a.code == "mismatch") {
          respond(make_problem(422, "idempotency_key_reused",
                               "this Idempotency-Key was used with another request", trace));
          return;
        }
        if (a.code == "in_flight") {
          auto res = make_problem(409, "idempotency_in_flight",
                                  "a request with this Idempotency-Key is still running", trace);
          res.set(bhttp::field::retry_after, "1");
          respond(std::move(res));
          return;
        }
        // New: run it, then store (or release) the key before the client sees the answer.
        responder finish = [env, scope, fingerprint, deadline, attempt = a.attempt,
                            respond = std::move(respond)](response res) mutable {
          auto status = res.result_int();
          bool keep = status < 500 && status != 202;
          auto shared_res = std::make_shared<response>(std::move(res));
          auto deliver = [shared_res, respond = std::move(respond)](actors::call_status,
                                                                    bool) mutable {
            respond(std::move(*shared_res));
          };
          if (keep)
            env->gateway->idem_finish(scope, fingerprint, attempt, to_stored(*shared_res), deadline,
                                      std::move(deliver));
          else
            env->gateway->idem_abort(scope, fingerprint, attempt, deadline, std::move(deliver));
        };
        run(scope, std::move(finish));
      });
}

std::int64_t version_of(const std::string& body) {
  auto pos = body.rfind("\"version\":");
  if (pos == std::string::npos)
    return 0;
  std::int64_t v = 0;
  for (auto i = pos + 10; i < body.size() && body[i] >= '0' && body[i] <= '9'; ++i)
    v = v * 10 + (body[i] - '0');
  return v;
}

std::int64_t if_match_version(const request_context& ctx) {
  auto it = ctx.req.find(bhttp::field::if_match);
  if (it == ctx.req.end())
    return 0;
  std::string_view v = it->value();
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ')
    v.remove_suffix(1);
  if (v == "*")
    return 0;
  if (v.substr(0, 2) == "W/")
    v.remove_prefix(2);
  if (v.size() < 3 || v.front() != '"' || v.back() != '"' || v.size() > 20)
    return -1;
  std::int64_t out = 0;
  for (auto c : v.substr(1, v.size() - 2)) {
    if (c < '0' || c > '9')
      return -1;
    out = out * 10 + (c - '0');
  }
  return out > 0 ? out : -1;
}

} // namespace souk::http
