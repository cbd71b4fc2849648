// SQLite-only constraints: the CHECKs the SQLite DDL adds by itself to hold a kind to its
// domain, which PostgreSQL's types do without a constraint (docs/dialects.md, "Types"). Every
// declared constraint, the ON DELETE actions and the tenant-safe references are exercised on
// both databases in tests/parity/constraints_test.cpp.
#include "support/sqlite_db.hpp"

#include <string>
#include <utility>
#include <vector>

using namespace tenantry;
using fixtures::Gadget;
using testdb::expect_throw;
using testdb::Repo;
using testdb::rows_in;

namespace {

/// An INSERT of one gadget row in plain SQL with `column` set to the SQL expression `value`.
std::string raw_gadget_insert(const OrgId& org, const std::string& column, const std::string& value) {
  std::vector<std::pair<std::string, std::string>> cols{
      {"org_id", "'" + org.to_string() + "'"}, {"i8", "0"}, {"i16", "0"}, {"i32", "0"}, {"i64", "0"},
      {"u8", "0"}, {"u16", "0"}, {"u32", "0"}, {"u64", "0"}, {"real", "0.0"}, {"real32", "0.0"}, {"flag", "0"},
      {"title", "'raw'"}, {"ref", "'" + Uuid::random().to_string() + "'"}, {"at", "'2024-01-02T03:04:05.000000Z'"},
      {"meta", "'{}'"}, {"payload", "x''"}, {"color", "'red'"}, {"price", "0"}, {"quantity", "1"}};
  std::string names, values;
  for (auto& [n, v] : cols) {
    if (n == column) v = value;
    names += (names.empty() ? "" : ", ") + n;
    values += (values.empty() ? "" : ", ") + v;
  }
  return "INSERT INTO gadgets (" + names + ") VALUES (" + values + ")";
}

}  // namespace

TEST_CASE("boolean domain ck_gadgets_flag_bool", "[sqlite][constraints]") {
  testdb::FileDb db;
  const OrgId org = testdb::add_org(db.conn, "acme");
  Repo<Gadget> gadgets{db.conn};
  const Gadget g = gadgets.insert(org, testdb::make_gadget("kept"));

  const auto e = expect_throw<CheckViolation>([&] { db.conn.execute(raw_gadget_insert(org, "flag", "2")); });
  CHECK(e.constraint() == "ck_gadgets_flag_bool");
  CHECK(e.code() == std::to_string(SQLITE_CONSTRAINT_CHECK));
  CHECK(expect_throw<CheckViolation>([&] {
          db.conn.execute("UPDATE gadgets SET flag = -1 WHERE id = " + std::to_string(g.id));
        }).constraint() == "ck_gadgets_flag_bool");
  // TRUE and FALSE are SQLite's spellings of 1 and 0, so they pass.
  db.conn.execute(raw_gadget_insert(org, "flag", "TRUE"));
  CHECK(gadgets.count(org, col(&Gadget::flag) == true) == 1);
  CHECK(rows_in(db.conn, "gadgets") == 2);
}

TEST_CASE("JSON domain ck_gadgets_meta_json, via plain SQL", "[sqlite][constraints]") {
  testdb::FileDb db;
  const OrgId org = testdb::add_org(db.conn, "acme");
  const auto e = expect_throw<CheckViolation>([&] { db.conn.execute(raw_gadget_insert(org, "meta", "'{not json'")); });
  CHECK(e.constraint() == "ck_gadgets_meta_json");
  db.conn.execute(raw_gadget_insert(org, "meta", "'[1, {\"a\": null}]'"));
  CHECK(rows_in(db.conn, "gadgets") == 1);
}
