// tenantry::json_error() (types.hpp), the check every bound Json goes through, and Json's
// default. What the databases make of the same texts is in tests/parity/json_test.cpp.
#include <tenantry/types.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

using tenantry::Json;
using tenantry::json_error;

namespace {

std::string nested(std::size_t depth, std::string_view open, std::string_view inner, std::string_view close) {
  std::string out;
  for (std::size_t i = 0; i < depth; ++i) out += open;
  out += inner;
  for (std::size_t i = 0; i < depth; ++i) out += close;
  return out;
}

}  // namespace

TEST_CASE("a default Json is the document null", "[types][json]") {
  STATIC_REQUIRE(!json_error("null").has_value());
  CHECK(Json{}.text == "null");
  CHECK(Json{}.valid());
  CHECK(Json{} == Json{"null"});
  CHECK_FALSE(Json{""}.valid());  // what Json{} used to be
}

TEST_CASE("json_error accepts every form of RFC 8259 JSON", "[types][json]") {
  // Evaluated at compile time as well: no allocation, no exceptions.
  STATIC_REQUIRE(!json_error(R"({"a": [1, -2.5e+3, true, false, null, "x"]})").has_value());
  STATIC_REQUIRE(json_error("{not json").has_value());
  const std::vector<std::string> valid = {
      "null", "true", "false", "0", "-0", "7", "-12", "0.5", "1e3", "1E+2", "2.5e-3", "-0.0e0",
      "123456789012345678901234567890", "1e999",  // syntax only: no range
      R"("")", R"("text")", R"("\"\\\/\b\f\n\r\t")", R"("\u00e9\u20AC")", R"("\ud83d\ude00")",  // a surrogate pair
      "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"",  // é € 😀 as UTF-8
      "\"\xF4\x8F\xBF\xBF\"",                      // U+10FFFF
      "\"\xED\x9F\xBF\"",                          // U+D7FF, just below the surrogates
      "\"\xEE\x80\x80\"",                          // U+E000, just above
      "\"\x7F\"",                                  // DEL is not a control character in JSON
      "[]", "{}", "[[]]", "[{}]", R"({"": 0})", R"({"a":{"b":{"c":[]}}})", R"([1,2,3])", R"({"a":1,"a":2})",
      " \t\r\n{ \"a\" :\t[ 1 , 2 ] }\n ",  // every whitespace character, everywhere it may be
      nested(tenantry::json_max_depth, "[", "", "]"), nested(tenantry::json_max_depth, "{\"k\":", "1", "}"),
  };
  for (const std::string& text : valid) {
    INFO(text.substr(0, 80));
    const auto e = json_error(text);
    CHECK_FALSE(e.has_value());
    if (e) INFO(e->reason << " at " << e->offset);
  }
}

TEST_CASE("json_error refuses what is not JSON, saying where and why", "[types][json]") {
  struct Case {
    std::string text;
    std::size_t offset;
    std::string_view reason;  // a part of the reason
  };
  const std::vector<Case> invalid = {
      {"", 0, "empty text"},
      {"   ", 3, "expected a value"},
      {"{not json", 1, "member name"},
      {"{'a': 1}", 1, "member name"},
      {"{\"a\" 1}", 5, "':'"},
      {"{\"a\":}", 5, "unexpected character"},
      {"[1,]", 3, "unexpected character"},
      {"[1 2]", 3, "expected ',' or ']'"},
      {"{\"a\":1,}", 7, "member name"},
      {"{\"a\":1]", 6, "expected ',' or '}'"},
      {"[1", 2, "unterminated array"},
      {"{\"a\":1", 6, "unterminated object"},
      {"[", 1, "expected a value"},
      {"1 2", 2, "text after"},
      {"{} {}", 3, "text after"},
      {"nul", 0, "unexpected character"},
      {"True", 0, "unexpected character"},
      {"NaN", 0, "unexpected character"},
      {"Infinity", 0, "unexpected character"},
      {"undefined", 0, "unexpected character"},
      {"01", 0, "leading zero"},
      {"-01", 0, "leading zero"},
      {"+1", 0, "unexpected character"},
      {".5", 0, "unexpected character"},
      {"1.", 0, "no digit after '.'"},
      {"1.e3", 0, "no digit after '.'"},
      {"1e", 0, "exponent"},
      {"1e+", 0, "exponent"},
      {"-", 0, "malformed number"},
      {"0x10", 1, "text after"},
      {"\"abc", 0, "unterminated string"},
      {"\"abc\\", 0, "unterminated string"},
      {"\"a\nb\"", 2, "control character"},
      {"\"a\tb\"", 2, "control character"},
      {std::string("\"a\0b\"", 5), 2, "control character"},
      {std::string("{}\0", 3), 2, "text after"},
      {"\"\\x41\"", 1, "unknown escape"},
      {"\"\\'\"", 1, "unknown escape"},
      {"\"\\u12\"", 1, "four hex digits"},
      {"\"\\u12g4\"", 1, "four hex digits"},
      {"\"\\ud800\"", 1, "high surrogate"},
      {"\"\\ud800\\u0041\"", 1, "high surrogate"},
      {"\"\\udc00\"", 1, "low surrogate"},
      {"\"\\ude00\\ud83d\"", 1, "low surrogate"},  // a pair in the wrong order
      {"\"\xFF\"", 1, "invalid UTF-8"},
      {"\"\xC3\"", 1, "invalid UTF-8"},              // truncated
      {"\"\xC0\xAF\"", 1, "invalid UTF-8"},          // overlong '/'
      {"\"\xE0\x80\xAF\"", 1, "invalid UTF-8"},      // overlong, three bytes
      {"\"\xED\xA0\x80\"", 1, "invalid UTF-8"},      // an encoded surrogate U+D800
      {"\"\xF4\x90\x80\x80\"", 1, "invalid UTF-8"},  // U+110000
      {"\"\xE2\x82\"", 1, "invalid UTF-8"},
      {"\xEF\xBB\xBF{}", 0, "unexpected character"},  // a byte order mark
      {"\f1", 0, "unexpected character"},             // form feed is not JSON whitespace
      {"// c\n1", 0, "unexpected character"},
      {"[1] // c", 4, "text after"},
      {nested(tenantry::json_max_depth + 1, "[", "", "]"), tenantry::json_max_depth, "nested more than 1000"},
  };
  for (const Case& c : invalid) {
    INFO(c.text.substr(0, 80));
    const auto e = json_error(c.text);
    REQUIRE(e.has_value());
    CHECK(e->offset == c.offset);
    CHECK(e->reason.find(c.reason) != std::string_view::npos);
    CHECK_FALSE(Json{c.text}.valid());
  }
}

TEST_CASE("json_error never reads past the text", "[types][json]") {
  // Every prefix of documents ending in each construct: the views end inside escapes, UTF-8
  // sequences, literals and numbers (AddressSanitizer checks each read in the asan build).
  const std::string doc = R"({"k": ["\u00e9\ud83d\ude00", -1.5e+7, true, false, null, {"": []}], "é": "\"\\"})";
  for (std::size_t n = 0; n < doc.size(); ++n) {
    const std::string prefix = doc.substr(0, n);  // its own allocation, so a read past n is caught
    INFO(prefix);
    CHECK(json_error(prefix).has_value());
  }
  CHECK_FALSE(json_error(doc).has_value());
}
