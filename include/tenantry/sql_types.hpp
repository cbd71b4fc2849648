// tenantry/sql_types.hpp - column types of existing schemas: VARCHAR(n) and NUMERIC(p,s).
//
//   struct Product {
//     std::int64_t id;
//     tenantry::Varchar<64> name;        // VARCHAR(64); SQLite: also CHECK (length("name") <= 64)
//     tenantry::Decimal<10, 2> price;    // NUMERIC(10,2), exact: 12.34 is 1234 hundredths
//   };
//   template <> struct tenantry::entity<Product> {
//     static constexpr std::string_view table = "products";
//     static constexpr auto scope = tenantry::global;
//     static constexpr auto primary_key = key(&Product::id);
//     static constexpr auto columns = std::tuple{column(&Product::id).serial()};
//   };
//   Product p{0, "Widget", tenantry::Decimal<10, 2>::parse("12.34")};
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
// Decimal<P, S> is a NUMERIC(P,S) value held exactly, as an integer count of 10^-S units. It is
// sent as decimal text (the server parses it; SQLite's NUMERIC affinity stores it as an INTEGER
// or REAL) and read back through a double, rounded to S decimals: exact because P is at most
// 15, the significant digits a double (and SQLite's NUMERIC affinity) keep. A value with more
// than P - S integer digits is refused when it is bound (ValueError, nothing sent), as
// PostgreSQL would refuse it (22003); parse() refuses text with more than S decimals instead of
// rounding it.
#pragma once

#include "tenantry/error.hpp"
#include "tenantry/types.hpp"

#include <charconv>
#include <cmath>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
constexpr std::int64_t pow10(int n) noexcept {
  std::int64_t r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}
}  // namespace detail

/// An exact NUMERIC(P,S) value: `units` of 10^-S (see the header comment).
template <int P, int S>
struct Decimal {
  static_assert(P >= 1 && P <= 15,
                "tenantry: Decimal<P, S> holds at most 15 digits (P <= 15), the digits a double and SQLite's NUMERIC "
                "affinity keep exactly");
  static_assert(S >= 0 && S <= P, "tenantry: Decimal<P, S> needs 0 <= S <= P");
  static constexpr int precision = P, scale = S;
  static constexpr std::int64_t unit = detail::pow10(S);   ///< units per 1
  static constexpr std::int64_t limit = detail::pow10(P);  ///< |units| < limit

  std::int64_t units = 0;

  static constexpr Decimal from_units(std::int64_t u) noexcept { return Decimal{u}; }

  /// True when the value fits NUMERIC(P,S): at most P - S digits before the point.
  constexpr bool fits() const noexcept { return units > -limit && units < limit; }

  /// "-123.45", "0.5", "7": an optional sign, digits, an optional point and at most S
  /// decimals. nullopt for anything else, for more decimals than S (never rounded) and for a
  /// value that does not fit.
  static constexpr std::optional<Decimal> try_parse(std::string_view t) noexcept {
    bool negative = false;
    std::size_t i = 0;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) negative = t[i++] == '-';
    std::int64_t u = 0;
    int digits = 0, decimals = 0;
    bool point = false;
    for (; i < t.size(); ++i) {
      const char c = t[i];
      if (c == '.' && !point) {
        point = true;
        continue;
      }
      if (c < '0' || c > '9') return std::nullopt;
      if (point && ++decimals > S) return std::nullopt;
      if (u >= limit) return std::nullopt;
      u = u * 10 + (c - '0');
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    for (; decimals < S; ++decimals) u *= 10;
    if (u >= limit) return std::nullopt;
    return Decimal{negative ? -u : u};
  }
  static Decimal parse(std::string_view t) {
    if (auto d = try_parse(t)) return *d;
    throw ValueError("tenantry: not a NUMERIC(" + std::to_string(P) + "," + std::to_string(S) + ") value: '" +
                     std::string(t.substr(0, 64)) + "'");
  }

  /// The value with exactly S decimals ("12.30"), as PostgreSQL prints a NUMERIC(P,S).
  std::string to_string() const {
    const std::uint64_t a = units < 0 ? 0 - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
    std::string digits = std::to_string(a);
    if (digits.size() <= static_cast<std::size_t>(S))
      digits.insert(0, static_cast<std::size_t>(S) + 1 - digits.size(), '0');
    if (S > 0) digits.insert(digits.size() - static_cast<std::size_t>(S), 1, '.');
    return (units < 0 ? "-" : "") + digits;
  }

  friend constexpr auto operator<=>(const Decimal&, const Decimal&) = default;
};

template <int P, int S>
struct value_traits<Decimal<P, S>> {
  static constexpr Kind kind = Kind::real;
  static constexpr bool nullable = false;
  static std::string sql_type() { return "NUMERIC(" + std::to_string(P) + "," + std::to_string(S) + ")"; }
  template <class St>
  static void bind(St& s, int i, const Decimal<P, S>& v) {
    if (!v.fits())
      throw ValueError("tenantry: " + v.to_string() + " bound to parameter " + std::to_string(i) +
                       " does not fit NUMERIC(" + std::to_string(P) + "," + std::to_string(S) + "); nothing was sent");
    s.bind_text(i, s.keep(v.to_string()));
  }
  template <class St>
  static void read(St& s, int c, Decimal<P, S>& out) {
    // At most 15 significant digits: the double is within half a unit of the stored value.
    const double d = s.column_double(c) * static_cast<double>(Decimal<P, S>::unit);
    if (!(std::fabs(d) < static_cast<double>(Decimal<P, S>::limit)))
      throw ValueError("tenantry: stored number does not fit NUMERIC(" + std::to_string(P) + "," + std::to_string(S) +
                       ")");
    out.units = std::llround(d);
  }
};

}  // namespace tenantry
