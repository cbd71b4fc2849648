// tenantry/sql_types.hpp - column types of existing schemas: VARCHAR(n) and NUMERIC(p,s).
//
//   struct Product {
//     std::int64_t id;
//     tenantry::Varchar<64> name;        // VARCHAR(64); SQLite: also CHECK (length("name") <= 64)
//     tenantry::Decimal<10, 2> price;    // NUMERIC(10,2), exact: 12.34 is 1234 hundredths
//     tenantry::Decimal<38, 6> total;    // NUMERIC(38,6): 128-bit units, exact on both databases
//   };
//   template <> struct tenantry::entity<Product> {
//     static constexpr std::string_view table = "products";
//     static constexpr auto scope = tenantry::global;
//     static constexpr auto primary_key = key(&Product::id);
//     static constexpr auto columns = std::tuple{column(&Product::id).serial()};
//   };
//   Product p{0, "Widget", tenantry::Decimal<10, 2>::parse("12.34"), tenantry::Decimal<38, 6>::parse("1.5")};
//
// Both are for adopting a database whose tables already use these types (docs/migrations.md,
// "Adopting an existing database"): declared with them, its tables diff empty against the live
// schema. New tables are better off with std::string (TEXT) and an integer of cents.
//
// Varchar<N> is text of at most N characters (Unicode code points, as PostgreSQL and SQLite's
// length() count them). The column is VARCHAR(N) on both databases; SQLite ignores the N, so
// there the limit is a CHECK (length(col) <= N), named ck_<table>_<column>_length. Longer text
// is refused when it is bound, with a ValueError and nothing sent, on both databases; text
// written by other SQL is refused by the database itself (PostgreSQL 22001, SQLite the CHECK).
//
// Decimal<P, S> is a NUMERIC(P,S) value held exactly, for P up to 38, as an integer count of
// 10^-S units (`rep`: 64 bits up to 18 digits, 128 bits beyond). Nothing goes through a double:
//   PostgreSQL: sent as decimal text, which the server parses as the numeric; read from the
//     numeric's binary form, digit by digit.
//   SQLite has no exact decimal type: NUMERIC affinity stores a number as an INTEGER or a REAL and
//     keeps 15 significant digits. Up to P = 15 the value is sent as decimal text and stored as a
//     number (SQL in the database compares, sums and checks it as one), and read back as the 15
//     significant digits SQLite keeps: exactly the value written. For P > 15 it is stored as a
//     16-byte BLOB, the units as a big-endian 128-bit integer with the sign bit flipped, so that
//     SQLite's (memcmp) order of BLOBs is the numbers' order: =, <, ORDER BY, MIN/MAX, UNIQUE and
//     indexes compare such values exactly, among themselves and with the Decimals tenantry binds.
//     SQL in the database does not see a number there (a CHECK (x >= 0), sum(), a comparison with
//     a number literal; a BLOB sorts after every number): declare such columns Decimal<P, S> in
//     every program that writes them. Numbers written by other SQL are still read (exactly, or
//     refused).
// A value that does not fit is refused, never rounded or cut: bound with more than P - S integer
// digits, a ValueError and nothing sent (PostgreSQL would refuse it too, 22003); read with more
// decimals than S (SQLite does not enforce the scale: 7.555 written by other SQL into a
// NUMERIC(12,2)) or more integer digits than P - S, a ValueError naming the column; parse() of
// text with more non-zero decimals than S, nullopt from try_parse().
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/types.hpp"

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tenantry {

// ---- Varchar<N> ---------------------------------------------------------------------------------

namespace detail {
/// Unicode code points in UTF-8 text: the bytes that do not continue a sequence.
constexpr std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}
}  // namespace detail

/// Text of at most N characters: VARCHAR(N) (see the header comment).
template <std::size_t N>
struct Varchar {
  static_assert(N > 0 && N <= 10485760, "tenantry: Varchar<N> needs 1 <= N <= 10485760 (PostgreSQL's limit)");
  static constexpr std::size_t max_length = N;

  std::string value;

  Varchar() = default;
  Varchar(std::string v) : value(std::move(v)) {}  // NOLINT: implicit, like the text it holds
  Varchar(const char* v) : value(v) {}             // NOLINT
  Varchar(std::string_view v) : value(v) {}        // NOLINT

  /// Characters (code points), as the databases count them.
  std::size_t length() const noexcept { return detail::utf8_length(value); }
  bool fits() const noexcept { return length() <= N; }
  operator std::string_view() const noexcept { return value; }  // NOLINT

  friend auto operator<=>(const Varchar&, const Varchar&) = default;
  friend bool operator==(const Varchar&, const Varchar&) = default;
};

template <std::size_t N>
struct value_traits<Varchar<N>> {
  static constexpr Kind kind = Kind::text;
  static constexpr bool nullable = false;
  static constexpr int max_length = static_cast<int>(N);
  static std::string sql_type() { return "VARCHAR(" + std::to_string(N) + ")"; }
  template <class S>
  static void bind(S& s, int i, const Varchar<N>& v) {
    if (!v.fits())
      throw ValueError("tenantry: text of " + std::to_string(v.length()) + " characters bound to parameter " +
                       std::to_string(i) + " does not fit VARCHAR(" + std::to_string(N) + "); nothing was sent");
    s.bind_text(i, v.value);
  }
  template <class S>
  static void read(S& s, int c, Varchar<N>& out) {
    out.value.assign(s.column_text(c));
  }
};

