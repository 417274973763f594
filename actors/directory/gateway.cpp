#include "actors/directory/gateway.hpp"

#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/errors.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>

namespace souk::actors {

namespace {

call_status status_of(caf::actor_system& sys, const caf::error& e) {
  if (e.category() == caf::atom("system") &&
      e.code() == static_cast<std::uint8_t>(caf::sec::request_timeout))
    return {"timeout", "no answer within the deadline"};
  if (e.category() == caf::atom("souk")) {
    auto code = static_cast<errc>(e.code());
    return {to_string(code), sys.render(e)};
  }
  return {"unavailable", sys.render(e)};
}

class caf_gateway final : public entity_gateway {
public:
  caf_gateway(caf::actor_system& sys, caf::actor directory)
      : sys_(sys), directory_(std::move(directory)) {}

  void cart_get(const std::string& owner, millis d, callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_get_atom::value);
  }
  void cart_add(const std::string& owner, cart_add_cmd cmd, millis d,
                callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_add_atom::value, std::move(cmd));
  }
  void cart_set(const std::string& owner, cart_set_cmd cmd, millis d,
                callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_set_atom::value, std::move(cmd));
  }
  void cart_remove(const std::string& owner, cart_remove_cmd cmd, millis d,
                   callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_remove_atom::value, std::move(cmd));
  }
  void cart_clear(const std::string& owner, std::int64_t expected_version, millis d,
                  callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_clear_atom::value, expected_version);
  }
  void cart_merge(const std::string& owner, cart_merge_cmd cmd, millis d,
                  callback<cart_answer> cb) override {
    ask<cart_answer>({"cart", owner}, d, std::move(cb), cart_merge_atom::value, std::move(cmd));
  }
  void checkout(const std::string& owner, cart_checkout_cmd cmd, millis d,
                callback<order_answer> cb) override {
    ask<order_answer>({"cart", owner}, d, std::move(cb), cart_checkout_atom::value, std::move(cmd));
  }
  void order_view(const std::string& id, millis d, callback<order_answer> cb) override {
    ask<order_answer>({"order", id}, d, std::move(cb), order_view_atom::value);
  }
  void order_cancel(const std::string& id, millis d, callback<order_answer> cb) override {
    ask<order_answer>({"order", id}, d, std::move(cb), cancel_atom::value);
  }
  void order_return(const std::string& id, millis d, callback<order_answer> cb) override {
    ask<order_answer>({"order", id}, d, std::move(cb), return_atom::value);
  }
  void user_create(user_profile p, millis d, callback<user_answer> cb) override {
    auto key = p.id;
    ask<user_answer>({"user", key}, d, std::move(cb), user_create_atom::value, std::move(p));
  }
  void user_get(const std::string& id, millis d, callback<user_answer> cb) override {
    ask<user_answer>({"user", id}, d, std::move(cb), user_get_atom::value);
  }
  void user_add_order(const std::string& id, const std::string& order_id, millis d,
                      callback<bool> cb) override {
    ask<bool>({"user", id}, d, std::move(cb), user_add_order_atom::value, order_id);
  }
  void user_orders(const std::string& id, std::int64_t before, std::int64_t limit, millis d,
                   callback<user_orders_page> cb) override {
    ask<user_orders_page>({"user", id}, d, std::move(cb), user_orders_atom::value, before, limit);
  }
  void user_owns(const std::string& id, const std::string& order_id, millis d,
                 callback<bool> cb) override {
    ask<bool>({"user", id}, d, std::move(cb), user_owns_atom::value, order_id);
  }
  void wishlist(const std::string& id, millis d, callback<wishlist_answer> cb) override {
    ask<wishlist_answer>({"user", id}, d, std::move(cb), wish_get_atom::value);
  }
  void wish_add(const std::string& id, std::int64_t product_id, millis d,
                callback<wishlist_answer> cb) override {
    ask<wishlist_answer>({"user", id}, d, std::move(cb), wish_add_atom::value, product_id);
  }
  void wish_remove(const std::string& id, std::int64_t product_id, millis d,
                   callback<wishlist_answer> cb) override {
    ask<wishlist_answer>({"user", id}, d, std::move(cb), wish_remove_atom::value, product_id);
  }
  void idem_begin(const std::string& scope, const std::string& fingerprint, millis d,
                  callback<idem_answer> cb) override {
    ask<idem_answer>({"idem", scope}, d, std::move(cb), idem_begin_atom::value, fingerprint);
  }
  void idem_finish(const std::string& scope, const std::string& fingerprint, std::int64_t attempt,
                   stored_response r, millis d, callback<bool> cb) override {
    ask<bool>({"idem", scope}, d, std::move(cb), idem_finish_atom::value, fingerprint, attempt,
              std::move(r));
  }
  void idem_abort(const std::string& scope, const std::string& fingerprint, std::int64_t attempt,
                  millis d, callback<bool> cb) override {
    ask<bool>({"idem", scope}, d, std::move(cb), idem_abort_atom::value, fingerprint, attempt);
  }

private:
  /// One call: a short-lived actor sends the message and lives until the answer or deadline.
  template <class T, class... Ts>
  void ask(entity_ref ref, millis deadline, callback<T> cb, Ts&&... xs) {
    auto msg = caf::make_message(std::forward<Ts>(xs)...);
    auto* sys = &sys_;
    // The spawn gets one (unused) argument: CAF 0.17.6 dereferences an empty argument tuple
    // of a function-based actor, which _GLIBCXX_ASSERTIONS rejects.
    sys_.spawn(
        [sys, dir = directory_, ref = std::move(ref), msg = std::move(msg), deadline,
         cb = std::move(cb)](caf::event_based_actor* self, int) mutable {
          self->request(dir, deadline, route_atom_v, std::move(ref), std::move(msg))
              .then([cb](T& answer) { cb({}, std::move(answer)); },
                    [sys, cb](caf::error& e) { cb(status_of(*sys, e), T{}); });
        },
        0);
  }

  caf::actor_system& sys_;
  caf::actor directory_;
};

} // namespace

std::shared_ptr<entity_gateway> make_gateway(caf::actor_system& sys, caf::actor directory) {
  return std::make_shared<caf_gateway>(sys, std::move(directory));
}

} // namespace souk::actors
