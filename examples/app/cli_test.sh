#!/bin/sh
# app-cli.* (CTest): tenantry-app's command line on SQLite files (and PostgreSQL where a case says
# so), one CTest test per case:
#   sh cli_test.sh TENANTRY_APP WORKDIR UPGRADE_DIR VERSION CASE
# CASE is one of the case_* functions below without the prefix, or "all". Every case checks the
# exit status (0 ok, 1 failure, 2 usage, 3 refused, 4 history disagrees: see examples/app/main.cpp)
# and what the command printed, and that nothing it must not touch was touched.
set -eu
app=$1
work=$2
upgrade_dir=$3
version=$4
only=${5:-all}

fail() {
  echo "app-cli: FAILED: $*" >&2
  exit 1
}
# expect STATUS NAME ARGS...: runs the app (output in NAME.out, shown), which must exit with STATUS.
expect() {
  want=$1
  name=$2
  shift 2
  echo "+ tenantry-app $* (expect exit $want)"
  status=0
  "$app" "$@" >"$name.out" 2>&1 || status=$?
  cat "$name.out"
  [ "$status" -eq "$want" ] || fail "tenantry-app $* exited with $status, expected $want"
}
run() { expect 0 "$@"; }
has() { grep -q -- "$2" "$1.out" || fail "$1: expected '$2' in the output"; }
hasnt() { ! grep -q -- "$2" "$1.out" || fail "$1: '$2' must not be in the output"; }
# short NAME: the whole output is one or two short lines (no 300-digit ranges).
short() {
  [ "$(wc -l <"$1.out")" -le 2 ] || fail "$1: more than two lines"
  [ "$(wc -c <"$1.out")" -le 240 ] || fail "$1: longer than 240 characters"
}
sql() { sqlite3 "$1" "$2"; }
need_pg() {
  if [ -z "${TENANTRY_PG_URL:-}" ]; then
    fail "TENANTRY_PG_URL is not set: start a server with scripts/pg.sh start and export" \
      "TENANTRY_PG_URL=\$(scripts/pg.sh url), or run scripts/test.sh"
  fi
}

