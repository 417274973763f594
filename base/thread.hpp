#pragma once

#include <string>
#include <string_view>

namespace souk::base {

/// Names the calling thread (what `top -H`, `ps -L`, perf and gdb show; Linux keeps the first
/// 15 bytes). souk's own threads are named `souk-<role>` so that an operator can tell the
/// writer from the edge at a glance.
void name_this_thread(std::string_view name);

/// The calling thread's name, or empty when it cannot be read.
std::string this_thread_name();

} // namespace souk::base
