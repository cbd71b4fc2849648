// tenantry/sql_text.hpp - reading SQL text: a tokenizer, expression normalisation, and a parser
// for SQLite's CREATE TABLE / CREATE INDEX statements.
//
// SQLite keeps a table's constraints only as the text of its CREATE TABLE statement: the pragmas
// report columns, keys, foreign keys and indexes, but no CHECK expression and no constraint name.
// catalog.hpp reads those from the text with parse_create_table(). Expressions that a database
// does not normalise (SQLite's CHECKs, defaults and index predicates) are compared through
// normalize_expression(), which ignores spacing, letter case outside strings, identifier quotes
// where they are not needed and redundant outer parentheses.
//
// Nothing here runs SQL or sees user input: the text comes from the database's own catalog or
// from the program's DDL.
#pragma once

#include "tenantry/error.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tenantry::sql_text {

struct Token {
  enum class Kind { word, quoted, string, number, op, punct };
  Kind kind = Kind::word;
  std::string_view text;  ///< the source text of the token
  std::string value;      ///< identifiers: the name, unquoted; others: the text
  std::size_t begin = 0, end = 0;

  bool is_word(std::string_view upper) const noexcept {
    if (kind != Kind::word || text.size() != upper.size()) return false;
    for (std::size_t i = 0; i < upper.size(); ++i) {
      char c = text[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c != upper[i]) return false;
    }
    return true;
  }
  bool is(std::string_view punct_or_op) const noexcept {
    return (kind == Kind::punct || kind == Kind::op) && text == punct_or_op;
  }
  bool is_identifier() const noexcept { return kind == Kind::word || kind == Kind::quoted; }
};

namespace detail {
inline bool ident_start(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
}
inline bool ident_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return ident_start(c) || (u >= '0' && u <= '9') || u == '$';
}
inline bool digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
[[noreturn]] inline void fail(std::string_view what, std::string_view sql) {
  throw Error("tenantry: cannot read SQL text: " + std::string(what) + " in: " + std::string(sql.substr(0, 300)));
}
}  // namespace detail

/// Splits SQL text into tokens, dropping whitespace and comments. Multi-character operators are
/// the common ones (|| <= >= <> != == :: -> ->>); any other operator character is a token of
/// its own, so `a>-1` and `a > - 1` give the same tokens.
inline std::vector<Token> tokenize(std::string_view sql) {
  std::vector<Token> out;
  const std::size_t n = sql.size();
  std::size_t i = 0;
  const auto quoted_until = [&](std::size_t open, char close) {
    std::string value;
    std::size_t j = open + 1;
    for (;;) {
      if (j >= n) detail::fail("an unterminated quote", sql);
      if (sql[j] == close) {
        if (close != ']' && j + 1 < n && sql[j + 1] == close) {
          value += close;
          j += 2;
          continue;
        }
        return std::pair{value, j + 1};
      }
      value += sql[j++];
    }
  };
  while (i < n) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      const std::size_t eol = sql.find('\n', i);
      i = eol == std::string_view::npos ? n : eol + 1;
      continue;
    }
    if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      int depth = 0;
      do {
        if (sql.substr(i, 2) == "/*") ++depth, i += 2;
        else if (sql.substr(i, 2) == "*/") --depth, i += 2;
        else ++i;
      } while (depth > 0 && i < n);
      continue;
    }
    Token t;
    t.begin = i;
    if (c == '\'') {
      auto [value, end] = quoted_until(i, '\'');
      t.kind = Token::Kind::string;
      i = end;
    } else if (c == '"' || c == '`' || c == '[') {
      auto [value, end] = quoted_until(i, c == '[' ? ']' : c);
      t.kind = Token::Kind::quoted;
      t.value = std::move(value);
      i = end;
    } else if (detail::digit(c) || (c == '.' && i + 1 < n && detail::digit(sql[i + 1]))) {
      t.kind = Token::Kind::number;
      if (c == '0' && i + 1 < n && (sql[i + 1] == 'x' || sql[i + 1] == 'X')) {
        i += 2;
        while (i < n && detail::ident_char(sql[i])) ++i;
      } else {
        while (i < n && (detail::digit(sql[i]) || sql[i] == '.')) ++i;
        if (i < n && (sql[i] == 'e' || sql[i] == 'E')) {
          ++i;
          if (i < n && (sql[i] == '+' || sql[i] == '-')) ++i;
          while (i < n && detail::digit(sql[i])) ++i;
        }
      }
    } else if (detail::ident_start(c)) {
      t.kind = Token::Kind::word;
      while (i < n && detail::ident_char(sql[i])) ++i;
      // E'...' and X'...' (escape strings, blobs): one string token with its prefix.
      if (i - t.begin == 1 && i < n && sql[i] == '\'' && (c == 'E' || c == 'e' || c == 'X' || c == 'x')) {
        auto [value, end] = quoted_until(i, '\'');
        t.kind = Token::Kind::string;
        i = end;
      }
    } else if (c == '(' || c == ')' || c == ',' || c == ';' || c == '.') {
      t.kind = Token::Kind::punct;
      ++i;
    } else {
      t.kind = Token::Kind::op;
      static constexpr std::string_view multi[] = {"->>", "||", "<=", ">=", "<>", "!=", "==", "::", "->", "<<", ">>"};
      std::size_t len = 1;
      for (std::string_view m : multi)
        if (sql.substr(i, m.size()) == m) {
          len = m.size();
          break;
        }
      i += len;
    }
    t.end = i;
    t.text = sql.substr(t.begin, t.end - t.begin);
    if (t.kind != Token::Kind::quoted) t.value = std::string(t.text);
    out.push_back(std::move(t));
  }
  return out;
}

