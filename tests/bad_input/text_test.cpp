// Bad text: SQL-injection strings and quotes of every kind in every text column and in predicates,
// LIKE patterns, NUL bytes, invalid UTF-8, over-long and very long strings. On a SQLite file and
// on PostgreSQL; after every case the whole database is compared with its snapshot.
#include "bad_input/bad_input.hpp"

#include <cstddef>
#include <string>
#include <vector>

using namespace tenantry;
using badinput::message_has;
using badinput::World;
using fixtures::ApiToken;
using fixtures::Gadget;
using fixtures::Organization;
using fixtures::Setting;
using parity::Repo;
using testdb::expect_throw;

namespace {

/// Strings that break SQL built by concatenation, and the quoting characters of both databases
/// and of Unicode. None contains a NUL byte or invalid UTF-8 (those have their own cases), none
/// is longer than 64 characters (the title column is VARCHAR(64)), and no two are equal when
/// ASCII case is ignored (SQLite's LIKE ignores it).
const std::vector<std::string> nasty = {
    "'; DROP TABLE organizations; --",
    "x' OR '1'='1",
    "x\" OR \"\"=\"",
    "'); DELETE FROM api_tokens; --",
    "1; UPDATE gadgets SET title = 'pwned'",
    "admin'--",
    "' UNION SELECT id, slug FROM organizations --",
    "'||(SELECT slug FROM organizations LIMIT 1)||'",
    "$1",
    "?1",
    "?",
    ":name",
    "@p",
    "$$ $tag$ $1::text $$",
    "E'\\x27'",
    "\\'; SELECT 1; --",
    "\\",
    "\\\\",
    "%",
    "_",
    "%_%\\%",
    "[a-z]*",
    "/* unterminated comment",
    "*/",
    "--",
    "`backtick`",
    "'",
    "''",
    "''''",
    "\"",
    "\"\"\"",
    "\xE2\x80\x98smart\xE2\x80\x99 \xE2\x80\x9Cquotes\xE2\x80\x9D",     // U+2018/2019/201C/201D
    "\xCA\xBC modifier letter apostrophe",                              // U+02BC
    "\xEF\xBC\x87 fullwidth apostrophe",                                // U+FF07
    "line1\nline2\r\n\ttab\x0B\x0C",
    "  leading and trailing  ",
    "NULL",
    "\x01\x02\x1F\x7F controls",
    "\xC3\xA9 \xC3\xBC \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82",     // é ü 日本 🙂
    "\xEF\xBB\xBF byte order mark",
    "\xE2\x80\xAE right-to-left override",
};

ApiToken token_of(const std::string& s) {
  ApiToken t = testdb::make_token(s, s);
  t.name = s;
  t.token_hash = s;
  t.scopes = s;
  t.last_used_by = s;
  return t;
}

bool has_wildcard_or_escape(const std::string& s) {
  return s.find_first_of("%_\\") != std::string::npos;
}

}  // namespace

