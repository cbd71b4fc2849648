// Interop with the databases' own command-line clients, both directions, for every type:
//   * a row written through a repository, printed by `sqlite3` / `psql`, matches the canonical
//     text each client prints for each type;
//   * a row inserted by plain SQL through the same clients reads back through repositories
//     exactly.
// The clients are run through popen(): sqlite3 on the database file, psql on the test database
// (TimeZone UTC and DateStyle ISO, so timestamptz prints as "YYYY-MM-DD HH:MM:SS[.ffffff]+00").
//
// And one program, two databases, chosen by URL alone: run_app() at the end takes nothing but a
// URL and works through tenantry::connect() and Repository<E> (dialect chosen at run time). Run
// on "sqlite:<file>" and on the PostgreSQL URL, it must observe exactly the same things.
#include "support/backends.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <tuple>
#include <vector>

using namespace tenantry;
using fixtures::ApiToken;
using fixtures::Color;
using fixtures::Gadget;
using fixtures::Membership;
using fixtures::Money;
using fixtures::Organization;
using fixtures::OrgStatus;
using fixtures::Setting;
using fixtures::TokenStatus;
using fixtures::Widget;
using parity::Repo;

namespace {

std::string shell_quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

/// Runs `command` in the shell; returns its standard output and error, and its exit status.
std::pair<int, std::string> run(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

/// Runs `sql` with the database's own client; returns the output lines (fields joined by '|',
/// NULL printed as "NULL").
template <class B>
std::vector<std::string> client(typename B::Conn& conn, const std::string& sql) {
  std::string command;
  if constexpr (B::is_postgres) {
    (void)conn;
    command = "PGTZ=UTC PGDATESTYLE=ISO PGCONNECT_TIMEOUT=10 psql -X -q -At -v ON_ERROR_STOP=1 -P null=NULL -F '|' " +
              shell_quoted(parity::Postgres::url()) + " -c " + shell_quoted(sql);
  } else {
    command = "sqlite3 -batch -bail -noheader -list -separator '|' -nullvalue NULL " + shell_quoted(conn.path()) + " " +
              shell_quoted(sql);
  }
  const auto [status, out] = run(command);
  INFO("command: " << command << "\noutput: " << out);
  REQUIRE(status == 0);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    lines.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t bar = line.find('|', start);
    out.push_back(line.substr(start, bar - start));
    if (bar == std::string::npos) return out;
    start = bar + 1;
  }
}

/// How psql prints a timestamptz in UTC with DateStyle ISO: a space for the 'T', trailing zeros
/// of the fraction dropped (and the '.' with them), "+00" for the zone.
std::string psql_timestamp(const Timestamp& t) {
  std::string iso = t.to_iso();  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  iso[10] = ' ';
  iso.pop_back();
  while (iso.back() == '0') iso.pop_back();
  if (iso.back() == '.') iso.pop_back();
  return iso + "+00";
}

using parity::bytes;  // support/backends.hpp

constexpr std::int64_t jan2_030405_123456 = 1'704'164'645'123'456;  // 2024-01-02T03:04:05.123456Z

}  // namespace

