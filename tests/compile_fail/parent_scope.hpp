// The shared preamble of the compile-fail tests of entities scoped through their parent
// (`scope = tenantry::through<&T::fk>`, rules 4 and 9-15 of entity.hpp): the fixtures of
// examples/queries/entities.hpp (Account global; Member, Role org-scoped; MemberSecret scoped
// through Member), table_info<> (which checks the rules), and both namespaces. Each test that
// includes it declares one entity that breaks one rule and asks for its table_info<>.
#pragma once

#include "queries/entities.hpp"

#include <tenantry/schema.hpp>

using namespace tenantry;
using namespace qfx;
