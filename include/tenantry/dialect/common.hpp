// tenantry/dialect/common.hpp - text helpers shared by the dialects.
#pragma once

#include "tenantry/entity.hpp"

#include <charconv>
#include <string>
#include <string_view>

namespace tenantry::detail {

/// "name" with embedded quotes doubled. Identifiers come from the program, but quoting every
/// one means a column called "order" or "user" needs no special care in any dialect.
inline void quote_identifier(std::string& out, std::string_view ident) {
  out += '"';
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

/// 'text' with embedded quotes doubled, for literals that come from the program (DDL defaults,
/// CHECK bounds, enum names). Values from users are always bound as parameters instead.
inline void quote_string(std::string& out, std::string_view text) {
  out += '\'';
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
}

inline void append_number(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

inline void append_number(std::string& out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
  out.append(buf, r.ptr);
  if (std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)).find_first_of(".eEn") == std::string_view::npos)
    out += ".0";
}

}  // namespace tenantry::detail
