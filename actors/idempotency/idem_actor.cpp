#include "actors/idempotency/idem_actor.hpp"

#include "actors/api/idempotency_api.hpp"
#include "actors/common/entity.hpp"
#include "base/json_writer.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

enum class record_status { none, running, done };

struct idem_state : entity_base {
  record_status status = record_status::none;
  std::string fingerprint;
  std::int64_t created_at_ms = 0; ///< when the key was first used (retention counts from it)
  std::int64_t started_at_ms = 0; ///< when the running request began (its lease)
  std::int64_t attempt = 0;       ///< of the running request; counts up, never reused
  stored_response response;
  /// The running mark was not written (a begin without `durable_mark`): the record must not
  /// be passivated while its lease holds, and is written when the actor is stopped.
  bool mark_in_memory = false;

  // The snapshot is a JSON header line, then the stored response's body as it is: a body is
  // an order or a cart of several KB, and escaping it into a JSON string on every write (and
  // unescaping it on a load) cost more than the rest of the record. The header never holds a
  // raw newline, so the first one ends it. Records written before this format are one JSON
  // object with the body inside (no raw newline either) and are still read.
  std::string encode() const {
    const char* names[] = {"none", "running", "done"};
    std::string out;
    out.reserve(256 + response.body.size());
    base::json_writer w{out};
    w.begin_object();
    w.key("status").value(names[static_cast<int>(status)]);
    w.key("fingerprint").value(fingerprint);
    w.key("created_at_ms").value(created_at_ms);
    w.key("started_at_ms").value(started_at_ms);
    w.key("attempt").value(attempt);
    w.key("response").begin_array();
    w.value(std::int64_t{response.status}).value(response.content_type).value(response.etag);
    w.value(response.location).end_array();
    w.end_object();
    out.push_back('\n');
    out += response.body;
    return out;
  }
  bool can_passivate() const {
    return !(mark_in_memory && status == record_status::running &&
             started_at_ms + ctx->idempotency_lease.count() > ctx->now_ms());
  }
  /// Stopped (a handoff, the node's stop): a mark kept in memory goes with the last write.
  void before_exit() {
    if (mark_in_memory && status == record_status::running)
      dur.changed();
    mark_in_memory = false;
  }

  void decode(const std::string& text) {
    auto nl = text.find('\n');
    auto j = nlohmann::json::parse(nl == std::string::npos ? std::string_view{text}
                                                           : std::string_view{text}.substr(0, nl));
    auto s = j.at("status").get<std::string>();
    status = s == "running" ? record_status::running
                            : (s == "done" ? record_status::done : record_status::none);
    j.at("fingerprint").get_to(fingerprint);
    j.at("created_at_ms").get_to(created_at_ms);
    j.at("started_at_ms").get_to(started_at_ms);
    attempt = j.value("attempt", std::int64_t{0});
    auto& r = j.at("response");
    r.at(0).get_to(response.status);
    r.at(1).get_to(response.content_type);
    r.at(2).get_to(response.etag);
    r.at(3).get_to(response.location);
    if (nl == std::string::npos)
      r.at(4).get_to(response.body);
    else
      response.body.assign(text, nl + 1, std::string::npos);
  }

  /// Forgets a record past its retention.
  void expire(std::int64_t now) {
    if (status != record_status::none && created_at_ms + ctx->idempotency_ttl.count() <= now)
      clear();
  }
  void clear() {
    status = record_status::none;
    fingerprint.clear();
    created_at_ms = started_at_ms = 0;
    response = {};
    mark_in_memory = false;
  }
};

using self_t = caf::stateful_actor<idem_state>;

/// A request begins under the key (see idem_begin_atom).
caf::response_promise begin(self_t* self, const std::string& fingerprint, bool durable_mark) {
  auto& s = self->state;
  ++s.routed;
  auto now = s.ctx->now_ms();
  s.expire(now);
  if (s.status != record_status::none && s.fingerprint != fingerprint)
    return reply_when_durable(self, idem_answer{"mismatch", {}}, false);
  if (s.status == record_status::done)
    return reply_when_durable(self, idem_answer{"done", s.response}, false);
  if (s.status == record_status::running &&
      s.started_at_ms + s.ctx->idempotency_lease.count() > now)
    return reply_when_durable(self, idem_answer{"in_flight", {}}, false);
  // New, or a running request whose lease ran out: this caller takes it over.
  if (s.status == record_status::none)
    s.created_at_ms = now;
  s.status = record_status::running;
  s.fingerprint = fingerprint;
  s.started_at_ms = now;
  ++s.attempt;
  s.mark_in_memory = !durable_mark;
  return reply_when_durable(self, idem_answer{"new", {}, s.attempt}, durable_mark);
}

caf::behavior idem_actor(self_t* self, std::string key, std::shared_ptr<const entity_context> ctx) {
  auto& st = self->state;
  st.ref = {"idem", key};
  st.ctx = std::move(ctx);
  if (auto snap = load_snapshot(st))
    st.decode(snap->state);
  start_entity(self);
  return {
      [self](idem_begin_atom, const std::string& fingerprint) {
        return begin(self, fingerprint, true);
      },
      [self](idem_begin_atom, const std::string& fingerprint, bool durable_mark) {
        return begin(self, fingerprint, durable_mark);
      },
      [self](idem_finish_atom, const std::string& fingerprint, std::int64_t attempt,
             stored_response& r) {
        auto& s = self->state;
        ++s.routed;
        if (s.status != record_status::running || s.fingerprint != fingerprint ||
            s.attempt != attempt)
          return reply_when_durable(self, false, false);
        s.status = record_status::done;
        s.response = std::move(r);
        s.mark_in_memory = false;
        return reply_when_durable(self, true, true);
      },
      [self](idem_abort_atom, const std::string& fingerprint, std::int64_t attempt) {
        auto& s = self->state;
        ++s.routed;
        if (s.status != record_status::running || s.fingerprint != fingerprint ||
            s.attempt != attempt)
          return reply_when_durable(self, false, false);
        // A mark kept in memory of a record never written leaves nothing to undo on disk.
        bool written = !s.mark_in_memory || s.version > 0;
        s.clear();
        return reply_when_durable(self, true, written);
      },
      [self](durable_atom, bool ok) { on_durable(self, ok); },
      [self](idle_atom) { on_idle_check(self); },
  };
}

} // namespace

caf::actor spawn_idem_actor(caf::actor_system& sys, const std::string& key,
                            std::shared_ptr<const entity_context> ctx) {
  return sys.spawn(idem_actor, key, std::move(ctx));
}

} // namespace souk::actors
