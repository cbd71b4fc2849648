# Fuzzing (docs/reliability.md, "Fuzzing"). Included from tests/CMakeLists.txt.
#
#   fuzz-replay        every build: the checked-in corpus and regression inputs through the
#                      targets' entry points, with a plain main (replay.cpp)
#   fuzz.<target>      TENANTRY_BUILD_FUZZERS=ON (clang only): a bounded libFuzzer run of
#                      TENANTRY_FUZZ_SECONDS per target, starting from the corpus; a crash fails
#                      the test and leaves its input in <build>/tests/fuzz/<target>/
set(tenantry_fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
set(tenantry_fuzz_targets url migrate values)

add_executable(tenantry-fuzz-replay ${tenantry_fuzz_dir}/replay.cpp)
target_include_directories(tenantry-fuzz-replay PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(tenantry-fuzz-replay PRIVATE tenantry::sqlite tenantry_warnings)
add_test(NAME fuzz-replay COMMAND tenantry-fuzz-replay ${tenantry_fuzz_dir})

if(TENANTRY_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "TENANTRY_BUILD_FUZZERS needs clang (libFuzzer); configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  set(TENANTRY_FUZZ_SECONDS 20 CACHE STRING "How long each fuzz.<target> test fuzzes")
  set(fuzz_flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  foreach(target IN LISTS tenantry_fuzz_targets)
    add_executable(tenantry-fuzz-${target} ${tenantry_fuzz_dir}/fuzz_${target}.cpp)
    target_include_directories(tenantry-fuzz-${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(tenantry-fuzz-${target} PRIVATE tenantry::sqlite tenantry_warnings)
    target_compile_options(tenantry-fuzz-${target} PRIVATE ${fuzz_flags})
    target_link_options(tenantry-fuzz-${target} PRIVATE ${fuzz_flags})
    add_test(NAME fuzz.${target}
      COMMAND ${CMAKE_COMMAND} -DFUZZER=$<TARGET_FILE:tenantry-fuzz-${target}> -DTARGET=${target}
              -DSOURCE=${tenantry_fuzz_dir} -DWORK=${CMAKE_CURRENT_BINARY_DIR}/fuzz/${target}
              -DSECONDS=${TENANTRY_FUZZ_SECONDS} -P ${tenantry_fuzz_dir}/run_fuzzer.cmake)
    set_tests_properties(fuzz.${target} PROPERTIES TIMEOUT 600)
  endforeach()
endif()
