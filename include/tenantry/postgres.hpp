// tenantry/postgres.hpp - everything needed to use tenantry with PostgreSQL (link tenantry::postgres).
#pragma once

#include "tenantry/ddl.hpp"
#include "tenantry/dialect/postgres.hpp"
#include "tenantry/dialect/sqlite.hpp"  // SQL text for both dialects is always available
#include "tenantry/driver/postgres.hpp"
#include "tenantry/entity.hpp"
#include "tenantry/error.hpp"
#include "tenantry/org_schema.hpp"
#include "tenantry/query.hpp"
#include "tenantry/raw.hpp"
#include "tenantry/repository.hpp"
#include "tenantry/rls.hpp"
#include "tenantry/select.hpp"
#include "tenantry/types.hpp"
