// tenantry/driver/sqlite_foreign_keys.hpp - which foreign key a failed SQLite statement broke.
//
// SQLite reports every foreign key violation as "FOREIGN KEY constraint failed", naming neither
// the constraint nor the table, where PostgreSQL names both. The driver (driver/sqlite.hpp)
// calls foreign_key_violation() on that error path only, so the statements that succeed pay
// nothing; named triggers would have checked every insert a second time (measured: +36% on an
// insert into a table with one foreign key).
//
// What it does, with the failed statement still holding its parameters:
//   1. reads the statement's verb and target table from its text (INSERT [OR ...] INTO t,
//      REPLACE INTO t, UPDATE [OR ...] t, DELETE FROM t; anything else, e.g. a WITH prefix, is
//      left unnamed);
//   2. child side (INSERT, UPDATE): for each foreign key of t (PRAGMA foreign_key_list), asks
//      whether a row the statement would write has all its key columns set and no parent:
//        WITH n("c1", ...) AS (VALUES (?1, ...)) SELECT EXISTS (SELECT 1 FROM n WHERE ...)
//        SELECT EXISTS (SELECT 1 FROM (SELECT <SET expressions>, "t"."c" ... FROM "t" WHERE ...) ...)
//   3. parent side (DELETE, or an UPDATE of referenced columns): for each RESTRICT / NO ACTION
//      key of another table referencing t, whether a child row references a row the statement
//      would delete or change:
//        SELECT EXISTS (SELECT 1 FROM "child" WHERE ("c") IN (SELECT "id" FROM "t" WHERE ...))
//   4. names the first key found from the constraint names in the child's CREATE TABLE text
//      (sqlite_schema), where a composite tenant-safe key is preferred over the single-column
//      key that carries an ON DELETE SET NULL next to it (ddl.hpp).
// Each probe is a read-only SELECT built from the failed statement's own text, so it takes the
// same parameters: they are moved to the probe with sqlite3_transfer_bindings and moved back
// after it, never spliced into SQL text. A probe that does not prepare, that is not read-only,
// or that would not take exactly the statement's parameters is skipped; nothing here throws,
// and at worst the constraint stays unnamed. Violations found only through a cascade into a
// third table are not traced.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenantry::sqlite::fk_detail {

struct Token {
  enum Kind { word, identifier, string, punct } kind;
  std::string text;    // unquoted for identifiers
  std::size_t begin;   // offset in the statement text
  std::size_t end;
};

/// SQL tokens: words (keywords, bare names, numbers, parameters), quoted identifiers ("x", `x`,
/// [x]) unquoted, string and blob literals, and single punctuation characters. Comments and
/// whitespace are skipped. Good enough to find clause boundaries, not a full SQL parser.
inline std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  const auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' || c == '?' || c == ':' ||
           c == '@' || static_cast<unsigned char>(c) >= 0x80;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const std::size_t e = s.find("*/", i + 2);
      i = e == std::string_view::npos ? s.size() : e + 2;
    } else if (c == '"' || c == '`' || c == '[' || c == '\'') {
      const char close = c == '[' ? ']' : c;
      std::string text;
      std::size_t j = i + 1;
      for (; j < s.size(); ++j) {
        if (s[j] == close) {
          if (close != ']' && j + 1 < s.size() && s[j + 1] == close) {
            text += close;
            ++j;
            continue;
          }
          break;
        }
        text += s[j];
      }
      const std::size_t end = j < s.size() ? j + 1 : s.size();
      out.push_back({c == '\'' ? Token::string : Token::identifier, std::move(text), i, end});
      i = end;
    } else if ((c == 'x' || c == 'X') && i + 1 < s.size() && s[i + 1] == '\'') {
      const std::size_t e = s.find('\'', i + 2);
      const std::size_t end = e == std::string_view::npos ? s.size() : e + 1;
      out.push_back({Token::string, std::string(s.substr(i, end - i)), i, end});
      i = end;
    } else if (word_char(c)) {
      std::size_t j = i;
      while (j < s.size() && word_char(s[j])) ++j;
      out.push_back({Token::word, std::string(s.substr(i, j - i)), i, j});
      i = j;
    } else {
      out.push_back({Token::punct, std::string(1, c), i, i + 1});
      ++i;
    }
  }
  return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
inline bool is_kw(const Token& t, std::string_view kw) { return t.kind == Token::word && iequals(t.text, kw); }
inline bool is_punct(const Token& t, char c) { return t.kind == Token::punct && t.text[0] == c; }
inline bool is_name(const Token& t) { return t.kind == Token::word || t.kind == Token::identifier; }

