#pragma once

// The one CAF type-ID block of souk. Append only: IDs and names identify message types between
// nodes, so an entry is never reordered, renamed or removed.

#include <string>
#include <vector>

#include <caf/type_id.hpp>

namespace souk::actors {
struct entity_ref;
struct allocation;
struct reserve_cmd;
struct reserve_answer;
struct checkout_line;
struct checkout_cmd;
struct order_answer;
struct payment_cmd;
struct payment_answer;
struct bank_event;
struct pick_line;
struct pick_cmd;
struct cart_add_cmd;
struct cart_set_cmd;
struct cart_remove_cmd;
struct cart_merge_cmd;
struct cart_checkout_cmd;
struct cart_answer;
struct user_profile;
struct user_answer;
struct user_orders_page;
struct wishlist_answer;
struct stored_response;
struct idem_answer;
} // namespace souk::actors

CAF_BEGIN_TYPE_ID_BLOCK(souk, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(souk, (souk::actors::entity_ref))
CAF_ADD_TYPE_ID(souk, (souk::actors::allocation))
CAF_ADD_TYPE_ID(souk, (std::vector<souk::actors::allocation>))
CAF_ADD_TYPE_ID(souk, (souk::actors::reserve_cmd))
CAF_ADD_TYPE_ID(souk, (souk::actors::reserve_answer))
CAF_ADD_TYPE_ID(souk, (souk::actors::checkout_line))
CAF_ADD_TYPE_ID(souk, (std::vector<souk::actors::checkout_line>))
CAF_ADD_TYPE_ID(souk, (souk::actors::checkout_cmd))
CAF_ADD_TYPE_ID(souk, (souk::actors::order_answer))
CAF_ADD_TYPE_ID(souk, (souk::actors::payment_cmd))
CAF_ADD_TYPE_ID(souk, (souk::actors::payment_answer))
CAF_ADD_TYPE_ID(souk, (souk::actors::bank_event))
CAF_ADD_TYPE_ID(souk, (souk::actors::pick_line))
CAF_ADD_TYPE_ID(souk, (std::vector<souk::actors::pick_line>))
CAF_ADD_TYPE_ID(souk, (souk::actors::pick_cmd))
CAF_ADD_TYPE_ID(souk, (souk::actors::cart_add_cmd))
CAF_ADD_TYPE_ID(souk, (souk::actors::cart_set_cmd))
CAF_ADD_TYPE_ID(souk, (souk::actors::cart_remove_cmd))
CAF_ADD_TYPE_ID(souk, (souk::actors::cart_merge_cmd))
CAF_ADD_TYPE_ID(souk, (souk::actors::cart_checkout_cmd))
CAF_ADD_TYPE_ID(souk, (souk::actors::cart_answer))
CAF_ADD_TYPE_ID(souk, (souk::actors::user_profile))
CAF_ADD_TYPE_ID(souk, (souk::actors::user_answer))
CAF_ADD_TYPE_ID(souk, (souk::actors::user_orders_page))
CAF_ADD_TYPE_ID(souk, (souk::actors::wishlist_answer))
CAF_ADD_TYPE_ID(souk, (souk::actors::stored_response))
CAF_ADD_TYPE_ID(souk, (souk::actors::idem_answer))

CAF_END_TYPE_ID_BLOCK(souk)