TEMPLATE_TEST_CASE("injection strings and quotes in every text column round-trip exactly", "[bad_input][text]",
                   BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, ApiToken> tokens{w.conn};
  Repo<B, Gadget> gadgets{w.conn};
  Repo<B, Setting> settings{w.conn};
  Repo<B, Organization> orgs{w.conn};

  for (const std::string& s : nasty) {
    INFO("input: " << s);
    // Org-scoped, every text column (token_prefix is part of a UNIQUE key).
    const ApiToken t = tokens.insert(w.a, token_of(s));
    const auto got = tokens.find(w.a, t.id);
    REQUIRE(got.has_value());
    CHECK(got->user_id == s);
    CHECK(got->name == s);
    CHECK(got->token_prefix == s);
    CHECK(got->token_hash == s);
    CHECK(got->scopes == s);
    CHECK(got->last_used_by == s);
    // The bytes the database holds, read with plain SQL.
    CHECK(parity::raw_texts(w.conn, "SELECT user_id, name, token_prefix, token_hash, scopes, last_used_by FROM api_tokens "
                                    "WHERE id = ?1", t.id) == std::vector<std::string>(6, s));
    // In predicates: exactly the one row, in its org only.
    CHECK(tokens.count(w.a, col(&ApiToken::user_id) == s) == 1);
    CHECK(tokens.count(w.b, col(&ApiToken::user_id) == s) == 0);
    CHECK(tokens.list(w.a, col(&ApiToken::name) == s && col(&ApiToken::last_used_by) == s).size() == 1);
    CHECK(tokens.count(w.a, col(&ApiToken::scopes).in({s, s + "x"})) == 1);
    CHECK(tokens.count(w.a, col(&ApiToken::token_hash) != s) == 3);
    if (!has_wildcard_or_escape(s)) {
      const auto liked = tokens.list(w.a, col(&ApiToken::scopes).like(s));
      REQUIRE(liked.size() == 1);
      CHECK(liked.front().id == t.id);
    }
    // Writes that take the string as a value.
    CHECK(tokens.set(w.a, t.id, &ApiToken::name, s + s));
    CHECK(tokens.update_where(w.a, col(&ApiToken::user_id) == s, assign(col(&ApiToken::scopes), "r" + s)) == 1);
    CHECK(parity::raw_texts(w.conn, "SELECT name, scopes FROM api_tokens WHERE id = ?1", t.id) ==
          std::vector<std::string>{s + s, "r" + s});
    ApiToken again = token_of(s);  // same (org, token_prefix): the upsert updates the row
    again.token_hash = "h" + s;
    tokens.upsert(w.a, again, on_conflict(&ApiToken::org_id, &ApiToken::token_prefix));  // reads the row back
    CHECK(again.id == t.id);
    CHECK(again.token_hash == "h" + s);
    CHECK(tokens.erase_where(w.a, col(&ApiToken::token_hash) == "h" + s) == 1);

    // A global table whose primary key is two text columns.
    settings.insert(Setting{s, s, s});
    CHECK(settings.find(std::tuple{s, s})->value == s);
    CHECK(settings.set(std::tuple{s, s}, &Setting::value, s + "!"));
    CHECK(parity::raw_text(w.conn, "SELECT value FROM settings WHERE scope = ?1 AND name = ?2", s, s) == s + "!");
    CHECK(settings.erase(std::tuple{s, s}));

    // A renamed VARCHAR(64) column with a CHECK, and a nullable one with a default.
    if (!s.empty()) {
      Gadget g = testdb::make_gadget(s);
      g.note = s;
      gadgets.insert(w.a, g);
      const auto gg = gadgets.find(w.a, g.id);
      CHECK(gg->label == s);
      CHECK(gg->note == s);
      CHECK(gadgets.count(w.a, col(&Gadget::label) == s) == 1);
      CHECK(gadgets.erase(w.a, g.id));
    }

    // The unique slug of a global table.
    Organization o = testdb::make_org(s);
    o.display_name = s;
    orgs.insert(o);
    CHECK(orgs.find(o.id)->slug == s);
    CHECK(orgs.count(col(&Organization::display_name) == s) == 1);
    CHECK(orgs.erase(o.id));
  }
  w.unchanged();
}

TEMPLATE_TEST_CASE("LIKE patterns are bound values; wildcards, escapes and case differ by database",
                   "[bad_input][text][like]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, ApiToken> tokens{w.conn};
  for (const char* s : {"100%", "a_b", "back\\slash", "ABC"}) tokens.insert(w.a, token_of(s));
  const auto scopes_like = [&](const std::string& pattern) {
    std::vector<std::string> out;
    for (const ApiToken& t : tokens.list(w.a, col(&ApiToken::scopes).like(pattern), order_by(&ApiToken::scopes)))
      out.push_back(t.scopes);
    return out;
  };
  // % and _ are wildcards on both; a pattern never reaches another org.
  CHECK(scopes_like("%").size() == 7);  // 3 background rows ("read") + 4
  // "%\%": PostgreSQL reads \% as a literal %; SQLite reads a backslash between two wildcards.
  CHECK(scopes_like("%\\%") == std::vector<std::string>{B::is_postgres ? "100%" : "back\\slash"});
  CHECK(scopes_like("a_b") == std::vector<std::string>{"a_b"});
  CHECK(scopes_like("'%' OR 1=1 --").empty());
  // Case: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
  CHECK(scopes_like("abc") == (B::is_postgres ? std::vector<std::string>{} : std::vector<std::string>{"ABC"}));
  // Backslash: PostgreSQL's LIKE escape character, an ordinary character in SQLite's.
  if constexpr (B::is_postgres) {
    CHECK(scopes_like("100\\%") == std::vector<std::string>{"100%"});
    CHECK(scopes_like("back\\\\slash") == std::vector<std::string>{"back\\slash"});
    // A pattern ending in a lone escape is refused by the server: SQLSTATE 22025.
    const auto e = expect_throw<DatabaseError>([&] { (void)scopes_like("back\\"); });
    CHECK(e.code() == "22025");
  } else {
    CHECK(scopes_like("100\\%").empty());
    CHECK(scopes_like("back\\slash") == std::vector<std::string>{"back\\slash"});
    CHECK(scopes_like("back\\").empty());
  }
  CHECK(tokens.erase_where(w.a, col(&ApiToken::scopes) != "read") == 4);
  w.unchanged();
}