inline std::string quote(std::string_view ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

/// Index of the token closing the parenthesis opened at `open` (or tokens.size()).
inline std::size_t closing(const std::vector<Token>& t, std::size_t open) {
  int depth = 0;
  for (std::size_t k = open; k < t.size(); ++k) {
    if (is_punct(t[k], '(')) ++depth;
    if (is_punct(t[k], ')') && --depth == 0) return k;
  }
  return t.size();
}

/// The first token at parenthesis depth 0, from `from` on, for which pred holds (or t.size()).
template <class Pred>
std::size_t find_top(const std::vector<Token>& t, std::size_t from, Pred pred) {
  int depth = 0;
  for (std::size_t k = from; k < t.size(); ++k) {
    if (is_punct(t[k], '(')) ++depth;
    else if (is_punct(t[k], ')')) --depth;
    else if (depth == 0 && pred(k)) return k;
  }
  return t.size();
}

/// One foreign key as SQLite knows it (PRAGMA foreign_key_list), plus its child table.
struct Key {
  std::string child;
  int id = 0;
  std::string parent;
  std::vector<std::string> from, to;  // `to` empty: the parent's primary key
  std::string on_update, on_delete;
};

// ---- small sqlite3 helpers that never throw ------------------------------------------------

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &s_, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s_);
      s_ = nullptr;
    }
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  explicit operator bool() const noexcept { return s_ != nullptr; }
  sqlite3_stmt* get() const noexcept { return s_; }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p == nullptr ? std::string{} : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, c)));
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

inline std::vector<Key> read_keys(sqlite3* db, const std::string& sql, const std::string& arg) {
  std::vector<Key> keys;
  Stmt st(db, sql);
  if (!st) return keys;
  sqlite3_bind_text(st.get(), 1, arg.data(), static_cast<int>(arg.size()), SQLITE_TRANSIENT);
  while (sqlite3_step(st.get()) == SQLITE_ROW) {
    // child, id, seq, table, from, to, on_update, on_delete
    const std::string child = st.text(0);
    const int id = sqlite3_column_int(st.get(), 1);
    if (keys.empty() || keys.back().child != child || keys.back().id != id)
      keys.push_back(Key{child, id, st.text(3), {}, {}, st.text(6), st.text(7)});
    keys.back().from.push_back(st.text(4));
    if (sqlite3_column_type(st.get(), 5) != SQLITE_NULL) keys.back().to.push_back(st.text(5));
  }
  return keys;
}

/// The foreign keys of `table`.
inline std::vector<Key> keys_of(sqlite3* db, const std::string& table) {
  return read_keys(db,
                   "SELECT ?1, id, seq, \"table\", \"from\", \"to\", on_update, on_delete "
                   "FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
                   table);
}

/// The foreign keys of every table that reference `table`.
inline std::vector<Key> keys_to(sqlite3* db, const std::string& table) {
  return read_keys(db,
                   "SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete "
                   "FROM sqlite_schema AS m JOIN pragma_foreign_key_list(m.name) AS f "
                   "WHERE m.type = 'table' AND f.\"table\" = ?1 COLLATE NOCASE ORDER BY m.name, f.id, f.seq",
                   table);
}

/// The referenced columns of `k`: as declared, or the parent's primary key.
inline std::vector<std::string> parent_columns(sqlite3* db, const Key& k) {
  if (!k.to.empty()) return k.to;
  std::vector<std::string> cols;
  Stmt st(db, "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk");
  if (!st) return cols;
  sqlite3_bind_text(st.get(), 1, k.parent.data(), static_cast<int>(k.parent.size()), SQLITE_TRANSIENT);
  while (sqlite3_step(st.get()) == SQLITE_ROW) cols.push_back(st.text(0));
  return cols;
}

/// Runs `probe` (a read-only SELECT EXISTS built from `failed`'s text, with the same
/// parameters) on `failed`'s bindings, which are moved over and back. False when it cannot.
inline bool probe(sqlite3* db, sqlite3_stmt* failed, const std::string& sql) {
  Stmt st(db, sql);
  if (!st || sqlite3_stmt_readonly(st.get()) == 0 ||
      sqlite3_bind_parameter_count(st.get()) != sqlite3_bind_parameter_count(failed))
    return false;
  if (sqlite3_bind_parameter_count(failed) > 0 && sqlite3_transfer_bindings(failed, st.get()) != SQLITE_OK) return false;
  const bool found = sqlite3_step(st.get()) == SQLITE_ROW && sqlite3_column_int(st.get(), 0) != 0;
  sqlite3_reset(st.get());
  if (sqlite3_bind_parameter_count(failed) > 0) sqlite3_transfer_bindings(st.get(), failed);
  return found;
}

