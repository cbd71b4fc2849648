// benchmarks/bench_model.hpp - the row every benchmark reads and writes, and its data set.
//
// The shape is the reference app's api_tokens (examples/app/entities.hpp): ten columns of text,
// UUIDs and timestamps, UNIQUE (org_id, token_prefix) for bearer-token lookup and an index on
// (org_id, user_id) for a user's tokens page. It is declared here rather than taken from the app
// so the benchmarks do not depend on the app's other tables: in particular it has no foreign key
// to organizations, so an insert measures the row and its indexes, not a parent lookup.
//
// Both the tenantry side and the raw C-API side create the table from tenantry's own DDL
// (tenantry::create_statements), and the raw side runs the SQL text of tenantry's statement
// builders (statements.hpp), so the two run exactly the same statements on the same schema.
//
// The data set is deterministic: 100 orgs x 100 rows, ids time-ordered (UUIDv7-like, as the app's
// stamp_new makes them), every row of an org belonging to one user so that "list one user's
// tokens" returns 100 of the 10,000 rows through the (org_id, user_id) index.
#pragma once

#include <tenantry/entity.hpp>
#include <tenantry/schema.hpp>
#include <tenantry/types.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace bench {

using tenantry::OrgId;
using tenantry::Timestamp;
using tenantry::Uuid;

enum class TokenStatus { active, inactive };

/// The api_tokens row: ten columns, as in the reference app.
struct Token {
  Uuid id{};
  OrgId org_id{};
  std::string user_id{};
  std::string name{};
  std::string token_prefix{};
  std::string token_hash{};
  std::string scopes{};
  TokenStatus status = TokenStatus::active;
  Timestamp created_at{};
  Timestamp updated_at{};

  friend bool operator==(const Token&, const Token&) = default;
};

/// The owner of a token (a user of the org), for the query benchmarks: tokens joined to their
/// owner by (org_id, user_id) = (org_id, id).
struct Owner {
  std::string id{};
  OrgId org_id{};
  std::string email{};
  std::string display_name{};

  friend bool operator==(const Owner&, const Owner&) = default;
};

/// A row of the join benchmark: five columns of a token and its owner's e-mail.
struct TokenWithOwner {
  Uuid id{};
  std::string name{};
  TokenStatus status = TokenStatus::active;
  Timestamp created_at{};
  std::string email{};

  friend bool operator==(const TokenWithOwner&, const TokenWithOwner&) = default;
};

/// A row of the grouped count: tokens per status.
struct StatusCount {
  TokenStatus status = TokenStatus::active;
  std::int64_t n = 0;

  friend bool operator==(const StatusCount&, const StatusCount&) = default;
};

}  // namespace bench

template <>
struct tenantry::entity<bench::Token> {
  using T = bench::Token;
  static constexpr std::string_view table = "api_tokens";
  static constexpr auto primary_key = key(&T::id);
  static constexpr auto columns = std::tuple{column(&T::status).default_value(bench::TokenStatus::active)};
  static constexpr auto constraints = std::tuple{unique(&T::org_id, &T::token_prefix),  // bearer-token lookup
                                                 index(&T::org_id, &T::user_id)};       // a user's tokens page
};

template <>
struct tenantry::entity<bench::Owner> {
  using T = bench::Owner;
  static constexpr std::string_view table = "bench_users";
  // The org leads the key: a user id is unique only within its org (entity.hpp's rule against
  // natural keys that would tell one org what another holds).
  static constexpr auto primary_key = key(&T::org_id, &T::id);
};

namespace bench {

inline constexpr std::size_t org_count = 100;
inline constexpr std::size_t rows_per_org = 100;

/// Field index of a member, for SQL builders that take column indexes.
template <class M>
std::size_t field_index(M Token::*member) {
  return tenantry::reflect::runtime_index_of(member);
}

namespace detail {
constexpr std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace detail

/// A deterministic random (version 4) UUID.
inline Uuid uuid_v4(std::uint64_t seed) {
  Uuid u;
  const std::uint64_t a = detail::splitmix(seed * 2 + 1), b = detail::splitmix(seed * 2 + 2);
  for (std::size_t i = 0; i < 8; ++i) {
    u.bytes[i] = static_cast<std::uint8_t>(a >> (8 * i));
    u.bytes[8 + i] = static_cast<std::uint8_t>(b >> (8 * i));
  }
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x40);
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3F) | 0x80);
  return u;
}

/// A deterministic time-ordered (version 7) UUID: sequence number as the millisecond part.
inline Uuid uuid_v7(std::uint64_t seq) {
  Uuid u = uuid_v4(seq ^ 0x5555'0000'0000'0000ull);
  const std::uint64_t ms = 1'714'000'000'000ull + seq;
  for (std::size_t i = 0; i < 6; ++i) u.bytes[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x70);
  return u;
}

inline OrgId org_of(std::size_t k) { return OrgId{uuid_v4(1'000'000 + k)}; }

inline std::string user_of(std::size_t k) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "user-%04zu", k);
  return buf;
}

