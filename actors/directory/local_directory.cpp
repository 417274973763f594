#include "actors/directory/local_directory.hpp"

#include "actors/api/directory.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/errors.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

namespace souk::actors {

namespace {

/// Self-sent after an entity stopped because a snapshot write failed: `(reactivate_atom, ref)`.
using reactivate_atom = caf::atom_constant<caf::atom("reactivate")>;
/// Self-sent when the entities' time to stop ran out: `(stop_due_atom)`.
using stop_due_atom = caf::atom_constant<caf::atom("stopdue")>;

/// How long a stopped entity stays down before it is activated again (a broken disk is not
/// hammered in a tight loop).
constexpr auto reactivate_after = std::chrono::seconds(1);

struct entry {
  caf::actor handle;
  std::string kind;
  std::uint64_t routed = 0;
};

struct directory_state {
  std::shared_ptr<const entity_factories> factories;
  std::chrono::milliseconds stop_timeout{30'000};
  /// Told to exit: no more activations; exits with this reason once every entity stopped.
  std::optional<caf::error> stopping;
  std::unordered_map<std::string, entry> entries; // "kind/key"
  std::unordered_map<caf::actor_id, std::string> by_id;
  std::uint64_t routed = 0;
  std::uint64_t activations = 0;
  std::uint64_t passivations = 0;
  std::uint64_t crashes = 0;
};

using directory_self = caf::stateful_actor<directory_state>;

/// The actor of `ref`, spawned (from its latest snapshot) and monitored when it is not running;
/// nullptr when the kind is unknown or the factory cannot spawn it.
entry* activate(directory_self* self, const entity_ref& ref) {
  auto& st = self->state;
  auto name = to_string(ref);
  auto it = st.entries.find(name);
  if (it != st.entries.end())
    return &it->second;
  if (st.stopping)
    return nullptr; // a reactivation that was due
  auto f = st.factories->find(ref.kind);
  if (f == st.factories->end())
    return nullptr;
  auto handle = f->second(self->system(), ref.key);
  if (!handle)
    return nullptr;
  // Monitored, not linked: a link is also kept in the directory's own list of attachables,
  // which CAF walks on every new link and unlink, so with tens of thousands of active entities
  // each activation and each passivation grew slower (and a node's stop took minutes).
  self->monitor(handle);
  st.by_id[handle.id()] = name;
  ++st.activations;
  return &st.entries.emplace(name, entry{handle, ref.kind, 0}).first->second;
}

caf::behavior directory_actor(directory_self* self,
                              std::shared_ptr<const entity_factories> factories,
                              std::chrono::milliseconds stop_timeout) {
  self->state.factories = std::move(factories);
  self->state.stop_timeout = stop_timeout;
  // A shutdown request: every entity writes what is unwritten and stops, then the directory.
  // An entity that is stopped does not lose a change it answered for (a cart's write-behind).
  self->set_exit_handler([self](caf::exit_msg& m) {
    auto& st = self->state;
    if (st.stopping)
      return;
    st.stopping = m.reason;
    for (auto& [name, e] : st.entries)
      self->send_exit(e.handle, m.reason);
    if (st.entries.empty())
      self->quit(m.reason);
    else
      self->delayed_send(self, st.stop_timeout, stop_due_atom::value);
  });
  // An entity stopped (passivated, crashed, or its store failed).
  self->set_down_handler([self](caf::down_msg& m) {
    auto& st = self->state;
    auto it = st.by_id.find(m.source.id());
    if (it == st.by_id.end())
      return;
    // Only an entity that is still the registered one is dropped: a passivated entity was
    // removed already, and its name may belong to a newer activation by now.
    auto e = st.entries.find(it->second);
    if (e != st.entries.end() && e->second.handle.id() == m.source.id()) {
      if (m.reason)
        ++st.crashes;
      // An entity that stopped because its snapshot could not be written lost its timers with
      // it: activate it again from its last durable snapshot (an order resumes its saga, a
      // warehouse moves its lists on) rather than wait for a message that may never come.
      if (m.reason == caf::make_error(errc::store_failed) && !st.stopping) {
        auto kind = e->second.kind;
        self->delayed_send(self, reactivate_after, reactivate_atom::value,
                           entity_ref{kind, it->second.substr(kind.size() + 1)});
      }
      st.entries.erase(e);
    }
    st.by_id.erase(it);
    if (st.stopping && st.entries.empty())
      self->quit(*st.stopping);
  });
  return {
      [self](route_atom, const entity_ref& ref, caf::message& msg) -> caf::result<caf::message> {
        auto& st = self->state;
        // Stopping: the entities are writing their last changes; a message now could change
        // one after its last write.
        if (st.stopping)
          return caf::make_error(errc::shutting_down, to_string(ref));
        auto e = activate(self, ref);
        if (e == nullptr)
          return caf::make_error(errc::unknown_entity, to_string(ref));
        ++e->routed;
        ++st.routed;
        auto rp = self->make_response_promise();
        rp.delegate(e->handle, std::move(msg));
        return caf::delegated<caf::message>{};
      },
      [self](reactivate_atom, const entity_ref& ref) { activate(self, ref); },
      [self](stop_due_atom) {
        auto& st = self->state;
        // Entities that did not finish their last write in time (a store that hangs): stopped
        // without it; they restart from their last durable snapshot.
        for (auto& [name, e] : st.entries)
          self->send_exit(e.handle, caf::exit_reason::kill);
        self->quit(*st.stopping);
      },
      [self](passivate_atom, const entity_ref& ref, std::uint64_t routed) {
        auto& st = self->state;
        auto it = st.entries.find(to_string(ref));
        if (it == st.entries.end() || it->second.routed != routed || !self->current_sender() ||
            self->current_sender()->id() != it->second.handle.id())
          return false;
        st.entries.erase(it);
        ++st.passivations;
        return true;
      },
      [self](stats_atom) {
        auto& st = self->state;
        nlohmann::json active = nlohmann::json::object();
        for (auto& [name, e] : st.entries)
          active[e.kind] = active.value(e.kind, 0) + 1;
        return nlohmann::json{{"active", active},
                              {"routed", st.routed},
                              {"activations", st.activations},
                              {"passivations", st.passivations},
                              {"crashes", st.crashes}}
            .dump();
      },
  };
}

} // namespace

caf::actor spawn_local_directory(caf::actor_system& sys,
                                 std::shared_ptr<const entity_factories> factories,
                                 std::chrono::milliseconds stop_timeout) {
  return sys.spawn(directory_actor, std::move(factories), stop_timeout);
}

} // namespace souk::actors