/// The CONSTRAINT name of key `k` in its table's CREATE TABLE text, matched by its columns
/// and parent; empty when it has none.
inline std::string constraint_name(sqlite3* db, const Key& k) {
  Stmt st(db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE");
  if (!st) return {};
  sqlite3_bind_text(st.get(), 1, k.child.data(), static_cast<int>(k.child.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st.get()) != SQLITE_ROW) return {};
  const std::vector<Token> t = lex(st.text(0));
  std::size_t open = 0;
  while (open < t.size() && !is_punct(t[open], '(')) ++open;
  const std::size_t close = closing(t, open);
  const auto same = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), iequals);
  };
  // Each top-level item between the parentheses: a column definition or a table constraint.
  for (std::size_t item = open + 1; item < close;) {
    const std::size_t end = std::min(close, find_top(t, item, [&](std::size_t j) { return is_punct(t[j], ','); }));
    std::string name;
    std::vector<std::string> cols;
    for (std::size_t j = item; j < end; ++j) {
      if (is_kw(t[j], "CONSTRAINT") && j + 1 < end) {
        name = t[j + 1].text;
      } else if (is_kw(t[j], "FOREIGN") && j + 2 < end && is_punct(t[j + 2], '(')) {
        cols.clear();
        const std::size_t c = closing(t, j + 2);
        for (std::size_t q = j + 3; q < c; ++q)
          if (is_name(t[q])) cols.push_back(t[q].text);
        j = c;
      } else if (is_kw(t[j], "REFERENCES") && j + 1 < end) {
        if (cols.empty() && is_name(t[item])) cols.push_back(t[item].text);  // a column's own REFERENCES
        if (same(cols, k.from) && iequals(t[j + 1].text, k.parent)) return name;
        name.clear();
        cols.clear();
      }
    }
    item = end + 1;
  }
  return {};
}

/// The name of the first key in `keys` for which `violated` holds, preferring the key with
/// more columns when several do (the tenant-safe (org, column) key over its SET NULL twin).
template <class Violated>
std::pair<std::string, std::string> first_violated(sqlite3* db, const std::vector<Key>& keys, Violated violated) {
  const Key* best = nullptr;
  for (const Key& k : keys)
    if ((best == nullptr || k.from.size() > best->from.size()) && violated(k)) best = &k;
  if (best == nullptr) return {};
  return {best->child, constraint_name(db, *best)};
}

/// Child side of an INSERT: `cols` are the statement's column names, [source_begin, source_end)
/// the text of its VALUES or SELECT.
inline std::pair<std::string, std::string> insert_child(sqlite3* db, sqlite3_stmt* failed, const std::string& sql,
                                                        const std::string& table, std::vector<std::string> cols,
                                                        std::size_t source_begin, std::size_t source_end) {
  const std::vector<Key> keys = keys_of(db, table);
  return first_violated(db, keys, [&](const Key& k) {
    for (std::size_t i = 0; i < k.from.size(); ++i) {
      const bool listed = std::any_of(cols.begin(), cols.end(), [&](const std::string& c) { return iequals(c, k.from[i]); });
      if (!listed) return false;  // left to its default: not what this statement set
    }
    const std::vector<std::string> pcols = parent_columns(db, k);
    if (pcols.size() != k.from.size()) return false;
    std::string q = "WITH tenantry_new(";
    for (std::size_t i = 0; i < cols.size(); ++i) q += (i ? ", " : "") + quote(cols[i]);
    q += ") AS (" + sql.substr(source_begin, source_end - source_begin) + ") SELECT EXISTS (SELECT 1 FROM tenantry_new AS n WHERE ";
    for (const auto& f : k.from) q += "n." + quote(f) + " IS NOT NULL AND ";
    q += "NOT EXISTS (SELECT 1 FROM " + quote(k.parent) + " AS p WHERE ";
    for (std::size_t i = 0; i < pcols.size(); ++i) q += (i ? " AND p." : "p.") + quote(pcols[i]) + " = n." + quote(k.from[i]);
    q += "))";
    return probe(db, failed, q);
  });
}

