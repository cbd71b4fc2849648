// The context the usage examples at the top of the public headers are written in: the whole
// library, `using namespace tenantry`, and these entities and names (tests/usage.sh compiles
// each example with it). An example that declares its own ApiToken (entity.hpp's) is compiled
// with TENANTRY_USAGE_OWN_ENTITIES, which leaves ApiToken out.
#pragma once

#include <tenantry/migrate.hpp>
#include <tenantry/org_schema.hpp>
#include <tenantry/tenantry.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

struct Organization {
  tenantry::Uuid id;
  std::string slug;
};
template <>
struct tenantry::entity<Organization> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "organizations";
  static constexpr auto primary_key = key(&Organization::id);
};

struct Widget {
  tenantry::Uuid id;
  tenantry::OrgId org_id;
  std::string name;
};
template <>
struct tenantry::entity<Widget> {
  static constexpr std::string_view table = "widgets";
  static constexpr auto primary_key = key(&Widget::id);
};

#ifndef TENANTRY_USAGE_OWN_ENTITIES
enum class TokenStatus { active, revoked };

struct ApiToken {
  tenantry::Uuid id;
  tenantry::OrgId org_id;
  std::string user_id;
  std::string name;
  std::string token_prefix;
  TokenStatus status = TokenStatus::active;
  tenantry::Timestamp created_at;
  int expires_in = 0;
};
template <>
struct tenantry::entity<ApiToken> {
  static constexpr std::string_view table = "api_tokens";
  static constexpr auto primary_key = key(&ApiToken::id);
  static constexpr auto constraints = std::tuple{unique(&ApiToken::org_id, &ApiToken::token_prefix)};
};
#endif