TEMPLATE_TEST_CASE("a row written through tenantry, read by the database's own client", "[parity][interop]",
                   parity::SqliteFile, parity::Postgres, parity::PostgresUnprepared) {
  using B = TestType;
  constexpr bool pg = B::is_postgres;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  const Widget parent = Repo<B, Widget>(conn).insert(org, Widget{Uuid::random(), OrgId{}, "parent"});
  Repo<B, Gadget> gadgets{conn};

  Gadget g = testdb::make_gadget("O'Brien ünïcödé 日本語 🎉");
  g.i8 = -128;
  g.i16 = 32767;
  g.i32 = -2147483647 - 1;
  g.i64 = 9223372036854775807;
  g.u8 = 255;
  g.u16 = 65535;
  g.u32 = 4294967295u;
  g.u64 = 9223372036854775807u;
  g.real = -1234.5625;
  g.real32 = 0.1f;
  g.flag = true;
  g.note = std::nullopt;
  g.maybe_count = 7;
  g.ref = Uuid::parse("0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D");
  g.at = Timestamp{jan2_030405_123456};
  g.maybe_at = Timestamp{Timestamp::min_micros};
  g.meta = Json{R"({ "z" : [1, 2.5, {"b": "c\"d"}], "a": "é", "n": null })"};
  g.payload = bytes({0x00, 0x01, 0x00, 0xff, 0x00});
  g.color = Color::green;
  g.price = Money{-42};
  g.parent_id = parent.id;
  g.quantity = 3;
  gadgets.insert(org, g);

  const std::string sql =
      std::string("SELECT id, org_id, i8, i16, i32, i64, u8, u16, u32, u64, real, real32, flag, title, note,"
                  " maybe_count, ref, at, maybe_at, meta, ") +
      (pg ? "payload" : "hex(payload)") +
      ", color, price, parent_id, stamp, created_at, quantity FROM gadgets WHERE id = " + std::to_string(g.id);
  const std::vector<std::string> lines = client<B>(conn, sql);
  REQUIRE(lines.size() == 1);
  const std::vector<std::string> got = fields(lines[0]);

  // The canonical text of each value; the second form is psql's where it differs.
  const std::vector<std::pair<const char*, std::string>> want{
      {"id", std::to_string(g.id)},
      {"org_id", org.to_string()},
      {"i8", "-128"},
      {"i16", "32767"},
      {"i32", "-2147483648"},
      {"i64", "9223372036854775807"},
      {"u8", "255"},
      {"u16", "65535"},
      {"u32", "4294967295"},
      {"u64", "9223372036854775807"},
      {"real", "-1234.5625"},
      // PostgreSQL stores a float in a REAL (float4) and prints its shortest form; SQLite has only
      // 8-byte REALs, holding the float widened to a double, which its shell prints to 15 digits.
      {"real32", pg ? "0.1" : "0.100000001490116"},
      {"flag", pg ? "t" : "1"},
      {"title", "O'Brien ünïcödé 日本語 🎉"},
      {"note", "NULL"},
      {"maybe_count", "7"},
      {"ref", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
      {"at", pg ? "2024-01-02 03:04:05.123456+00" : "2024-01-02T03:04:05.123456Z"},
      {"maybe_at", pg ? "0001-01-01 00:00:00+00" : "0001-01-01T00:00:00.000000Z"},
      // JSONB: keys sorted (shorter first), whitespace normalised; SQLite keeps the text.
      {"meta", pg ? R"({"a": "é", "n": null, "z": [1, 2.5, {"b": "c\"d"}]})" : g.meta.text},
      {"payload", pg ? "\\x000100ff00" : "000100FF00"},
      {"color", "green"},
      {"price", "-42"},
      {"parent_id", parent.id.to_string()},
      {"stamp", g.stamp.to_string()},
      {"created_at", pg ? psql_timestamp(g.created_at) : g.created_at.to_iso()},
      {"quantity", "3"},
  };
  REQUIRE(got.size() == want.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    INFO(B::name << " column " << want[k].first);
    CHECK(got[k] == want[k].second);
  }

  // The organization row: the enum's text and both timestamps.
  const Organization o = *Repo<B, Organization>(conn).find(org.value);
  const auto org_line =
      client<B>(conn, "SELECT id, slug, display_name, status, created_at, updated_at FROM organizations");
  REQUIRE(org_line.size() == 1);
  CHECK(fields(org_line[0]) == std::vector<std::string>{org.to_string(), "acme", "Org acme", "active",
                                                         pg ? psql_timestamp(o.created_at) : o.created_at.to_iso(),
                                                         pg ? psql_timestamp(o.updated_at) : o.updated_at.to_iso()});
}