/// Child side of an UPDATE: `sets` maps columns to their SET expressions' text, in order;
/// `where` is the text from WHERE (or empty) to the end of the statement's filter.
inline std::pair<std::string, std::string> update_child(sqlite3* db, sqlite3_stmt* failed, const std::string& table,
                                                        const std::vector<std::pair<std::string, std::string>>& sets,
                                                        const std::string& where) {
  const std::vector<Key> keys = keys_of(db, table);
  return first_violated(db, keys, [&](const Key& k) {
    const std::vector<std::string> pcols = parent_columns(db, k);
    if (pcols.size() != k.from.size()) return false;
    // The inner SELECT evaluates every SET expression in order (so the probe takes the same
    // parameters as the statement) next to the row's current columns; the outer one picks each
    // key column's new value: its SET expression's, or the current one.
    std::string cols;
    bool touched = false;
    for (std::size_t i = 0; i < k.from.size(); ++i) {
      std::string value = quote(table) + "." + quote(k.from[i]);
      for (std::size_t s = 0; s < sets.size(); ++s)
        if (iequals(sets[s].first, k.from[i])) {
          value = "tenantry_s" + std::to_string(s);
          touched = true;
        }
      cols += (i ? ", " : "") + value + " AS tenantry_k" + std::to_string(i);
    }
    if (!touched) return false;  // this statement leaves the key as it is
    std::string q = "SELECT EXISTS (SELECT 1 FROM (SELECT " + cols + " FROM (SELECT ";
    for (std::size_t i = 0; i < sets.size(); ++i) q += "(" + sets[i].second + ") AS tenantry_s" + std::to_string(i) + ", ";
    q += quote(table) + ".* FROM " + quote(table) + " " + where + ") AS " + quote(table) + ") AS n WHERE ";
    for (std::size_t i = 0; i < k.from.size(); ++i) q += "n.tenantry_k" + std::to_string(i) + " IS NOT NULL AND ";
    q += "NOT EXISTS (SELECT 1 FROM " + quote(k.parent) + " AS p WHERE ";
    for (std::size_t i = 0; i < pcols.size(); ++i)
      q += (i ? " AND p." : "p.") + quote(pcols[i]) + " = n.tenantry_k" + std::to_string(i);
    q += "))";
    return probe(db, failed, q);
  });
}

/// Parent side: rows of `table` the statement deletes (or, with `changed`, whose referenced
/// columns it changes) that a RESTRICT / NO ACTION key of another table still references.
/// `prefix` holds the SET expressions (UPDATE) so the probe takes the same parameters.
inline std::pair<std::string, std::string> parent_side(sqlite3* db, sqlite3_stmt* failed, const std::string& table,
                                                       const std::string& filter, bool update,
                                                       const std::vector<std::pair<std::string, std::string>>& sets) {
  std::vector<Key> keys = keys_to(db, table);
  const auto blocks = [&](const std::string& action) { return iequals(action, "NO ACTION") || iequals(action, "RESTRICT"); };
  keys.erase(std::remove_if(keys.begin(), keys.end(),
                            [&](const Key& k) { return !blocks(update ? k.on_update : k.on_delete); }),
             keys.end());
  return first_violated(db, keys, [&](const Key& k) {
    const std::vector<std::string> pcols = parent_columns(db, k);
    if (pcols.size() != k.from.size()) return false;
    if (update) {
      const bool changes = std::any_of(pcols.begin(), pcols.end(), [&](const std::string& p) {
        return std::any_of(sets.begin(), sets.end(), [&](const auto& s) { return iequals(s.first, p); });
      });
      if (!changes) return false;
    }
    std::string q = "SELECT EXISTS (SELECT 1 FROM " + quote(k.child) + " AS c WHERE (";
    for (std::size_t i = 0; i < k.from.size(); ++i) q += (i ? ", c." : "c.") + quote(k.from[i]);
    q += ") IN (SELECT ";
    for (std::size_t i = 0; i < pcols.size(); ++i) q += (i ? ", " : "") + quote(pcols[i]);
    q += " FROM (SELECT ";
    for (std::size_t i = 0; i < sets.size(); ++i) q += "(" + sets[i].second + ") AS tenantry_s" + std::to_string(i) + ", ";
    q += quote(table) + ".* FROM " + quote(table) + " " + filter + ")))";
    return probe(db, failed, q);
  });
}

