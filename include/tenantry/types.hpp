// tenantry/types.hpp - the value types tenantry stores, and how each C++ type maps to a column.
//
// A field's C++ type decides its *kind* (integer, real, text, blob, boolean, uuid, timestamp,
// json); each dialect names the kind's SQL type and each driver binds and reads it. The mapping
// lives in value_traits<T>:
//
//   std::string, std::string_view-free text  -> text
//   all integer widths                       -> integer (range-checked both ways)
//   float, double                            -> real
//   bool                                     -> boolean
//   Uuid, OrgId                              -> uuid      (TEXT in SQLite, UUID in PostgreSQL)
//   TextOrgId / IntOrgId (text / int64 org keys) -> text / integer
//   Timestamp                                -> timestamp (ISO-8601 TEXT / TIMESTAMPTZ)
//   Json                                     -> json      (TEXT / JSONB)
//   Bytes                                    -> blob      (BLOB / BYTEA)
//   enums                                    -> text with CHECK (col IN (...names...))
//   std::optional<T>                         -> T's kind, nullable; everything else is NOT NULL
//
// A user type maps onto one of these by specialising type_mapping<T> (see below).
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/reflect.hpp"
#include "tenantry/sha256.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#endif
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <stdlib.h>  // arc4random_buf
#elif defined(__linux__)
#include <sys/random.h>  // getrandom
#endif

namespace tenantry {

// ---- random bytes ------------------------------------------------------------------------------

namespace detail {

/// fork()s seen by this process: a pthread_atfork handler counts them in the child.
inline std::atomic<unsigned> forks_seen{0};

/// Registers that handler (once); false when it could not be registered.
inline bool watching_forks() noexcept {
#if defined(__unix__) || defined(__APPLE__)
  static const bool registered =
      ::pthread_atfork(nullptr, nullptr, [] { forks_seen.fetch_add(1, std::memory_order_relaxed); }) == 0;
  return registered;
#else
  return false;
#endif
}

/// Fills out[0, n) from the operating system's cryptographically secure generator: getrandom(2)
/// on Linux (blocking only until the kernel's pool is first seeded, early in boot), arc4random_buf
/// on the BSDs and macOS, /dev/urandom elsewhere and on kernels or sandboxes without getrandom.
/// Throws Error when there is no source at all: a weak substitute would make guessable keys.
inline void os_random_bytes(std::uint8_t* out, std::size_t n) {
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
  ::arc4random_buf(out, n);
#else
#if defined(__linux__)
  while (n > 0) {
    const ssize_t got = ::getrandom(out, n, 0);
    if (got > 0) {
      out += got;
      n -= static_cast<std::size_t>(got);
      continue;
    }
    const int error = got < 0 ? errno : EIO;
    if (error == EINTR) continue;
    if (error == ENOSYS || error == EPERM) break;  // no getrandom (kernel < 3.17, a seccomp filter): /dev/urandom
    throw Error("tenantry: getrandom(2) failed: " + std::generic_category().message(error));
  }
  if (n == 0) return;
#endif
  int fd = -1;
  do {
    fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int error = errno;
    throw Error("tenantry: no random source: cannot open /dev/urandom: " + std::generic_category().message(error));
  }
  while (n > 0) {
    const ssize_t got = ::read(fd, out, n);
    if (got > 0) {
      out += got;
      n -= static_cast<std::size_t>(got);
      continue;
    }
    const int error = got < 0 ? errno : EIO;
    if (error == EINTR) continue;
    ::close(fd);
    throw Error("tenantry: reading /dev/urandom failed: " + std::generic_category().message(error));
  }
  ::close(fd);
#endif
}

/// Fills out[0, n) with cryptographically secure random bytes. Small requests are served from a
/// per-thread buffer of os_random_bytes() output (one system call per 16 UUIDs instead of one
/// each); bytes handed out are wiped from it. The buffer is thrown away in a forked child before
/// its first use, so parent and child never hand out the same bytes. (A child made by a raw
/// clone(2) or _Fork(), which skip pthread_atfork handlers, is not detected: draw no random bytes
/// in such a child before exec.)
inline void random_bytes(std::uint8_t* out, std::size_t n) {
  struct Buffer {
    std::array<std::uint8_t, 256> bytes{};
    std::size_t next = 256;  // bytes[next, size) are unused
    unsigned generation = 0;
  };
  // Without a way to see forks, no bytes are kept for later.
  if (!watching_forks()) return os_random_bytes(out, n);
  thread_local Buffer buffer;
  if (const unsigned now = forks_seen.load(std::memory_order_relaxed); now != buffer.generation) {
    std::memset(buffer.bytes.data(), 0, buffer.bytes.size());  // the parent's bytes: never use them
    buffer.next = buffer.bytes.size();
    buffer.generation = now;
  }
  if (n > buffer.bytes.size() / 4) return os_random_bytes(out, n);
  if (buffer.bytes.size() - buffer.next < n) {
    os_random_bytes(buffer.bytes.data(), buffer.bytes.size());
    buffer.next = 0;
  }
  std::memcpy(out, buffer.bytes.data() + buffer.next, n);
  std::memset(buffer.bytes.data() + buffer.next, 0, n);
  buffer.next += n;
}

}  // namespace detail

// ---- Uuid ------------------------------------------------------------------------------------

/// A 128-bit UUID. Stored as canonical lowercase text in SQLite and as UUID in PostgreSQL.
struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  /// Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case); nullopt when malformed.
  static constexpr std::optional<Uuid> try_parse(std::string_view text) noexcept {
    if (text.size() != 36) return std::nullopt;
    Uuid u;
    std::size_t byte = 0;
    for (std::size_t i = 0; i < 36;) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (text[i] != '-') return std::nullopt;
        ++i;
        continue;
      }
      const int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      u.bytes[byte++] = static_cast<std::uint8_t>(hi * 16 + lo);
      i += 2;
    }
    return u;
  }

  /// Parses like try_parse; throws ValueError naming the bad text.
  static Uuid parse(std::string_view text) {
    if (auto u = try_parse(text)) return *u;
    throw ValueError("tenantry: not a UUID: '" + std::string(text.substr(0, 64)) + "'");
  }

  /// A random (version 4) UUID: 122 bits from the operating system's cryptographic generator
  /// (detail::random_bytes), so ids and tokens made from it cannot be predicted from earlier ones.
  /// Thread-safe; a forked child never repeats its parent's values. Throws Error only if the
  /// operating system has no random source to give.
  static Uuid random() {
    Uuid u;
    detail::random_bytes(u.bytes.data(), u.bytes.size());
    u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x40);
    u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3F) | 0x80);
    return u;
  }

  /// A time-ordered (version 7) UUID: millisecond timestamp first, so new keys append to a
  /// B-tree instead of landing on random pages.
  static Uuid time_ordered() {
    Uuid u = random();
    const auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count());
    for (std::size_t i = 0; i < 6; ++i) u.bytes[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
    u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x70);
    return u;
  }

  constexpr bool is_nil() const noexcept {
    for (auto b : bytes)
      if (b != 0) return false;
    return true;
  }

  /// Writes the 36 characters of the canonical form into out.
  constexpr void write(char* out) const noexcept {
    constexpr char digits[] = "0123456789abcdef";
    std::size_t o = 0;
    for (std::size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
      out[o++] = digits[bytes[i] >> 4];
      out[o++] = digits[bytes[i] & 0x0F];
    }
  }

  std::string to_string() const {
    std::string s(36, '\0');
    write(s.data());
    return s;
  }

  friend constexpr auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  static constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
};

