#include "actors/user/user_actor.hpp"

#include "actors/api/user_api.hpp"
#include "actors/common/entity.hpp"

#include <algorithm>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

struct user_state : entity_base {
  std::optional<user_profile> profile;
  std::vector<std::string> orders;    ///< oldest first (appending is cheap)
  std::vector<std::int64_t> wishlist; ///< most recent first

  std::string encode() const {
    nlohmann::json p = nullptr;
    if (profile)
      p = {{"id", profile->id},
           {"email", profile->email},
           {"name", profile->name},
           {"region", profile->region},
           {"role", profile->role},
           {"password_hash", profile->password_hash},
           {"created_at_ms", profile->created_at_ms}};
    return nlohmann::json{{"schema", 1}, {"profile", p}, {"orders", orders}, {"wishlist", wishlist}}
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  bool can_passivate() const { return true; }

  void decode(const std::string& text) {
    auto j = nlohmann::json::parse(text);
    if (auto& p = j.at("profile"); !p.is_null()) {
      user_profile u;
      p.at("id").get_to(u.id);
      p.at("email").get_to(u.email);
      p.at("name").get_to(u.name);
      p.at("region").get_to(u.region);
      p.at("role").get_to(u.role);
      p.at("password_hash").get_to(u.password_hash);
      p.at("created_at_ms").get_to(u.created_at_ms);
      profile = std::move(u);
    }
    j.at("orders").get_to(orders);
    j.at("wishlist").get_to(wishlist);
  }

  wishlist_answer wishes(std::string code = {}) const { return {std::move(code), wishlist}; }
};

using self_t = caf::stateful_actor<user_state>;

caf::behavior user_actor(self_t* self, std::string user_id,
                         std::shared_ptr<const entity_context> ctx) {
  auto& st = self->state;
  st.ref = {"user", user_id};
  st.ctx = std::move(ctx);
  if (auto snap = load_snapshot(st))
    st.decode(snap->state);
  start_entity(self);
  return {
      [self](user_create_atom, user_profile& p) {
        auto& s = self->state;
        ++s.routed;
        if (s.profile)
          return reply_when_durable(self, user_answer{"email_taken", *s.profile}, false);
        p.id = s.ref.key;
        if (p.created_at_ms == 0)
          p.created_at_ms = s.ctx->now_ms();
        s.profile = p;
        return reply_when_durable(self, user_answer{"", std::move(p)}, true);
      },
      [self](user_get_atom) {
        auto& s = self->state;
        ++s.routed;
        if (!s.profile)
          return reply_when_durable(self, user_answer{"unknown_entity", {}}, false);
        return reply_when_durable(self, user_answer{"", *s.profile}, false);
      },
      [self](user_add_order_atom, const std::string& order_id) {
        auto& s = self->state;
        ++s.routed;
        bool known = std::find(s.orders.rbegin(), s.orders.rend(), order_id) != s.orders.rend();
        if (!known)
          s.orders.push_back(order_id);
        return reply_when_durable(self, true, !known);
      },
      [self](user_orders_atom, std::int64_t before, std::int64_t limit) {
        auto& s = self->state;
        ++s.routed;
        // Positions count from the oldest order, so a page boundary stays put while new
        // orders arrive at the other end.
        user_orders_page page;
        auto n = static_cast<std::int64_t>(s.orders.size());
        auto end = before < 0 || before > n ? n : before;
        auto begin = std::max<std::int64_t>(0, end - std::max<std::int64_t>(limit, 0));
        for (auto i = end; i > begin; --i)
          page.order_ids.push_back(s.orders[static_cast<std::size_t>(i - 1)]);
        page.next = begin > 0 ? begin : -1;
        return reply_when_durable(self, std::move(page), false);
      },
      [self](user_owns_atom, const std::string& order_id) {
        auto& s = self->state;
        ++s.routed;
        bool owns = std::find(s.orders.rbegin(), s.orders.rend(), order_id) != s.orders.rend();
        return reply_when_durable(self, owns, false);
      },
      [self](wish_get_atom) {
        auto& s = self->state;
        ++s.routed;
        return reply_when_durable(self, s.wishes(), false);
      },
      [self](wish_add_atom, std::int64_t product_id) {
        auto& s = self->state;
        ++s.routed;
        auto it = std::find(s.wishlist.begin(), s.wishlist.end(), product_id);
        if (it == s.wishlist.begin() && it != s.wishlist.end())
          return reply_when_durable(self, s.wishes(), false);
        if (it != s.wishlist.end()) {
          s.wishlist.erase(it);
        } else if (s.wishlist.size() >= s.ctx->wishlist_max) {
          return reply_when_durable(self, s.wishes("wishlist_full"), false);
        }
        s.wishlist.insert(s.wishlist.begin(), product_id);
        return reply_when_durable(self, s.wishes(), true);
      },
      [self](wish_remove_atom, std::int64_t product_id) {
        auto& s = self->state;
        ++s.routed;
        auto it = std::find(s.wishlist.begin(), s.wishlist.end(), product_id);
        if (it == s.wishlist.end())
          return reply_when_durable(self, s.wishes("not_in_wishlist"), false);
        s.wishlist.erase(it);
        return reply_when_durable(self, s.wishes(), true);
      },
      [self](durable_atom, bool ok) { on_durable(self, ok); },
      [self](idle_atom) { on_idle_check(self); },
  };
}

} // namespace

caf::actor spawn_user_actor(caf::actor_system& sys, const std::string& user_id,
                            std::shared_ptr<const entity_context> ctx) {
  return sys.spawn(user_actor, user_id, std::move(ctx));
}

} // namespace souk::actors
