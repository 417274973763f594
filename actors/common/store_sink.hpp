#pragma once

#include "actors/common/entity_context.hpp"
#include "persistence/store.hpp"

#include <memory>
#include <mutex>

namespace souk::actors {

/// The node's snapshot_sink: the store's group-commit writer for saves (the callback fires on
/// the writer thread once the batch is committed) and its read connection for loads.
class store_sink : public snapshot_sink {
public:
  explicit store_sink(persistence::store& store) : store_(store), gate_(std::make_shared<gate>()) {}

  /// Stops delivering completions: a write that completes later calls nobody back. The runtime
  /// calls it before the actor system goes away, so no writer-thread callback sends a message
  /// into a destroyed system; a callback already running finishes first.
  void detach();

  void save(persistence::snapshot s, std::function<void(bool ok)> done) override;
  std::optional<persistence::snapshot> load(const std::string& kind,
                                            const std::string& key) override;
  std::vector<std::string> keys_with(const std::string& kind, const std::string& needle) override;

private:
  struct gate {
    std::mutex mtx;
    bool open = true;
  };
  persistence::store& store_;
  std::shared_ptr<gate> gate_;
};

} // namespace souk::actors
