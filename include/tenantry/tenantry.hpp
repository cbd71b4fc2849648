// tenantry/tenantry.hpp - everything: both drivers and run-time selection by URL
// (link tenantry::tenantry).
#pragma once

#include "tenantry/batch.hpp"
#include "tenantry/database.hpp"
#include "tenantry/pool.hpp"
#include "tenantry/postgres.hpp"
#include "tenantry/sqlite.hpp"
#include "tenantry/url.hpp"