TEMPLATE_TEST_CASE("a NUL byte in text: SQLite keeps every byte, PostgreSQL refuses it before sending",
                   "[bad_input][text][nul]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, ApiToken> tokens{w.conn};
  Repo<B, Gadget> gadgets{w.conn};
  const std::string nul("a\0b", 3), only_nul(1, '\0'), trailing("abc\0", 4);
  for (const std::string& s : {nul, only_nul, trailing}) {
    INFO("input of " << s.size() << " bytes");
    const ApiToken t = token_of(s);
    if constexpr (B::is_postgres) {
      // The driver refuses before anything is sent, naming the parameter; a transaction open
      // around it is not aborted (a server-side error would abort it).
      auto tx = w.conn.transaction();
      const auto e = expect_throw<ValueError>([&] { tokens.insert(w.a, t); });
      message_has(e, {"NUL byte", "parameter $"});
      expect_throw<ValueError>([&] { (void)tokens.count(w.a, col(&ApiToken::user_id) == s); });
      expect_throw<ValueError>([&] { tokens.set(w.a, t.id, &ApiToken::name, s); });
      CHECK(tokens.count(w.a) == 3);  // the transaction is still usable
      tx.commit();
    } else {
      tokens.insert(w.a, t);
      CHECK(tokens.find(w.a, t.id)->user_id == s);
      CHECK(tokens.find(w.a, t.id)->last_used_by == s);
      CHECK(tokens.count(w.a, col(&ApiToken::name) == s) == 1);
      CHECK(tokens.count(w.a, col(&ApiToken::name) == std::string("a")) == 0);  // no C-string cut
      testdb::Raw raw(w.conn, "SELECT length(CAST(user_id AS BLOB)), hex(user_id) FROM api_tokens WHERE id = ?1");
      raw.bind(1, t.id.to_string()).one_row();
      CHECK(raw.integer(0) == static_cast<std::int64_t>(s.size()));
      CHECK(tokens.erase(w.a, t.id));
    }
  }
  // JSON: a raw NUL is not JSON (a control character in a string): ValueError on both, before
  // sending. The escape \u0000 is JSON, and SQLite keeps it, but PostgreSQL's jsonb cannot hold
  // it (SQLSTATE 22P05).
  Gadget g = testdb::make_gadget("json-nul");
  g.meta = Json{std::string("\"a\0b\"", 5)};
  message_has(expect_throw<ValueError>([&] { gadgets.insert(w.a, g); }), {"not valid", "control character", "byte 2"});
  g.meta = Json{R"("a\u0000b")"};
  if constexpr (B::is_postgres) {
    CHECK(expect_throw<DatabaseError>([&] { gadgets.insert(w.a, g); }).code() == "22P05");
  } else {
    gadgets.insert(w.a, g);
    CHECK(gadgets.find(w.a, g.id)->meta == g.meta);
    CHECK(gadgets.erase(w.a, g.id));
  }
  // Bytes are not text: NUL bytes round-trip on both.
  g.meta = Json{"{}"};
  g.payload = Bytes{std::byte{0}, std::byte{0xFF}, std::byte{0}, std::byte{'\''}};
  gadgets.insert(w.a, g);
  CHECK(testdb::hex(gadgets.find(w.a, g.id)->payload) == "00ff0027");
  CHECK(gadgets.erase(w.a, g.id));
  w.unchanged();
}

TEMPLATE_TEST_CASE("invalid UTF-8: SQLite stores the bytes, PostgreSQL refuses with SQLSTATE 22021",
                   "[bad_input][text][utf8]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, ApiToken> tokens{w.conn};
  const std::vector<std::string> invalid = {
      "\xFF\xFE",                // never valid
      "caf\xC3",                 // truncated two-byte sequence at the end
      "\xC3\x28",                // bad continuation byte
      "\xC0\xAF",                // overlong '/'
      "\xED\xA0\x80",            // UTF-16 surrogate U+D800
      "\xF4\x90\x80\x80",        // beyond U+10FFFF
      "ok \x80 lone continuation",
  };
  for (const std::string& s : invalid) {
    INFO("input: " << testdb::hex(Bytes(reinterpret_cast<const std::byte*>(s.data()),
                                        reinterpret_cast<const std::byte*>(s.data()) + s.size())));
    const ApiToken t = token_of(s);
    if constexpr (B::is_postgres) {
      // The server checks the encoding (client_encoding may legitimately be another one, so the
      // driver does not guess): a DatabaseError, and an open transaction is aborted by it.
      CHECK(expect_throw<DatabaseError>([&] { tokens.insert(w.a, t); }).code() == "22021");
      CHECK(expect_throw<DatabaseError>([&] { (void)tokens.count(w.a, col(&ApiToken::user_id) == s); }).code() ==
            "22021");
      auto tx = w.conn.transaction();
      CHECK_THROWS_AS(tokens.insert(w.a, t), DatabaseError);
      CHECK(expect_throw<DatabaseError>([&] { (void)tokens.count(w.a); }).code() == "25P02");  // aborted
      tx.rollback();
      CHECK(tokens.count(w.a) == 3);
    } else {
      tokens.insert(w.a, t);
      const auto got = tokens.find(w.a, t.id);
      CHECK(got->user_id == s);
      CHECK(got->last_used_by == s);
      CHECK(tokens.count(w.a, col(&ApiToken::scopes) == s) == 1);
      static constexpr char digits[] = "0123456789ABCDEF";
      std::string want_hex;
      for (const unsigned char c : s) want_hex += {digits[c >> 4], digits[c & 0xF]};
      CHECK(testdb::query_text(w.conn, "SELECT hex(token_hash) FROM api_tokens WHERE id = '" + t.id.to_string() + "'") ==
            want_hex);
      CHECK(tokens.erase(w.a, t.id));
    }
  }
  w.unchanged();
}

