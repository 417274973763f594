#include "base/time.hpp"
#include "http/catalog_json.hpp"
#include "http/problem.hpp"
#include "http/routes/client_routes.hpp"

#include <algorithm>
#include <cctype>

namespace souk::http {

namespace {

using json = nlohmann::json;

bool valid_email(const std::string& e) {
  if (e.size() < 3 || e.size() > 254)
    return false;
  auto at = e.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= e.size() ||
      e.find('@', at + 1) != std::string::npos)
    return false;
  if (e.find('.', at) == std::string::npos)
    return false;
  return std::all_of(e.begin(), e.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

/// A string member of 1..max bytes, or answers 422 naming it.
std::optional<std::string> required_text(const json& body, const char* name, std::size_t max,
                                         const std::string& trace, responder& respond) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) {
    respond(invalid(std::string{"/"} + name, std::string{name} + " must be a string", trace));
    return std::nullopt;
  }
  auto v = it->get<std::string>();
  if (v.empty() || v.size() > max) {
    respond(invalid(std::string{"/"} + name,
                    std::string{name} + " must have 1 to " + std::to_string(max) + " characters",
                    trace));
    return std::nullopt;
  }
  return v;
}

json session_json(const principal& p) {
  return {{"token", ""},
          {"user_id", p.subject},
          {"role", p.role},
          {"expires_at", base::format_rfc3339(std::chrono::system_clock::time_point{
                             std::chrono::seconds{p.expires_at}})}};
}

/// Moves the lines of the guest's cart into the user's, then empties the guest's. Failures
/// leave the guest cart as it is (the buyer loses nothing) and do not fail the login.
void merge_guest_cart(std::shared_ptr<const client_env> env, const std::string& guest,
                      const std::string& user, std::function<void()> done) {
  env->gateway->cart_get(
      guest, env->call_deadline,
      [env, guest, user, done = std::move(done)](actors::call_status st,
                                                 actors::cart_answer a) mutable {
        if (!st.ok()) {
          done();
          return;
        }
        actors::cart_merge_cmd cmd;
        cmd.from = guest;
        auto body = json::parse(a.body, nullptr, false);
        if (body.is_object() && body.contains("items"))
          for (auto& item : body["items"])
            cmd.lines.push_back({item.value("sku", ""), item.value("product_id", std::int64_t{0}),
                                 item.value("title", ""), item.value("qty", std::int64_t{0}),
                                 item["unit_price"].value("amount", std::int64_t{0})});
        if (cmd.lines.empty()) {
          done();
          return;
        }
        auto version = version_of(a.body);
        env->gateway->cart_merge(
            user, std::move(cmd), env->call_deadline,
            [env, guest, version, done = std::move(done)](actors::call_status st2,
                                                          actors::cart_answer merged) mutable {
              if (!st2.ok() || !merged.code.empty()) {
                done();
                return;
              }
              env->gateway->cart_clear(
                  guest, version, env->call_deadline,
                  [done = std::move(done)](actors::call_status, actors::cart_answer) { done(); });
            });
      });
}

} // namespace

