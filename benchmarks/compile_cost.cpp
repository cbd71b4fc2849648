// benchmarks/compile_cost.cpp - what it costs to compile an application's data layer: one
// translation unit with all of the reference app's entities (examples/app/entities.hpp) and every
// one of its repositories (examples/app/repositories.hpp) explicitly instantiated, which
// instantiates every member function and, through them, every tenantry::Repository operation the
// app uses, for each dialect compiled in.
//
// scripts/bench.sh compiles it with g++ and clang++ under /usr/bin/time -v (SQLite only, and with
// -DTENANTRY_COMPILE_COST_PG=1 for both dialects). CMake builds it as an object library so it
// keeps compiling.
#include <tenantry/sqlite.hpp>
#if defined(TENANTRY_COMPILE_COST_PG) && TENANTRY_COMPILE_COST_PG && __has_include(<tenantry/driver/postgres.hpp>)
#include <tenantry/postgres.hpp>
#define TENANTRY_COMPILE_COST_WITH_PG 1
#endif

#include "app/entities.hpp"
#include "app/repositories.hpp"

template class app::OrgRepository<tenantry::SqliteDialect>;
template class app::TokenRepository<tenantry::SqliteDialect>;
template class app::AccessRepository<tenantry::SqliteDialect>;
template class app::AccessRequestRepository<tenantry::SqliteDialect>;
template class app::ModelRepository<tenantry::SqliteDialect>;
template class app::ToolsetRepository<tenantry::SqliteDialect>;
template class app::UserAliasRepository<tenantry::SqliteDialect>;
template class app::SessionRepository<tenantry::SqliteDialect>;
template struct app::DbService<tenantry::SqliteDialect>;

#if defined(TENANTRY_COMPILE_COST_WITH_PG)
template class app::OrgRepository<tenantry::PgDialect>;
template class app::TokenRepository<tenantry::PgDialect>;
template class app::AccessRepository<tenantry::PgDialect>;
template class app::AccessRequestRepository<tenantry::PgDialect>;
template class app::ModelRepository<tenantry::PgDialect>;
template class app::ToolsetRepository<tenantry::PgDialect>;
template class app::UserAliasRepository<tenantry::PgDialect>;
template class app::SessionRepository<tenantry::PgDialect>;
template struct app::DbService<tenantry::PgDialect>;
#endif