/// The index just past the parenthesis that closes the one at `open` (tokens[open] is "(").
inline std::size_t matching_paren(const std::vector<Token>& tokens, std::size_t open, std::string_view sql) {
  int depth = 0;
  for (std::size_t i = open; i < tokens.size(); ++i) {
    if (tokens[i].is("(")) ++depth;
    else if (tokens[i].is(")") && --depth == 0) return i + 1;
  }
  detail::fail("an unbalanced parenthesis", sql);
}

/// `name` quoted only if it must be: as is when it is a plain lower-case identifier.
inline std::string plain_identifier(std::string_view name) {
  bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) plain = false;
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

/// A comparison key for an expression: its tokens separated by single spaces, words in lower
/// case, identifiers unquoted where quotes are not needed, redundant outer parentheses removed.
/// `renames` maps identifiers (lower case) to the name that replaces them, for comparing an
/// expression written before a column was renamed with one written after.
inline std::string normalize_expression(std::string_view expr, const std::map<std::string, std::string>* renames = nullptr) {
  std::vector<Token> tokens = tokenize(expr);
  std::size_t b = 0, e = tokens.size();
  while (e - b >= 2 && tokens[b].is("(") && matching_paren(tokens, b, expr) == e) ++b, --e;
  std::string out;
  for (std::size_t i = b; i < e; ++i) {
    const Token& t = tokens[i];
    std::string piece;
    if (t.kind == Token::Kind::word || t.kind == Token::Kind::quoted) {
      std::string name = t.kind == Token::Kind::word ? detail::lower(t.value) : t.value;
      if (renames != nullptr)
        if (auto it = renames->find(detail::lower(name)); it != renames->end()) name = it->second;
      piece = t.kind == Token::Kind::word ? name : plain_identifier(name);
    } else {
      piece = std::string(t.text);
    }
    if (!out.empty()) out += ' ';
    out += piece;
  }
  return out;
}

/// A type name compared case-insensitively and without spacing differences.
inline std::string normalize_type(std::string_view type) {
  std::string out;
  for (const Token& t : tokenize(type)) {
    if (!out.empty() && t.kind == Token::Kind::word && (out.back() != '(')) out += ' ';
    out += t.kind == Token::Kind::word ? detail::lower(t.text) : std::string(t.text);
  }
  return out;
}

// ==== SQLite CREATE TABLE / CREATE INDEX ========================================================

struct ParsedForeignKey {
  std::string name;
  std::vector<std::string> columns;
  std::string parent_table;
  std::vector<std::string> parent_columns;  ///< empty: the parent's primary key
  std::string on_delete = "NO ACTION", on_update = "NO ACTION";
  bool deferrable = false;
};

struct ParsedCheck {
  std::string name;
  std::string expression;
};