// ---- Decimal<P, S> ------------------------------------------------------------------------------

namespace detail {
__extension__ using int128 = __int128;            // NOLINT: GCC and Clang's 128-bit integer
__extension__ using uint128 = unsigned __int128;  // NOLINT

template <class R>
constexpr R pow10(int n) noexcept {
  R r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

/// Why decimal text is not a NUMERIC(p,s) value.
enum class DecimalFault { none, malformed, decimals, digits };

/// Parses decimal text into units of 10^-s of a NUMERIC(p,s) (p <= 38): an optional sign, digits
/// with an optional point and, when `exponent`, an optional e[+-]digits. Exact or refused: more
/// non-zero decimals than s is DecimalFault::decimals (never rounded), more than p - s integer
/// digits is DecimalFault::digits.
constexpr DecimalFault parse_decimal(std::string_view t, int p, int s, bool exponent, int128& out) noexcept {
  std::size_t i = 0;
  bool negative = false;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) negative = t[i++] == '-';
  const uint128 bound = pow10<uint128>(38);
  uint128 m = 0;   // the digits up to the last non-zero one
  long zeros = 0;  // zeros after them, not yet in m
  long power = 0;  // value = m * 10^(zeros + power)
  bool digits = false, point = false, overflow = false;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    digits = true;
    if (point) --power;
    if (c == '0') {
      ++zeros;
      continue;
    }
    if (m != 0) {
      for (long z = 0; z <= zeros && !overflow; ++z) {
        overflow = m > (bound - 1) / 10;
        if (!overflow) m *= 10;
      }
    }
    if (overflow) break;
    zeros = 0;
    m += static_cast<unsigned>(c - '0');
  }
  if (!digits) return DecimalFault::malformed;
  if (overflow) return DecimalFault::digits;  // more than 38 significant digits
  if (exponent && i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool minus = false;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) minus = t[i++] == '-';
    long e = 0;
    const std::size_t first = i;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i)
      if (e < 100000) e = e * 10 + (t[i] - '0');
    if (i == first) return DecimalFault::malformed;
    power += minus ? -e : e;
  }
  if (i != t.size()) return DecimalFault::malformed;
  if (m == 0) {
    out = 0;
    return DecimalFault::none;
  }
  const long shift = zeros + power + s;  // units = m * 10^shift
  if (shift < 0) return DecimalFault::decimals;
  const uint128 limit = pow10<uint128>(p);
  for (long k = 0; k < shift; ++k) {
    if (m >= limit / 10) return DecimalFault::digits;  // m * 10 would not fit (nor overflow)
    m *= 10;
  }
  if (m >= limit) return DecimalFault::digits;
  out = negative ? -static_cast<int128>(m) : static_cast<int128>(m);
  return DecimalFault::none;
}

/// units of 10^-s as text with exactly s decimals ("-12.30").
inline std::string decimal_text(int128 units, int s) {
  uint128 a = units < 0 ? uint128{0} - static_cast<uint128>(units) : static_cast<uint128>(units);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(a % 10)));
    a /= 10;
  } while (a != 0);
  if (digits.size() <= static_cast<std::size_t>(s))
    digits.insert(0, static_cast<std::size_t>(s) + 1 - digits.size(), '0');
  if (s > 0) digits.insert(digits.size() - static_cast<std::size_t>(s), 1, '.');
  return (units < 0 ? "-" : "") + digits;
}
}  // namespace detail

/// An exact NUMERIC(P,S) value, P <= 38: `units` of 10^-S (see the header comment).
template <int P, int S>
struct Decimal {
  static_assert(P >= 1 && P <= 38,
                "tenantry: Decimal<P, S> holds at most 38 digits (P <= 38), the digits a 128-bit integer keeps");
  static_assert(S >= 0 && S <= P, "tenantry: Decimal<P, S> needs 0 <= S <= P");
  static constexpr int precision = P, scale = S;
  /// The integer that holds the units: 64 bits up to 18 digits, 128 bits beyond.
  using rep = std::conditional_t<(P <= 18), std::int64_t, detail::int128>;
  static constexpr rep unit = detail::pow10<rep>(S);   ///< units per 1
  static constexpr rep limit = detail::pow10<rep>(P);  ///< |units| < limit

  rep units = 0;

  static constexpr Decimal from_units(rep u) noexcept { return Decimal{u}; }

  /// True when the value fits NUMERIC(P,S): at most P - S digits before the point.
  constexpr bool fits() const noexcept { return units > -limit && units < limit; }

