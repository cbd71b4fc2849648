// Json on both databases: the default document, every kind of document json_error() accepts,
// and text that is not JSON, which is one typed error (ValueError, before anything is sent) on
// SQLite and PostgreSQL alike. Before: Json{} was the empty text, and invalid text was a
// CheckViolation on SQLite (the json_valid CHECK) but a plain DatabaseError 22P02 on PostgreSQL,
// which also aborted the open transaction. The catalogue entry is in docs/reliability.md.
#include "support/backends.hpp"

#include <string>
#include <vector>

using namespace tenantry;
using fixtures::Gadget;
using parity::Repo;
using testdb::expect_throw;

namespace {

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + "\"deep\"" + std::string(depth, ']');
}

/// A SELECT of the stored document's JSON type ("null", "object", ...) with plain SQL.
template <class B>
std::string stored_json_type(typename B::Conn& conn, std::int64_t id) {
  const char* sql = B::is_postgres ? "SELECT jsonb_typeof(meta) FROM gadgets WHERE id = ?1"
                                   : "SELECT json_type(meta) FROM gadgets WHERE id = ?1";
  return parity::raw_text(conn, sql, id).value_or("<no row>");
}

}  // namespace

TEMPLATE_TEST_CASE("a default Json is stored as the JSON document null", "[parity][json]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  Gadget g = testdb::make_gadget("default json");
  g.meta = Json{};  // was "", refused by both databases
  gadgets.insert(org, g);
  CHECK(gadgets.find(org, g.id)->meta == Json{"null"});
  CHECK(stored_json_type<B>(conn, g.id) == "null");
  CHECK(gadgets.count(org, col(&Gadget::meta) == Json{}) == 1);
  // A whole row whose Json fields were never set goes in too.
  Gadget blank;
  blank.label = "blank";
  gadgets.insert(org, blank);
  CHECK(gadgets.find(org, blank.id)->meta == Json{});
}

TEMPLATE_TEST_CASE("every document json_error() accepts is stored by both databases", "[parity][json]",
                   PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  const std::vector<std::string> documents = {
      "null", "true", "false", "0", "-0", "-12.5e-3", "1E+2", "1e999", "123456789012345678901234567890",
      R"("")", R"("\"\\\/\b\f\n\r\t")", R"("\u00e9\u20ac")", R"("\ud83d\ude00")", "\"\xC3\xA9\xF0\x9F\x98\x80\"",
      "\"\xF4\x8F\xBF\xBF\"", "\"\x7F\"", R"({"": 0, "a": {"b": [1, 2, {"c": null}]}})", R"({"a": 1, "a": 2})",
      " \t\r\n[ 1 ,\t2 ]\n", nested(json_max_depth - 1) /* one level more: the innermost is a string */,
  };
  REQUIRE(!json_error(nested(json_max_depth)).has_value());
  std::vector<std::int64_t> ids;
  for (const std::string& text : documents) {
    INFO(text.substr(0, 60));
    Gadget g = testdb::make_gadget("doc");
    g.meta = Json{text};
    gadgets.insert(org, g);
    ids.push_back(g.id);
    // SQLite keeps the text; JSONB the document: compared as documents there, so either way
    // exactly this row matches its own document.
    const auto got = gadgets.find(org, g.id);
    REQUIRE(got);
    CHECK(got->meta.valid());
    if constexpr (!B::is_postgres) CHECK(got->meta == g.meta);
    CHECK(gadgets.count(org, col(&Gadget::id) == g.id, col(&Gadget::meta) == g.meta) == 1);
  }
  CHECK(gadgets.count(org) == static_cast<std::int64_t>(documents.size()));
}

TEMPLATE_TEST_CASE("text that is not JSON is a ValueError on both databases, before anything is sent",
                   "[parity][json]", PARITY_BACKENDS) {
  using B = TestType;
  auto conn = B::open();
  const OrgId org = parity::add_org(conn, "acme");
  Repo<B, Gadget> gadgets{conn};
  Gadget kept = testdb::make_gadget("kept");
  gadgets.insert(org, kept);

  const std::vector<std::string> invalid = {"",   "{not json", "[1,]", "{'a': 1}", "\"\\ud800\"", "\"\xFF\"",
                                            "01", "NaN",       std::string("\"a\0b\"", 5)};
  for (const std::string& bad : invalid) {
    INFO("meta = '" << bad << "'");
    Gadget g = testdb::make_gadget("bad");
    g.meta = Json{bad};
    // Inside a transaction: the statement never reaches the server, so the transaction (on
    // PostgreSQL, which aborts a transaction at its first failed statement) goes on.
    auto tx = conn.transaction();
    Gadget first = testdb::make_gadget("in the transaction");
    gadgets.insert(org, first);
    const auto e = expect_throw<ValueError>([&] { gadgets.insert(org, g); });
    CHECK(std::string(e.what()).find("not valid") != std::string::npos);
    expect_throw<ValueError>([&] { gadgets.set(org, kept.id, &Gadget::meta, Json{bad}); });
    Gadget changed = kept;
    changed.meta = Json{bad};
    expect_throw<ValueError>([&] { gadgets.update(org, changed); });
    expect_throw<ValueError>([&] { (void)gadgets.count(org, col(&Gadget::meta) == Json{bad}); });
    expect_throw<ValueError>([&] { gadgets.update_where(org, col(&Gadget::id) == kept.id, assign(col(&Gadget::meta), Json{bad})); });
    std::vector<Gadget> batch = {testdb::make_gadget("batch ok"), g};
    expect_throw<ValueError>([&] { gadgets.insert_many(org, batch); });
    CHECK(gadgets.count(org) == 2);  // kept, first: the transaction is usable
    tx.commit();
    CHECK(gadgets.find(org, kept.id)->meta == kept.meta);
    CHECK(gadgets.erase(org, first.id));
  }
  CHECK(parity::rows_in(conn, "gadgets") == 1);
}