TEMPLATE_TEST_CASE("rows inserted by the database's own client read back through repositories", "[parity][interop]",
                   parity::SqliteFile, parity::Postgres, parity::PostgresUnprepared) {
  using B = TestType;
  constexpr bool pg = B::is_postgres;
  auto conn = B::open();
  const Uuid org_id = Uuid::random(), parent = Uuid::random(), ref = Uuid::random(), stamp = Uuid::random();
  const std::string org_text = org_id.to_string();
  // Each client's own spellings: psql's timestamptz output and bytea hex escape, SQLite's
  // tenantry-canonical ISO text and blob literal. TRUE is 1 to SQLite.
  const auto ts = [&](const Timestamp& t) { return "'" + (pg ? psql_timestamp(t) : t.to_iso()) + "'"; };
  const Timestamp created{1'700'000'000'000'000}, updated{1'700'000'000'654'321};
  client<B>(conn, "INSERT INTO organizations (id, slug, display_name, status, created_at, updated_at) VALUES ('" +
                      org_text + "', 'cli', 'From the ''shell''', 'suspended', " + ts(created) + ", " + ts(updated) +
                      "); INSERT INTO widgets (id, org_id, name) VALUES ('" + parent.to_string() + "', '" + org_text +
                      "', 'w')");
  client<B>(conn,
            "INSERT INTO gadgets (id, org_id, i8, i16, i32, i64, u8, u16, u32, u64, real, real32, flag, title, note,"
            " maybe_count, ref, at, maybe_at, meta, payload, color, price, parent_id, stamp, created_at, quantity)"
            " VALUES (4242, '" + org_text + "', -128, 32767, -2147483648, -9223372036854775808, 255, 65535, 4294967295,"
            " 9223372036854775807, 0.1, 0.5, TRUE, 'raw ''title'' ✓', NULL, 7, '" + ref.to_string() + "', " +
                ts(Timestamp{jan2_030405_123456}) + ", " + ts(Timestamp{Timestamp::max_micros}) +
                ", '{\"b\":1,  \"a\":[true]}', " + (pg ? "'\\x00ff00'" : "x'00ff00'") + ", 'blue', 1999, '" +
                parent.to_string() + "', '" + stamp.to_string() + "', " + ts(Timestamp{-1}) + ", 3)");

  const OrgId org{org_id};
  const Organization o = *Repo<B, Organization>(conn).find(org_id);
  CHECK(o.slug == "cli");
  CHECK(o.display_name == "From the 'shell'");
  CHECK(o.status == OrgStatus::suspended);
  CHECK(o.created_at == created);
  CHECK(o.updated_at == updated);

  Repo<B, Gadget> gadgets{conn};
  const std::optional<Gadget> found = gadgets.find(org, std::int64_t{4242});
  REQUIRE(found.has_value());
  const Gadget& g = *found;
  CHECK(g.org_id == org);
  CHECK(int(g.i8) == -128);
  CHECK(g.i16 == 32767);
  CHECK(g.i32 == -2147483647 - 1);
  CHECK(g.i64 == -9223372036854775807 - 1);
  CHECK(unsigned(g.u8) == 255);
  CHECK(g.u16 == 65535);
  CHECK(g.u32 == 4294967295u);
  CHECK(g.u64 == 9223372036854775807u);
  CHECK(g.real == 0.1);
  CHECK(g.real32 == 0.5f);
  CHECK(g.flag);
  CHECK(g.label == "raw 'title' ✓");
  CHECK(g.note == std::nullopt);
  CHECK(g.maybe_count == 7);
  CHECK(g.ref == ref);
  CHECK(g.at == Timestamp{jan2_030405_123456});
  CHECK(g.maybe_at == Timestamp{Timestamp::max_micros});
  CHECK(g.meta == Json{pg ? R"({"a": [true], "b": 1})" : R"({"b":1,  "a":[true]})"});
  CHECK(testdb::hex(g.payload) == "00ff00");
  CHECK(g.color == Color::blue);
  CHECK(g.price == Money{1999});
  CHECK(g.parent_id == parent);
  CHECK(g.stamp == stamp);
  CHECK(g.created_at == Timestamp{-1});
  CHECK(g.quantity == 3);
  CHECK(gadgets.list(org, col(&Gadget::flag) == true).size() == 1);
  CHECK(gadgets.count(org, col(&Gadget::at) == Timestamp{jan2_030405_123456}) == 1);

  // A row that leaves the defaults to the DDL, then one through the repository. An explicit id
  // moves SQLite's rowid on (max(rowid) + 1), but not PostgreSQL's identity sequence, which
  // still starts at 1: plain SQL that writes ids must setval() the sequence on PostgreSQL.
  client<B>(conn, "INSERT INTO gadgets (org_id, i8, i16, i32, i64, u8, u16, u32, u64, real, real32, flag, title, ref,"
                  " at, meta, payload, color, price) VALUES ('" + org_text + "', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, FALSE,"
                  " 'defaults', '" + Uuid::random().to_string() + "', " + ts(Timestamp{0}) + ", '[]', " +
                      (pg ? "'\\x'" : "x''") + ", 'red', 0)");
  const std::vector<Gadget> defaults = gadgets.list(org, col(&Gadget::label) == "defaults");
  REQUIRE(defaults.size() == 1);
  CHECK(defaults[0].id == (pg ? 1 : 4243));
  CHECK(defaults[0].note == std::optional<std::string>("none"));
  CHECK(defaults[0].quantity == 1);
  CHECK(defaults[0].at == Timestamp{0});
  CHECK(defaults[0].payload.empty());
  Gadget next = gadgets.insert(org, testdb::make_gadget("next"));
  CHECK(next.id == (pg ? 2 : 4244));
}

// ---- one program, switching databases by URL ---------------------------------------------------