// ---- OrgId -----------------------------------------------------------------------------------

namespace detail {
template <class K>
inline constexpr bool is_org_key = std::is_same_v<K, Uuid> || std::is_same_v<K, std::string> ||
                                   std::is_same_v<K, std::int64_t>;
template <class K>
inline constexpr bool org_key_mismatch = false;
}  // namespace detail

/// The longest text org key, in bytes (UTF-8): organization_id VARCHAR(64) holds every one.
inline constexpr std::size_t max_text_org_key = 64;

/// The id of an organization (tenant), keyed by Key: Uuid (OrgId, the default), std::string
/// (TextOrgId: a slug such as "acme") or std::int64_t (IntOrgId). A field of one of these types
/// makes an entity org-scoped, and its type is the entity's org type (org_id_of<E>): every
/// repository operation on it then takes that type first. Each is a distinct type from its key,
/// so an org id cannot be passed where a row id is meant, and from the other org types, so an
/// org of one key type cannot be passed where another is meant (that does not compile).
///
/// Valid keys: any UUID but nil; text of 1 to max_text_org_key bytes of UTF-8 without control
/// characters (U+0000-U+001F, U+007F); any integer but 0. The nil org (default-constructed: nil
/// UUID, empty text, 0) is no tenant and every org-scoped call refuses it. A text or integer
/// value is checked when constructed or parsed (ValueError), and again whenever it is bound or
/// names a schema, so an invalid `value` assigned directly never reaches the database either.
template <class Key>
struct BasicOrgId {
  static_assert(detail::is_org_key<Key>, "tenantry: an org key is tenantry::Uuid, std::string or std::int64_t");
  using key_type = Key;
  Key value{};

  constexpr BasicOrgId() = default;
  constexpr explicit BasicOrgId(Key v) : value(std::move(v)) {
    if constexpr (!std::is_same_v<Key, Uuid>) {
      if (!valid()) throw ValueError(invalid_message(value));
    }
  }
  /// Never compiles: the org types are not interchangeable.
  template <class Other>
    requires(!std::is_same_v<Other, Key>)
  BasicOrgId(const BasicOrgId<Other>&) {
    static_assert(detail::org_key_mismatch<Other>,
                  "tenantry: an org id of one key type cannot stand for another (OrgId, TextOrgId, IntOrgId): pass the "
                  "entity's own org type, org_id_of<E>");
  }

  /// Parses the key's text form (a UUID, the slug itself, decimal digits); nullopt when it is
  /// not a valid key.
  static std::optional<BasicOrgId> try_parse(std::string_view text) {
    if constexpr (std::is_same_v<Key, Uuid>) {
      if (auto u = Uuid::try_parse(text)) return BasicOrgId{*u};
    } else if constexpr (std::is_same_v<Key, std::string>) {
      if (!text.empty() && problem(text).empty()) return BasicOrgId{std::string(text)};
    } else {
      std::int64_t v = 0;
      if (text.empty() || text.size() > 20) return std::nullopt;
      bool negative = text[0] == '-';
      std::size_t i = negative ? 1 : 0;
      if (i == text.size()) return std::nullopt;
      for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c < '0' || c > '9') return std::nullopt;
        const int d = c - '0';
        if (negative ? v < (std::numeric_limits<std::int64_t>::min() + d) / 10
                     : v > (std::numeric_limits<std::int64_t>::max() - d) / 10)
          return std::nullopt;
        v = negative ? v * 10 - d : v * 10 + d;
      }
      if (v != 0) return BasicOrgId{v};
    }
    return std::nullopt;
  }
  /// Parses like try_parse; throws ValueError saying what is wrong.
  static BasicOrgId parse(std::string_view text) {
    if constexpr (std::is_same_v<Key, Uuid>) {
      return BasicOrgId{Uuid::parse(text)};
    } else if constexpr (std::is_same_v<Key, std::string>) {
      return BasicOrgId{std::string(text)};  // the constructor says what is wrong
    } else {
      if (auto o = try_parse(text)) return *o;
      throw ValueError("tenantry: not an integer org id (nonzero, 64-bit): '" + std::string(text.substr(0, 64)) + "'");
    }
  }
  /// A random org id (UUID keys only).
  static BasicOrgId random()
    requires std::is_same_v<Key, Uuid>
  {
    return BasicOrgId{Uuid::random()};
  }
  constexpr bool is_nil() const noexcept {
    if constexpr (std::is_same_v<Key, Uuid>) return value.is_nil();
    else if constexpr (std::is_same_v<Key, std::string>) return value.empty();
    else return value == 0;
  }
  std::string to_string() const {
    if constexpr (std::is_same_v<Key, Uuid>) return value.to_string();
    else if constexpr (std::is_same_v<Key, std::string>) return value;
    else return std::to_string(value);
  }

  /// Why `key` is not a valid non-nil text key ("" when it is one). Integer keys: "" unless 0.
  static constexpr std::string_view problem(const auto& key) noexcept {
    if constexpr (std::is_same_v<Key, std::string>) {
      const std::string_view s(key);
      if (s.empty()) return "it is empty";
      if (s.size() > max_text_org_key) return "it is longer than 64 bytes";
      for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F) return "it contains a control character";
        std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return "it is not UTF-8";
        std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
        for (std::size_t k = 1; k < n; ++k) {
          const auto b = static_cast<unsigned char>(s[i + k]);
          if ((b & 0xC0) != 0x80) return "it is not UTF-8";
          cp = (cp << 6) | (b & 0x3F);
        }
        const std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return "it is not UTF-8";
        i += n;
      }
      return {};
    } else if constexpr (std::is_same_v<Key, std::int64_t>) {
      return key == 0 ? std::string_view("it is 0, the nil org") : std::string_view();
    } else {
      return key.is_nil() ? std::string_view("it is the nil UUID") : std::string_view();
    }
  }
  /// True for a non-nil, valid key.
  constexpr bool valid() const noexcept { return !is_nil() && problem(value).empty(); }
  /// ValueError unless valid(); `what` says where the value was going ("(schema name)").
  void check(std::string_view what = "") const {
    if (!valid()) throw ValueError(invalid_message(value, what));
  }

  friend constexpr auto operator<=>(const BasicOrgId&, const BasicOrgId&) = default;

  /// The ValueError message for an invalid `key`.
  static std::string invalid_message(const Key& key, std::string_view what = "") {
    std::string shown;
    if constexpr (std::is_same_v<Key, std::string>) {
      for (char c : std::string_view(key).substr(0, 64)) shown += (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
    } else if constexpr (std::is_same_v<Key, std::int64_t>) {
      shown = std::to_string(key);
    } else {
      shown = key.to_string();
    }
    return "tenantry: invalid org id" + (what.empty() ? std::string() : " " + std::string(what)) + " '" + shown +
           "': " + std::string(problem(key));
  }
};

