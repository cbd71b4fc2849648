// examples/features/observability.cpp - a statement observer installed once on a pool: every
// statement logged with its org, id, duration and rows; slow ones flagged; per-org counters
// exported in the Prometheus text format (what a /metrics endpoint would serve).
#include <tenantry/observe.hpp>
#include <tenantry/tenantry.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

struct Note {
  tenantry::Uuid id{};
  tenantry::OrgId org_id{};
  std::string text{};
};

template <>
struct tenantry::entity<Note> {
  static constexpr std::string_view table = "notes";
  static constexpr auto primary_key = key(&Note::id);
};

namespace {

/// One log line per statement: org (or "-"), id, duration, rows, error.
void log_statement(const tenantry::StatementEvent& e) {
  std::cout << "sql org=" << (e.org != nullptr ? e.org->to_string().substr(0, 8) : std::string("-"))
            << " id=" << e.id.substr(0, 17)
            << " us=" << std::chrono::duration_cast<std::chrono::microseconds>(e.duration).count() << " rows=" << e.rows
            << " affected=" << e.affected;
  if (e.failed()) std::cout << " error=" << tenantry::to_string(e.error) << " code=" << e.error_code;
  std::cout << '\n';
}

/// The per-org counters as Prometheus metrics.
std::string prometheus(const tenantry::StatementObserver& observer) {
  std::ostringstream out;
  out << "# TYPE tenantry_statements_total counter\n"
         "# TYPE tenantry_statement_errors_total counter\n"
         "# TYPE tenantry_statement_seconds_total counter\n"
         "# TYPE tenantry_statement_rows_total counter\n";
  for (const tenantry::OrgStatementStats& s : observer.snapshot()) {
    const std::string label = "{org=\"" + (s.org.is_nil() ? std::string("none") : s.org.to_string()) + "\"}";
    out << "tenantry_statements_total" << label << ' ' << s.calls << '\n'
        << "tenantry_statement_errors_total" << label << ' ' << s.errors << '\n'
        << "tenantry_statement_seconds_total" << label << ' ' << std::chrono::duration<double>(s.time).count() << '\n'
        << "tenantry_statement_rows_total" << label << ' ' << s.rows + s.affected << '\n';
  }
  return out.str();
}

}  // namespace

int main() {
  using namespace tenantry;
  namespace fs = std::filesystem;
  const fs::path file = fs::temp_directory_path() /
                        ("tenantry-example-observability-" + Uuid::random().to_string() + ".db");
  int slow_statements = 0;
  auto observer = std::make_shared<StatementObserver>(ObserverOptions{
      .on_statement = log_statement,
      .on_slow_statement =
          [&](const StatementEvent& e) {
            ++slow_statements;
            std::cout << "SLOW (" << std::chrono::duration_cast<std::chrono::microseconds>(e.duration).count()
                      << " us): " << e.text << '\n';
          },
      .slow_threshold = std::chrono::milliseconds(250)});
  std::string metrics;
  bool ok = false;
  {
    // Installed once: every connection the pool opens reports to it (postgres:// URLs alike).
    Pool<Database> pool{"sqlite:" + file.string(), {.size = 2, .connect = {.observer = observer}}};
    auto conn = pool.acquire();
    create_tables<Note>(*conn);  // DDL through execute(): not a statement the observer sees
    Repository<Note> notes{*conn};
    const OrgId acme = OrgId::random(), bolt = OrgId::random();
    Note first{.id = Uuid::random(), .text = "hello"};
    notes.insert(acme, first);
    notes.insert(acme, Note{.id = Uuid::random(), .text = "world"});
    notes.insert(bolt, Note{.id = Uuid::random(), .text = "other org"});
    const auto mine = notes.list(acme);
    try {
      notes.insert(acme, first);  // the same key again: UniqueViolation, logged with its kind
    } catch (const UniqueViolation&) {
    }
    metrics = prometheus(*observer);
    const OrgStatementStats a = observer->stats(&acme);
    ok = mine.size() == 2 && a.calls == 4 && a.errors == 1 && a.rows == 2 && a.affected == 2 &&
         observer->stats(&bolt).calls == 1 && observer->hook_failures() == 0;
  }
  std::cout << metrics;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
  std::cout << (ok ? "ok" : "UNEXPECTED COUNTS") << " (" << slow_statements << " slow)\n";
  return ok ? 0 : 1;
}
