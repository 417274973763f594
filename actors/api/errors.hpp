#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp> // CAF_ERROR_CODE_ENUM needs it complete

namespace souk::actors {

/// Errors a caller of an actor can react to. Add a code only when some caller handles it
/// differently from the existing ones; never renumber or reuse a value.
enum class errc : std::uint8_t {
  unknown_entity = 1, ///< no such entity (kind, key)
  timeout = 2,        ///< the participant did not answer within the deadline
  store_failed = 3,   ///< the state could not be made durable
  overloaded = 4,     ///< too many requests in flight; try later
  shutting_down = 5,  ///< the node is stopping
};

/// Stable snake_case name of `x`.
std::string to_string(errc x);

} // namespace souk::actors

// The category is an atom: at most 10 characters.
CAF_ERROR_CODE_ENUM(souk::actors::errc, "souk")
