// The library headers the compile-fail files include, precompiled once per CTest run (the
// compile_fail.pch test, a fixture of every compile_fail.* test: pch.cmake) and given to each
// file with -include, so each check parses only its own few lines. Headers only: the files keep
// their own #includes, and every check still states the same rule (check.cmake, -DPCH=OFF).
#include <tenantry/org_schema.hpp>
#include <tenantry/postgres.hpp>
#include <tenantry/select.hpp>
#include <tenantry/sqlite.hpp>
#include <tenantry/tenantry.hpp>