  /// "-123.45", "0.5", "7": an optional sign, digits, an optional point and decimals. nullopt
  /// for anything else (an exponent too), for more non-zero decimals than S (never rounded) and
  /// for a value that does not fit.
  static constexpr std::optional<Decimal> try_parse(std::string_view t) noexcept {
    detail::int128 u = 0;
    if (detail::parse_decimal(t, P, S, false, u) != detail::DecimalFault::none) return std::nullopt;
    return Decimal{static_cast<rep>(u)};
  }
  static Decimal parse(std::string_view t) {
    if (auto d = try_parse(t)) return *d;
    throw ValueError("tenantry: not a NUMERIC(" + std::to_string(P) + "," + std::to_string(S) + ") value: '" +
                     std::string(t.substr(0, 64)) + "'");
  }

  /// The value with exactly S decimals ("12.30"), as PostgreSQL prints a NUMERIC(P,S).
  std::string to_string() const { return detail::decimal_text(units, S); }

  friend constexpr bool operator==(const Decimal& a, const Decimal& b) noexcept { return a.units == b.units; }
  friend constexpr std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) noexcept {
    return a.units < b.units ? std::strong_ordering::less
                             : (b.units < a.units ? std::strong_ordering::greater : std::strong_ordering::equal);
  }
};

namespace detail {
/// The 16 bytes a Decimal of more than 15 digits is stored as on SQLite: its units as a 128-bit
/// big-endian two's complement integer with the sign bit flipped, so that SQLite's memcmp order
/// of BLOBs is the numbers' order.
inline std::array<std::byte, 16> decimal_blob(int128 units) noexcept {
  uint128 u = static_cast<uint128>(units) ^ (uint128{1} << 127);
  std::array<std::byte, 16> b{};
  for (int i = 15; i >= 0; --i, u >>= 8) b[static_cast<std::size_t>(i)] = static_cast<std::byte>(u & 0xFF);
  return b;
}
inline std::optional<int128> decimal_from_blob(std::span<const std::byte> b) noexcept {
  if (b.size() != 16) return std::nullopt;
  uint128 u = 0;
  for (const std::byte x : b) u = (u << 8) | static_cast<unsigned>(x);
  return static_cast<int128>(u ^ (uint128{1} << 127));
}
}  // namespace detail

template <int P, int S>
struct value_traits<Decimal<P, S>> {
  static constexpr Kind kind = Kind::real;
  static constexpr bool nullable = false;
  static std::string sql_type() { return "NUMERIC(" + std::to_string(P) + "," + std::to_string(S) + ")"; }
  template <class St>
  static void bind(St& s, int i, const Decimal<P, S>& v) {
    if (!v.fits())
      throw ValueError("tenantry: " + v.to_string() + " bound to parameter " + std::to_string(i) + " does not fit " +
                       sql_type() + "; nothing was sent");
    if constexpr (P > 15) {
      static_assert(
          requires { St::is_postgres; },
          "tenantry: a Decimal<P, S> of more than 15 digits binds through a statement that says its "
          "dialect (static constexpr bool is_postgres)");
      if constexpr (!St::is_postgres) {
        // SQLite's NUMERIC affinity keeps 15 digits of a number: more are stored as a BLOB.
        const auto b = detail::decimal_blob(v.units);
        const std::string_view kept = s.keep(std::string(reinterpret_cast<const char*>(b.data()), b.size()));
        s.bind_blob(i, std::span<const std::byte>(reinterpret_cast<const std::byte*>(kept.data()), kept.size()));
        return;
      }
    }
    s.bind_text(i, s.keep(v.to_string()));
  }
  template <class St>
  static void read(St& s, int c, Decimal<P, S>& out) {
    detail::int128 u = 0;
    if constexpr (requires { s.column_is_blob(c); }) {
      if (s.column_is_blob(c)) {
        const auto b = detail::decimal_from_blob(s.column_blob(c));
        if (!b) throw ValueError("tenantry: " + detail::column_label(s, c) + " holds a BLOB that is not a decimal");
        u = *b;
        if (!(u > -detail::int128{Decimal<P, S>::limit} && u < detail::int128{Decimal<P, S>::limit}))
          throw ValueError("tenantry: " + detail::column_label(s, c) + " holds " + detail::decimal_text(u, S) +
                           ", which does not fit " + sql_type());
        out.units = static_cast<typename Decimal<P, S>::rep>(u);
        return;
      }
    }
    const std::string_view text = s.column_number_text(c);
    switch (detail::parse_decimal(text, P, S, true, u)) {
      case detail::DecimalFault::none: out.units = static_cast<typename Decimal<P, S>::rep>(u); return;
      case detail::DecimalFault::decimals:
        throw ValueError("tenantry: " + detail::column_label(s, c) + " holds " + std::string(text.substr(0, 64)) +
                         ", which has more decimals than " + sql_type() + " keeps (not rounded)");
      case detail::DecimalFault::digits:
        throw ValueError("tenantry: " + detail::column_label(s, c) + " holds " + std::string(text.substr(0, 64)) +
                         ", which does not fit " + sql_type());
      case detail::DecimalFault::malformed: break;
    }
    throw ValueError("tenantry: " + detail::column_label(s, c) + " holds '" + std::string(text.substr(0, 64)) +
                     "', which is not a number");
  }
};

}  // namespace tenantry
