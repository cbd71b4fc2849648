// benchmarks/bench_sql.hpp - the SQL text the raw C-API twins run: the descriptions the
// repository makes of each benchmarked call (statements.hpp), written by its SQL writer, so that
// the raw side and the tenantry side run byte-identical statements.
#pragma once

#include "bench_model.hpp"

#include <tenantry/ddl.hpp>
#include <tenantry/dialect/postgres.hpp>
#include <tenantry/dialect/sqlite.hpp>
#include <tenantry/query.hpp>
#include <tenantry/schema.hpp>
#include <tenantry/select.hpp>
#include <tenantry/statements.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace bench {

/// The join benchmark's query: one user's tokens with the owner's e-mail (100 rows), as an
/// application writes it (built per call, the user bound as a parameter).
inline auto tokens_with_owner(const std::string& user) {
  using tenantry::col;
  return tenantry::select<TokenWithOwner>(col(&Token::id), col(&Token::name), col(&Token::status),
                                          col(&Token::created_at), col(&Owner::email))
      .from<Token>()
      .join<Owner>(col(&Token::user_id) == col(&Owner::id))
      .where(col(&Token::user_id) == user);
}

/// The grouped count: an org's tokens per status (a dashboard's counts), ordered by status.
inline auto tokens_per_status() {
  using tenantry::col;
  return tenantry::select<StatusCount>(col(&Token::status), tenantry::count())
      .from<Token>()
      .group_by(col(&Token::status))
      .order_by(col(&Token::status));
}

template <class D>
struct SqlText {
  std::string insert;          // Repository::insert / insert_many
  std::string find;            // Repository::find
  std::string find_many;       // Repository::find_many(org, ids) (PostgreSQL: one = ANY($2) statement)
  std::string list_by_user;    // Repository::list(org, col(&Token::user_id) == user)
  std::string count;           // Repository::count(org)
  std::string upsert;          // Repository::upsert(org, row, on_conflict(org_id, token_prefix))
  std::string put;             // Repository::put(org, row, on_conflict(org_id, token_prefix)): no RETURNING
  std::string set_updated_at;  // Repository::set(org, id, &Token::updated_at, ts)
  std::string erase;           // Repository::erase(org, id)
  std::string insert_owner;    // Repository<Owner>::insert
  std::string join;            // fetch(conn, org, tokens_with_owner(user))
  std::string per_status;      // fetch(conn, org, tokens_per_status())
  std::vector<std::string> ddl;

  static const SqlText& get() {
    static const SqlText s = [] {
      namespace st = tenantry::statements;
      const auto w = [](const tenantry::stmt::Statement& d) { return tenantry::write_sql<D>(d); };
      SqlText out;
      out.insert = w(st::insert<Token>());
      out.find = w(st::find<Token>());
      if constexpr (D::is_postgres) out.find_many = w(st::find_many<Token>());
      out.list_by_user = w(st::list<Token>(tenantry::col(&Token::user_id) == std::string("x")));
      out.count = w(st::count<Token>());
      out.upsert = w(st::upsert<Token>(tenantry::on_conflict(&Token::org_id, &Token::token_prefix)));
      static constexpr auto by_prefix = tenantry::on_conflict(&Token::org_id, &Token::token_prefix);
      out.put = w(st::upsert<Token>(by_prefix, false));
      out.set_updated_at = w(st::update<Token>({field_index(&Token::updated_at)}));
      out.erase = w(st::erase<Token>());
      out.insert_owner = w(st::insert<Owner>());
      out.join = tenantry::sql_of<D>(tokens_with_owner("x"));
      out.per_status = tenantry::sql_of<D>(tokens_per_status());
      out.ddl = tenantry::create_statements<Token, D>();
      for (auto& d : tenantry::create_statements<Owner, D>()) out.ddl.push_back(std::move(d));
      return out;
    }();
    return s;
  }
};

}  // namespace bench