struct ParsedColumn {
  std::string name;
  std::string type;
  std::string definition;  ///< the column's full source text (for ALTER TABLE ADD COLUMN)
  bool primary_key = false;
  bool autoincrement = false;
  std::string primary_key_name;
  bool unique = false;
  std::string unique_name;
  std::string collate;
  std::string generated;  ///< GENERATED ALWAYS AS (expr): the expression
  bool stored = false;
};

struct ParsedKey {
  std::string name;
  std::vector<std::string> columns;
};

struct ParsedTable {
  std::string name;
  std::size_t name_begin = 0, name_end = 0;  ///< where the table name is in the text
  std::vector<ParsedColumn> columns;
  std::optional<ParsedKey> primary_key;  ///< when declared as a table constraint
  std::vector<ParsedKey> uniques;        ///< column and table UNIQUE constraints, in order
  std::vector<ParsedCheck> checks;       ///< column and table CHECKs, in order
  std::vector<ParsedForeignKey> foreign_keys;
  bool without_rowid = false;
  bool strict = false;
};

struct ParsedIndexKey {
  std::string expression;  ///< a column name, or the expression's text
  bool is_column = false;
  bool descending = false;
  std::string collate;
};

struct ParsedIndex {
  std::string name;
  std::string table;
  bool unique = false;
  std::vector<ParsedIndexKey> keys;
  std::string where;
};

namespace detail {

inline std::string_view slice(std::string_view sql, const std::vector<Token>& t, std::size_t from, std::size_t to) {
  if (from >= to) return {};
  return sql.substr(t[from].begin, t[to - 1].end - t[from].begin);
}

class Parser {
 public:
  Parser(std::string_view sql) : sql_(sql), t_(tokenize(sql)) {}

  bool at_end() const { return i_ >= t_.size(); }
  const Token& peek(std::size_t ahead = 0) const {
    static const Token none{};
    return i_ + ahead < t_.size() ? t_[i_ + ahead] : none;
  }
  bool accept_word(std::string_view w) {
    if (!at_end() && peek().is_word(w)) return ++i_, true;
    return false;
  }
  bool accept(std::string_view p) {
    if (!at_end() && peek().is(p)) return ++i_, true;
    return false;
  }
  void expect_word(std::string_view w) {
    if (!accept_word(w)) fail("expected " + std::string(w), sql_);
  }
  void expect(std::string_view p) {
    if (!accept(p)) fail("expected '" + std::string(p) + "'", sql_);
  }
  std::string identifier() {
    if (at_end() || !(peek().is_identifier() || peek().kind == Token::Kind::string)) fail("expected a name", sql_);
    return string_value(t_[i_++]);
  }
  static std::string string_value(const Token& t) {
    if (t.kind != Token::Kind::string) return t.value;
    std::string v;  // 'it''s' -> it's (a string used as a name, which SQLite allows)
    for (std::size_t k = 1; k + 1 < t.text.size(); ++k) {
      v += t.text[k];
      if (t.text[k] == '\'') ++k;
    }
    return v;
  }
  /// Skips a parenthesised group and returns its inner text.
  std::string group() {
    if (!peek().is("(")) fail("expected '('", sql_);
    const std::size_t open = i_;
    i_ = matching_paren(t_, open, sql_);
    return std::string(slice(sql_, t_, open + 1, i_ - 1));
  }
  /// (name [COLLATE x] [ASC|DESC], ...) as plain column names.
  std::vector<std::string> column_list() {
    std::vector<std::string> out;
    expect("(");
    for (;;) {
      out.push_back(identifier());
      while (!at_end() && !peek().is(",") && !peek().is(")")) ++i_;  // COLLATE, ASC/DESC
      if (accept(")")) break;
      expect(",");
    }
    return out;
  }
  void skip_conflict_clause() {
    if (peek().is_word("ON") && peek(1).is_word("CONFLICT")) i_ += 3;
  }
  ParsedForeignKey references(std::string name, std::vector<std::string> columns) {
    ParsedForeignKey fk;
    fk.name = std::move(name);
    fk.columns = std::move(columns);
    fk.parent_table = identifier();
    if (peek().is("(")) fk.parent_columns = column_list();
    for (;;) {
      if (accept_word("ON")) {
        const bool del = accept_word("DELETE");
        if (!del) expect_word("UPDATE");
        std::string action;
        if (accept_word("SET")) action = accept_word("NULL") ? "SET NULL" : (expect_word("DEFAULT"), "SET DEFAULT");
        else if (accept_word("CASCADE")) action = "CASCADE";
        else if (accept_word("RESTRICT")) action = "RESTRICT";
        else if (accept_word("NO")) action = (expect_word("ACTION"), "NO ACTION");
        else fail("expected a foreign key action", sql_);
        (del ? fk.on_delete : fk.on_update) = action;
      } else if (accept_word("MATCH")) {
        identifier();
      } else if (peek().is_word("NOT") && peek(1).is_word("DEFERRABLE")) {
        i_ += 2;
        initially();
      } else if (accept_word("DEFERRABLE")) {
        fk.deferrable = initially();
      } else {
        break;
      }
    }
    return fk;
  }
  bool initially() {
    if (!accept_word("INITIALLY")) return false;
    if (accept_word("DEFERRED")) return true;
    expect_word("IMMEDIATE");
    return false;
  }
  static bool starts_constraint(const Token& t) {
    for (std::string_view w : {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE",
                               "REFERENCES", "GENERATED", "AS"})
      if (t.is_word(w)) return true;
    return false;
  }

