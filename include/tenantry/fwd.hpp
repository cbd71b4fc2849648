// tenantry/fwd.hpp - forward declarations that tie dialects to drivers without including them.
#pragma once

#include "tenantry/version.hpp"

namespace tenantry {

struct SqliteDialect;
struct PgDialect;
struct AnyDialect;  // chosen at run time by a Database (database.hpp)

/// Maps a dialect to its driver's connection type; each driver header specialises it, so
/// Repository<E, SqliteDialect> needs only <tenantry/sqlite.hpp> to be complete.
template <class D>
struct connection_for;

}  // namespace tenantry