# ---- the everyday commands, the upgrade path and the dirty/force protocol ----------------------
case_flow() {
  db="sqlite:$PWD/cli.db"
  # A database without the schema: the orgs commands refuse and say what to run.
  expect 1 no-schema orgs list --db "$db"
  has no-schema "migrate up"

  run up1 migrate up --db "$db"
  has up1 "0001 initial schema"
  has up1 "at version 1"
  run up2 migrate up --db "$db"
  has up2 "nothing to apply"
  run status1 migrate status --db "$db"
  has status1 "applied"

  run create orgs create --slug acme --name "Acme Corp" --db "$db"
  expect 1 create-again orgs create --slug acme --name "Acme again" --db "$db"
  has create-again "already exists"
  run suspend orgs suspend --slug acme --db "$db"
  run list orgs list --db "$db"
  grep -q "^acme  *suspended" list.out || fail "orgs list: acme is not suspended"

  run health health --db "$db"
  grep -q "^ok" health.out || fail "health did not say ok"
  expect 1 health-missing health --db "sqlite:$PWD/does-not-exist.db"
  [ ! -e "$PWD/does-not-exist.db" ] || fail "health created a database"

  run down migrate down 0 --yes --db "$db"
  has down "0001 initial schema"
  run status2 migrate status --db "$db"
  has status2 "pending"

  # The upgrade path: a single-tenant database with data, upgraded, then back.
  old="sqlite:$PWD/single-tenant.db"
  run st migrate up --db "$old" --dir "$upgrade_dir" --to 1
  has st "at version 1"
  sql single-tenant.db \
    "INSERT INTO user_aliases VALUES ('0191e2a4-0000-7000-8000-000000000001', 'llama3:instruct', 'repo', 'file.gguf',
       'main', '{}', '[]', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z');"
  run mt migrate up --db "$old" --dir "$upgrade_dir"
  has mt "0002 multi tenant"
  has mt "at version 2"
  run mt-list orgs list --db "$old" --dir "$upgrade_dir"
  grep -q "^default  *active  *00000000-0000-4000-8000-000000000001" mt-list.out || fail "no default org after the upgrade"
  [ "$(sql single-tenant.db "SELECT org_id FROM user_aliases")" = 00000000-0000-4000-8000-000000000001 ] ||
    fail "the alias did not move into the default org"

  # migrate status compares the schema with the entities: a hand edit makes it exit 4, naming it.
  run mt-status migrate status --db "$old" --dir "$upgrade_dir"
  has mt-status "schema: matches the entities"
  sql single-tenant.db "DROP INDEX ix_api_tokens_org_id_user_id;"
  expect 4 drifted migrate status --db "$old" --dir "$upgrade_dir"
  has drifted "DRIFTED"
  has drifted "api_tokens: add index ix_api_tokens_org_id_user_id (org_id, user_id)"
  sql single-tenant.db 'CREATE INDEX "ix_api_tokens_org_id_user_id" ON "api_tokens" ("org_id", "user_id");'
  run undrifted migrate status --db "$old" --dir "$upgrade_dir"

  # With a second org, going back is refused; the no-transaction file leaves the database dirty,
  # every run refuses (exit 4) until force.
  run other orgs create --slug other --name Other --db "$old" --dir "$upgrade_dir"
  expect 1 back-refused migrate down 1 --yes --db "$old" --dir "$upgrade_dir"
  has back-refused "other_orgs_exist"
  has back-refused "dirty"
  expect 4 up-dirty migrate up --db "$old" --dir "$upgrade_dir"
  has up-dirty "dirty at version 2"
  expect 4 status-dirty migrate status --db "$old" --dir "$upgrade_dir"
  has status-dirty "DIRTY"
  # The refused file rolled back its own transaction: nothing changed, so the database is at 2.
  run force migrate force 2 --yes --db "$old" --dir "$upgrade_dir"
  sql single-tenant.db "PRAGMA foreign_keys = ON; DELETE FROM organizations WHERE slug = 'other';"
  run back migrate down 1 --yes --db "$old" --dir "$upgrade_dir"
  has back "at version 1"
  [ "$(sql single-tenant.db "SELECT alias FROM user_aliases")" = "llama3:instruct" ] ||
    fail "the alias did not survive the way back"
  [ -z "$(sql single-tenant.db "SELECT name FROM pragma_table_info('user_aliases') WHERE name = 'org_id'")" ] ||
    fail "org_id is still there after down"

  # migrate verify / diff: the next migration written from the database and the entities, refusing
  # to lose data unless allowed (exit 3, nothing written); the files go into a copy of the fresh
  # directory.
  mig="$PWD/mig"
  mkdir -p "$mig"
  cp "$upgrade_dir/../../sqlite/"*.sql "$mig/"
  gdb="sqlite:$PWD/gen.db"
  run g-up migrate up --db "$gdb" --dir "$mig"
  run g-verify migrate verify --db "$gdb" --dir "$mig"
  has g-verify "matches the entities"
  run g-none migrate diff nothing --db "$gdb" --dir "$mig"
  has g-none "no differences"
  sql gen.db "DROP INDEX ix_toolsets_org_id_toolset_type; ALTER TABLE user_aliases ADD COLUMN notes TEXT;"
  expect 4 g-drift migrate verify --db "$gdb" --dir "$mig"
  has g-drift "toolsets: add index ix_toolsets_org_id_toolset_type"
  expect 3 g-refused migrate diff fix --db "$gdb" --dir "$mig"
  has g-refused "drop column user_aliases.notes: its values would be lost"
  has g-refused "allow drop-column:user_aliases.notes"
  [ ! -e "$mig/0002_fix.up.sql" ] || fail "a refused diff wrote a file"
  run g-print migrate diff fix --print --db "$gdb" --dir "$mig" --allow drop-column:user_aliases.notes
  has g-print 'CREATE INDEX "ix_toolsets_org_id_toolset_type"'
  [ ! -e "$mig/0002_fix.up.sql" ] || fail "--print wrote a file"
  run g-diff migrate diff fix --db "$gdb" --dir "$mig" --allow drop-column:user_aliases.notes
  has g-diff "deletes column user_aliases.notes"
  [ -e "$mig/0002_fix.up.sql" ] && [ -e "$mig/0002_fix.down.sql" ] || fail "migrate diff wrote no files"
  run g-up2 migrate up --db "$gdb" --dir "$mig"
  has g-up2 "0002 fix"
  run g-verify2 migrate verify --db "$gdb" --dir "$mig"
  has g-verify2 "matches the entities"
  run g-down migrate down 1 --yes --db "$gdb" --dir "$mig"
  [ -n "$(sql gen.db "SELECT name FROM pragma_table_info('user_aliases') WHERE name = 'notes'")" ] ||
    fail "the down file did not put the column back"
}

