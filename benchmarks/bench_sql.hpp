// benchmarks/bench_sql.hpp - the SQL text the raw C-API twins run: taken from tenantry's own
// statement builders (statements.hpp) with the arguments the repository passes them, so that the
// raw side and the tenantry side run byte-identical statements.
#pragma once

#include "bench_model.hpp"

#include <tenantry/ddl.hpp>
#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>
#include <tenantry/query.hpp>
#include <tenantry/schema.hpp>
#include <tenantry/statements.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace bench {

template <class D>
struct SqlText {
  std::string insert;          // Repository::insert / insert_many
  std::string find;            // Repository::find
  std::string list_by_user;    // Repository::list(org, col(&Token::user_id) == user)
  std::string count;           // Repository::count(org)
  std::string upsert;          // Repository::upsert(org, row, on_conflict(org_id, token_prefix))
  std::string set_updated_at;  // Repository::set(org, id, &Token::updated_at, ts)
  std::string erase;           // Repository::erase(org, id)
  std::vector<std::string> ddl;

  static const SqlText& get() {
    static const SqlText s = [] {
      namespace sql = tenantry::sql;
      const tenantry::TableInfo& t = tenantry::table_info<Token>();
      SqlText out;
      out.insert = sql::insert<D>(t);
      out.find = sql::find<D>(t);
      // The predicate writes its own SQL, exactly as Repository::list has it do.
      const auto by_user = tenantry::col(&Token::user_id) == std::string("x");
      out.list_by_user = sql::filtered<D>(
          t, sql::Verb::select, [&](std::string& o, int& next) { by_user.template sql<D>(o, t, next); }, {}, false,
          false);
      out.count = sql::filtered<D>(t, sql::Verb::count, [](std::string&, int&) {}, {}, false, false);
      // The SET list Repository::upsert_impl computes for a target without an explicit list.
      const std::vector<std::size_t> target{field_index(&Token::org_id), field_index(&Token::token_prefix)};
      std::vector<std::size_t> set;
      for (auto i : sql::updatable_columns(t))
        if (!t.columns[i].generated() && std::find(target.begin(), target.end(), i) == target.end()) set.push_back(i);
      out.upsert = sql::upsert<D>(t, target, set, false);
      out.set_updated_at = sql::update<D>(t, {field_index(&Token::updated_at)});
      out.erase = sql::erase<D>(t);
      out.ddl = tenantry::create_statements<Token, D>();
      return out;
    }();
    return s;
  }
};

}  // namespace bench
