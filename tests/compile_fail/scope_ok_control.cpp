// expect: COMPILES
// Every form the scope, reference and uniqueness rules accept: a declared global projection used
// on its own, an explicit Scope::org, global_unique() keys/uniques/indexes, identity and
// org-including keys, references pairing the orgs, to a global unique and to the table itself;
// tables scoped through their parent, to a depth of 2.
#include "support/entities.hpp"
#include "support/org_leading_entities.hpp"

#include <tenantry/org_schema.hpp>
#include <tenantry/sqlite.hpp>

using namespace tenantry;
using namespace fixtures;

struct TokenCount { Uuid id; std::string user_id; };
template <> struct tenantry::entity<TokenCount> {
  static constexpr auto scope = tenantry::global;
  static constexpr std::string_view table = "token_counts";
  static constexpr auto primary_key = key(&TokenCount::id);
};
struct Ticket { std::int64_t id = 0; OrgId org_id; std::string code; std::string title; };
template <> struct tenantry::entity<Ticket> {
  static constexpr auto scope = tenantry::Scope::org;
  static constexpr std::string_view table = "tickets";
  static constexpr auto primary_key = key(&Ticket::id);
  static constexpr auto columns = std::tuple{column(&Ticket::id).identity()};
  static constexpr auto constraints = std::tuple{unique_index(&Ticket::code).global_unique(),
                                                 unique(&Ticket::org_id, &Ticket::title)};
};
struct Slot { std::string code; OrgId org_id; };
template <> struct tenantry::entity<Slot> {
  static constexpr std::string_view table = "slots";
  static constexpr auto primary_key = key(&Slot::code).global_unique();
};
struct Seat { std::string code; OrgId org_id; std::optional<std::int64_t> ticket_id; std::optional<std::string> title; };
template <> struct tenantry::entity<Seat> {
  static constexpr std::string_view table = "seats";
  static constexpr auto primary_key = key(&Seat::org_id, &Seat::code);
  static constexpr auto constraints = std::tuple{
      foreign_key(&Seat::ticket_id, &Ticket::id, on_delete::set_null),
      foreign_key(fields(&Seat::org_id, &Seat::title), fields(&Ticket::org_id, &Ticket::title), on_delete::cascade)};
};
// Scoped through its parent: a unique including the scope's foreign key, a global_unique() one,
// a reference to a global entity besides its scope; and a chain of depth 2 with an identity key.
struct SeatNote { Uuid id; std::string seat_code; std::string note; std::int64_t serial = 0; Uuid org_ref; };
template <> struct tenantry::entity<SeatNote> {
  static constexpr auto scope = tenantry::through<&SeatNote::seat_code>;
  static constexpr std::string_view table = "seat_notes";
  static constexpr auto primary_key = key(&SeatNote::id);
  static constexpr auto constraints = std::tuple{foreign_key(&SeatNote::seat_code, &Slot::code),
                                                 unique(&SeatNote::seat_code, &SeatNote::note),
                                                 unique(&SeatNote::serial).global_unique(),
                                                 foreign_key(&SeatNote::org_ref, &Organization::id)};
};
struct NoteEdit { std::int64_t id = 0; Uuid note_id; };
template <> struct tenantry::entity<NoteEdit> {
  static constexpr auto scope = tenantry::through<&NoteEdit::note_id>;
  static constexpr std::string_view table = "note_edits";
  static constexpr auto primary_key = key(&NoteEdit::id);
  static constexpr auto columns = std::tuple{column(&NoteEdit::id).identity()};
  static constexpr auto constraints = std::tuple{foreign_key(&NoteEdit::note_id, &SeatNote::id)};
};
int main() {
  sqlite::Connection db(":memory:");
  create_tables<Organization, ApiToken, Widget, Gadget, Part, Membership, Grant, Setting, Pin, User, Invite, Folder,
                TokenCount, Ticket, Slot, Seat, SeatNote, NoteEdit>(db);
  Repository<NoteEdit, SqliteDialect> edits{db};
  (void)edits.find(OrgId::random(), std::int64_t{1});
  Repository<TokenCount, SqliteDialect> counts{db};
  (void)counts.list();
  Repository<Seat, SqliteDialect> seats{db};
  (void)seats.find(OrgId::random(), std::string("a1"));
  (void)OrgSchemas<Widget, Part, Folder>::table_names();
  (void)citus::schema<PgDialect>();
  static_assert(scope_of<TokenCount> == Scope::global && scope_of<Ticket> == Scope::org);
  static_assert(scope_of<SeatNote> == Scope::parent && scope_of<NoteEdit> == Scope::parent);
}
