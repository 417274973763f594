#pragma once

#include "http/message.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace souk::http {

/// The connection side of an event stream, as its queue sees it (implemented by the server's
/// session). Both calls only post work to the connection and return at once.
class stream_link {
public:
  virtual ~stream_link() = default;
  /// Chunks are queued: write them.
  virtual void wake() = 0;
  /// End the stream now for `why` (dropping what is queued).
  virtual void abort(stream_end why) = 0;
};

/// The `event_stream` a handler holds: a bounded, thread-safe queue of chunks between handler
/// threads (`send`, `close`) and the connection's loop (`take`, `written`, `end`). Internal
/// to the server; tested on its own.
class stream_queue final : public event_stream {
public:
  /// At most `max_bytes` queued and unwritten at any time.
  explicit stream_queue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  /// Where `send` and `close` wake the connection; set once, before the handle is handed out.
  void attach(std::weak_ptr<stream_link> link) { link_ = std::move(link); }

  bool send(std::string chunk) override;
  void close() override;
  bool is_open() const override;
  void on_closed(std::function<void(stream_end)> fn) override;

  // -- the connection's side ----------------------------------------------------------------

  /// Appends every queued chunk to `out` (they count as unwritten until `written`). Returns
  /// true when `close` was called: once `out` is written, the stream ends.
  bool take(std::vector<std::string>& out);
  /// `bytes` of taken chunks are written.
  void written(std::size_t bytes);
  /// Ends the stream (idempotent): drops what is queued and runs the on-closed callbacks on
  /// this thread. Returns false when it had already ended.
  bool end(stream_end why);
  /// How it ended, if it did.
  std::optional<stream_end> ended() const;

private:
  const std::size_t max_bytes_;
  std::weak_ptr<stream_link> link_;
  mutable std::mutex mtx_;
  std::vector<std::string> queue_;
  std::size_t unwritten_ = 0; ///< queued plus taken and not yet written
  bool wake_pending_ = false; ///< a wake is on its way: no need for another
  bool close_requested_ = false;
  bool overflowed_ = false;
  std::optional<stream_end> ended_;
  std::vector<std::function<void(stream_end)>> callbacks_;
};

} // namespace souk::http
