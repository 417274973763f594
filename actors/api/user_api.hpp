#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace souk::actors {

// The user actor's contract (kind "user", key: the user id — "u_…" for an account, "g_…" for
// a guest). It holds the profile with the password hash, the index of the user's orders and
// the wishlist, and answers only once what it reports is durable. A guest has no profile: its
// actor holds just its orders and wishlist.

/// `(user_create_atom, user_profile)` → `user_answer`: creates the account once. Code
/// email_taken when a profile exists already (whatever its fields).
using user_create_atom = caf::atom_constant<caf::atom("usercreate")>;
/// `(user_get_atom)` → `user_answer`; code unknown_entity when there is no profile.
using user_get_atom = caf::atom_constant<caf::atom("userget")>;
/// `(user_add_order_atom, std::string order_id)` → `bool` once the order is in the index
/// (newest first; adding an id twice keeps one entry).
using user_add_order_atom = caf::atom_constant<caf::atom("useraddord")>;
/// `(user_orders_atom, std::int64_t before, std::int64_t limit)` → `user_orders_page`: at most
/// `limit` order ids, newest first, of the orders at positions below `before` (positions count
/// from the user's first order; a negative `before` starts at the newest).
using user_orders_atom = caf::atom_constant<caf::atom("userorders")>;
/// `(user_owns_atom, std::string order_id)` → `bool`: the order is in this user's index.
using user_owns_atom = caf::atom_constant<caf::atom("userowns")>;
/// `(wish_get_atom)` → `wishlist_answer`.
using wish_get_atom = caf::atom_constant<caf::atom("wishget")>;
/// `(wish_add_atom, std::int64_t product_id)` → `wishlist_answer` (code wishlist_full).
using wish_add_atom = caf::atom_constant<caf::atom("wishadd")>;
/// `(wish_remove_atom, std::int64_t product_id)` → `wishlist_answer` (code not_in_wishlist).
using wish_remove_atom = caf::atom_constant<caf::atom("wishdel")>;

struct user_profile {
  std::string id;
  std::string email;
  std::string name;
  std::string region;
  std::string role = "buyer"; ///< buyer, seller or admin
  std::string password_hash;  ///< the KDF record (http/password.hpp), never shown
  std::int64_t created_at_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_profile& x) {
  return f(caf::meta::type_name("user_profile"), x.id, x.email, x.name, x.region, x.role,
           x.password_hash, x.created_at_ms);
}

/// `code` is empty on success, else email_taken or unknown_entity; `profile` is the stored one
/// whenever it exists.
struct user_answer {
  std::string code;
  user_profile profile;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_answer& x) {
  return f(caf::meta::type_name("user_answer"), x.code, x.profile);
}

/// Order ids newest first; `next` is the `before` of the next page, or -1 after the last.
struct user_orders_page {
  std::vector<std::string> order_ids;
  std::int64_t next = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_orders_page& x) {
  return f(caf::meta::type_name("user_orders_page"), x.order_ids, x.next);
}

/// Product ids, most recently added first.
struct wishlist_answer {
  std::string code;
  std::vector<std::int64_t> product_ids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wishlist_answer& x) {
  return f(caf::meta::type_name("wishlist_answer"), x.code, x.product_ids);
}

} // namespace souk::actors
