// tenantry/error.hpp - the exceptions tenantry throws.
//
// Every failure is a tenantry::Error. Database failures carry what the database told us
// (SQLSTATE or SQLite extended code, table, constraint); constraint violations are split by kind
// so callers can catch exactly the one they handle:
//
//   Error
//   ├── UsageError            the program asked for something impossible (a bug in the caller)
//   ├── ValueError            a value cannot be stored or decoded (out of range, bad UUID text...)
//   ├── UrlError              a database URL is malformed or names an unknown scheme
//   ├── OrgMismatch           a row carries another org's id than the one the call was scoped to
//   ├── RlsNotEnforced        row-level security differs from the generated one (rls.hpp)
//   └── DatabaseError         the database refused or failed
//       ├── ConnectionError   cannot connect, or the connection broke
//       │   └── UnsupportedVersion  the server or client library is older than tenantry needs
//       ├── BusyError         the database stayed locked past the busy timeout
//       ├── StorageFull       the disk, a quota or a size limit is full; the write was undone
//       ├── ReadOnlyError     a write to a database (or transaction) that is read-only
//       ├── OrgNotProvisioned the org has no schema (schema per org, org_schema.hpp)
//       ├── OrgContextMissing row-level security is on and the org context is not set
//       ├── StatementNameCollision  a server session holds our statement name with other SQL
//       ├── QueryCanceled     the statement was cancelled while it ran
//       │   └── StatementTimeout  ... because it ran past statement_timeout
//       └── ConstraintViolation
//           ├── UniqueViolation      ├── ForeignKeyViolation
//           ├── CheckViolation       └── NotNullViolation
#pragma once

#include "tenantry/version.hpp"  // the version and the compiler checks, in every header

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tenantry {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;

  /// For an error raised by one statement of a Batch (batch.hpp): that statement's position in
  /// the batch (0 for the first one added); empty otherwise. what() then names it too.
  std::optional<std::size_t> batch_statement() const noexcept { return batch_statement_; }
  const char* what() const noexcept override { return named_ ? named_->c_str() : std::runtime_error::what(); }

  /// Used by batch.hpp: names the statement of the batch that raised this error, and whether
  /// the batch was written all the same (a value of a committed batch that could not be read back).
  void set_batch_statement(std::size_t k, std::size_t of, const std::string& statement, bool written = false) {
    batch_statement_ = k;
    named_ = std::make_shared<const std::string>(
        "tenantry: statement " + std::to_string(k + 1) + " of " + std::to_string(of) + " in the batch (" + statement +
        (written ? "): the batch was written, but " : ") failed, and nothing of the batch was written: ") +
        std::runtime_error::what());
  }

 private:
  std::optional<std::size_t> batch_statement_;
  std::shared_ptr<const std::string> named_;  // shared: copying an exception stays noexcept
};

/// The caller broke a precondition (e.g. a transaction committed twice, a statement misused).
class UsageError : public Error {
 public:
  using Error::Error;
};

/// A database URL that cannot be used; the message says what is wrong with it.
class UrlError : public Error {
 public:
  using Error::Error;
};

/// A value cannot be represented in the database or decoded from it.
class ValueError : public Error {
 public:
  using Error::Error;
};

/// A write named an org other than the one it was scoped to. Nothing was written.
class OrgMismatch : public Error {
 public:
  OrgMismatch(std::string table, std::string scoped_org, std::string row_org)
      : Error("tenantry: org mismatch on table '" + table + "': call is scoped to org " + scoped_org +
              " but the row carries org " + row_org + "; nothing was written"),
        table_(std::move(table)),
        scoped_org_(std::move(scoped_org)),
        row_org_(std::move(row_org)) {}
  /// A row of a table scoped through its parent names a parent row that is not the org's: it
  /// belongs to another org or does not exist (the two are not told apart: that would tell one
  /// org what another holds). row_org() is empty.
  struct ParentNotInOrg {};
  OrgMismatch(ParentNotInOrg, std::string table, std::string scoped_org, const std::string& parent_table)
      : Error("tenantry: org mismatch on table '" + table + "': call is scoped to org " + scoped_org +
              " but the row's parent in '" + parent_table + "' is not a row of that org; nothing was written"),
        table_(std::move(table)),
        scoped_org_(std::move(scoped_org)) {}
  const std::string& table() const noexcept { return table_; }
  const std::string& scoped_org() const noexcept { return scoped_org_; }
  const std::string& row_org() const noexcept { return row_org_; }

 private:
  std::string table_, scoped_org_, row_org_;
};

/// The database reported an error. `code()` is the SQLSTATE (PostgreSQL) or the extended result
/// code in decimal (SQLite).
class DatabaseError : public Error {
 public:
  DatabaseError(const std::string& message, std::string code) : Error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

class ConnectionError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// The database server or client library is older than tenantry's minimum (version.hpp), found
/// when a connection is opened, before any statement runs; the connection is closed. what() names
/// the component, the version found and the minimum. code() is "0A000" (feature_not_supported).
class UnsupportedVersion : public ConnectionError {
 public:
  /// `found` and `minimum` in the component's own encoding (150000 for PostgreSQL 15.0,
  /// 3037000 for SQLite 3.37.0); the texts are what the message shows.
  UnsupportedVersion(std::string component, int found, std::string found_text, int minimum, std::string minimum_text,
                     const std::string& why)
      : ConnectionError("tenantry: " + component + " " + found_text + " is too old: tenantry needs " + component + " " +
                            minimum_text + " or later (" + why + ")",
                        "0A000"),
        component_(std::move(component)),
        found_(found),
        minimum_(minimum) {}
  /// "PostgreSQL server", "libpq" or "SQLite library".
  const std::string& component() const noexcept { return component_; }
  int found() const noexcept { return found_; }
  int minimum() const noexcept { return minimum_; }

