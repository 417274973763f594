# Every third-party dependency, found once. All come from Debian packages
# (scripts/setup.sh installs them); nothing is downloaded at build time.
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)                   # Asio + Beast: the HTTP edge
find_package(nlohmann_json 3.10 REQUIRED)           # JSON bodies, snapshots, log lines
find_package(CLI11 2.1 REQUIRED)                    # command-line flags
find_package(tomlplusplus 3 REQUIRED)               # the TOML config file
find_package(spdlog 1.10 REQUIRED)                  # the log sink (we format the JSON)
find_package(OpenSSL 3 REQUIRED)                    # TLS, HMAC, password hashing
find_package(SQLite3 3.40 REQUIRED)                 # the node's store, FTS5 search
if(SOUK_JEMALLOC AND NOT SOUK_SANITIZE AND NOT SOUK_BUILD_FUZZERS)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc) # malloc (CMakeLists.txt)
endif()

# Debian's libcaf-dev 0.17.6 ships no CMake package and no pkg-config file: import by hand.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
foreach(comp core io openssl)
  find_library(CAF_${comp}_LIBRARY caf_${comp} REQUIRED)
  add_library(CAF::${comp} SHARED IMPORTED)
  set_target_properties(CAF::${comp} PROPERTIES
    IMPORTED_LOCATION "${CAF_${comp}_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endforeach()
set_property(TARGET CAF::io APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::core)
set_property(TARGET CAF::openssl APPEND PROPERTY INTERFACE_LINK_LIBRARIES CAF::io OpenSSL::SSL)

if(SOUK_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(SOUK_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