/// The org id of UUID-keyed entity sets (the default).
using OrgId = BasicOrgId<Uuid>;
/// The org id of entity sets keyed by a text slug (organization_id TEXT / VARCHAR(64)).
using TextOrgId = BasicOrgId<std::string>;
/// The org id of entity sets keyed by a 64-bit integer (organization_id BIGINT).
using IntOrgId = BasicOrgId<std::int64_t>;

/// True for OrgId, TextOrgId and IntOrgId.
template <class T>
struct is_org_id : std::false_type {};
template <class K>
struct is_org_id<BasicOrgId<K>> : std::true_type {};
template <class T>
concept org_id_type = is_org_id<std::remove_cvref_t<T>>::value;

/// The PostgreSQL setting that row-level security policies read the current org from. Set with
/// set_config(..., true), so it lasts until the end of the transaction and no longer.
inline constexpr std::string_view org_setting = "app.current_org_id";

/// The PostgreSQL setting that puts a transaction in the platform scope (see
/// PlatformScope): 'on' while a tenantry::platform call runs (set with set_config(..., true), with
/// org_setting emptied). The policies of tables whose org column is optional then show the rows
/// of no org only; every other org-scoped table's policy fails (OrgContextMissing). A separate
/// setting, not a reserved value of org_setting: no org key can ever mean "platform".
inline constexpr std::string_view platform_setting = "app.platform_scope";

/// The scope of the rows that belong to no org ("platform rows"), passed in place of an OrgId
/// to a repository or query call on entities whose org column is a std::optional<OrgId>:
///   events.insert(tenantry::platform, event);       // org_id NULL
///   events.list(tenantry::platform, pred);          // WHERE org_id IS NULL AND (pred)
///   fetch(db, tenantry::platform, query);           // every org-scoped table: org IS NULL
/// It reaches exactly the rows whose org is NULL: never all rows, never a row of an org. Passing
/// it for an entity whose org column is a plain OrgId does not compile (every row has an org),
/// and neither does a query naming such a table. On PostgreSQL with row-level security the call
/// runs in the platform context (platform_setting above), in which the policies of these
/// tables show the rows of no org only, and those of plain org-scoped tables fail
/// (OrgContextMissing).
struct PlatformScope {
  explicit constexpr PlatformScope() = default;
};
inline constexpr PlatformScope platform{};

/// What the row-level security policies read in place of org_setting when it is unset or empty:
/// a setting name no session can create (it is not dotted identifiers), so reading it fails with
/// "unrecognized configuration parameter" (42704) naming the problem. The driver maps that error
/// to OrgContextMissing.
inline constexpr std::string_view org_setting_missing = "tenantry: no org context (app.current_org_id is not set)";

/// The PostgreSQL schema that holds an org's tables under the schema-per-org strategy
/// (org_schema.hpp), made of [a-z0-9_] only and at most 62 bytes (limit 63), so it never needs
/// escaping, is never truncated, and no org id can inject anything into a schema name or a
/// search_path. Injective per key type, and the prefixes keep the key types apart:
///   OrgId      "org_" + the 32 lowercase hex digits of the UUID (36 bytes);
///   IntOrgId   "org_i_" + the decimal value, "m" for a minus sign ("org_i_42", "org_i_m7");
///   TextOrgId  "org_t_" + lowercase hex of the UTF-8 bytes, for keys up to 28 bytes (so
///              "Acme" and "acme" get different schemas), else "org_h_" + the first 56 hex
///              digits of the key's SHA-256 (224 bits: no two keys share a schema in practice).
/// Throws ValueError for a nil or invalid org id.
inline std::string org_schema_name(const OrgId& org) {
  char text[36];
  org.value.write(text);
  std::string out = "org_";
  for (char c : text)
    if (c != '-') out += c;
  return out;
}
inline std::string org_schema_name(const IntOrgId& org) {
  org.check("(schema name)");
  std::string digits = std::to_string(org.value);
  if (digits[0] == '-') digits[0] = 'm';
  return "org_i_" + digits;
}
inline std::string org_schema_name(const TextOrgId& org) {
  org.check("(schema name)");
  constexpr char hex[] = "0123456789abcdef";
  const auto append_hex = [&](std::string& out, const unsigned char* bytes, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      out += hex[bytes[i] >> 4];
      out += hex[bytes[i] & 0x0F];
    }
  };
  std::string out;
  if (org.value.size() <= 28) {
    out = "org_t_";
    append_hex(out, reinterpret_cast<const unsigned char*>(org.value.data()), org.value.size());
  } else {
    out = "org_h_";
    const auto digest = detail::sha256(org.value);
    append_hex(out, digest.data(), 28);
  }
  return out;
}

