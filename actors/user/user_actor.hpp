#pragma once

#include "actors/common/entity_context.hpp"

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace souk::actors {

/// Spawns the user entity `user_id` (kind "user", contract actors/api/user_api.hpp): the
/// account's profile and password hash, the index of the user's orders (newest first) and the
/// wishlist (at most `ctx.wishlist_max` products). Every answer is durable before it goes out.
caf::actor spawn_user_actor(caf::actor_system& sys, const std::string& user_id,
                            std::shared_ptr<const entity_context> ctx);

} // namespace souk::actors