# ---- libpq keyword strings are PostgreSQL, never an SQLite file of that name --------------------
case_keyword_db() {
  conninfo="host=127.0.0.1 port=1 dbname=nothing connect_timeout=3"
  for cmd in "migrate up" "migrate status" "demo" "health" "orgs list"; do
    tag=$(echo "$cmd" | tr ' ' '-')
    # shellcheck disable=SC2086
    expect 1 "kw-$tag" $cmd --db "$conninfo"
    has "kw-$tag" "postgres"
    hasnt "kw-$tag" "sqlite"
    [ "$(ls | grep -v '\.out$' || true)" = "" ] || fail "$cmd created a file: $(ls)"
  done
  # DATABASE_URL too.
  status=0
  DATABASE_URL="$conninfo" "$app" migrate up >kw-env.out 2>&1 || status=$?
  cat kw-env.out
  [ "$status" -eq 1 ] || fail "DATABASE_URL=<keyword string> migrate up exited with $status, expected 1"
  has kw-env "postgres"
  [ "$(ls | grep -v '\.out$' || true)" = "" ] || fail "DATABASE_URL=<keyword string> created a file: $(ls)"
}

# ... and they reach the real server (TENANTRY_PG_URL as a keyword string).
case_keyword_db_postgres() {
  need_pg
  # postgresql://user@host:port/db -> host=... port=... user=... dbname=...
  kw=$(printf '%s\n' "$TENANTRY_PG_URL" |
    sed -E 's#^postgres(ql)?://(([^@:/]*)@)?([^:/?]*)(:([0-9]+))?/([^?]*).*#host=\4 port=\6 user=\3 dbname=\7#')
  kw=$(printf '%s\n' "$kw" | sed -E 's/(port|user)= / /g; s/ +/ /g')
  run kw-pg health --db "$kw"
  grep -q "^ok  *main  *postgres" kw-pg.out || fail "health did not reach PostgreSQL through '$kw'"
  [ "$(ls | grep -v '\.out$' || true)" = "" ] || fail "a keyword string created a file: $(ls)"
}

# ---- postgres:/x is a precise error, not "unknown scheme" -----------------------------------------
case_postgres_typo() {
  for url in "postgres:/x" "postgresql:/app" "postgres:app"; do
    expect 2 typo migrate status --db "$url"
    has typo "(two slashes)"
    hasnt typo "unknown scheme"
    short typo
  done
  expect 2 upper health --db "Postgres://localhost/app"
  has upper "lower case"
}

# ---- --version -----------------------------------------------------------------------------------
case_version() {
  run version --version
  has version "^tenantry-app $version (tenantry $version)"
  has version "SQLite library"
  has version "libpq"
}

# ---- destructive commands need --yes, and show a dry run without it -----------------------------
case_down_needs_yes() {
  db="sqlite:$PWD/app.db"
  run up migrate up --db "$db"
  tables=$(sql app.db "SELECT count(*) FROM sqlite_schema WHERE type = 'table'")
  expect 3 down-no migrate down 0 --db "$db"
  has down-no "would revert 0001 initial schema"
  has down-no "needs --yes"
  [ "$(sql app.db "SELECT count(*) FROM sqlite_schema WHERE type = 'table'")" = "$tables" ] ||
    fail "migrate down 0 without --yes dropped tables"
  run down-dry migrate down 0 --dry-run --db "$db"
  has down-dry "dry run: nothing was changed"
  [ "$(sql app.db "SELECT count(*) FROM sqlite_schema WHERE type = 'table'")" = "$tables" ] ||
    fail "migrate down 0 --dry-run dropped tables"
  expect 2 down-both migrate down 0 --yes --dry-run --db "$db"
  run down-yes migrate down 0 --yes --db "$db"
  has down-yes "at version 0"
  [ "$(sql app.db "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'organizations'")" = 0 ] ||
    fail "migrate down 0 --yes did not revert"
  run down-nothing migrate down 0 --db "$db"
  has down-nothing "nothing to revert"
}

