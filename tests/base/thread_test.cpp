// Thread names: set and read back on a thread the test starts, and cut to Linux's 15 bytes.

#include "base/thread.hpp"

#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace souk::base {
namespace {

std::string named(const std::string& name) {
  std::string seen;
  std::thread t{[&] {
    name_this_thread(name);
    seen = this_thread_name();
  }};
  t.join();
  return seen;
}

TEST(ThreadName, IsSetAndReadBack) {
  EXPECT_EQ(named("souk-writer"), "souk-writer");
}

TEST(ThreadName, ALongNameKeepsItsFirst15Bytes) {
  // pthread_setname_np refuses a name of 16 bytes or more outright; cut, it still names.
  EXPECT_EQ(named("souk-checkpointer-of-bank"), "souk-checkpoint");
}

} // namespace
} // namespace souk::base