  ParsedTable table() {
    ParsedTable out;
    expect_word("CREATE");
    if (!accept_word("TEMP")) accept_word("TEMPORARY");
    expect_word("TABLE");
    if (peek().is_word("IF")) {
      i_ += 1;
      expect_word("NOT");
      expect_word("EXISTS");
    }
    std::size_t name_at = i_;
    out.name = identifier();
    if (accept(".")) {
      name_at = i_;
      out.name = identifier();
    }
    out.name_begin = t_[name_at].begin;
    out.name_end = t_[name_at].end;
    if (!peek().is("(")) fail("CREATE TABLE ... AS SELECT is not supported", sql_);
    expect("(");
    for (;;) {
      if (starts_table_constraint()) table_constraint(out);
      else column(out);
      if (accept(")")) break;
      expect(",");
    }
    while (!at_end()) {
      if (accept_word("WITHOUT")) {
        expect_word("ROWID");
        out.without_rowid = true;
      } else if (accept_word("STRICT")) {
        out.strict = true;
      } else if (!accept(",") && !accept(";")) {
        fail("unexpected text after the column list", sql_);
      }
    }
    return out;
  }

  bool starts_table_constraint() const {
    const Token& t = peek();
    if (t.is_word("CONSTRAINT")) return true;
    if (t.is_word("PRIMARY") && peek(1).is_word("KEY")) return true;
    if ((t.is_word("UNIQUE") || t.is_word("CHECK")) && peek(1).is("(")) return true;
    if (t.is_word("FOREIGN") && peek(1).is_word("KEY")) return true;
    return false;
  }

  void table_constraint(ParsedTable& out) {
    std::string name;
    if (accept_word("CONSTRAINT")) name = identifier();
    if (accept_word("PRIMARY")) {
      expect_word("KEY");
      out.primary_key = ParsedKey{name, column_list()};
      skip_conflict_clause();
    } else if (accept_word("UNIQUE")) {
      out.uniques.push_back(ParsedKey{name, column_list()});
      skip_conflict_clause();
    } else if (accept_word("CHECK")) {
      out.checks.push_back(ParsedCheck{name, group()});
    } else if (accept_word("FOREIGN")) {
      expect_word("KEY");
      std::vector<std::string> cols = column_list();
      expect_word("REFERENCES");
      out.foreign_keys.push_back(references(name, std::move(cols)));
    } else {
      fail("expected a table constraint", sql_);
    }
  }