// ---- Timestamp -------------------------------------------------------------------------------

/// A UTC instant with microsecond precision (what PostgreSQL's TIMESTAMPTZ holds).
/// In SQLite it is stored as fixed-width ISO-8601 text, "2024-05-01T12:30:00.000000Z", so that
/// text order is time order. Years 0001-9999 are representable in both databases.
struct Timestamp {
  std::int64_t micros = 0;  // since 1970-01-01T00:00:00Z

  using time_point = std::chrono::sys_time<std::chrono::microseconds>;

  static Timestamp now() {
    return from(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
  }
  static constexpr Timestamp from(time_point tp) noexcept { return Timestamp{tp.time_since_epoch().count()}; }
  constexpr time_point time() const noexcept { return time_point{std::chrono::microseconds{micros}}; }

  static constexpr std::int64_t min_micros = -62135596800LL * 1000000;            // 0001-01-01
  static constexpr std::int64_t max_micros = 253402300799LL * 1000000 + 999999;   // 9999-12-31

  /// Canonical ISO-8601 text (27 characters); throws ValueError outside years 0001-9999.
  std::string to_iso() const {
    std::string s(27, '\0');
    write_iso(s.data());
    return s;
  }

  /// Writes the 27 characters of to_iso() into out.
  void write_iso(char* out) const {
    if (micros < min_micros || micros > max_micros)
      throw ValueError("tenantry: timestamp outside years 0001-9999: " + std::to_string(micros) + " us");
    const std::int64_t day_us = 86400LL * 1000000;
    std::int64_t days = micros / day_us, rem = micros % day_us;
    if (rem < 0) {
      rem += day_us;
      --days;
    }
    const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
    const auto put = [&](std::size_t at, std::int64_t v, int width) {
      for (int i = width - 1; i >= 0; --i, v /= 10) out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
    };
    put(0, int(ymd.year()), 4);
    out[4] = '-';
    put(5, unsigned(ymd.month()), 2);
    out[7] = '-';
    put(8, unsigned(ymd.day()), 2);
    out[10] = 'T';
    const std::int64_t secs = rem / 1000000;
    put(11, secs / 3600, 2);
    out[13] = ':';
    put(14, secs / 60 % 60, 2);
    out[16] = ':';
    put(17, secs % 60, 2);
    out[19] = '.';
    put(20, rem % 1000000, 6);
    out[26] = 'Z';
  }

  /// Parses ISO-8601 as written by tenantry, by SQLite's datetime functions, or by people:
  /// "YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|+HH[:MM]|-HH[:MM]]" or a bare date. Text without
  /// an offset is taken as UTC. Fractions beyond microseconds are truncated. nullopt for
  /// malformed text and for instants outside years 0001-9999 (UTC), so that every parsed value
  /// can be written back.
  static std::optional<Timestamp> try_parse(std::string_view s) noexcept {
    std::size_t i = 0;
    const auto digits = [&](int n, int& out) {
      out = 0;
      for (int k = 0; k < n; ++k, ++i) {
        if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
      }
      return true;
    };
    const auto expect = [&](char c) {
      if (i < s.size() && s[i] == c) {
        ++i;
        return true;
      }
      return false;
    };
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (!digits(4, y) || !expect('-') || !digits(2, mo) || !expect('-') || !digits(2, d)) return std::nullopt;
    std::int64_t frac = 0;
    std::int64_t offset_s = 0;
    if (i < s.size()) {
      if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return std::nullopt;
      ++i;
      if (!digits(2, h) || !expect(':') || !digits(2, mi)) return std::nullopt;
      if (expect(':')) {
        if (!digits(2, se)) return std::nullopt;
        if (expect('.')) {
          int n = 0;
          while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (n < 6) frac = frac * 10 + (s[i] - '0');
            ++n;
            ++i;
          }
          if (n == 0) return std::nullopt;
          for (; n < 6; ++n) frac *= 10;
        }
      }
      if (i < s.size()) {
        if (s[i] == 'Z' || s[i] == 'z') {
          ++i;
        } else if (s[i] == '+' || s[i] == '-') {
          const int sign = s[i] == '-' ? -1 : 1;
          ++i;
          int oh, om = 0;
          if (!digits(2, oh)) return std::nullopt;
          if (expect(':')) {
            if (!digits(2, om)) return std::nullopt;
          } else if (i < s.size() && !digits(2, om)) {
            return std::nullopt;
          }
          if (oh > 23 || om > 59) return std::nullopt;
          offset_s = sign * (oh * 3600 + om * 60);
        }
      }
      if (i != s.size()) return std::nullopt;
    }
    if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(mo)},
                                          std::chrono::day{unsigned(d)}};
    if (!ymd.ok()) return std::nullopt;
    const std::int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
    const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
    const Timestamp t{secs * 1000000 + frac};
    // An offset or a leap second can carry a date at either end of the range outside it
    // ("0001-01-01T00:00+01:00", "9999-12-31T23:59:60Z"): such text is refused here rather than
    // parsed into a value that cannot be written back (to_iso() and every driver refuse it).
    if (t.micros < min_micros || t.micros > max_micros) return std::nullopt;
    return t;
  }

  static Timestamp parse(std::string_view s) {
    if (auto t = try_parse(s)) return *t;
    throw ValueError("tenantry: not an ISO-8601 timestamp: '" + std::string(s.substr(0, 64)) + "'");
  }

  friend constexpr auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// ---- Json, Bytes -----------------------------------------------------------------------------

/// Where a text stops being a JSON document, and why (json_error()).
struct JsonError {
  std::size_t offset;       ///< byte offset into the text
  std::string_view reason;  ///< static text, e.g. "unexpected character"
};

/// The deepest nesting of arrays and objects json_error() accepts: SQLite's JSON functions refuse
/// deeper documents (beyond 2000 levels before 3.45, 1000 since), PostgreSQL accepts far more.
inline constexpr std::size_t json_max_depth = 1000;