 private:
  std::string component_;
  int found_, minimum_;
};

class BusyError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// The database could not grow: the disk is full, or a quota or size limit was reached (SQLite's
/// max_page_count, the process's file size limit). The statement failed and its transaction is
/// undone: SQLite rolls it back at once, PostgreSQL when the aborted transaction ends. Nothing of
/// it is kept, and the database is intact; freeing space makes writes work again. SQLite:
/// SQLITE_FULL, or an I/O error whose system error is ENOSPC, EDQUOT or EFBIG (the message
/// names it); PostgreSQL: SQLSTATE 53100 (disk_full).
class StorageFull : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// A write to a database that is read-only: SQLite opened with ?mode=ro or Options::read_only, or
/// a file (or directory) the process may not write; PostgreSQL in a read-only transaction or on
/// a standby (SQLSTATE 25006). Nothing was written; reads still work.
class ReadOnlyError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// Schema per org (org_schema.hpp): an org-scoped operation named an org whose schema does not
/// exist (never provisioned, or dropped). Nothing was read or written. code() is "3F000"
/// (PostgreSQL's invalid_schema_name).
class OrgNotProvisioned : public DatabaseError {
 public:
  OrgNotProvisioned(std::string org, std::string schema)
      : DatabaseError("tenantry: postgres: org " + org + " has no schema \"" + schema +
                          "\" (provision it first, see OrgSchemas::provision_org); nothing was read or written",
                      "3F000"),
        org_(std::move(org)),
        schema_(std::move(schema)) {}
  const std::string& org() const noexcept { return org_; }
  const std::string& schema() const noexcept { return schema_; }

 private:
  std::string org_, schema_;
};

/// Row-level security (PostgreSQL): a statement touched an org-scoped table while the session's
/// org context (app.current_org_id) was not set, or set to nothing. The policies tenantry
/// generates make such a statement fail instead of seeing no rows (see
/// row_level_security_sql in ddl.hpp); nothing was read or written, and the transaction it ran
/// in is aborted. Connect with pg::Options::org_context, or set the org inside the transaction.
/// code() is "42704" (the missing setting is an undefined object to PostgreSQL).
class OrgContextMissing : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// PostgreSQL: the server session already holds a prepared statement under the name tenantry
/// derives from this statement's text (sql_registry.hpp), but with other SQL. Only another
/// program using tenantry's names, or a digest collision, can cause it; behind a pooler such a
/// statement would otherwise run in place of ours. The statement was not executed. code() is
/// "42P05" (duplicate_prepared_statement).
class StatementNameCollision : public DatabaseError {
 public:
  StatementNameCollision(std::string name, const std::string& ours, const std::string& theirs)
      : DatabaseError("tenantry: postgres: the server session already holds a prepared statement named " + name +
                          " with other SQL; refusing to execute it (ours: '" + ours.substr(0, 200) + "', theirs: '" +
                          theirs.substr(0, 200) + "')",
                      "42P05"),
        name_(std::move(name)) {}
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

/// The statement was cancelled while it ran: PostgreSQL's query_canceled (57014: a cancel
/// request, pg_cancel_backend), SQLite's SQLITE_INTERRUPT (sqlite3_interrupt). Nothing of the
/// statement is kept; on PostgreSQL the transaction it ran in is aborted (as after any error)
/// and the connection stays usable once it is rolled back.
class QueryCanceled : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// PostgreSQL: the statement ran longer than statement_timeout (the session's, or the per-org
/// one of pg::Options::statement_timeout) and the server cancelled it. code() is "57014".
class StatementTimeout : public QueryCanceled {
 public:
  using QueryCanceled::QueryCanceled;
};

/// A constraint refused a write. table() and constraint() are filled when the database names them
/// (PostgreSQL always does; for SQLite tenantry recovers the name from the entity declaration
/// where the message names only columns). Either may be empty when nobody knows.
class ConstraintViolation : public DatabaseError {
 public:
  ConstraintViolation(const std::string& message, std::string code, std::string table, std::string constraint)
      : DatabaseError(message, std::move(code)), table_(std::move(table)), constraint_(std::move(constraint)) {}
  const std::string& table() const noexcept { return table_; }
  const std::string& constraint() const noexcept { return constraint_; }
  /// Columns named by the database, when it names columns rather than a constraint (SQLite
  /// UNIQUE and NOT NULL messages, PostgreSQL's column field for NOT NULL).
  const std::vector<std::string>& columns() const noexcept { return columns_; }

  /// Used by drivers and repositories to complete what the database left out.
  void set_constraint(std::string name) { constraint_ = std::move(name); }
  void set_table(std::string name) { table_ = std::move(name); }
  void set_columns(std::vector<std::string> cols) { columns_ = std::move(cols); }

 private:
  std::string table_, constraint_;
  std::vector<std::string> columns_;
};

class UniqueViolation : public ConstraintViolation {
 public:
  using ConstraintViolation::ConstraintViolation;
};
class ForeignKeyViolation : public ConstraintViolation {
 public:
  using ConstraintViolation::ConstraintViolation;
};
class CheckViolation : public ConstraintViolation {
 public:
  using ConstraintViolation::ConstraintViolation;
};
class NotNullViolation : public ConstraintViolation {
 public:
  using ConstraintViolation::ConstraintViolation;
};

}  // namespace tenantry
