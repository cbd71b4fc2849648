// tenantry/sql_registry.hpp - process-wide interning of SQL text.
//
// Every statement tenantry runs is built once and interned here, which gives it a small dense
// id and a name derived from its text. Connections cache their prepared statements in a vector
// indexed by the id, so reusing a cached statement costs an index, not a hash of the SQL text.
// Interned text lives until the process exits (the set of distinct statements is bounded by the
// program's code).
//
// The id is this process's own: another process (or another build of this one) numbers its
// statements in whatever order it happens to build them. The name is what the server sees
// (PostgreSQL's server-side prepared statements): "tenantry_" followed by the first 192 bits of
// the SHA-256 of the text, in hex. Equal names therefore mean equal SQL in every process that
// shares a server session, which a pooler in transaction mode (PgBouncer) makes routine: a
// statement one process prepared on a server session is the statement any other process finds
// there under that name. 192 bits: an accidental collision among even 2^40 distinct statements
// has a probability below 2^-112, and producing two texts with one name on purpose costs about
// 2^96 SHA-256 evaluations. The driver still compares the server's text with its own whenever
// it finds the name already taken on a session, and refuses to run on a mismatch (see
// driver/postgres.hpp); two texts with one name in this process are refused here.
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/sha256.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tenantry {

/// A built SQL statement: its text, its process-wide id and its server-side name.
struct Sql {
  std::uint32_t id = 0;
  const std::string* text = nullptr;
  /// "tenantry_<48 hex digits>" (sql_statement_name(text)); null only in an Sql made by hand.
  const std::string* name = nullptr;
  std::string_view view() const noexcept { return *text; }
};

/// Prefix of every statement name tenantry gives the server.
inline constexpr std::string_view sql_name_prefix = "tenantry_";

/// The server-side name of statement `text`: "tenantry_" and the first 24 bytes of SHA-256(text)
/// in lower-case hex, 57 characters (PostgreSQL keeps 63 of a name).
inline std::string sql_statement_name(std::string_view text) {
  const std::array<unsigned char, 32> md = detail::sha256(text);  // tenantry/sha256.hpp: no crypto library
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(sql_name_prefix);
  for (unsigned i = 0; i < 24; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0x0F];
  }
  return out;
}

/// Returns the interned statement for `text`; the same text always yields the same id and name.
/// The digest is computed once, when a text is first interned.
inline Sql intern_sql(std::string text) {
  struct Entry {
    std::string text, name;
  };
  struct Registry {
    std::mutex mutex;
    std::deque<Entry> entries;                                  // deque: element addresses stay valid as it grows
    std::unordered_map<std::string_view, std::uint32_t> ids;    // by text
    std::unordered_map<std::string_view, std::uint32_t> names;  // by name
  };
  static Registry registry;
  std::lock_guard lock(registry.mutex);
  if (auto it = registry.ids.find(text); it != registry.ids.end()) {
    const Entry& e = registry.entries[it->second];
    return Sql{it->second, &e.text, &e.name};
  }
  std::string name = sql_statement_name(text);
  if (auto clash = registry.names.find(name); clash != registry.names.end()) {
    throw UsageError("tenantry: two statements have the same name " + name + " (a SHA-256 collision?): '" +
                     registry.entries[clash->second].text.substr(0, 200) + "' and '" + text.substr(0, 200) + "'");
  }
  const auto id = static_cast<std::uint32_t>(registry.entries.size());
  registry.entries.push_back(Entry{std::move(text), std::move(name)});
  const Entry& e = registry.entries.back();
  registry.ids.emplace(e.text, id);
  registry.names.emplace(e.name, id);
  return Sql{id, &e.text, &e.name};
}

}  // namespace tenantry
