# Downstream consumer test, run as a CTest test:
#   cmake -DSOURCE_DIR=<tenantry source> -DBINARY_DIR=<scratch dir> -DCXX=<compiler>
#         [-DVERSION=<the project's version>] -P tests/downstream.cmake
# No container: a machine without one of the drivers' libraries is imitated by making CMake
# unable to find it (CMAKE_DISABLE_FIND_PACKAGE_<name>) and by an include directory, searched
# first, whose copy of that library's header is an #error.
#  1. configures tenantry (no tests, no examples) with neither SQLite3 nor PostgreSQL findable
#     (installing the headers needs neither) and installs it into BINARY_DIR/prefix;
#  2. find_package() checks, configure only (tests/downstream/find): version, unknown
#     component, a component whose library is missing, optional components;
#  3. CMake consumers (tests/downstream): COMPONENTS sqlite without PostgreSQL or OpenSSL and
#     with libpq-fe.h and OpenSSL's headers hidden; COMPONENTS postgres without SQLite3 or
#     OpenSSL and with sqlite3.h and OpenSSL's headers hidden; no COMPONENTS (everything). Each
#     is built and run;
#  4. plain g++/clang++ builds with pkg-config (tenantry-sqlite, tenantry-postgres), the other
#     driver's header hidden the same way, built and run.
cmake_minimum_required(VERSION 3.22)

foreach(var SOURCE_DIR BINARY_DIR CXX)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "downstream: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${BINARY_DIR}/prefix)
set(lib_build ${BINARY_DIR}/tenantry-build)
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
  -DTENANTRY_BUILD_TESTS=OFF -DTENANTRY_BUILD_EXAMPLES=OFF -DTENANTRY_BUILD_BENCHMARKS=OFF
  -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON -DCMAKE_DISABLE_FIND_PACKAGE_PostgreSQL=ON
  -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON)
run("build tenantry" ${CMAKE_COMMAND} --build ${lib_build})
run("install tenantry" ${CMAKE_COMMAND} --install ${lib_build})

file(STRINGS ${lib_build}/CMakeCache.txt version_line REGEX "^CMAKE_PROJECT_VERSION:")
string(REGEX REPLACE "^[^=]*=" "" version "${version_line}")
if(DEFINED VERSION AND NOT version STREQUAL VERSION)
  message(FATAL_ERROR "downstream: the installed project is version '${version}', expected '${VERSION}'")
endif()

# The headers of each driver library, hidden: an include directory searched before the system's.
# OpenSSL's are hidden from both (only the encrypted component needs it).
set(hidden_root ${BINARY_DIR}/hidden)
foreach(h libpq-fe.h sqlite3.h)
  if(h STREQUAL "libpq-fe.h")
    set(dir ${hidden_root}/libpq)
    set(names libpq-fe.h postgresql/libpq-fe.h)
  else()
    set(dir ${hidden_root}/sqlite3)
    set(names sqlite3.h)
  endif()
  foreach(n IN LISTS names openssl/evp.h openssl/crypto.h openssl/rand.h openssl/sha.h)
    file(WRITE ${dir}/${n} "#error \"${n} is not installed here: this component must not include it\"\n")
  endforeach()
endforeach()

# No package registry, and the prefix first: the consumer must find *this* install.
set(find_args -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)

# ---- find_package() checks --------------------------------------------------------------------
foreach(missing PostgreSQL SQLite3)
  run("find_package checks without ${missing}" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/downstream/find
    -B ${BINARY_DIR}/find-${missing} ${find_args} -DVERSION=${version} -DMISSING=${missing}
    -DCMAKE_DISABLE_FIND_PACKAGE_${missing}=ON)
endforeach()

# ---- CMake consumers, one per component ------------------------------------------------------
foreach(component sqlite postgres tenantry)
  set(build ${BINARY_DIR}/consumer-${component})
  set(extra)
  if(component STREQUAL "sqlite")
    set(extra -DCMAKE_DISABLE_FIND_PACKAGE_PostgreSQL=ON -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON
      -DHIDDEN_HEADERS=${hidden_root}/libpq)
  elseif(component STREQUAL "postgres")
    set(extra -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON -DCMAKE_DISABLE_FIND_PACKAGE_OpenSSL=ON
      -DHIDDEN_HEADERS=${hidden_root}/sqlite3)
  endif()
  run("configure the ${component} consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/downstream -B ${build}
    ${find_args} -DCOMPONENT=${component} -DEXPECTED_VERSION=${version} ${extra})
  file(STRINGS ${build}/CMakeCache.txt found REGEX "^tenantry_DIR:")
  string(FIND "${found}" "${prefix}/" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "downstream: tenantry was found outside the test prefix: ${found}")
  endif()
  run("build the ${component} consumer" ${CMAKE_COMMAND} --build ${build})
  run("run the ${component} consumer" ${build}/tenantry-downstream ${build}/migrations)
  message(STATUS "downstream: ${step_output}")
endforeach()

# ---- pkg-config, plain compiler command lines ------------------------------------------------
find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${prefix}/share/pkgconfig")
run("pkg-config --modversion tenantry" ${PKG_CONFIG} --modversion tenantry)
string(STRIP "${step_output}" pc_version)
if(NOT pc_version STREQUAL version)
  message(FATAL_ERROR "downstream: pkg-config says tenantry ${pc_version}, the project ${version}")
endif()
foreach(component sqlite postgres)
  if(component STREQUAL "sqlite")
    set(other libpq)
    set(other_flag "-lpq|postgresql")
    set(hidden ${hidden_root}/libpq)
  else()
    set(other sqlite3)
    set(other_flag "sqlite")
    set(hidden ${hidden_root}/sqlite3)
  endif()
  run("pkg-config --cflags --libs tenantry-${component}" ${PKG_CONFIG} --cflags --libs tenantry-${component})
  string(STRIP "${step_output}" flags)
  if(flags MATCHES "${other_flag}|-lcrypto|-lssl")
    message(FATAL_ERROR "downstream: tenantry-${component}.pc brings in ${other}: ${flags}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(exe ${BINARY_DIR}/pkg-config-${component})
  run("${CXX} -std=c++20 ${component}.cpp $(pkg-config --cflags --libs tenantry-${component})"
    ${CXX} -std=c++20 -I${hidden} "-DEXPECTED_VERSION_STRING=\"${version}\""
    ${SOURCE_DIR}/tests/downstream/${component}.cpp ${flags} -o ${exe})
  run("run the pkg-config ${component} build" ${exe} ${BINARY_DIR}/pkg-config-migrations)
  message(STATUS "downstream: ${step_output}")
endforeach()
