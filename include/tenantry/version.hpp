// tenantry/version.hpp - the library's version and the oldest versions of what it runs on.
//
//   #include <tenantry/version.hpp>
//   #if TENANTRY_VERSION < TENANTRY_VERSION_ENCODE(0, 2, 0)
//   // code for tenantry 0.1
//   #endif
//   std::puts(tenantry::version_string);  // "0.1.0"
//
// This file is the single source of the version: CMakeLists.txt reads the three macros below,
// so project(tenantry VERSION ...), the installed tenantryConfigVersion.cmake (the check behind
// `find_package(tenantry 0.1 CONFIG)`) and the pkg-config files all report the same numbers.
// Before 1.0.0 a minor version may break the API, so find_package accepts only the same
// major.minor (SameMinorVersion); from 1.0.0 on, the same major version.
//
// Minimum versions. Each is checked where it can be, with a message that names the minimum:
//   compiler    g++ 12, clang++ 14, C++20        #error below (other compilers are not checked)
//   Boost       1.81 (Boost.PFR)                 #error in reflect.hpp
//   SQLite      3.37.0 (RETURNING needs 3.35,    #error at compile time (sqlite3.h) and, at open,
//               sqlite3_changes64 needs 3.37)    UnsupportedVersion for an older run-time library
//   libpq       10 (host lists, SCRAM)           UnsupportedVersion at connect (PQlibVersion)
//   PostgreSQL  15 (ON DELETE SET NULL (cols),   UnsupportedVersion at connect (PQserverVersion),
//   server      the oldest release still         before any statement is sent
//               supported upstream)
// The numbers use each project's own encoding: SQLITE_VERSION_NUMBER (3037000), PQlibVersion()
// and PQserverVersion() (150000), BOOST_VERSION (108100).
#pragma once

#define TENANTRY_VERSION_MAJOR 0
#define TENANTRY_VERSION_MINOR 1
#define TENANTRY_VERSION_PATCH 0

/// major * 10000 + minor * 100 + patch, for #if comparisons (fmt's and Boost's style).
#define TENANTRY_VERSION_ENCODE(major, minor, patch) ((major)*10000 + (minor)*100 + (patch))
#define TENANTRY_VERSION TENANTRY_VERSION_ENCODE(TENANTRY_VERSION_MAJOR, TENANTRY_VERSION_MINOR, TENANTRY_VERSION_PATCH)

#define TENANTRY_DETAIL_STRINGIZE2(x) #x
#define TENANTRY_DETAIL_STRINGIZE(x) TENANTRY_DETAIL_STRINGIZE2(x)
/// "0.1.0"
#define TENANTRY_VERSION_STRING                     \
  TENANTRY_DETAIL_STRINGIZE(TENANTRY_VERSION_MAJOR) \
  "." TENANTRY_DETAIL_STRINGIZE(TENANTRY_VERSION_MINOR) "." TENANTRY_DETAIL_STRINGIZE(TENANTRY_VERSION_PATCH)

#define TENANTRY_MIN_SQLITE_VERSION_NUMBER 3037000  // SQLITE_VERSION_NUMBER encoding
#define TENANTRY_MIN_SQLITE_VERSION_STRING "3.37.0"
#define TENANTRY_MIN_LIBPQ_VERSION 100000            // PQlibVersion() encoding
#define TENANTRY_MIN_POSTGRES_SERVER_VERSION 150000  // PQserverVersion() encoding
#define TENANTRY_MIN_BOOST_VERSION 108100            // BOOST_VERSION encoding

#if defined(_MSVC_LANG) ? _MSVC_LANG < 202002L : __cplusplus < 202002L
#error "tenantry needs C++20 (-std=c++20 or later)"
#endif
#if defined(__clang__)
#if !defined(__apple_build_version__) && __clang_major__ < 14
#error "tenantry needs clang++ 14 or later"
#endif
#elif defined(__GNUC__) && __GNUC__ < 12
#error "tenantry needs g++ 12 or later"
#endif

namespace tenantry {

/// The library version, e.g. "0.1.0" (the same as TENANTRY_VERSION_STRING).
inline constexpr const char* version_string = TENANTRY_VERSION_STRING;
inline constexpr int version_major = TENANTRY_VERSION_MAJOR;
inline constexpr int version_minor = TENANTRY_VERSION_MINOR;
inline constexpr int version_patch = TENANTRY_VERSION_PATCH;

}  // namespace tenantry