std::string normalize_email(std::string_view email) {
  while (!email.empty() && std::isspace(static_cast<unsigned char>(email.front())))
    email.remove_prefix(1);
  while (!email.empty() && std::isspace(static_cast<unsigned char>(email.back())))
    email.remove_suffix(1);
  std::string out{email};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string user_id_of_email(const std::string& normalized_email) {
  return "u_" + sha256_hex("souk user\n" + normalized_email).substr(0, 24);
}

void add_account_routes(router& routes, std::shared_ptr<const client_env> env) {
  // A stored hash that no password matches: verifying against it when the account does not
  // exist makes a login for an unknown address take as long as one with a wrong password.
  auto decoy = std::make_shared<const std::string>(
      hash_password("decoy password, matches nothing", env->passwords->iterations()));
  routes.add(bhttp::verb::post, "/v1/users", [env](const request_context& ctx, responder respond) {
    auto body = object_body(ctx, respond);
    if (!body || refuse_unknown_members(*body, {"email", "password", "name", "region"},
                                        ctx.trace_id, respond))
      return;
    auto trace = ctx.trace_id;
    auto email_raw = required_text(*body, "email", 254, trace, respond);
    if (!email_raw)
      return;
    auto email = normalize_email(*email_raw);
    if (!valid_email(email)) {
      respond(invalid("/email", "email must be an address like name@example.com", trace));
      return;
    }
    auto password = required_text(*body, "password", 128, trace, respond);
    if (!password)
      return;
    if (password->size() < 8) {
      respond(invalid("/password", "password must have at least 8 characters", trace));
      return;
    }
    auto name = required_text(*body, "name", 100, trace, respond);
    if (!name)
      return;
    auto region = required_text(*body, "region", 64, trace, respond);
    if (!region)
      return;
    auto regions = env->catalog->regions();
    if (std::none_of(regions.begin(), regions.end(),
                     [&](const actors::region_view& r) { return r.id == *region; })) {
      respond(invalid("/region", "region must be one of GET /v1/regions", trace));
      return;
    }
    actors::user_profile profile;
    profile.id = user_id_of_email(email);
    profile.email = email;
    profile.name = *name;
    profile.region = *region;
    profile.role = "buyer";
    auto pw = *password;
    idempotent(
        ctx, env, "", false,
        [env, profile, pw, trace](const std::string&, responder reply) mutable {
          env->passwords->hash(pw, [env, profile, trace, reply = std::move(reply)](
                                       std::optional<std::string> record) mutable {
            if (!record) {
              reply(gateway_problem({"overloaded", ""}, trace));
              return;
            }
            profile.password_hash = *record;
            env->gateway->user_create(
                profile, env->call_deadline,
                [trace, reply = std::move(reply)](actors::call_status st,
                                                  actors::user_answer a) mutable {
                  if (!st.ok()) {
                    reply(gateway_problem(st, trace));
                    return;
                  }
                  if (a.code == "email_taken") {
                    reply(make_problem(409, "email_taken",
                                       "an account with this email exists already", trace));
                    return;
                  }
                  auto& p = a.profile;
                  auto res = make_json(
                      201,
                      {{"id", p.id},
                       {"email", p.email},
                       {"name", p.name},
                       {"region", p.region},
                       {"role", p.role},
                       {"created_at", base::format_rfc3339(std::chrono::system_clock::time_point{
                                          std::chrono::milliseconds{p.created_at_ms}})}});
                  res.set(bhttp::field::location, "/v1/users/" + p.id);
                  reply(std::move(res));
                });
          });
        },
        std::move(respond));
  });

  routes.add(
      bhttp::verb::post, "/v1/sessions",
      [env, decoy](const request_context& ctx, responder respond) {
        auto body = object_body(ctx, respond);
        if (!body || refuse_unknown_members(*body, {"email", "password", "guest_token"},
                                            ctx.trace_id, respond))
          return;
        auto trace = ctx.trace_id;
        auto email_raw = required_text(*body, "email", 254, trace, respond);
        if (!email_raw)
          return;
        auto password = required_text(*body, "password", 128, trace, respond);
        if (!password)
          return;
        std::string guest;
        if (body->contains("guest_token")) {
          auto& g = (*body)["guest_token"];
          token_error err = token_error::missing;
          auto who = g.is_string()
                         ? verify_token(g.get<std::string>(), env->token_secret, unix_now(), err)
                         : std::nullopt;
          if (!who || who->subject.rfind("g_", 0) != 0) {
            respond(
                invalid("/guest_token", "guest_token must be a valid guest session token", trace));
            return;
          }
          guest = who->subject;
        }
        auto id = user_id_of_email(normalize_email(*email_raw));
        auto pw = *password;
        // A login is not replayed from an Idempotency-Key: the stored answer would keep a
        // bearer token at rest, and logging in again is harmless anyway.
        auto run = [env, decoy, id, pw, guest, trace](const std::string&, responder reply) mutable {
          env->gateway->user_get(
              id, env->call_deadline,
              [env, decoy, pw, guest, trace,
               reply = std::move(reply)](actors::call_status st, actors::user_answer a) mutable {
                if (!st.ok()) {
                  reply(gateway_problem(st, trace));
                  return;
                }
                bool known = a.code.empty();
                auto record = known ? a.profile.password_hash : *decoy;
                env->passwords->verify(
                    pw, record,
                    [env, known, profile = a.profile, guest, trace,
                     reply = std::move(reply)](std::optional<bool> match) mutable {
                      if (!match) {
                        reply(gateway_problem({"overloaded", ""}, trace));
                        return;
                      }
                      if (!known || !*match) {
                        reply(make_problem(401, "invalid_credentials",
                                           "the email or the password is wrong", trace));
                        return;
                      }
                      principal p{profile.id, profile.role, unix_now() + env->token_ttl.count(),
                                  profile.region};
                      auto out = session_json(p);
                      out["token"] = sign_token(p, env->token_secret);
                      auto answer = [out, reply = std::move(reply)]() mutable {
                        reply(make_json(201, out));
                      };
                      if (guest.empty())
                        answer();
                      else
                        merge_guest_cart(env, guest, profile.id, std::move(answer));
                    });
              });
        };
        run(std::string{}, std::move(respond));
      });

  routes.add(bhttp::verb::post, "/v1/sessions/guest",
             [env](const request_context& ctx, responder respond) {
               auto body = object_body(ctx, respond, true);
               if (!body || refuse_unknown_members(*body, {}, ctx.trace_id, respond))
                 return;
               std::string id;
               try {
                 id = "g_" + random_secret(12);
               } catch (const std::exception&) {
                 respond(gateway_problem({"unavailable", ""}, ctx.trace_id));
                 return;
               }
               principal p{id, "guest", unix_now() + env->token_ttl.count(), {}};
               auto out = session_json(p);
               out["token"] = sign_token(p, env->token_secret);
               respond(make_json(201, out));
             });
}

} // namespace souk::http
