#pragma once

#include "http/message.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace souk::http {

/// One Server-Sent Event as text, ready for `event_stream::send`: an `id:` line when `id` is
/// not empty, an `event:` line when `event` is not empty, one `data:` line per line of `data`
/// (split at CRLF, CR and LF, as the SSE parser splits them; empty data gives one empty
/// `data:` line), and the blank line that ends the event. Line breaks and NUL cannot appear in
/// `id` or `event`: they are dropped from those.
std::string format_sse_event(std::string_view data, std::string_view event = {},
                             std::string_view id = {});

/// A comment line (`: text`), ignored by clients; the heartbeat is `format_sse_comment("ping")`.
/// Line breaks in `text` are dropped.
std::string format_sse_comment(std::string_view text);

/// The `Last-Event-ID` header of `req` (what an EventSource sends when it reconnects): nullopt
/// when absent or empty, longer than 1,024 bytes, or holding NUL, CR or LF. Surrounding blanks
/// are trimmed.
std::optional<std::string> last_event_id(const request& req);

/// `last_event_id` as a decimal sequence number (0..2^64-1), for streams whose ids count up;
/// nullopt when absent or not such a number.
std::optional<std::uint64_t> last_event_number(const request& req);

} // namespace souk::http
