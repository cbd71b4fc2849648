// tenantry/migration_script.hpp - a generated migration script: its statements, each with the
// comment written above it and, when it is risky, the reason (the lint).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tenantry::migrate {

/// One generated statement.
struct GeneratedStatement {
  std::string sql;
  std::string comment;  ///< written above the statement ("-- ..."); may hold several lines
  std::string risk;     ///< why the statement is risky (lint); empty when it is not
};

/// The statements of one direction of a generated migration.
struct GeneratedScript {
  /// The file runs outside the runner's transaction and opens its own (SQLite table rebuilds:
  /// PRAGMA foreign_keys can only change outside a transaction).
  bool no_transaction = false;
  std::vector<GeneratedStatement> statements;

  void add(std::string sql, std::string risk = {}, std::string comment = {}) {
    statements.push_back(GeneratedStatement{std::move(sql), std::move(comment), std::move(risk)});
  }
  /// A comment line written before the next statement.
  void note(std::string comment) {
    pending_ += pending_.empty() ? comment : "\n" + comment;
  }
  void add_noted(std::string sql, std::string risk = {}) {
    add(std::move(sql), std::move(risk), std::exchange(pending_, {}));
  }
  bool empty() const noexcept { return statements.empty(); }

  /// The file's text: `header` (comment lines, each starting with "--"), the no-transaction
  /// directive when needed, then every statement ended by ";\n", its comment above it.
  std::string text(std::string_view header = {}) const {
    std::string out;
    if (no_transaction) out += "-- tenantry:no-transaction\n";
    out += header;
    for (const GeneratedStatement& s : statements) {
      if (!s.comment.empty()) {
        out += "\n";
        std::string_view c = s.comment;
        while (!c.empty()) {
          const auto eol = c.find('\n');
          out += "-- ";
          out += c.substr(0, eol);
          out += '\n';
          c = eol == std::string_view::npos ? std::string_view{} : c.substr(eol + 1);
        }
      }
      out += s.sql;
      out += ";\n";
    }
    return out;
  }

 private:
  std::string pending_;
};

}  // namespace tenantry::migrate
