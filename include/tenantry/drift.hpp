// tenantry/drift.hpp - does the live schema match the entities? A check for a service's start-up.
//
//   tenantry::check_schema<Organization, ApiToken, Widget>(db);   // throws SchemaDriftError
//
//   auto drift = tenantry::schema_drift(db, expected);   // the differences, empty when none
//
// The live schema (catalog.hpp) is compared with the schema the entities describe, read back
// the same way (catalog::entity_schema), so a difference is a real one: a missing or extra
// column, another type, nullability or default, a missing, extra or renamed constraint or
// index, a changed foreign key action, a missing policy. Every difference is listed, as the
// change a migration would have to make. A service that starts against a database its code
// does not match fails at once, naming what differs, instead of failing on the first query
// that happens to touch it (or, worse, succeeding with another constraint than it relies on).
#pragma once

#include "tenantry/catalog.hpp"
#include "tenantry/error.hpp"
#include "tenantry/schema_diff.hpp"

#include <string>
#include <utility>
#include <vector>

namespace tenantry {

/// The live schema differs from the entities. differences() lists every difference, one line
/// each, as "table: the change a migration would make".
class SchemaDriftError : public Error {
 public:
  explicit SchemaDriftError(std::vector<std::string> differences)
      : Error(message(differences)), differences_(std::move(differences)) {}
  const std::vector<std::string>& differences() const noexcept { return differences_; }

 private:
  static std::string message(const std::vector<std::string>& d) {
    std::string m = "tenantry: the database schema does not match the entities (" + std::to_string(d.size()) +
                    " difference(s)); to match them, a migration would:";
    for (const auto& x : d) m += "\n  * " + x;
    return m;
  }
  std::vector<std::string> differences_;
};

struct DriftOptions {
  /// DDL options the schema was created with (row_level_security: expect the policies).
  DdlOptions ddl{};
  /// Tables of the database that no entity declares are differences too, unless listed here
  /// (or all of them are ignored with ignore_other_tables).
  std::vector<std::string> other_tables{};
  bool ignore_other_tables = false;
  /// PostgreSQL: the schema to check (default: the current one).
  std::string schema{};
};

/// The differences between `expected` and the live schema of `conn`, one line each; empty when
/// they match.
template <class Conn>
std::vector<std::string> schema_drift(Conn& conn, const catalog::Schema& expected, const DriftOptions& options = {}) {
  catalog::ReadOptions read;
  read.schema = options.schema;
  read.exclude = options.other_tables;
  if (options.ignore_other_tables)
    for (const auto& t : expected.tables) read.only.push_back(t.name);
  if (options.ignore_other_tables && read.only.empty()) return {};
  const catalog::Schema live = catalog::read_schema(conn, read);
  migrate::DiffOptions diff_options;
  diff_options.refuse = false;  // nothing runs: report every difference
  return migrate::diff(live, expected, {}, diff_options).describe();
}

/// Throws SchemaDriftError listing every difference between the live schema and entities Es.
template <class... Es, class Conn>
void check_schema(Conn& conn, const DriftOptions& options = {}) {
  std::vector<std::string> d = schema_drift(conn, catalog::entity_schema<Es...>(conn, options.ddl), options);
  if (!d.empty()) throw SchemaDriftError(std::move(d));
}

}  // namespace tenantry