inline constexpr std::int64_t base_micros = 1'714'000'000LL * 1'000'000;  // 2024-04-24

/// Writes the fields that make row number `seq` unique (id, prefix, timestamps) into `t`
/// without allocating when `t` already holds a row: the per-iteration cost of a fresh row in
/// the insert benchmarks, identical for both sides.
inline void stamp(Token& t, std::uint64_t seq) {
  static constexpr char hex[] = "0123456789abcdef";
  t.id = uuid_v7(seq);
  t.token_prefix.resize(15);  // "bt_" and 12 hex digits: fits the small-string buffer
  t.token_prefix[0] = 'b';
  t.token_prefix[1] = 't';
  t.token_prefix[2] = '_';
  for (int i = 0; i < 12; ++i) t.token_prefix[static_cast<std::size_t>(3 + i)] = hex[(seq >> (4 * (11 - i))) & 0xF];
  t.created_at = Timestamp{base_micros + static_cast<std::int64_t>(seq) * 1'000'003};
  t.updated_at = t.created_at;
}

/// Row number `seq` of org `org`, owned by `user`.
inline Token make_token(OrgId org, const std::string& user, std::uint64_t seq) {
  static constexpr char hex[] = "0123456789abcdef";
  Token t;
  t.org_id = org;
  t.user_id = user;
  char name[40];
  std::snprintf(name, sizeof name, "token %06llu for ci deploys", static_cast<unsigned long long>(seq));
  t.name = name;
  t.token_hash.resize(64);  // a SHA-256 digest in hex
  for (std::size_t i = 0; i < 64; i += 16) {
    const std::uint64_t h = detail::splitmix(seq * 4 + i);
    for (std::size_t j = 0; j < 16; ++j) t.token_hash[i + j] = hex[(h >> (4 * j)) & 0xF];
  }
  t.scopes = "scope_token_user scope_token_power_user";
  // One row in ten of every org is inactive (rows of an org are every org_count-th sequence number).
  t.status = (seq / org_count) % 10 == 9 ? TokenStatus::inactive : TokenStatus::active;
  stamp(t, seq);
  return t;
}

/// A (org, row) pair to look up.
struct Key {
  OrgId org;
  Uuid id;
};

inline Owner owner_of(std::size_t k, OrgId org) {
  const std::string id = user_of(k);
  return Owner{id, org, id + "@example.com", "User " + std::to_string(k)};
}

/// 100 orgs x 100 rows, plus a scratch org the write benchmarks insert into and clean up.
struct Dataset {
  std::vector<OrgId> orgs;
  std::vector<std::string> users;  // the one user of each org
  std::vector<Owner> owners;       // the one user of each org, as a row of bench_users
  std::vector<Token> rows;         // org-major: rows[k * rows_per_org + j]
  std::vector<std::size_t> order;  // every row's index, in a fixed shuffled order
  std::vector<Key> keys;           // the rows' keys in that order
  OrgId scratch = org_of(9999);
  std::string scratch_user = "user-scratch";

  Dataset() {
    std::uint64_t seq = 0;
    for (std::size_t k = 0; k < org_count; ++k) {
      orgs.push_back(org_of(k));
      users.push_back(user_of(k));
      owners.push_back(owner_of(k, orgs[k]));
    }
    // Rows are created in time order across orgs (interleaved), as they would arrive.
    rows.resize(org_count * rows_per_org);
    for (std::size_t j = 0; j < rows_per_org; ++j)
      for (std::size_t k = 0; k < org_count; ++k) rows[k * rows_per_org + j] = make_token(orgs[k], users[k], seq++);
    // Fisher-Yates with a fixed generator: the same lookup order on both sides and every run.
    for (std::size_t i = 0; i < rows.size(); ++i) order.push_back(i);
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[detail::splitmix(i) % (i + 1)]);
    for (std::size_t i : order) keys.push_back({rows[i].org_id, rows[i].id});
  }

  /// The first sequence number no preloaded row uses.
  static constexpr std::uint64_t first_free_seq = org_count * rows_per_org;

  static const Dataset& get() {
    static const Dataset d;
    return d;
  }
};

/// Sequence numbers for rows the benchmarks insert: never reused within a process, so keys never
/// collide even when a cleanup is skipped.
inline std::uint64_t next_seq(std::uint64_t count = 1) {
  static std::uint64_t seq = std::uint64_t{1} << 32;
  const std::uint64_t s = seq;
  seq += count;
  return s;
}

/// `n` fresh rows of the scratch org.
inline std::vector<Token> scratch_rows(std::size_t n) {
  const Dataset& d = Dataset::get();
  std::vector<Token> out;
  out.reserve(n);
  const std::uint64_t first = next_seq(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(make_token(d.scratch, d.scratch_user, first + i));
  return out;
}

}  // namespace bench
