// How the SQLite driver names a broken foreign key (driver/sqlite_foreign_keys.hpp), on
// hand-written schemas: the statement shapes it traces, those it leaves unnamed, and that the
// failed statement keeps its parameters. The repository paths on the fixture schema, against
// PostgreSQL's own names, are in tests/parity/tenant_references_test.cpp.
#include "support/sqlite_db.hpp"

#include <tenantry/sqlite.hpp>

#include <string>

using namespace tenantry;
using testdb::expect_throw;

namespace {

const char* const schema = R"SQL(
CREATE TABLE parents (id INTEGER PRIMARY KEY, code TEXT NOT NULL, CONSTRAINT uq_parents_code UNIQUE (code));
CREATE TABLE kids (
  id INTEGER PRIMARY KEY,
  parent_id INTEGER CONSTRAINT "fk kids parent" REFERENCES parents (id),
  code TEXT,
  plain INTEGER REFERENCES parents,
  CONSTRAINT fk_kids_code FOREIGN KEY (code) REFERENCES parents (code) ON UPDATE RESTRICT);
CREATE TABLE toys (id INTEGER PRIMARY KEY, kid_id INTEGER NOT NULL,
  CONSTRAINT fk_toys_kid FOREIGN KEY (kid_id) REFERENCES kids (id) ON DELETE RESTRICT);
INSERT INTO parents VALUES (1, 'one'), (2, 'two');
INSERT INTO kids VALUES (10, 1, 'one', NULL), (11, 2, NULL, NULL);
INSERT INTO toys VALUES (100, 10);
)SQL";

ForeignKeyViolation fails(sqlite::Connection& db, const std::string& sql) {
  return expect_throw<ForeignKeyViolation>([&] { db.execute(sql); });
}

}  // namespace

TEST_CASE("SQLite foreign key violations are named from the failed statement", "[sqlite][fk]") {
  sqlite::Connection db(":memory:");
  db.execute(schema);

  SECTION("child side: INSERT, multi-row INSERT, INSERT ... SELECT, UPDATE, upsert") {
    auto e = fails(db, "INSERT INTO kids (id, parent_id, code) VALUES (12, 9, 'one')");
    CHECK(e.table() == "kids");
    CHECK(e.constraint() == "fk kids parent");  // a column constraint, with a quoted name
    CHECK(fails(db, "INSERT INTO kids (id, parent_id, code) VALUES (12, 1, 'one'), (13, 2, 'nine')").constraint() ==
          "fk_kids_code");
    CHECK(fails(db, "INSERT INTO kids (id, code) SELECT 30 + id, 'x' || code FROM parents").constraint() == "fk_kids_code");
    CHECK(fails(db, "UPDATE kids SET code = 'nine' WHERE id = 10").constraint() == "fk_kids_code");
    // An unnamed key: the table is known, the name is not.
    e = fails(db, "INSERT INTO kids (id, plain) VALUES (14, 99)");
    CHECK(e.table() == "kids");
    CHECK(e.constraint().empty());
  }
  SECTION("parent side: DELETE and an UPDATE of referenced columns") {
    auto e = fails(db, "DELETE FROM kids WHERE id = 10");  // RESTRICT from toys
    CHECK(e.table() == "toys");
    CHECK(e.constraint() == "fk_toys_kid");
    e = fails(db, "UPDATE parents SET code = 'uno' WHERE id = 1");  // ON UPDATE RESTRICT from kids
    CHECK(e.table() == "kids");
    CHECK(e.constraint() == "fk_kids_code");
    e = fails(db, "DELETE FROM parents WHERE id = 2");  // NO ACTION from kids.parent_id
    CHECK(e.table() == "kids");
    CHECK(e.constraint() == "fk kids parent");
  }
  SECTION("shapes it does not trace stay unnamed, with the same exception") {
    auto e = fails(db, "WITH v(c) AS (VALUES ('nine')) UPDATE kids SET code = (SELECT c FROM v) WHERE id = 10");
    CHECK(e.constraint().empty());
    CHECK(e.code() == std::to_string(SQLITE_CONSTRAINT_FOREIGNKEY));
    // An upsert whose DO UPDATE breaks the key: only the inserted values are probed.
    e = fails(db, "INSERT INTO kids (id, code) VALUES (10, 'one') ON CONFLICT (id) DO UPDATE SET parent_id = 7");
    CHECK(e.constraint().empty());
  }
  SECTION("the failed statement keeps its parameters") {
    sqlite::Statement& st = db.prepare(intern_sql("INSERT INTO kids (id, parent_id, code) VALUES (?1, ?2, ?3)"));
    st.bind_int(1, 20);
    st.bind_int(2, 3);
    st.bind_text(3, "two");
    CHECK(expect_throw<ForeignKeyViolation>([&] { st.step(); }).constraint() == "fk kids parent");
    db.execute("INSERT INTO parents VALUES (3, 'three')");
    CHECK_FALSE(st.step());  // the same bindings, now with a parent
    st.reset();
    CHECK(testdb::rows_in(db, "kids") == 3);
  }
  // Nothing the probes ran changed anything.
  CHECK(testdb::rows_in(db, "parents") >= 2);
  CHECK(testdb::rows_in(db, "toys") == 1);
}