namespace detail {
constexpr bool json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
constexpr bool json_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr int json_hex(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace detail

/// Checks that `text` is exactly one JSON value (RFC 8259) in a form both databases store alike;
/// nullopt when it is. Strict RFC 8259 (no comments, trailing commas, single quotes, NaN, leading
/// zeros or '+'; whitespace is space, tab, LF and CR only; scalars are documents too), and also:
///   - UTF-8 throughout: no overlong forms, no encoded surrogates, nothing above U+10FFFF;
///   - \u escapes of UTF-16 surrogates only as a high-low pair (PostgreSQL refuses a lone one and
///     I-JSON, RFC 7493, forbids them; SQLite would store it);
///   - at most json_max_depth nested arrays and objects.
/// What it cannot promise: PostgreSQL's JSONB still refuses the escape \u0000 (SQLSTATE 22P05)
/// and numbers beyond NUMERIC's range, such as 1e131072 or 1e-20000 (22003). No allocation; a
/// single pass.
constexpr std::optional<JsonError> json_error(std::string_view s) noexcept {
  const std::size_t n = s.size();
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const auto fail = [](std::size_t where, std::string_view why) { return std::optional<JsonError>(JsonError{where, why}); };
  const auto skip_space = [&] {
    while (i < n && detail::json_space(s[i])) ++i;
  };
  const auto hex4 = [&](std::size_t k) {
    if (k + 4 > n) return -1;
    int v = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const int h = detail::json_hex(s[k + j]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    return v;
  };
  // A string starting at s[i] == '"'; on success i is just past the closing quote.
  const auto string = [&]() -> std::optional<JsonError> {
    const std::size_t start = i++;
    for (;;) {
      if (i >= n) return fail(start, "unterminated string");
      const unsigned char c = byte(i);
      if (c == '"') {
        ++i;
        return std::nullopt;
      }
      if (c < 0x20) return fail(i, "control character in a string (it must be written as an escape)");
      if (c == '\\') {
        if (i + 1 >= n) return fail(start, "unterminated string");
        const char e = s[i + 1];
        if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
          i += 2;
          continue;
        }
        if (e != 'u') return fail(i, "unknown escape");
        const int u = hex4(i + 2);
        if (u < 0) return fail(i, "\\u escape without four hex digits");
        if (u >= 0xDC00 && u <= 0xDFFF) return fail(i, "\\u escape of a low surrogate without a high one before it");
        if (u >= 0xD800 && u <= 0xDBFF) {
          const bool pair = i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u' && hex4(i + 8) >= 0xDC00 &&
                            hex4(i + 8) <= 0xDFFF;
          if (!pair) return fail(i, "\\u escape of a high surrogate without a low one after it");
          i += 12;
        } else {
          i += 6;
        }
        continue;
      }
      if (c < 0x80) {
        ++i;
        continue;
      }
      // UTF-8: the lead byte gives the length and narrows the second byte's range (no overlong
      // forms, no surrogates U+D800-DFFF, nothing above U+10FFFF).
      std::size_t len = 0;
      unsigned char lo = 0x80, hi = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
      } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
      } else {
        return fail(i, "invalid UTF-8");
      }
      if (i + len > n || byte(i + 1) < lo || byte(i + 1) > hi) return fail(i, "invalid UTF-8");
      for (std::size_t k = 2; k < len; ++k)
        if ((byte(i + k) & 0xC0) != 0x80) return fail(i, "invalid UTF-8");
      i += len;
    }
  };
  const auto number = [&]() -> std::optional<JsonError> {
    const std::size_t start = i;
    if (s[i] == '-') ++i;
    if (i >= n || !detail::json_digit(s[i])) return fail(start, "malformed number");
    if (s[i] == '0') {
      ++i;
      if (i < n && detail::json_digit(s[i])) return fail(start, "number with a leading zero");
    } else {
      while (i < n && detail::json_digit(s[i])) ++i;
    }
    if (i < n && s[i] == '.') {
      ++i;
      if (i >= n || !detail::json_digit(s[i])) return fail(start, "malformed number (no digit after '.')");
      while (i < n && detail::json_digit(s[i])) ++i;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
      if (i >= n || !detail::json_digit(s[i])) return fail(start, "malformed number (no digit in the exponent)");
      while (i < n && detail::json_digit(s[i])) ++i;
    }
    return std::nullopt;
  };
  // An object member's name and its ':' (then whitespace), at i.
  const auto member_name = [&]() -> std::optional<JsonError> {
    if (i >= n || s[i] != '"') return fail(i, "expected a member name (a string)");
    if (auto e = string()) return e;
    skip_space();
    if (i >= n || s[i] != ':') return fail(i, "expected ':' after a member name");
    ++i;
    skip_space();
    return std::nullopt;
  };

  std::array<bool, json_max_depth> in_object{};  // per open container: object (true) or array
  std::size_t depth = 0;
  skip_space();
  for (;;) {
    // A value starts at i.
    if (i >= n) return fail(i, n == 0 ? "empty text" : "expected a value");
    const char c = s[i];
    if (c == '{' || c == '[') {
      if (depth == json_max_depth) return fail(i, "arrays and objects nested more than 1000 deep");
      in_object[depth++] = c == '{';
      ++i;
      skip_space();
      if (i < n && s[i] == (c == '{' ? '}' : ']')) {
        ++i;
        --depth;  // empty: a complete value
      } else {
        if (c == '{') {
          if (auto e = member_name()) return e;
        }
        continue;  // the first member's or element's value
      }
    } else if (c == '"') {
      if (auto e = string()) return e;
    } else if (c == '-' || detail::json_digit(c)) {
      if (auto e = number()) return e;
    } else if (s.substr(i, 4) == "true" || s.substr(i, 4) == "null") {
      i += 4;
    } else if (s.substr(i, 5) == "false") {
      i += 5;
    } else {
      return fail(i, "unexpected character");
    }
    // A value ended: close containers, or go on to the next member or element.
    for (;;) {
      skip_space();
      if (depth == 0) {
        if (i != n) return fail(i, "text after the JSON value");
        return std::nullopt;
      }
      const bool object = in_object[depth - 1];
      if (i >= n) return fail(i, object ? "unterminated object" : "unterminated array");
      if (s[i] == ',') {
        ++i;
        skip_space();
        if (object) {
          if (auto e = member_name()) return e;
        }
        break;
      }
      if (s[i] != (object ? '}' : ']')) return fail(i, object ? "expected ',' or '}'" : "expected ',' or ']'");
      ++i;
      --depth;
    }
  }
}