case_force_needs_yes() {
  db="sqlite:$PWD/app.db"
  run up migrate up --db "$db"
  expect 3 force-no migrate force 0 --db "$db"
  has force-no "would forget 0001 initial schema"
  [ "$(sql app.db "SELECT count(*) FROM _tenantry_migrations")" = 1 ] || fail "migrate force 0 without --yes changed the records"
  run force-dry migrate force 0 --dry-run --db "$db"
  [ "$(sql app.db "SELECT count(*) FROM _tenantry_migrations")" = 1 ] || fail "migrate force 0 --dry-run changed the records"
  run force-same migrate force 1 --db "$db"
  has force-same "nothing to change"
  run force-yes migrate force 0 --yes --db "$db"
  [ "$(sql app.db "SELECT count(*) FROM _tenantry_migrations")" = 0 ] || fail "migrate force 0 --yes did not change the records"
  expect 1 force-unknown migrate force 7 --yes --db "$db"
  has force-unknown "no migration"
}

# ---- the schema files are overwritten only with --yes -----------------------------------------
case_schema_write_needs_yes() {
  run write-new schema --write --dialect sqlite --root "$PWD/m"
  file="$PWD/m/sqlite/0001_initial_schema.up.sql"
  [ -s "$file" ] || fail "schema --write did not write $file"
  echo "-- edited by hand" >>"$file"
  expect 3 write-no schema --write --dialect sqlite --root "$PWD/m"
  has write-no "would update"
  grep -q "edited by hand" "$file" || fail "schema --write without --yes overwrote $file"
  run write-yes schema --write --dialect sqlite --root "$PWD/m" --yes
  ! grep -q "edited by hand" "$file" || fail "schema --write --yes did not overwrite $file"
}

# ---- the demo never touches a database it did not create ---------------------------------------
case_demo_foreign_db() {
  db="sqlite:$PWD/real.db"
  run up migrate up --db "$db"
  # A real org whose slug is one the demo uses.
  run acme orgs create --slug acme --name "Acme (a real customer)" --db "$db"
  before=$(sql real.db "SELECT slug || '|' || display_name FROM organizations")
  expect 3 demo-real demo --db "$db"
  has demo-real "did not create"
  [ "$(sql real.db "SELECT slug || '|' || display_name FROM organizations")" = "$before" ] ||
    fail "the demo changed a database it did not create"
  # Not an SQLite database at all: refused, left as it was.
  echo "precious notes" >notes.txt
  expect 3 demo-text demo --db "sqlite:$PWD/notes.txt"
  [ "$(cat notes.txt)" = "precious notes" ] || fail "the demo changed notes.txt"
  # Its own database: made, then replaced by the next run.
  run demo-own demo --db "sqlite:$PWD/demo.db"
  has demo-own "demo ok"
  run demo-again demo --db "sqlite:$PWD/demo.db"
  has demo-again "demo ok"
  # The separate session database follows the same rule.
  run sess-up migrate up --db "sqlite:$PWD/main2.db" --session-db "sqlite:$PWD/sessions.db"
  sessions_before=$(cksum <sessions.db)
  expect 3 demo-sessions demo --db "sqlite:$PWD/demo2.db" --session-db "sqlite:$PWD/sessions.db"
  [ "$(cksum <sessions.db)" = "$sessions_before" ] || fail "the demo changed a session database it did not create"
}

