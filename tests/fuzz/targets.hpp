// The fuzz targets: one entry point per parser, shared by the libFuzzer executables
// (fuzz_<target>.cpp, built with TENANTRY_BUILD_FUZZERS=ON and clang) and by the plain replay
// driver (replay.cpp, every build), which runs the checked-in corpus and every regression input.
//
// Each entry takes arbitrary bytes and checks properties, not just "no crash":
//   * the only exception a parser may throw is its documented typed one (UrlError,
//     MigrationError of the right kind, ValueError); anything else escapes and is reported;
//   * what parses round-trips: format(parse(x)) parses back to the same value;
//   * what a parser hands back respects its invariants (ranges, sortedness, views inside the
//     input, redacted passwords).
// A violated property prints the line and aborts, which libFuzzer reports as a crash and keeps
// the input (copy it into regressions/<target>/; see docs/reliability.md, "Fuzzing").
#pragma once

#include <tenantry/migrate.hpp>
#include <tenantry/sqlite.hpp>
#include <tenantry/url.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenantry_fuzz {

[[noreturn]] inline void violated(const char* target, const char* what, int line) {
  std::fprintf(stderr, "fuzz target '%s': property violated (targets.hpp line %d): %s\n", target, line, what);
  std::abort();
}

#define TENANTRY_FUZZ_REQUIRE(cond) ((cond) ? void() : ::tenantry_fuzz::violated(target_name, #cond, __LINE__))

/// Runs f, which must throw nothing or E; returns whether it threw E.
template <class E, class F>
bool throws(F&& f) {
  try {
    f();
    return false;
  } catch (const E&) {
    return true;
  }
}

// ==== database URLs ==========================================================================

/// A URL that parse_database_url() reads as `u` (SQLite only).
inline std::string format_sqlite_url(const tenantry::DatabaseUrl& u) {
  std::string s = "sqlite:";
  if (u.sqlite_path == ":memory:") s += ":memory:";
  else if (u.sqlite_path.starts_with('/')) s += "//" + u.sqlite_path;  // "sqlite:///abs" keeps one '/'
  else s += u.sqlite_path;
  if (u.read_only) s += "?mode=ro";
  else if (!u.create) s += "?mode=rw";
  return s;
}

inline bool userinfo_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~%!$&'()*+,;=:").find(c) != std::string_view::npos;
}

