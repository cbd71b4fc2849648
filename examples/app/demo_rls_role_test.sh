#!/bin/sh
# app-demo-postgres-rls-role (CTest): the demo with --rls, connected as a role that is neither
# superuser nor BYPASSRLS, so that PostgreSQL really applies the policies of
# 0003_row_level_security (the test server's own role is a superuser, which ignores them). The
# role owns the demo's tables, so this is FORCE ROW LEVEL SECURITY at work: every org-scoped
# statement sees only the org the repositories set in app.current_org_id.
#   sh demo_rls_role_test.sh TENANTRY_APP      (TENANTRY_PG_URL: a postgres:// URL, trust login)
set -eu
app=$1
if [ -z "${TENANTRY_PG_URL:-}" ]; then
  echo "TENANTRY_PG_URL is not set: start a server with scripts/pg.sh start and export" \
    "TENANTRY_PG_URL=\$(scripts/pg.sh url), or run scripts/test.sh" >&2
  exit 1
fi
case "$TENANTRY_PG_URL" in
  postgres://* | postgresql://*) ;;
  *) echo "app-demo-postgres-rls-role: TENANTRY_PG_URL must be a postgres:// URL here" >&2; exit 1 ;;
esac

role=tenantry_app_demo
psql "$TENANTRY_PG_URL" -X -q -v ON_ERROR_STOP=1 \
  -c "DO \$\$ BEGIN CREATE ROLE $role LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" \
  -c "DO \$\$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO $role', current_database()); END \$\$"
# The same server and database, as that role.
url=$(printf '%s\n' "$TENANTRY_PG_URL" | sed -E "s#^(postgres(ql)?://)([^@/]*@)?#\\1$role@#")

out=$("$app" demo --rls --db "$url") || { printf '%s\n' "$out"; exit 1; }
printf '%s\n' "$out"
if printf '%s\n' "$out" | grep -q "superuser or BYPASSRLS"; then
  echo "app-demo-postgres-rls-role: FAILED: the demo ran as a role that bypasses row-level security" >&2
  exit 1
fi
printf '%s\n' "$out" | grep -q "refused by the row-level security policy" || {
  echo "app-demo-postgres-rls-role: FAILED: PostgreSQL's policy did not refuse the cross-org session write" >&2
  exit 1
}