/// The table and constraint of the foreign key `failed` broke, or empty strings.
inline std::pair<std::string, std::string> foreign_key_violation(sqlite3* db, sqlite3_stmt* failed) noexcept {
  try {
    const char* text = sqlite3_sql(failed);
    if (text == nullptr) return {};
    const std::string sql = text;
    const std::vector<Token> t = lex(sql);
    std::size_t k = 0;
    const auto skip_or = [&] {
      if (k + 1 < t.size() && is_kw(t[k], "OR")) k += 2;
    };
    enum class Verb { insert, update, erase } verb;
    if (k < t.size() && (is_kw(t[k], "INSERT") || is_kw(t[k], "REPLACE"))) {
      verb = Verb::insert;
      ++k;
      skip_or();
      if (k < t.size() && is_kw(t[k], "INTO")) ++k;
    } else if (k < t.size() && is_kw(t[k], "UPDATE")) {
      verb = Verb::update;
      ++k;
      skip_or();
    } else if (k + 1 < t.size() && is_kw(t[k], "DELETE") && is_kw(t[k + 1], "FROM")) {
      verb = Verb::erase;
      k += 2;
    } else {
      return {};
    }
    if (k >= t.size() || !is_name(t[k])) return {};
    std::string table = t[k].text;
    ++k;
    if (k + 1 < t.size() && is_punct(t[k], '.') && is_name(t[k + 1])) {  // schema-qualified
      table = t[k + 1].text;
      k += 2;
    }
    const std::size_t returning = find_top(t, k, [&](std::size_t j) { return is_kw(t[j], "RETURNING"); });
    const std::size_t stop = returning < t.size() ? t[returning].begin : sql.size();

    if (verb == Verb::insert) {
      if (k >= t.size() || !is_punct(t[k], '(')) return {};  // no column list: not traced
      const std::size_t cols_end = closing(t, k);
      std::vector<std::string> cols;
      for (std::size_t j = k + 1; j < cols_end; ++j)
        if (is_name(t[j])) cols.push_back(t[j].text);
      const std::size_t src = cols_end + 1;
      if (src >= t.size()) return {};
      // The source ends at ON CONFLICT (an upsert clause) or RETURNING.
      std::size_t src_end = find_top(t, src, [&](std::size_t j) {
        return (is_kw(t[j], "ON") && j + 1 < t.size() && is_kw(t[j + 1], "CONFLICT")) || is_kw(t[j], "RETURNING");
      });
      const std::size_t end = src_end < t.size() ? t[src_end].begin : sql.size();
      return insert_child(db, failed, sql, table, cols, t[src].begin, end);
    }

    // UPDATE / DELETE: the SET list, then the filter (WHERE ... up to RETURNING).
    std::vector<std::pair<std::string, std::string>> sets;
    std::size_t filter_begin = k < t.size() ? t[k].begin : sql.size();
    if (verb == Verb::update) {
      if (k >= t.size() || !is_kw(t[k], "SET")) return {};
      std::size_t j = k + 1;
      const std::size_t set_end = find_top(t, j, [&](std::size_t q) {
        return is_kw(t[q], "WHERE") || is_kw(t[q], "FROM") || is_kw(t[q], "RETURNING") || is_kw(t[q], "ORDER") ||
               is_kw(t[q], "LIMIT");
      });
      while (j < set_end) {
        if (j + 1 >= set_end || !is_name(t[j]) || !is_punct(t[j + 1], '=')) return {};  // (a, b) = ...: not traced
        const std::size_t e = std::min(set_end, find_top(t, j + 2, [&](std::size_t q) { return is_punct(t[q], ','); }));
        const std::size_t expr_end = e < t.size() ? t[e].begin : sql.size();
        if (j + 2 >= t.size()) return {};
        sets.emplace_back(t[j].text, sql.substr(t[j + 2].begin, expr_end - t[j + 2].begin));
        j = e + 1;
      }
      filter_begin = set_end < t.size() ? t[set_end].begin : sql.size();
      if (set_end < t.size() && is_kw(t[set_end], "FROM")) return {};  // UPDATE ... FROM: not traced
    }
    const std::string filter = filter_begin < stop ? sql.substr(filter_begin, stop - filter_begin) : std::string{};
    if (verb == Verb::update) {
      auto child = update_child(db, failed, table, sets, filter);
      if (!child.second.empty()) return child;
      return parent_side(db, failed, table, filter, true, sets);
    }
    return parent_side(db, failed, table, filter, false, {});
  } catch (...) {
    return {};
  }
}

}  // namespace tenantry::sqlite::fk_detail