inline int url(const std::uint8_t* data, std::size_t size) {
  static constexpr const char* target_name = "url";
  using tenantry::DatabaseUrl;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;  // "" means: read DATABASE_URL
  DatabaseUrl u;
  try {
    u = tenantry::parse_database_url(in);
  } catch (const tenantry::UrlError& e) {
    const std::string_view what = e.what();
    TENANTRY_FUZZ_REQUIRE(what.starts_with("tenantry: bad database URL '"));
    TENANTRY_FUZZ_REQUIRE(what.size() < 1200);  // the URL is shortened, whatever its length
    for (const char c : what) TENANTRY_FUZZ_REQUIRE(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
    // Redaction: what the message says cannot depend on the userinfo (the text between "://"
    // and the last '@'), so replacing it must give the very same message. (SQLite URLs carry no
    // credentials; an unknown option is quoted back whatever it holds.)
    const auto scheme = in.find("://");
    const auto at = in.rfind('@');
    if (!in.starts_with("sqlite:") && scheme != std::string_view::npos && at != std::string_view::npos &&
        at > scheme + 3) {
      const std::string_view info = in.substr(scheme + 3, at - scheme - 3);
      // In a keyword string a quote inside the "userinfo" changes where values end, so the
      // message may rightly change with it; other userinfo characters cannot.
      const bool keywords = tenantry::detail::looks_like_keywords(in);
      bool plain = true;
      for (const char c : info) plain = plain && userinfo_char(c) && !(keywords && c == '\'');
      if (plain) {
        const std::string other = std::string(in.substr(0, scheme + 3)) + "u" + std::string(in.substr(at));
        std::string other_what;
        try {
          (void)tenantry::parse_database_url(other);
        } catch (const tenantry::UrlError& e2) {
          other_what = e2.what();
        }
        TENANTRY_FUZZ_REQUIRE(other_what == what);
      }
    }
    return 0;
  }
  if (u.kind == DatabaseUrl::Kind::sqlite) {
    TENANTRY_FUZZ_REQUIRE(in.starts_with("sqlite:"));
    TENANTRY_FUZZ_REQUIRE(!u.sqlite_path.empty());
    TENANTRY_FUZZ_REQUIRE(u.sqlite_path.find('\0') == std::string::npos);
    TENANTRY_FUZZ_REQUIRE(!(u.read_only && u.create));
    TENANTRY_FUZZ_REQUIRE(u.pg_conninfo.empty());
    const DatabaseUrl again = tenantry::parse_database_url(format_sqlite_url(u));
    TENANTRY_FUZZ_REQUIRE(again.kind == DatabaseUrl::Kind::sqlite);
    TENANTRY_FUZZ_REQUIRE(again.sqlite_path == u.sqlite_path);
    TENANTRY_FUZZ_REQUIRE(again.read_only == u.read_only);
    TENANTRY_FUZZ_REQUIRE(again.create == u.create);
  } else {
    TENANTRY_FUZZ_REQUIRE(in.starts_with("postgres://") || in.starts_with("postgresql://") ||
                          tenantry::detail::looks_like_keywords(in));
    TENANTRY_FUZZ_REQUIRE(u.pg_conninfo == in);  // handed to libpq unchanged
    // Every port of the host list is a number from 1 to 65535.
    for (std::string_view rest = u.port; !rest.empty();) {
      const auto comma = rest.find(',');
      std::string_view one = rest.substr(0, comma);
      if (const auto c = one.rfind(':'); c != std::string_view::npos) one = one.substr(c + 1);
      // Leading zeros are allowed ("05432"), as libpq's own integer parsing allows them.
      TENANTRY_FUZZ_REQUIRE(!one.empty());
      unsigned value = 0;
      for (const char c : one) {
        TENANTRY_FUZZ_REQUIRE(c >= '0' && c <= '9');
        value = value * 10 + static_cast<unsigned>(c - '0');
        TENANTRY_FUZZ_REQUIRE(value <= 65535);
      }
      TENANTRY_FUZZ_REQUIRE(value >= 1 && value <= 65535);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    const DatabaseUrl again = tenantry::parse_database_url(u.pg_conninfo);
    TENANTRY_FUZZ_REQUIRE(again.host == u.host && again.port == u.port && again.database == u.database);
  }
  return 0;
}

// ==== migration files ==========================================================================

inline constexpr std::string_view record_separator = "\n===\n";

/// Input: records separated by "\n===\n", read as pairs (file name, file contents).
inline std::vector<tenantry::migrate::SourceFile> split_files(std::string_view in) {
  std::vector<std::string_view> records;
  for (;;) {
    const auto sep = in.find(record_separator);
    records.push_back(in.substr(0, sep));
    if (sep == std::string_view::npos) break;
    in.remove_prefix(sep + record_separator.size());
  }
  std::vector<tenantry::migrate::SourceFile> files;
  for (std::size_t i = 0; i < records.size(); i += 2) {
    const std::string name(records[i]);
    files.push_back({name, "dir/" + name, i + 1 < records.size() ? std::string(records[i + 1]) : std::string()});
  }
  return files;
}

inline void check_statements(std::string_view sql) {
  static constexpr const char* target_name = "migrate";
  namespace m = tenantry::migrate;
  const std::vector<std::string_view> pieces = m::split_statements(sql);
  const char* previous_end = sql.data();
  for (const std::string_view piece : pieces) {
    TENANTRY_FUZZ_REQUIRE(!piece.empty());
    // Views into the input, in order, not overlapping, trimmed.
    TENANTRY_FUZZ_REQUIRE(piece.data() >= previous_end);
    TENANTRY_FUZZ_REQUIRE(piece.data() + piece.size() <= sql.data() + sql.size());
    previous_end = piece.data() + piece.size();
    TENANTRY_FUZZ_REQUIRE(!m::detail::is_space(piece.front()) && !m::detail::is_space(piece.back()));
    // A statement holds no top-level ';': split again, it is itself.
    const auto again = m::split_statements(piece);
    TENANTRY_FUZZ_REQUIRE(again.size() == 1 && again.front() == piece);
    std::string_view rest;
    for (const char c : m::first_keyword(piece, &rest)) TENANTRY_FUZZ_REQUIRE(c >= 'A' && c <= 'Z');
    TENANTRY_FUZZ_REQUIRE(rest.data() >= piece.data() && rest.data() + rest.size() == piece.data() + piece.size());
  }
}

inline int migrate(const std::uint8_t* data, std::size_t size) {
  static constexpr const char* target_name = "migrate";
  namespace m = tenantry::migrate;
  using tenantry::MigrationError;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::vector<m::SourceFile> files = split_files(in);
  for (const m::SourceFile& f : files) {
    // File names: nullopt (not a migration), a FileName, or bad_file naming the file.
    try {
      if (const auto name = m::parse_file_name(f.name)) {
        TENANTRY_FUZZ_REQUIRE(name->version >= 1);
        TENANTRY_FUZZ_REQUIRE(!name->description.empty());
        TENANTRY_FUZZ_REQUIRE(name->description.find('_') == std::string::npos);
        std::string described = name->description;
        for (char& c : described)
          if (c == ' ') c = '_';
        const std::string formatted = std::to_string(name->version) + "_" + described +
                                      (name->direction == m::Direction::up ? ".up.sql" : ".down.sql");
        const auto again = m::parse_file_name(formatted);
        TENANTRY_FUZZ_REQUIRE(again.has_value());
        TENANTRY_FUZZ_REQUIRE(again->version == name->version && again->description == name->description &&
                              again->direction == name->direction);
      }
    } catch (const MigrationError& e) {
      TENANTRY_FUZZ_REQUIRE(e.kind() == MigrationError::Kind::bad_file);
      TENANTRY_FUZZ_REQUIRE(e.path() == f.name);
    }
    // Directives: a bool, or bad_file naming the path.
    try {
      const bool no_tx = m::has_no_transaction_directive(f.contents, f.path);
      if (!no_tx && !f.contents.starts_with("\xEF\xBB\xBF")) {
        const std::string marked = std::string(m::no_transaction_directive) + "\n" + f.contents;
        TENANTRY_FUZZ_REQUIRE(m::has_no_transaction_directive(marked, f.path));
      }
    } catch (const MigrationError& e) {
      TENANTRY_FUZZ_REQUIRE(e.kind() == MigrationError::Kind::bad_file);
      TENANTRY_FUZZ_REQUIRE(e.path() == f.path);
    }
    check_statements(f.contents);
  }
  // The whole set: sorted unique versions, checksums of the up files, or a typed refusal.
  try {
    const std::vector<m::Migration> set = m::parse_migrations(files);
    for (std::size_t i = 0; i < set.size(); ++i) {
      const m::Migration& mig = set[i];
      if (i > 0) TENANTRY_FUZZ_REQUIRE(set[i - 1].version < mig.version);
      TENANTRY_FUZZ_REQUIRE(mig.version >= 1);
      TENANTRY_FUZZ_REQUIRE(mig.checksum.size() == 64 && mig.checksum == m::sha256_hex(mig.up.sql));
      TENANTRY_FUZZ_REQUIRE(mig.up.no_transaction == m::has_no_transaction_directive(mig.up.sql, mig.up.path));
      TENANTRY_FUZZ_REQUIRE(mig.up.sql.find('\0') == std::string::npos);
      if (mig.down) TENANTRY_FUZZ_REQUIRE(mig.down->sql.find('\0') == std::string::npos);
    }
  } catch (const MigrationError& e) {
    TENANTRY_FUZZ_REQUIRE(e.kind() == MigrationError::Kind::bad_file ||
                          e.kind() == MigrationError::Kind::duplicate_version);
  }
  return 0;
}

// ==== values decoded from database text =======================================================

enum class Shade { light, dark, very_dark };

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// Text and numbers through the pure parsers of types.hpp.
inline void check_parsers(std::string_view text, std::span<const std::uint8_t> bytes) {
  static constexpr const char* target_name = "values";
  using tenantry::Timestamp;
  using tenantry::Uuid;
  if (const auto u = Uuid::try_parse(text)) {
    TENANTRY_FUZZ_REQUIRE(u->to_string() == lower(text));
    TENANTRY_FUZZ_REQUIRE(Uuid::parse(u->to_string()) == *u);
  } else {
    TENANTRY_FUZZ_REQUIRE(throws<tenantry::ValueError>([&] { (void)Uuid::parse(text); }));
  }
  if (const auto t = Timestamp::try_parse(text)) {
    TENANTRY_FUZZ_REQUIRE(t->micros >= Timestamp::min_micros && t->micros <= Timestamp::max_micros);
    TENANTRY_FUZZ_REQUIRE(Timestamp::try_parse(t->to_iso()) == *t);
  } else {
    TENANTRY_FUZZ_REQUIRE(throws<tenantry::ValueError>([&] { (void)Timestamp::parse(text); }));
  }
  if (const auto e = tenantry::enum_from_text<Shade>(text)) TENANTRY_FUZZ_REQUIRE(tenantry::enum_to_text(*e) == text);
  if (bytes.size() >= 16) {
    Uuid u;
    std::memcpy(u.bytes.data(), bytes.data(), 16);
    TENANTRY_FUZZ_REQUIRE(Uuid::try_parse(u.to_string()) == u);
  }
  if (bytes.size() >= 8) {
    std::int64_t v;
    std::memcpy(&v, bytes.data(), 8);
    const Timestamp t{v};
    if (v >= Timestamp::min_micros && v <= Timestamp::max_micros) {
      TENANTRY_FUZZ_REQUIRE(t.to_iso().size() == 27);
      TENANTRY_FUZZ_REQUIRE(Timestamp::try_parse(t.to_iso()) == t);
    } else {
      TENANTRY_FUZZ_REQUIRE(throws<tenantry::ValueError>([&] { (void)t.to_iso(); }));
    }
  }
}

/// Reads column 0 of `st` (one row) into a T; the value, or nullopt for a ValueError.
template <class T, class S>
std::optional<T> read_as(S& st) {
  T out{};
  try {
    tenantry::read_value(st, 0, out);
    return out;
  } catch (const tenantry::ValueError& e) {
    static constexpr const char* target_name = "values";
    TENANTRY_FUZZ_REQUIRE(std::string_view(e.what()).find("column") != std::string_view::npos);  // names it
    return std::nullopt;
  }
}

template <class T, class S>
void check_integer_width(S& st, std::int64_t stored) {
  static constexpr const char* target_name = "values";
  const auto got = read_as<T>(st);
  TENANTRY_FUZZ_REQUIRE(got.has_value() == std::in_range<T>(stored));
  if (got) TENANTRY_FUZZ_REQUIRE(static_cast<std::int64_t>(*got) == stored);
}

/// The same bytes as stored values read back through the SQLite driver and read_value(), the
/// path a repository takes: every read is the exact value or a ValueError naming the column.
inline void check_sqlite_reads(std::string_view text, std::span<const std::uint8_t> bytes) {
  static constexpr const char* target_name = "values";
  using namespace tenantry;
  static sqlite::Connection conn(":memory:");
  static const Sql select = intern_sql("SELECT ?1");
  auto& st = conn.prepare(select);
  struct Reset {
    sqlite::Statement& s;
    ~Reset() { s.reset(); }
  } reset{st};

  // As TEXT.
  st.bind_text(1, text);
  TENANTRY_FUZZ_REQUIRE(st.step());
  TENANTRY_FUZZ_REQUIRE(read_as<std::string>(st) == std::string(text));
  TENANTRY_FUZZ_REQUIRE(read_as<Json>(st)->text == text);
  const auto u = read_as<Uuid>(st);
  TENANTRY_FUZZ_REQUIRE(u == Uuid::try_parse(text));
  if (const auto t = read_as<Timestamp>(st)) {
    TENANTRY_FUZZ_REQUIRE(t->micros >= Timestamp::min_micros && t->micros <= Timestamp::max_micros);
    const auto parsed = Timestamp::try_parse(text);
    TENANTRY_FUZZ_REQUIRE(parsed ? *parsed == *t : t->micros % 1000000 == 0);  // else unix seconds
  }
  TENANTRY_FUZZ_REQUIRE(read_as<Shade>(st) == enum_from_text<Shade>(text));
  TENANTRY_FUZZ_REQUIRE(!read_as<std::int64_t>(st).has_value());  // text is not an integer
  TENANTRY_FUZZ_REQUIRE(!read_as<bool>(st).has_value());
  TENANTRY_FUZZ_REQUIRE(!read_as<double>(st).has_value());
  st.reset();

  // As JSON: bind_json() takes exactly the texts json_error() accepts, and SQLite's own
  // json_valid() agrees that each of them is JSON.
  {
    static const Sql json_valid = intern_sql("SELECT json_valid(?1)");
    auto& js = conn.prepare(json_valid);
    Reset reset_json{js};
    if (!json_error(text)) {
      js.bind_json(1, text);
      TENANTRY_FUZZ_REQUIRE(js.step());
      TENANTRY_FUZZ_REQUIRE(js.column_int(0) == 1);
    } else {
      TENANTRY_FUZZ_REQUIRE(throws<ValueError>([&] { js.bind_json(1, text); }));
    }
  }

  // As a BLOB.
  st.bind_blob(1, std::as_bytes(bytes));
  TENANTRY_FUZZ_REQUIRE(st.step());
  const auto blob = read_as<Bytes>(st);
  TENANTRY_FUZZ_REQUIRE(blob && blob->size() == bytes.size() &&
                        (bytes.empty() || std::memcmp(blob->data(), bytes.data(), bytes.size()) == 0));
  if (const auto bu = read_as<Uuid>(st); bu && bytes.size() == 16)
    TENANTRY_FUZZ_REQUIRE(std::memcmp(bu->bytes.data(), bytes.data(), 16) == 0);
  st.reset();

  if (bytes.size() < 8) return;
  std::int64_t v;
  std::memcpy(&v, bytes.data(), 8);
  // As an INTEGER: every width, booleans, and unix seconds.
  st.bind_int(1, v);
  TENANTRY_FUZZ_REQUIRE(st.step());
  TENANTRY_FUZZ_REQUIRE(read_as<std::int64_t>(st) == v);
  check_integer_width<std::int8_t>(st, v);
  check_integer_width<std::int16_t>(st, v);
  check_integer_width<std::int32_t>(st, v);
  check_integer_width<std::uint8_t>(st, v);
  check_integer_width<std::uint16_t>(st, v);
  check_integer_width<std::uint32_t>(st, v);
  check_integer_width<std::uint64_t>(st, v);
  TENANTRY_FUZZ_REQUIRE(read_as<bool>(st).has_value() == (v == 0 || v == 1));
  const auto t = read_as<Timestamp>(st);
  const bool in_range = v >= Timestamp::min_micros / 1000000 && v <= Timestamp::max_micros / 1000000;
  TENANTRY_FUZZ_REQUIRE(t.has_value() == in_range);
  if (t) TENANTRY_FUZZ_REQUIRE(t->micros == v * 1000000);
  TENANTRY_FUZZ_REQUIRE(read_as<double>(st) == static_cast<double>(v));
  st.reset();

  // As a REAL: the same double back (NaN is NULL in SQLite, so a ValueError for a NOT NULL read).
  const double d = std::bit_cast<double>(v);
  st.bind_double(1, d);
  TENANTRY_FUZZ_REQUIRE(st.step());
  const auto got = read_as<double>(st);
  if (d != d) TENANTRY_FUZZ_REQUIRE(!got.has_value());
  else TENANTRY_FUZZ_REQUIRE(got == d);
  TENANTRY_FUZZ_REQUIRE(!read_as<std::int64_t>(st).has_value());
}

inline int values(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::span<const std::uint8_t> bytes(data, size);
  check_parsers(text, bytes);
  check_sqlite_reads(text, bytes);
  return 0;
}

#undef TENANTRY_FUZZ_REQUIRE

}  // namespace tenantry_fuzz
