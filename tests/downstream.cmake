# Downstream consumer test, run as a CTest test:
#   cmake -DSOURCE_DIR=<tenantry source> -DBINARY_DIR=<scratch dir> -DCXX=<compiler>
#         -P tests/downstream.cmake
# 1. configures the tenantry project (no tests, no examples) and installs it into
#    BINARY_DIR/prefix;
# 2. configures and builds tests/downstream against that prefix only;
# 3. runs the consumer binary.
cmake_minimum_required(VERSION 3.22)

foreach(var SOURCE_DIR BINARY_DIR CXX)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "downstream: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${BINARY_DIR}/prefix)
set(lib_build ${BINARY_DIR}/tenantry-build)
set(app_build ${BINARY_DIR}/consumer-build)
file(REMOVE_RECURSE ${BINARY_DIR})  # always from scratch: a stale prefix would hide breakage
file(MAKE_DIRECTORY ${BINARY_DIR})

# run(<step> <command>...): runs the command, fails the test with its output on error.
function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rv OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rv EQUAL 0)
    message(FATAL_ERROR "downstream: ${step} failed (${rv}):\n${out}")
  endif()
  message(STATUS "downstream: ${step}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run("configure tenantry" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${lib_build}
  -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_INSTALL_PREFIX=${prefix}
  -DTENANTRY_BUILD_TESTS=OFF -DTENANTRY_BUILD_EXAMPLES=OFF -DTENANTRY_BUILD_BENCHMARKS=OFF)
run("build tenantry" ${CMAKE_COMMAND} --build ${lib_build})
run("install tenantry" ${CMAKE_COMMAND} --install ${lib_build})

# No package registry, and the prefix first: the consumer must find *this* install.
run("configure consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/downstream -B ${app_build}
  -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
file(STRINGS ${app_build}/CMakeCache.txt found REGEX "^tenantry_DIR:")
string(FIND "${found}" "${prefix}/" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "downstream: tenantry was found outside the test prefix: ${found}")
endif()
run("build consumer" ${CMAKE_COMMAND} --build ${app_build})
run("run consumer" ${app_build}/tenantry-downstream)
message(STATUS "downstream: ${step_output}")
