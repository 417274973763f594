#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace souk::actors {

// The idempotency record's contract (kind "idem", key: a digest of the principal and the
// client's `Idempotency-Key`, so keys are scoped to the principal). One record remembers the
// request's fingerprint (method, route and body digest) and, once it finished, the response to
// replay byte for byte. Records live `entity_context::idempotency_ttl` (24 h by default) and
// every answer is durable before it goes out.

/// `(idem_begin_atom, std::string fingerprint)` → `idem_answer`: `new` (the caller runs the
/// request and must finish or abort it, naming the answer's `attempt`), `in_flight` (a request with
/// this key is still running and its lease has not run out), `mismatch` (the key was used with
/// another fingerprint) or `done` (with the stored response).
///
/// `(idem_begin_atom, std::string fingerprint, bool durable_mark)`: the same; with
/// `durable_mark` false a `new` request's running mark is kept in memory and answered at once,
/// not written first. It still turns duplicates away while the record's actor lives (the actor
/// is not passivated while the lease holds, and writes the mark when it is stopped), but a crash
/// forgets it, so a retry after a crash runs at once (the durable mark makes it wait for the
/// lease) and is not compared with the lost request's fingerprint. Only for requests that are
/// idempotent by construction, where a second run has no second effect: a checkout, whose order
/// id is derived from the key and whose cart answers a second run with the first run's order.
using idem_begin_atom = caf::atom_constant<caf::atom("idembegin")>;
/// `(idem_finish_atom, std::string fingerprint, std::int64_t attempt, stored_response)` →
/// `bool` once stored; false when the record is not running that attempt (its lease ran out
/// and a retry took it over, so the late runner cannot overwrite or forget the retry's).
using idem_finish_atom = caf::atom_constant<caf::atom("idemfinish")>;
/// `(idem_abort_atom, std::string fingerprint, std::int64_t attempt)` → `bool`: forgets a
/// running request (that attempt only) whose
/// outcome should not be replayed (a timeout, a 5xx), so the client may retry with the key.
using idem_abort_atom = caf::atom_constant<caf::atom("idemabort")>;

/// A response as it is replayed.
struct stored_response {
  int status = 0;
  std::string content_type;
  std::string etag;
  std::string location;
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stored_response& x) {
  return f(caf::meta::type_name("stored_response"), x.status, x.content_type, x.etag, x.location,
           x.body);
}

struct idem_answer {
  std::string code; ///< new, in_flight, mismatch, done
  stored_response response;
  std::int64_t attempt = 0; ///< with `new`: what finish and abort must name
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, idem_answer& x) {
  return f(caf::meta::type_name("idem_answer"), x.code, x.response, x.attempt);
}

} // namespace souk::actors