# ---- migrate status exits non-zero when the history disagrees with the files -------------------
case_status_changed() {
  mkdir -p m
  cp "$upgrade_dir/../../sqlite/"*.sql m/  # the app's own migrations: the schema matches the entities
  db="sqlite:$PWD/app.db"
  run up migrate up --db "$db" --dir m
  run ok migrate status --db "$db" --dir m
  has ok "matches the entities"
  echo "-- edited after it was applied" >>m/0001_initial_schema.up.sql
  expect 4 changed migrate status --db "$db" --dir m
  has changed "FILE CHANGED"
  expect 4 up-changed migrate up --db "$db" --dir m
  rm m/0001_initial_schema.up.sql m/0001_initial_schema.down.sql
  expect 4 missing migrate status --db "$db" --dir m
  has missing "FILE MISSING"
}

# ---- bad numbers: one short line, exit 2 ---------------------------------------------------------
case_bad_numbers() {
  db="sqlite:$PWD/app.db"
  run up migrate up --db "$db"
  i=0
  for args in "migrate down abc" "migrate down -1" "migrate down 1.5" "migrate down 99999999999999999999999" \
    "migrate force x" "migrate force 1e3" "migrate up --to 0" "migrate up --to -3" "migrate up --to 2x" \
    "migrate fleet --dir . --connections 0" "migrate fleet --dir . --connections 1e9"; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    expect 2 "num$i" $args --db "$db"
    short "num$i"
    hasnt "num$i" "179769"
    has "num$i" "migration version\|whole number"
  done
  [ "$(sql app.db "SELECT count(*) FROM _tenantry_migrations")" = 1 ] || fail "a bad number changed the database"
}

# ---- errors name tenantry-app commands, never the C++ API ---------------------------------------
case_no_api_names() {
  # A dirty database (the refused no-transaction migration of the upgrade path).
  old="sqlite:$PWD/st.db"
  run st migrate up --db "$old" --dir "$upgrade_dir" --to 1
  run mt migrate up --db "$old" --dir "$upgrade_dir"
  run other orgs create --slug other --name Other --db "$old" --dir "$upgrade_dir"
  expect 1 back migrate down 1 --yes --db "$old" --dir "$upgrade_dir"
  expect 4 dirty migrate up --db "$old" --dir "$upgrade_dir"
  for out in back dirty; do
    hasnt "$out" "force("
    hasnt "$out" "status()"
    hasnt "$out" "tenantry: migrate:"
    has "$out" "tenantry-app migrate force 2 --yes"
  done
  # A changed file.
  mkdir -p m
  cp "$upgrade_dir"/0001_* m/
  run up2 migrate up --db "sqlite:$PWD/b.db" --dir m
  echo "-- edited" >>m/0001_single_tenant.up.sql
  expect 4 changed migrate up --db "sqlite:$PWD/b.db" --dir m
  hasnt changed "force()"
  has changed "tenantry-app migrate force VERSION --yes"
}

# ---- schema entities: the declarations that reproduce a database ---------------------------------
case_schema_entities() {
  db="sqlite:$PWD/e.db"
  expect 1 missing schema entities --db "sqlite:$PWD/missing.db"
  [ ! -e missing.db ] || fail "schema entities created missing.db"
  run up migrate up --db "$db"
  run entities schema entities --db "$db" --namespace adopted
  has entities "namespace adopted {"
  has entities "struct Organization {  // table organizations"
  has entities "struct tenantry::entity<adopted::Organization> {"
  has entities "static constexpr auto scope = tenantry::global;"
  has entities "tenantry::OrgId org_id;"
  has entities "using Entities = std::tuple<Organization, "
  hasnt entities "_tenantry_migrations"
  expect 2 entities-schema schema entities --db "$db" --schema public
  expect 2 unknown schema frobnicate
  has unknown "unknown command 'frobnicate' for schema"
}

# ---- exit codes: documented and stable, no CLI11 105/106/109 -------------------------------------
case_exit_codes() {
  expect 2 unknown-command frobnicate
  has unknown-command "unknown command 'frobnicate'"
  expect 2 unknown-subcommand migrate sideways
  has unknown-subcommand "unknown command 'sideways' for migrate"
  expect 2 unknown-option migrate status --bogus
  expect 2 missing-argument migrate down
  expect 2 no-command
  expect 2 bad-choice schema --dialect mysql
  expect 2 bad-url health --db mysql://localhost/app
  run help --help
  has help "Exit status: 0 ok, 1 failure, 2 bad command line or URL, 3 refused"
  run help-down migrate down --help
}

