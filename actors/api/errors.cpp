#include "actors/api/errors.hpp"

namespace souk::actors {

std::string to_string(errc x) {
  switch (x) {
  case errc::unknown_entity:
    return "unknown_entity";
  case errc::timeout:
    return "timeout";
  case errc::store_failed:
    return "store_failed";
  case errc::overloaded:
    return "overloaded";
  case errc::shutting_down:
    return "shutting_down";
  }
  return "unknown_error";
}

} // namespace souk::actors