/// A JSON document's text. TEXT (with a json_valid CHECK) in SQLite, JSONB in PostgreSQL. JSONB
/// normalises whitespace and key order, so PostgreSQL returns an equivalent document, not
/// necessarily the same characters.
///
/// A default Json is the document `null` (JSON null; SQL NULL is std::optional<Json>). Text is
/// checked with json_error() whenever it is bound: text that is not a JSON document is a
/// ValueError on both databases, before anything is sent, so an open transaction stays usable.
struct Json {
  std::string text = "null";

  /// True when text is a document tenantry stores (json_error() says why not).
  bool valid() const noexcept { return !json_error(text).has_value(); }

  friend auto operator<=>(const Json&, const Json&) = default;
};

namespace detail {
/// What drivers' bind_json() call first: ValueError unless `text` is a JSON document.
inline void require_json(std::string_view text, int parameter) {
  if (const auto e = json_error(text))
    throw ValueError("tenantry: JSON bound to parameter " + std::to_string(parameter) + " is not valid: " +
                     std::string(e->reason) + " at byte " + std::to_string(e->offset) + " of " +
                     std::to_string(text.size()) + "; nothing was sent");
}
}  // namespace detail

/// Raw bytes: BLOB in SQLite, BYTEA in PostgreSQL.
using Bytes = std::vector<std::byte>;

// ---- kinds and value_traits ------------------------------------------------------------------

/// What a column holds, independent of dialect. Dialects name the SQL type, drivers encode it.
enum class Kind : std::uint8_t { integer, real, text, blob, boolean, uuid, timestamp, json };

/// Map a type of your own onto a supported one:
///
///   template <> struct tenantry::type_mapping<Money> {
///     using storage = std::int64_t;                       // any supported type
///     static std::int64_t to_storage(const Money& m) { return m.cents; }
///     static Money from_storage(std::int64_t c) { return Money{c}; }
///   };
template <class T>
struct type_mapping;

template <class T>
concept user_mapped = requires(const T& v) {
  typename type_mapping<T>::storage;
  { type_mapping<T>::to_storage(v) };
  { type_mapping<T>::from_storage(std::declval<typename type_mapping<T>::storage>()) } -> std::same_as<T>;
};

/// Names of an enum's enumerators, in value order. Found by reflection for enumerators valued
/// 0..63; specialise with `static constexpr std::array<std::pair<E, std::string_view>, N> values`
/// for enums outside that range or to store other text than the enumerator names.
namespace detail {
// Every probe's name, each evaluated once (an enum_name_impl call per probe, not three).
template <class E, int... V>
inline constexpr std::array<std::string_view, sizeof...(V)> enum_probe_names{reflect::detail::enum_name_impl<E, V>()...};

template <class E, int... V>
constexpr auto enum_reflected_values(std::integer_sequence<int, V...>) {
  constexpr auto& names = enum_probe_names<E, V...>;
  constexpr std::size_t n = [] {
    std::size_t count = 0;
    for (const auto& name : names) count += name.empty() ? 0 : 1;
    return count;
  }();
  std::array<std::pair<E, std::string_view>, n> out{};
  std::size_t k = 0;
  for (std::size_t v = 0; v < names.size(); ++v)
    if (!names[v].empty()) out[k++] = {static_cast<E>(static_cast<int>(v)), names[v]};
  return out;
}
}  // namespace detail

template <class E>
struct enum_traits {
  static constexpr auto values = detail::enum_reflected_values<E>(std::make_integer_sequence<int, reflect::enum_probe_limit>{});
  static_assert(values.size() > 0, "tenantry: enum has no enumerators in 0..63; specialise tenantry::enum_traits");
};

/// Text stored for an enumerator, or an empty view when it names none.
template <class E>
constexpr std::string_view enum_to_text(E value) noexcept {
  for (const auto& [v, name] : enum_traits<E>::values)
    if (v == value) return name;
  return {};
}

/// The enumerator stored as `text`; nullopt for text that names none.
// One comparison per enumerator, unrolled: each name is a constant, so a compiler compares the
// length and the bytes inline instead of calling memcmp per name (an enum column is read per row).
namespace detail {
template <class E, std::size_t I>
[[gnu::always_inline]] constexpr bool enum_named(std::string_view text) noexcept {
  constexpr std::string_view name = enum_traits<E>::values[I].second;
  return text.size() == name.size() && std::char_traits<char>::compare(text.data(), name.data(), name.size()) == 0;
}
template <class E, std::size_t... I>
[[gnu::always_inline]] constexpr std::optional<E> enum_find(std::string_view text, std::index_sequence<I...>) noexcept {
  std::optional<E> out;
  (void)((enum_named<E, I>(text) ? (out = enum_traits<E>::values[I].first, true) : false) || ...);
  return out;
}
}  // namespace detail

template <class E>
[[gnu::always_inline]] constexpr std::optional<E> enum_from_text(std::string_view text) noexcept {
  return detail::enum_find<E>(text, std::make_index_sequence<enum_traits<E>::values.size()>{});
}

template <class T>
struct value_traits;  // specialised below for every supported type

template <class T>
inline constexpr bool always_false = false;

template <class T>
concept storable = requires { value_traits<T>::kind; };

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

namespace detail {
template <class T>
std::int64_t checked_to_int64(T v) {
  if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw ValueError("tenantry: unsigned value " + std::to_string(v) + " does not fit a signed 64-bit column");
  }
  return static_cast<std::int64_t>(v);
}
template <class T>
T checked_from_int64(std::int64_t v) {
  if (!std::in_range<T>(v))
    throw ValueError("tenantry: stored integer " + std::to_string(v) + " does not fit the field's type (" +
                     (std::is_signed_v<T> ? "signed " : "unsigned ") + std::to_string(8 * sizeof(T)) + "-bit)");
  return static_cast<T>(v);
}