# ---- inspecting commands never create a database -------------------------------------------------
case_no_create() {
  for cmd in "migrate status" "migrate down 0 --yes" "migrate force 0 --yes" "orgs list" "health"; do
    tag=$(echo "$cmd" | cut -d' ' -f1-2 | tr ' ' '-')
    # shellcheck disable=SC2086
    expect 1 "nc-$tag" $cmd --db "sqlite:$PWD/missing.db"
    [ ! -e missing.db ] || fail "$cmd created missing.db"
  done
}

# ---- report: one org's multi-table reads, on the demo's database ---------------------------------
case_report() {
  db="sqlite:$PWD/demo.db"
  run demo demo --db "$db"
  run r-status report status --org acme --db "$db"
  has r-status "download_requests  *completed 1  pending 1$"
  has r-status "api_tokens  *active 1  inactive 1$"
  has r-status "access_requests  *approved 2  pending 1$"
  run r-status-g report status --org globex --db "$db"
  has r-status-g "(Globex, suspended)"
  has r-status-g "download_requests  *completed 1$"
  has r-status-g "api_tokens  *active 1$"
  run r-sql report status --org acme --sql --db "$db"
  has r-sql 'sql: SELECT "status", COUNT(\*) FROM "api_tokens" WHERE "org_id" = ?1 GROUP BY "status"'

  run r-tokens report tokens --org acme --sql --db "$db"
  has r-tokens "alice  *laptop .*alice@acme.example"
  has r-tokens "bob  *ci .*(no access request)"
  has r-tokens "2 token(s)"
  hasnt r-tokens "globex.example"
  has r-tokens 'LEFT JOIN "access_requests" AS "t1" ON .* AND "t1"."org_id" = ?1 AND "t1"."org_id" = "t0"."org_id"'
  run r-tokens-g report tokens --org globex --db "$db"
  has r-tokens-g "alice  *laptop .*alice@globex.example"
  has r-tokens-g "1 token(s)"
  hasnt r-tokens-g "acme.example"

  run r-toolsets report toolsets --org acme --user alice --db "$db"
  has r-toolsets "exa-search  *builtin-exa-web-search  *yes  *on  *yes"
  has r-toolsets "1 toolset(s) of 'alice', 1 usable"
  run r-toolsets-bob report toolsets --org globex --user bob --db "$db"
  has r-toolsets-bob "0 toolset(s) of 'bob', 0 usable"

  run r-models report models --org acme --db "$db"
  has r-models "llama3:instruct  *llama  *8192"
  has r-models "phi3:mini  *(no metadata yet"
  has r-models "2 alias(es), 1 waiting for metadata"
  run r-models-g report models --org globex --db "$db"
  has r-models-g "1 alias(es), 0 waiting for metadata"

  expect 1 r-unknown report status --org nope --db "$db"
  has r-unknown "no org with slug 'nope'"
  short r-unknown
  expect 2 r-no-org report tokens --db "$db"
  has r-no-org "\-\-org is required"
  expect 2 r-no-user report toolsets --org acme --db "$db"
  expect 2 r-sideways report sideways --db "$db"
  has r-sideways "unknown command 'sideways' for report"
  expect 1 r-missing report status --org acme --db "sqlite:$PWD/missing.db"
  has r-missing "migrate up"
  [ ! -e missing.db ] || fail "report created missing.db"
}

cases="flow keyword_db keyword_db_postgres postgres_typo version down_needs_yes force_needs_yes
  schema_write_needs_yes demo_foreign_db status_changed bad_numbers no_api_names exit_codes no_create report
  schema_entities"
[ "$only" = all ] || cases=$only
for c in $cases; do
  rm -rf "$work/$c"
  mkdir -p "$work/$c"
  (
    cd "$work/$c"
    "case_$c"
  )
  echo "app-cli: $c: ok"
done
