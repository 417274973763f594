# souk_header_checks: one generated translation unit per header of ours, each including that
# header alone (twice, to check the guard), compiled without the PCH. A header that misses an
# include fails here. Not part of `all`; the test `headers_compile_alone` builds it.
file(GLOB_RECURSE souk_headers RELATIVE "${PROJECT_SOURCE_DIR}" CONFIGURE_DEPENDS
     "${PROJECT_SOURCE_DIR}/base/*.hpp" "${PROJECT_SOURCE_DIR}/config/*.hpp"
     "${PROJECT_SOURCE_DIR}/persistence/*.hpp" "${PROJECT_SOURCE_DIR}/actors/*.hpp"
     "${PROJECT_SOURCE_DIR}/cluster/*.hpp" "${PROJECT_SOURCE_DIR}/http/*.hpp"
     "${PROJECT_SOURCE_DIR}/runtime/*.hpp"
     "${PROJECT_SOURCE_DIR}/bank/*.hpp")
set(generated "")
foreach(header IN LISTS souk_headers)
  string(MAKE_C_IDENTIFIER "${header}" id)
  set(tu "${PROJECT_BINARY_DIR}/header_checks/${id}.cpp")
  set(content "#include \"${header}\"\n#include \"${header}\"\n")
  if(EXISTS "${tu}")
    file(READ "${tu}" old)
  else()
    set(old "")
  endif()
  if(NOT old STREQUAL content)
    file(WRITE "${tu}" "${content}")
  endif()
  list(APPEND generated "${tu}")
endforeach()
add_library(souk_header_checks OBJECT EXCLUDE_FROM_ALL ${generated})
target_link_libraries(souk_header_checks PRIVATE souk_options CAF::io nlohmann_json::nlohmann_json
                                                 SQLite::SQLite3)
