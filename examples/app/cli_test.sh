#!/bin/sh
# app-cli (CTest): tenantry-app's migrate, orgs and health commands on SQLite files, including the
# upgrade path from the single-tenant schema and the dirty/force protocol of a refused
# no-transaction migration.
#   sh cli_test.sh TENANTRY_APP WORKDIR UPGRADE_DIR
set -eu
app=$1
work=$2
upgrade_dir=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"

fail() {
  echo "app-cli: FAILED: $*" >&2
  exit 1
}
# run NAME ARGS...: runs the app, its output in NAME.out (and shown), failing on a non-zero exit.
run() {
  name=$1
  shift
  echo "+ tenantry-app $*"
  "$app" "$@" >"$name.out" 2>&1 || { cat "$name.out"; fail "tenantry-app $* exited with $?"; }
  cat "$name.out"
}
# refuse NAME ARGS...: the app must exit with status 1.
refuse() {
  name=$1
  shift
  echo "+ tenantry-app $* (must fail)"
  status=0
  "$app" "$@" >"$name.out" 2>&1 || status=$?
  cat "$name.out"
  [ "$status" -eq 1 ] || fail "tenantry-app $* exited with $status, expected 1"
}
has() { grep -q -- "$2" "$1.out" || fail "$1: expected '$2' in the output"; }

db="sqlite:$work/cli.db"

# A database without the schema: the orgs commands refuse and say what to run.
refuse no-schema orgs list --db "$db"
has no-schema "migrate up"

run up1 migrate up --db "$db"
has up1 "0001 initial schema"
has up1 "at version 1"
run up2 migrate up --db "$db"
has up2 "nothing to apply"
run status1 migrate status --db "$db"
has status1 "applied"

run create orgs create --slug acme --name "Acme Corp" --db "$db"
refuse create-again orgs create --slug acme --name "Acme again" --db "$db"
has create-again "already exists"
run suspend orgs suspend --slug acme --db "$db"
run list orgs list --db "$db"
grep -q "^acme  *suspended" list.out || fail "orgs list: acme is not suspended"

run health health --db "$db"
grep -q "^ok" health.out || fail "health did not say ok"
refuse health-missing health --db "sqlite:$work/does-not-exist.db"
[ ! -e "$work/does-not-exist.db" ] || fail "health created a database"

run down migrate down 0 --db "$db"
has down "0001 initial schema"
run status2 migrate status --db "$db"
has status2 "pending"

# The upgrade path: a single-tenant database with data, upgraded, then back.
old="sqlite:$work/single-tenant.db"
run st migrate up --db "$old" --dir "$upgrade_dir" --to 1
has st "at version 1"
sqlite3 "$work/single-tenant.db" \
  "INSERT INTO user_aliases VALUES ('0191e2a4-0000-7000-8000-000000000001', 'llama3:instruct', 'repo', 'file.gguf',
     'main', '{}', '[]', '2024-01-31T12:00:00.000000Z', '2024-01-31T12:00:00.000000Z');"
run mt migrate up --db "$old" --dir "$upgrade_dir"
has mt "0002 multi tenant"
has mt "at version 2"
run mt-list orgs list --db "$old" --dir "$upgrade_dir"
grep -q "^default  *active  *00000000-0000-4000-8000-000000000001" mt-list.out || fail "no default org after the upgrade"
[ "$(sqlite3 "$work/single-tenant.db" "SELECT org_id FROM user_aliases")" = 00000000-0000-4000-8000-000000000001 ] ||
  fail "the alias did not move into the default org"

# migrate status compares the schema with the entities: a hand edit makes it exit 1, naming it.
run mt-status migrate status --db "$old" --dir "$upgrade_dir"
has mt-status "schema: matches the entities"
sqlite3 "$work/single-tenant.db" "DROP INDEX ix_api_tokens_org_id_user_id;"
refuse drifted migrate status --db "$old" --dir "$upgrade_dir"
has drifted "DRIFTED"
has drifted "api_tokens: add index ix_api_tokens_org_id_user_id (org_id, user_id)"
sqlite3 "$work/single-tenant.db" 'CREATE INDEX "ix_api_tokens_org_id_user_id" ON "api_tokens" ("org_id", "user_id");'
run undrifted migrate status --db "$old" --dir "$upgrade_dir"

# With a second org, going back is refused; the no-transaction file leaves the database dirty,
# every run refuses until force.
run other orgs create --slug other --name Other --db "$old" --dir "$upgrade_dir"
refuse back-refused migrate down 1 --db "$old" --dir "$upgrade_dir"
has back-refused "other_orgs_exist"
has back-refused "dirty"
refuse up-dirty migrate up --db "$old" --dir "$upgrade_dir"
has up-dirty "dirty at version 2"
run status-dirty migrate status --db "$old" --dir "$upgrade_dir"
has status-dirty "DIRTY"
# The refused file rolled back its own transaction: nothing changed, so the database is at 2.
run force migrate force 2 --db "$old" --dir "$upgrade_dir"
sqlite3 "$work/single-tenant.db" "PRAGMA foreign_keys = ON; DELETE FROM organizations WHERE slug = 'other';"
run back migrate down 1 --db "$old" --dir "$upgrade_dir"
has back "at version 1"
[ "$(sqlite3 "$work/single-tenant.db" "SELECT alias FROM user_aliases")" = "llama3:instruct" ] ||
  fail "the alias did not survive the way back"
[ -z "$(sqlite3 "$work/single-tenant.db" "SELECT name FROM pragma_table_info('user_aliases') WHERE name = 'org_id'")" ] ||
  fail "org_id is still there after down"

# migrate verify / diff: the next migration written from the database and the entities, refusing
# to lose data unless allowed; the files go into a copy of the fresh directory.
mig="$work/mig"
mkdir -p "$mig"
cp "$upgrade_dir/../../sqlite/"*.sql "$mig/"
gdb="sqlite:$work/gen.db"
run g-up migrate up --db "$gdb" --dir "$mig"
run g-verify migrate verify --db "$gdb" --dir "$mig"
has g-verify "matches the entities"
run g-none migrate diff nothing --db "$gdb" --dir "$mig"
has g-none "no differences"
sqlite3 "$work/gen.db" "DROP INDEX ix_toolsets_org_id_toolset_type; ALTER TABLE user_aliases ADD COLUMN notes TEXT;"
refuse g-drift migrate verify --db "$gdb" --dir "$mig"
has g-drift "toolsets: add index ix_toolsets_org_id_toolset_type"
refuse g-refused migrate diff fix --db "$gdb" --dir "$mig"
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
run g-down migrate down 1 --db "$gdb" --dir "$mig"
[ -n "$(sqlite3 "$work/gen.db" "SELECT name FROM pragma_table_info('user_aliases') WHERE name = 'notes'")" ] ||
  fail "the down file did not put the column back"

echo "app-cli: ok"