TEMPLATE_TEST_CASE("over-long text: VARCHAR(64) truncates nothing; PostgreSQL refuses it, SQLite stores it",
                   "[bad_input][text][length]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, Gadget> gadgets{w.conn};
  const std::string exact(64, 'x'), over(65, 'y');
  Gadget g = testdb::make_gadget(exact);
  gadgets.insert(w.a, g);
  CHECK(gadgets.find(w.a, g.id)->label == exact);
  CHECK(gadgets.erase(w.a, g.id));
  // 64 characters of two bytes each fit on both (PostgreSQL counts characters, not bytes).
  std::string accents;
  for (int i = 0; i < 64; ++i) accents += "\xC3\xA9";
  g = testdb::make_gadget(accents);
  gadgets.insert(w.a, g);
  CHECK(gadgets.find(w.a, g.id)->label == accents);
  CHECK(gadgets.erase(w.a, g.id));

  g = testdb::make_gadget(over);
  if constexpr (B::is_postgres) {
    CHECK(expect_throw<DatabaseError>([&] { gadgets.insert(w.a, g); }).code() == "22001");
  } else {
    gadgets.insert(w.a, g);  // SQLite does not enforce a declared length
    CHECK(gadgets.find(w.a, g.id)->label == over);
    CHECK(gadgets.erase(w.a, g.id));
  }
  w.unchanged();
}

TEMPLATE_TEST_CASE("1 MB and 100 MB strings round-trip byte for byte", "[bad_input][text][large]", BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  Repo<B, Gadget> gadgets{w.conn};
  for (const std::size_t size : {std::size_t{1} << 20, std::size_t{100} << 20}) {
    INFO("size " << size);
    std::string big(size, '\0');
    for (std::size_t i = 0; i < size; ++i) big[i] = "abc'\"\\%_;-\n"[i % 11];  // quotes all the way
    big.back() = 'Z';
    Gadget g = testdb::make_gadget("big");
    g.note = std::move(big);
    gadgets.insert(w.a, g);
    {
      const auto got = gadgets.find(w.a, g.id);
      REQUIRE(got->note.has_value());
      CHECK(got->note->size() == size);
      CHECK(*got->note == *g.note);
    }
    CHECK(parity::raw_int(w.conn, "SELECT length(note) FROM gadgets WHERE id = ?1", g.id) ==
          static_cast<std::int64_t>(size));
    if (size == std::size_t{1} << 20) CHECK(gadgets.count(w.a, col(&Gadget::note) == *g.note) == 1);
    CHECK(gadgets.erase(w.a, g.id));
  }
  w.unchanged();
}

TEMPLATE_TEST_CASE("empty text and bytes without storage are empty values, never NULL", "[bad_input][text][empty]",
                   BAD_INPUT_BACKENDS) {
  using B = TestType;
  World<B> w;
  // std::string_view{} and an empty span have a null data pointer, which both C APIs take as NULL.
  // (Found by the 'values' fuzz target: tests/fuzz/regressions/values/empty-text-binds-null.)
  const std::string text_sql = B::is_postgres
                                   ? "SELECT CASE WHEN $1::text IS NULL THEN 1 ELSE 0 END, length($1::text)"
                                   : "SELECT ?1 IS NULL, length(?1)";
  const std::string blob_sql = B::is_postgres
                                   ? "SELECT CASE WHEN $1::bytea IS NULL THEN 1 ELSE 0 END, length($1::bytea)"
                                   : "SELECT ?1 IS NULL, length(?1)";
  for (const bool blob : {false, true}) {
    INFO((blob ? "bytes" : "text"));
    auto& st = w.conn.prepare(intern_sql(blob ? blob_sql : text_sql));
    if (blob) st.bind_blob(1, std::span<const std::byte>{});
    else st.bind_text(1, std::string_view{});
    REQUIRE(st.step());
    CHECK(st.column_int(0) == 0);  // not NULL
    CHECK(st.column_int(1) == 0);  // and empty
    st.reset();
  }
  w.unchanged();
}
