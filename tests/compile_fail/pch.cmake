# The compile-fail checks' precompiled header (compile_fail.cmake registers it as the fixture
# compile_fail.pch, which every compile_fail.* test requires):
#   cmake -DCXX=<compiler> -DCXX_ID=<GNU|Clang> -DHEADER=<pch.hpp> -DOUT=<dir> "-DFLAGS=<flags>" -P pch.cmake
# Writes <dir>/pch.hpp and next to it pch.hpp.gch (g++) or pch.hpp.pch (clang++), compiled with
# check.cmake's language flags, so check.cmake's "-include <dir>/pch.hpp" (g++) or
# "-include-pch <dir>/pch.hpp.pch" (clang++) is valid for the compilation it joins.
cmake_minimum_required(VERSION 3.22)
file(MAKE_DIRECTORY ${OUT})
file(REMOVE ${OUT}/pch.hpp.gch ${OUT}/pch.hpp.pch)
configure_file(${HEADER} ${OUT}/pch.hpp COPYONLY)
if(CXX_ID STREQUAL "Clang")
  set(output ${OUT}/pch.hpp.pch)
else()
  set(output ${OUT}/pch.hpp.gch)
endif()
execute_process(COMMAND ${CXX} -std=c++20 ${FLAGS} -x c++-header ${OUT}/pch.hpp -o ${output}
  RESULT_VARIABLE rv OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rv EQUAL 0)
  message(FATAL_ERROR "compile_fail.pch: the library headers do not compile:\n${out}")
endif()
message(STATUS "compile_fail.pch: ${output}")