  void column(ParsedTable& out) {
    const std::size_t start = i_;
    ParsedColumn c;
    c.name = identifier();
    const std::size_t type_start = i_;
    while (!at_end() && !peek().is(",") && !peek().is(")") && !starts_constraint(peek())) {
      if (peek().is("(")) i_ = matching_paren(t_, i_, sql_);
      else ++i_;
    }
    c.type = std::string(slice(sql_, t_, type_start, i_));
    for (;;) {
      std::string name;
      if (accept_word("CONSTRAINT")) name = identifier();
      if (accept_word("PRIMARY")) {
        expect_word("KEY");
        c.primary_key = true;
        c.primary_key_name = name;
        if (!accept_word("ASC")) accept_word("DESC");
        skip_conflict_clause();
        if (accept_word("AUTOINCREMENT")) c.autoincrement = true;
      } else if (accept_word("NOT")) {
        expect_word("NULL");
        skip_conflict_clause();
      } else if (accept_word("NULL")) {
        skip_conflict_clause();
      } else if (accept_word("UNIQUE")) {
        c.unique = true;
        c.unique_name = name;
        skip_conflict_clause();
      } else if (accept_word("CHECK")) {
        out.checks.push_back(ParsedCheck{name, group()});
      } else if (accept_word("DEFAULT")) {
        if (peek().is("(")) group();
        else {
          if (peek().is("-") || peek().is("+")) ++i_;
          ++i_;
        }
      } else if (accept_word("COLLATE")) {
        c.collate = identifier();
      } else if (accept_word("REFERENCES")) {
        out.foreign_keys.push_back(references(name, {c.name}));
      } else if (accept_word("GENERATED")) {
        expect_word("ALWAYS");
        expect_word("AS");
        c.generated = group();
        if (accept_word("STORED")) c.stored = true;
        else accept_word("VIRTUAL");
      } else if (accept_word("AS")) {
        c.generated = group();
        if (accept_word("STORED")) c.stored = true;
        else accept_word("VIRTUAL");
      } else {
        if (!name.empty()) fail("CONSTRAINT " + name + " names nothing", sql_);
        break;
      }
    }
    c.definition = std::string(slice(sql_, t_, start, i_));
    if (c.unique) out.uniques.push_back(ParsedKey{c.unique_name, {c.name}});
    out.columns.push_back(std::move(c));
  }

  ParsedIndex index() {
    ParsedIndex out;
    expect_word("CREATE");
    out.unique = accept_word("UNIQUE");
    expect_word("INDEX");
    if (peek().is_word("IF")) {
      i_ += 1;
      expect_word("NOT");
      expect_word("EXISTS");
    }
    out.name = identifier();
    if (accept(".")) out.name = identifier();
    expect_word("ON");
    out.table = identifier();
    expect("(");
    for (;;) {
      const std::size_t start = i_;
      while (!at_end() && !peek().is(",") && !peek().is(")")) {
        if (peek().is("(")) i_ = matching_paren(t_, i_, sql_);
        else ++i_;
      }
      std::size_t stop = i_;
      ParsedIndexKey k;
      if (stop > start && (t_[stop - 1].is_word("ASC") || t_[stop - 1].is_word("DESC"))) {
        k.descending = t_[stop - 1].is_word("DESC");
        --stop;
      }
      if (stop >= start + 2 && t_[stop - 2].is_word("COLLATE")) {
        k.collate = t_[stop - 1].value;
        stop -= 2;
      }
      if (stop == start + 1 && t_[start].is_identifier()) {
        k.is_column = true;
        k.expression = t_[start].value;
      } else {
        k.expression = std::string(slice(sql_, t_, start, stop));
      }
      out.keys.push_back(std::move(k));
      if (accept(")")) break;
      expect(",");
    }
    if (accept_word("WHERE")) {
      std::size_t stop = t_.size();
      if (stop > i_ && t_[stop - 1].is(";")) --stop;
      out.where = std::string(slice(sql_, t_, i_, stop));
      i_ = t_.size();
    }
    return out;
  }

 private:
  std::string_view sql_;
  std::vector<Token> t_;
  std::size_t i_ = 0;
};

}  // namespace detail

/// Parses an SQLite CREATE TABLE statement (as stored in sqlite_schema.sql). Throws Error for
/// text it cannot read, including CREATE TABLE ... AS SELECT.
inline ParsedTable parse_create_table(std::string_view sql) { return detail::Parser(sql).table(); }

/// Parses an SQLite CREATE INDEX statement.
inline ParsedIndex parse_create_index(std::string_view sql) { return detail::Parser(sql).index(); }

/// `sql` (a CREATE TABLE statement) with its table name replaced by `name`, quoted.
inline std::string rename_created_table(std::string_view sql, std::string_view name) {
  const ParsedTable t = parse_create_table(sql);
  std::string out(sql.substr(0, t.name_begin));
  out += '"';
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  out += sql.substr(t.name_end);
  return out;
}

}  // namespace tenantry::sql_text