namespace {

std::string text(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

std::string describe(const ApiToken& t) {
  return t.id.to_string() + " " + t.org_id.to_string() + " " + t.user_id + " " + t.name + " " + t.token_prefix + " " +
         t.token_hash + " " + t.scopes + " " + std::string(enum_to_text(t.status)) + " " +
         t.last_used_by.value_or("-") + " " + t.created_at.to_iso() + " " + t.updated_at.to_iso();
}

std::string describe(const Gadget& g) {
  return std::to_string(g.id) + " " + g.org_id.to_string() + " " + std::to_string(g.i8) + " " + std::to_string(g.i16) +
         " " + std::to_string(g.i32) + " " + std::to_string(g.i64) + " " + std::to_string(g.u8) + " " +
         std::to_string(g.u16) + " " + std::to_string(g.u32) + " " + std::to_string(g.u64) + " " + text(g.real) + " " +
         text(g.real32) + " " + (g.flag ? "true" : "false") + " " + g.label + " " + g.note.value_or("-") + " " +
         (g.maybe_count ? std::to_string(*g.maybe_count) : "-") + " " + g.ref.to_string() + " " + g.at.to_iso() + " " +
         (g.maybe_at ? g.maybe_at->to_iso() : "-") + " " + g.meta.text + " " + testdb::hex(g.payload) + " " +
         std::string(enum_to_text(g.color)) + " " + std::to_string(g.price.cents) + " " +
         (g.parent_id ? g.parent_id->to_string() : "-") + " " + std::to_string(g.quantity);
}

/// The application: everything it knows about the database is the URL.
std::vector<std::string> run_app(const std::string& url) {
  std::vector<std::string> seen;
  Database db = connect(url);
  create_tables<Organization, ApiToken, Widget, Gadget, Membership, Setting>(db);
  Repository<Organization> orgs{db};
  Repository<ApiToken> tokens{db};
  Repository<Widget> widgets{db};
  Repository<Gadget> gadgets{db};
  Repository<Membership> members{db};
  Repository<Setting> settings{db};

  const OrgId acme = OrgId::parse("00000000-0000-4000-8000-00000000000a");
  const OrgId globex = OrgId::parse("00000000-0000-4000-8000-00000000000b");
  for (const OrgId& id : {acme, globex}) {
    Organization o = testdb::make_org(id == acme ? "acme" : "globex");
    o.id = id.value;
    orgs.insert(o);
  }
  const auto token = [](int n, const char* prefix, const char* user) {
    ApiToken t = testdb::make_token(prefix, user);
    t.id = Uuid::parse("10000000-0000-4000-8000-00000000000" + std::to_string(n));
    return t;
  };
  tokens.insert(acme, token(1, "a1", "alice"));
  tokens.insert(acme, token(2, "a2", "anna"));
  tokens.insert(globex, token(3, "a1", "bob"));

  for (const ApiToken& t : tokens.list(acme, order_by(&ApiToken::token_prefix).desc()))
    seen.push_back("list " + describe(t));
  seen.push_back("count acme " + std::to_string(tokens.count(acme)) + " globex " +
                 std::to_string(tokens.count(globex)));
  const Uuid first = token(1, "", "").id;
  seen.push_back("find other org: " + std::string(tokens.find(globex, first) ? "found" : "none"));
  seen.push_back("set " + std::to_string(tokens.set(acme, first, &ApiToken::status, TokenStatus::revoked)));
  const std::int64_t touched =
      tokens.update_where(acme, col(&ApiToken::user_id) == "anna", assign(col(&ApiToken::last_used_by), "10.0.0.1"));
  seen.push_back("update_where " + std::to_string(touched));

  // UPSERT with RETURNING: the conflict path hands back the stored row's key.
  ApiToken up = token(9, "a2", "someone");
  tokens.upsert(acme, up, on_conflict(&ApiToken::org_id, &ApiToken::token_prefix).update(only(&ApiToken::user_id)));
  seen.push_back("upsert " + describe(up));

  try {
    tokens.insert(acme, token(8, "a1", "dup"));
  } catch (const UniqueViolation& e) {
    seen.push_back("unique violation " + e.table() + " " + e.constraint());
  }
  try {
    ApiToken t = token(7, "x", "x");
    t.org_id = globex;
    tokens.insert(acme, t);
  } catch (const OrgMismatch& e) {
    seen.push_back("org mismatch " + e.table());
  }

  // A transaction with a savepoint that is rolled back.
  {
    auto tx = db.transaction();
    tokens.insert(acme, token(4, "t1", "carol"));
    {
      auto sp = db.transaction();
      tokens.insert(acme, token(5, "t2", "dave"));
    }
    tx.commit();
  }
  seen.push_back("after savepoint " + std::to_string(tokens.count(acme)) + " " +
                 std::to_string(tokens.exists(acme, col(&ApiToken::token_prefix) == "t2")));

  // Every type, through an identity-keyed table (ids start at 1 on both).
  const Widget w = widgets.insert(acme, Widget{Uuid::parse("20000000-0000-4000-8000-000000000001"), OrgId{}, "w"});
  Gadget g = testdb::make_gadget("every type ✓");
  g.i8 = -8;
  g.i16 = -16;
  g.i32 = -32;
  g.i64 = -64;
  g.u8 = 8;
  g.u16 = 16;
  g.u32 = 32;
  g.u64 = 64;
  g.real = 0.1;
  g.real32 = 0.25f;
  g.flag = true;
  g.note = "note";
  g.maybe_count = 3;
  g.ref = Uuid::parse("30000000-0000-4000-8000-000000000001");
  g.maybe_at = Timestamp{-1};
  g.meta = Json{R"({"a": [1, 2.5], "b": null})"};  // already in JSONB's canonical form
  g.payload = {std::byte{0}, std::byte{0xff}};
  g.color = Color::blue;
  g.price = fixtures::Money{1999};
  g.parent_id = w.id;
  gadgets.insert(acme, g);
  seen.push_back("gadget " + describe(*gadgets.find(acme, g.id)));
  seen.push_back("generated " + std::string(g.stamp.is_nil() ? "nil" : "uuid") + " " +
                 std::string(g.created_at.micros > 0 ? "now" : "zero"));
  const bool erased = widgets.erase(acme, w.id);
  seen.push_back("erase widget " + std::to_string(erased) + ", parent now " +
                 (gadgets.find(acme, g.id)->parent_id ? "set" : "null"));

  members.insert(acme, Membership{OrgId{}, "u1", "admin"});
  seen.push_back("member " + members.find(acme, "u1")->role);
  settings.insert(Setting{"mail", "host", "smtp"});
  seen.push_back("setting " + settings.find(std::tuple<std::string, std::string>{"mail", "host"})->value);
  seen.push_back("erase_where " +
                 std::to_string(tokens.erase_where(acme, col(&ApiToken::status) == TokenStatus::revoked)));
  seen.push_back("final " + std::to_string(tokens.count(acme)) + " " + std::to_string(tokens.count(globex)));
  return seen;
}

}  // namespace

TEST_CASE("one program switches databases by URL alone", "[parity][url]") {
  const std::vector<std::string> on_sqlite = run_app(parity::SqliteFile::fresh_url());
  const std::vector<std::string> on_postgres = run_app(parity::Postgres::fresh_url());

  REQUIRE(on_sqlite.size() == on_postgres.size());
  for (std::size_t k = 0; k < on_sqlite.size(); ++k) {
    INFO("observation " << k);
    CHECK(on_sqlite[k] == on_postgres[k]);
  }
  // ... and they are the expected observations, not two identical mistakes.
  CHECK(on_sqlite.size() == 17);
  CHECK(on_sqlite[2] == "count acme 2 globex 1");
  CHECK(on_sqlite[3] == "find other org: none");
  CHECK(on_sqlite[4] == "set 1");
  CHECK(on_sqlite[5] == "update_where 1");
  CHECK(on_sqlite[6].starts_with(
      "upsert 10000000-0000-4000-8000-000000000002 00000000-0000-4000-8000-00000000000a someone"));
  CHECK(on_sqlite[7] == "unique violation api_tokens uq_api_tokens_org_id_token_prefix");
  CHECK(on_sqlite[8] == "org mismatch api_tokens");
  CHECK(on_sqlite[9] == "after savepoint 3 0");
  CHECK(on_sqlite[10] ==
        "gadget 1 00000000-0000-4000-8000-00000000000a -8 -16 -32 -64 8 16 32 64 0.1 0.25 true every type ✓ note 3 "
        "30000000-0000-4000-8000-000000000001 2023-11-14T22:13:20.123456Z 1969-12-31T23:59:59.999999Z "
        "{\"a\": [1, 2.5], \"b\": null} 00ff blue 1999 20000000-0000-4000-8000-000000000001 1");
  CHECK(on_sqlite[11] == "generated uuid now");
  CHECK(on_sqlite[12] == "erase widget 1, parent now null");
  CHECK(on_sqlite[15] == "erase_where 1");
  CHECK(on_sqlite[16] == "final 2 1");
}
