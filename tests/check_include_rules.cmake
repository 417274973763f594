# Fails when a quoted #include crosses a layer the wrong way (DESIGN.md "Layers").
# Run: cmake -DSOURCE_DIR=<repo> -P tests/check_include_rules.cmake
# The table says, for each folder, which folders its files may include.
set(allowed_base "base")
set(allowed_config "base;config")
set(allowed_persistence "base;config;persistence")
set(allowed_actors_api "base;config;persistence;actors/api")
set(allowed_actors_role "base;config;persistence;actors")
set(allowed_cluster "base;config;actors/api;cluster")
set(allowed_http "base;config;actors/api;http")
set(allowed_bank "base;config;persistence;http;bank")
set(allowed_runtime "base;config;persistence;actors;cluster;http;bank;runtime")
set(allowed_examples "base;config;actors/api;runtime")

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "pass -DSOURCE_DIR=<repository root>")
endif()

file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}"
     "${SOURCE_DIR}/base/*.[hc]pp" "${SOURCE_DIR}/config/*.[hc]pp"
     "${SOURCE_DIR}/persistence/*.[hc]pp" "${SOURCE_DIR}/actors/*.[hc]pp"
     "${SOURCE_DIR}/cluster/*.[hc]pp" "${SOURCE_DIR}/http/*.[hc]pp"
     "${SOURCE_DIR}/runtime/*.[hc]pp" "${SOURCE_DIR}/examples/*.[hc]pp"
     "${SOURCE_DIR}/bank/*.[hc]pp")

set(violations 0)
set(checked 0)
foreach(rel IN LISTS files)
  if(rel MATCHES "^actors/api/")
    set(layer actors_api)
  elseif(rel MATCHES "^actors/")
    set(layer actors_role)
  else()
    string(REGEX REPLACE "/.*" "" layer "${rel}")
  endif()
  set(allowed "${allowed_${layer}}")
  file(STRINGS "${SOURCE_DIR}/${rel}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" path "${line}")
    math(EXPR checked "${checked} + 1")
    set(ok FALSE)
    foreach(prefix IN LISTS allowed)
      if(path MATCHES "^${prefix}/")
        set(ok TRUE)
      endif()
    endforeach()
    if(NOT ok)
      message(SEND_ERROR "${rel}: ${layer} may not include \"${path}\" (allowed: ${allowed})")
      math(EXPR violations "${violations} + 1")
    endif()
  endforeach()
endforeach()

list(LENGTH files count)
if(violations GREATER 0)
  message(FATAL_ERROR "${violations} include(s) cross a layer the wrong way")
endif()
message(STATUS "layer rules: ${count} files, ${checked} includes, all allowed")