/// The result column's name for messages, when the driver's statement can say it.
template <class S>
std::string column_label(const S& s, int c) {
  if constexpr (requires { s.column_name(c); }) return "column '" + std::string(s.column_name(c)) + "'";
  else return "column " + std::to_string(c);
}
}  // namespace detail

// Every specialisation provides:
//   kind, nullable, int_bytes (integers), and
//   bind(Statement&, int index, const T&) / read(Statement&, int column, T&)
// where Statement is a driver's statement type (see driver/sqlite.hpp for the interface).
// Text and bytes are bound by pointer: the value must outlive the statement's execution, which
// holds for fields of the row being written; a temporary must go through Statement::keep().

template <>
struct value_traits<std::string> {
  static constexpr Kind kind = Kind::text;
  static constexpr bool nullable = false;
  template <class S>
  [[gnu::always_inline]] static void bind(S& s, int i, const std::string& v) { s.bind_text(i, v); }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, std::string& out) { out.assign(s.column_text(c)); }
};

template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
struct value_traits<T> {
  static constexpr Kind kind = Kind::integer;
  static constexpr bool nullable = false;
  /// Bytes PostgreSQL needs to hold every value: unsigned types take the next wider type.
  static constexpr int int_bytes = std::is_unsigned_v<T> && sizeof(T) < 8 ? int(sizeof(T)) * 2 : int(sizeof(T));
  template <class S>
  [[gnu::always_inline]] static void bind(S& s, int i, T v) { s.bind_int(i, detail::checked_to_int64(v)); }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, T& out) {
    if constexpr (std::is_same_v<T, std::int64_t>) out = s.column_int(c);
    else out = detail::checked_from_int64<T>(s.column_int(c));
  }
};

template <class T>
  requires std::is_floating_point_v<T>
struct value_traits<T> {
  static constexpr Kind kind = Kind::real;
  static constexpr bool nullable = false;
  static constexpr int real_bytes = sizeof(T) <= 4 ? 4 : 8;
  template <class S>
  static void bind(S& s, int i, T v) { s.bind_double(i, static_cast<double>(v)); }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, T& out) { out = static_cast<T>(s.column_double(c)); }
};

template <>
struct value_traits<bool> {
  static constexpr Kind kind = Kind::boolean;
  static constexpr bool nullable = false;
  template <class S>
  [[gnu::always_inline]] static void bind(S& s, int i, bool v) { s.bind_bool(i, v); }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, bool& out) { out = s.column_bool(c); }
};

template <>
struct value_traits<Uuid> {
  static constexpr Kind kind = Kind::uuid;
  static constexpr bool nullable = false;
  template <class S>
  [[gnu::always_inline]] static void bind(S& s, int i, const Uuid& v) { s.bind_uuid(i, v); }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, Uuid& out) { out = s.column_uuid(c); }
};

template <>
struct value_traits<OrgId> {
  static constexpr Kind kind = Kind::uuid;
  static constexpr bool nullable = false;
  template <class S>
  [[gnu::always_inline]] static void bind(S& s, int i, const OrgId& v) { s.bind_uuid(i, v.value); }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, OrgId& out) { out.value = s.column_uuid(c); }
};

/// Text org keys are checked whenever they are bound: an invalid one is a ValueError and nothing
/// is sent. (An empty one is refused too: org-scoped calls refuse the nil org before binding.)
template <>
struct value_traits<TextOrgId> {
  static constexpr Kind kind = Kind::text;
  static constexpr bool nullable = false;
  template <class S>
  static void bind(S& s, int i, const TextOrgId& v) {
    if (!v.valid())
      throw ValueError(TextOrgId::invalid_message(v.value, "bound to parameter " + std::to_string(i)) +
                       "; nothing was sent");
    s.bind_text(i, v.value);
  }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, TextOrgId& out) { out.value.assign(s.column_text(c)); }
};

template <>
struct value_traits<IntOrgId> {
  static constexpr Kind kind = Kind::integer;
  static constexpr bool nullable = false;
  static constexpr int int_bytes = 8;
  template <class S>
  static void bind(S& s, int i, const IntOrgId& v) { s.bind_int(i, v.value); }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, IntOrgId& out) { out.value = s.column_int(c); }
};

template <>
struct value_traits<Timestamp> {
  static constexpr Kind kind = Kind::timestamp;
  static constexpr bool nullable = false;
  template <class S>
  [[gnu::always_inline]] static void bind(S& s, int i, Timestamp v) { s.bind_timestamp(i, v); }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, Timestamp& out) { out = s.column_timestamp(c); }
};

template <>
struct value_traits<Json> {
  static constexpr Kind kind = Kind::json;
  static constexpr bool nullable = false;
  template <class S>
  static void bind(S& s, int i, const Json& v) { s.bind_json(i, v.text); }
  template <class S>
  static void read(S& s, int c, Json& out) { out.text.assign(s.column_text(c)); }
};

template <>
struct value_traits<Bytes> {
  static constexpr Kind kind = Kind::blob;
  static constexpr bool nullable = false;
  template <class S>
  static void bind(S& s, int i, const Bytes& v) { s.bind_blob(i, std::span<const std::byte>(v)); }
  template <class S>
  static void read(S& s, int c, Bytes& out) {
    const auto b = s.column_blob(c);
    out.assign(b.begin(), b.end());
  }
};

template <class E>
  requires std::is_enum_v<E>
struct value_traits<E> {
  static constexpr Kind kind = Kind::text;
  static constexpr bool nullable = false;
  static constexpr bool is_enum = true;
  static constexpr auto& values = enum_traits<E>::values;
  template <class S>
  static void bind(S& s, int i, E v) {
    const std::string_view text = enum_to_text(v);
    if (text.empty())
      throw ValueError("tenantry: enum value " + std::to_string(static_cast<long long>(v)) + " has no name to store");
    s.bind_text(i, text);
  }
  template <class S>
  [[gnu::always_inline]] static void read(S& s, int c, E& out) {
    const std::string_view text = s.column_text(c);
    if (auto v = enum_from_text<E>(text)) [[likely]] {
      out = *v;
      return;
    }
    unknown_name(s, c, text);
  }
  template <class S>
  [[noreturn, gnu::cold, gnu::noinline]] static void unknown_name(const S& s, int c, std::string_view text) {
    std::string known;
    for (const auto& [value, name] : values) known += (known.empty() ? "" : ", ") + std::string(name);
    throw ValueError("tenantry: " + detail::column_label(s, c) + " holds '" + std::string(text.substr(0, 64)) +
                     "', which names no enumerator (known: " + known + ")");
  }
};

