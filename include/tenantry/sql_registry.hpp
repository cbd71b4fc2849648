// tenantry/sql_registry.hpp - process-wide interning of SQL text.
//
// Every statement tenantry runs is built once and interned here, which gives it a small dense
// id. Connections cache their prepared statements in a vector indexed by that id, so reusing a
// cached statement costs an index, not a hash of the SQL text. Interned text lives until the
// process exits (the set of distinct statements is bounded by the program's code).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tenantry {

/// A built SQL statement: its text and its process-wide id.
struct Sql {
  std::uint32_t id = 0;
  const std::string* text = nullptr;
  std::string_view view() const noexcept { return *text; }
};

/// Returns the interned statement for `text`; the same text always yields the same id.
inline Sql intern_sql(std::string text) {
  struct Registry {
    std::mutex mutex;
    std::deque<std::string> texts;  // deque: element addresses stay valid as it grows
    std::unordered_map<std::string_view, std::uint32_t> ids;
  };
  static Registry registry;
  std::lock_guard lock(registry.mutex);
  if (auto it = registry.ids.find(text); it != registry.ids.end()) {
    return Sql{it->second, &registry.texts[it->second]};
  }
  const auto id = static_cast<std::uint32_t>(registry.texts.size());
  registry.texts.push_back(std::move(text));
  registry.ids.emplace(registry.texts.back(), id);
  return Sql{id, &registry.texts.back()};
}

}  // namespace tenantry
