#pragma once

#include "http/router.hpp"

#include <string>

namespace souk::fuzz {

/// The shared secret the fuzz routes verify bearer tokens with; the seed corpus carries a token
/// signed with it (role admin, expiring in 2100) so that inputs reach the authenticated decoders.
inline const std::string token_secret = "fuzz-secret-fuzz-secret-fuzz-secret-0123456789";

/// Registers every route the HTTP fuzzer drives, with in-memory backends instead of a store
/// or an actor system. To fuzz another route family, add its registration here — one line —
/// with a backend that answers at once: the harness requires every handler to answer (or open
/// its event stream) before it returns.
void register_targets(http::router& routes);

} // namespace souk::fuzz
