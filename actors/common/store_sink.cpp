#include "actors/common/store_sink.hpp"

#include "base/log.hpp"

#include <utility>

namespace souk::actors {

void store_sink::save(persistence::snapshot s, std::function<void(bool ok)> done) {
  auto key = s.kind + "/" + s.key;
  persistence::write_request req;
  req.ops.emplace_back(persistence::put_snapshot{std::move(s)});
  req.done = [done, key, g = gate_](const persistence::status& st) {
    if (!st.ok())
      base::log_error("snapshot write failed", {{"entity", key}, {"error", st.message}});
    std::lock_guard<std::mutex> lock{g->mtx};
    if (g->open)
      done(st.ok());
  };
  if (auto st = store_.writer().submit(std::move(req)); !st.ok()) {
    base::log_error("snapshot write refused", {{"entity", key}, {"error", st.message}});
    done(false);
  }
}

void store_sink::detach() {
  std::lock_guard<std::mutex> lock{gate_->mtx};
  gate_->open = false;
}

std::optional<persistence::snapshot> store_sink::load(const std::string& kind,
                                                      const std::string& key) {
  auto r = store_.load_snapshot(kind, key);
  if (!r.ok()) {
    base::log_error("snapshot read failed",
                    {{"entity", kind + "/" + key}, {"error", r.error().message}});
    return std::nullopt;
  }
  return *r;
}

std::vector<std::string> store_sink::keys_with(const std::string& kind, const std::string& needle) {
  std::vector<std::string> out;
  std::string after;
  for (;;) {
    auto page = store_.list_snapshots(kind, after, 1000);
    if (!page.ok() || page->empty())
      return out;
    for (auto& s : *page)
      if (s.state.find(needle) != std::string::npos)
        out.push_back(s.key);
    after = page->back().key;
  }
}

} // namespace souk::actors
