// tenantry/sqlite.hpp - everything needed to use tenantry with SQLite (link tenantry::sqlite).
#pragma once

#include "tenantry/ddl.hpp"
#include "tenantry/dialect/postgres.hpp"  // SQL text for both dialects is always available
#include "tenantry/dialect/sqlite.hpp"
#include "tenantry/driver/sqlite.hpp"
#include "tenantry/entity.hpp"
#include "tenantry/error.hpp"
#include "tenantry/query.hpp"
#include "tenantry/raw.hpp"
#include "tenantry/repository.hpp"
#include "tenantry/select.hpp"
#include "tenantry/types.hpp"