template <class T>
struct value_traits<std::optional<T>> : value_traits<T> {
  static_assert(!is_optional<T>::value, "tenantry: std::optional<std::optional<T>> has no column mapping");
  static constexpr bool nullable = true;
  template <class S>
  static void bind(S& s, int i, const std::optional<T>& v) {
    if (v) value_traits<T>::bind(s, i, *v);
    else s.bind_null(i);
  }
  template <class S>
  static void read(S& s, int c, std::optional<T>& out) {
    if (s.column_is_null(c)) {
      out.reset();
    } else {
      if (!out) out.emplace();
      value_traits<T>::read(s, c, *out);
    }
  }
};

template <class T>
  requires user_mapped<T>
struct value_traits<T> : value_traits<typename type_mapping<T>::storage> {
  using storage = typename type_mapping<T>::storage;
  template <class S>
  static void bind(S& s, int i, const T& v) {
    // Drivers bind text and bytes by pointer, and the converted value is a temporary: hand it to
    // the statement, which keeps it until reset().
    storage tmp = type_mapping<T>::to_storage(v);
    if constexpr (std::is_same_v<storage, std::string>) {
      s.bind_text(i, s.keep(std::move(tmp)));
    } else if constexpr (std::is_same_v<storage, Json>) {
      s.bind_json(i, s.keep(std::move(tmp.text)));
    } else if constexpr (std::is_same_v<storage, Bytes>) {
      const std::string_view kept = s.keep(std::string(reinterpret_cast<const char*>(tmp.data()), tmp.size()));
      s.bind_blob(i, std::span<const std::byte>(reinterpret_cast<const std::byte*>(kept.data()), kept.size()));
    } else {
      static_assert(!is_optional<storage>::value,
                    "tenantry: a type_mapping's storage must not be optional; map std::optional<T> instead");
      value_traits<storage>::bind(s, i, tmp);
    }
  }
  template <class S>
  static void read(S& s, int c, T& out) {
    storage tmp{};
    value_traits<storage>::read(s, c, tmp);
    out = type_mapping<T>::from_storage(std::move(tmp));
  }
};

/// Binds any storable value, with a readable error for types that have no mapping.
template <class S, class T>
[[gnu::always_inline]] inline void bind_value(S& s, int index, const T& v) {
  static_assert(storable<T>,
                "tenantry: this field type has no column mapping; use a supported type or "
                "specialise tenantry::type_mapping<T>");
  value_traits<T>::bind(s, index, v);
}

namespace detail {
/// How read_value finds a NULL in a column whose field cannot hold one, without asking the
/// driver about every cell first (that question was most of the per-field decoding cost):
///   refused: the driver's typed read of T already fails on NULL (integers, reals, booleans,
///            UUIDs, timestamps; an enum's text names no enumerator), so only a failed read asks;
///   empty:   the driver reads NULL as empty (text, JSON, bytes), so only an empty value asks;
///   before:  anything else (user mappings) asks before reading, as every field once did.
enum class NullCheck { refused, empty, before };
template <class T>
constexpr NullCheck null_check() {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, Json> || std::is_same_v<T, Bytes>) {
    return NullCheck::empty;
  } else if constexpr (user_mapped<T>) {
    return NullCheck::before;
  } else if constexpr (std::is_enum_v<T>) {
    // NULL reads as empty text, which names no enumerator unless one is stored as ''.
    for (const auto& [v, name] : enum_traits<T>::values)
      if (name.empty()) return NullCheck::before;
    return NullCheck::refused;
  } else if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, Uuid> || std::is_same_v<T, OrgId> ||
                       std::is_same_v<T, Timestamp>) {
    return NullCheck::refused;
  } else {
    return NullCheck::before;
  }
}
template <class T>
bool read_as_empty(const T& v) {
  if constexpr (std::is_same_v<T, Json>) return v.text.empty();
  else return v.empty();
}
template <class S>
[[noreturn, gnu::cold, gnu::noinline]] void null_in_required_field(const S& s, int column) {
  throw ValueError("tenantry: " + column_label(s, column) + " is NULL, read into a field that is not std::optional");
}
/// Called from read_value's handler of a decoding ValueError: says NULL when the cell was (for
/// the fields whose reads refuse NULL), else rethrows the error with the column named. Out of
/// line, so the happy path of every field read stays small enough to inline.
template <class S>
[[noreturn, gnu::cold, gnu::noinline]] void rethrow_read_error(const S& s, int column, bool null_refused) {
  if (null_refused && s.column_is_null(column)) null_in_required_field(s, column);
  try {
    throw;
  } catch (const ValueError& e) {
    // Decoders deep down (Uuid::parse, integer narrowing, ...) do not know the column; every
    // decoding error leaves here naming it, unless the driver's message did already.
    const std::string_view what = e.what();
    if (what.find("column ") != std::string_view::npos) throw;
    std::string_view rest = what;
    if (rest.starts_with("tenantry: ")) rest.remove_prefix(10);
    throw ValueError("tenantry: " + column_label(s, column) + ": " + std::string(rest));
  }
}
}  // namespace detail

template <class S, class T>
[[gnu::always_inline]] inline void read_value(S& s, int column, T& out) {
  static_assert(storable<T>,
                "tenantry: this field type has no column mapping; use a supported type or "
                "specialise tenantry::type_mapping<T>");
  constexpr bool required = !value_traits<T>::nullable;
  constexpr detail::NullCheck check = required ? detail::null_check<T>() : detail::NullCheck::refused;
  if constexpr (required && check == detail::NullCheck::before) {
    if (s.column_is_null(column)) detail::null_in_required_field(s, column);
  }
  try {
    value_traits<T>::read(s, column, out);
  } catch (const ValueError&) {
    detail::rethrow_read_error(s, column, required && check == detail::NullCheck::refused);
  }
  if constexpr (required && check == detail::NullCheck::empty) {
    if (detail::read_as_empty(out) && s.column_is_null(column)) detail::null_in_required_field(s, column);
  }
}

}  // namespace tenantry
