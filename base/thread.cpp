#include "base/thread.hpp"

#include <pthread.h>

namespace souk::base {

void name_this_thread(std::string_view name) {
  // The kernel's limit is 16 bytes with the terminating NUL; a longer name is refused whole.
  std::string cut{name.substr(0, 15)};
  pthread_setname_np(pthread_self(), cut.c_str());
}

std::string this_thread_name() {
  char buf[16] = {};
  if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) != 0)
    return {};
  return buf;
}

} // namespace souk::base
