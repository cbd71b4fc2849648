// Per-org encrypted columns (include/tenantry/encrypted.hpp) on real SQLite files and a real
// PostgreSQL: round trips, ciphertexts moved across orgs and columns, tampering, wrong and missing
// keys, rotation (all or nothing under a fault injected half-way by the database itself), and no
// plaintext on disk (the SQLite file's bytes and a pg_dump are searched).
#include "service_support.hpp"
#include "support/expect_throw.hpp"

#include "app/entities.hpp"
#include "app/repositories.hpp"
#include "app/schema.hpp"

#include <tenantry/encrypted.hpp>
#include <tenantry/tenantry.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

using tenantry::Bytes;
using tenantry::Database;
using tenantry::Encrypted;
using tenantry::MissingKey;
using tenantry::OrgId;
using tenantry::OrgKeyRecord;
using tenantry::OrgKeys;
using tenantry::OrgKeyState;
using tenantry::PlatformKey;
using tenantry::TamperedCiphertext;
using tenantry::Uuid;
using tenantry::WrongKey;
using tenantry::org_row_secret;
using tenantry::secret;
using testdb::expect_throw;

namespace enc {

/// An org-scoped table with the column type itself: a required secret, an optional binary one,
/// and a plain text column (to move ciphertexts into).
struct Vault {
  Uuid id{};
  tenantry::OrgId org_id{};
  std::string name{};
  Encrypted<std::string> api_key{};
  std::optional<Encrypted<Bytes>> blob{};
  std::optional<std::string> note{};
};

}  // namespace enc

template <>
struct tenantry::entity<enc::Vault> {
  static constexpr std::string_view table = "vault_secrets";
  static constexpr auto primary_key = key(&enc::Vault::id);
  static constexpr auto constraints = std::tuple{unique(&enc::Vault::org_id, &enc::Vault::name)};
};

namespace {

using enc::Vault;
constexpr auto api_key = secret<&Vault::api_key>;
constexpr auto blob = secret<&Vault::blob>;
constexpr auto note = secret<&Vault::note>;
constexpr auto toolset_key = secret<&app::Toolset::encrypted_api_key>;
constexpr auto remote_key = secret<&app::ApiModelAlias::encrypted_api_key>;
constexpr auto client_secret = org_row_secret<&app::Organization::client_secret, &app::Organization::id>;

Bytes bytes_of(std::string_view s) {
  Bytes b;
  for (char c : s) b.push_back(static_cast<std::byte>(c));
  return b;
}

/// A database with the app's schema, the org keys table and vault_secrets, and two orgs.
struct VaultWorld {
  Database db;
  OrgId acme, globex;
  explicit VaultWorld(const std::string& url) : db(tenantry::connect(url)) {
    app::create_app_schema(db);
    tenantry::create_tables<OrgKeyRecord, Vault>(db);
    app::OrgRepository<tenantry::AnyDialect> orgs(db);
    acme = add(orgs, "acme");
    globex = add(orgs, "globex");
  }
  static OrgId add(app::OrgRepository<tenantry::AnyDialect>& orgs, std::string slug) {
    app::Organization o{.slug = slug, .display_name = slug, .kc_client_id = "kc-" + slug, .client_secret = "",
                        .encryption_key = "tenantry_org_keys"};
    orgs.create_org(o);
    return OrgId{o.id};
  }
  Vault add_vault(OrgKeys& keys, OrgId org, std::string name, std::string secret_text) {
    Vault v{.id = Uuid::random(), .name = std::move(name), .api_key = keys.seal(db, org, api_key, secret_text)};
    tenantry::Repository<Vault>(db).insert(org, v);
    return v;
  }
  std::vector<Vault> vaults(OrgId org) {
    return tenantry::Repository<Vault>(db).list(org, tenantry::order_by(&Vault::name));
  }
  std::vector<OrgKeyRecord> key_rows(OrgId org) {
    return tenantry::Repository<OrgKeyRecord>(db).list(org, tenantry::order_by(&OrgKeyRecord::version));
  }
};

}  // namespace

TEST_CASE("encrypted: a secret round-trips through the database, sealed differently each time", "[encrypted]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    VaultWorld w(b.url);
    OrgKeys keys(PlatformKey::generate());
    CHECK(keys.provision(w.db, w.acme) == 1);
    CHECK(keys.provision(w.db, w.acme) == 1);  // idempotent

    Vault v = w.add_vault(keys, w.acme, "openai", "sk-live-123");
    v.blob = keys.seal(w.db, w.acme, blob, bytes_of(std::string("\0\x01\xff binary", 10)));
    REQUIRE(tenantry::Repository<Vault>(w.db).update(w.acme, v));

    auto back = tenantry::Repository<Vault>(w.db).find(w.acme, v.id);
    REQUIRE(back);
    CHECK(back->api_key.envelope().starts_with("tnt1:1:"));
    CHECK(back->api_key.envelope().find("sk-live") == std::string::npos);
    CHECK(keys.open(w.db, w.acme, api_key, back->api_key) == "sk-live-123");
    REQUIRE(back->blob);
    CHECK(keys.open(w.db, w.acme, blob, *back->blob) == bytes_of(std::string("\0\x01\xff binary", 10)));

    // The same plaintext seals to a different envelope (fresh nonce); both open.
    const auto again = keys.seal(w.db, w.acme, api_key, std::string("sk-live-123"));
    CHECK(again != back->api_key);
    CHECK(keys.open(w.db, w.acme, api_key, again) == "sk-live-123");
    // The empty string is a secret like any other.
    CHECK(keys.open(w.db, w.acme, api_key, keys.seal(w.db, w.acme, api_key, std::string())).empty());

    // A process with an empty cache (another replica) opens it from the stored, wrapped key.
    OrgKeys other(keys.platform());
    CHECK(other.open(w.db, w.acme, api_key, back->api_key) == "sk-live-123");

    // An Encrypted value that was never sealed is refused before anything is written.
    Vault bad{.id = Uuid::random(), .name = "unsealed"};
    expect_throw<tenantry::ValueError>([&] { tenantry::Repository<Vault>(w.db).insert(w.acme, bad); });
    CHECK(w.vaults(w.acme).size() == 1);
  });
}

TEST_CASE("encrypted: a ciphertext copied into another org's row does not open there", "[encrypted]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    VaultWorld w(b.url);
    OrgKeys keys(PlatformKey::generate());
    keys.provision(w.db, w.acme);
    keys.provision(w.db, w.globex);
    const Vault a = w.add_vault(keys, w.acme, "openai", "acme-secret");
    // An attacker with write access to globex's rows copies acme's ciphertext across.
    Vault stolen{.id = Uuid::random(), .name = "openai", .api_key = a.api_key};
    tenantry::Repository<Vault>(w.db).insert(w.globex, stolen);
    const auto in_globex = w.vaults(w.globex).at(0);
    CHECK(in_globex.api_key == a.api_key);
    auto e = expect_throw<WrongKey>([&] { (void)keys.open(w.db, w.globex, api_key, in_globex.api_key); });
    CHECK_THAT(e.what(), Catch::Contains("another org"));
    // ... also through a process that has never seen acme's key.
    OrgKeys fresh(keys.platform());
    expect_throw<WrongKey>([&] { (void)fresh.open(w.db, w.globex, api_key, in_globex.api_key); });
    // Still fine where it belongs.
    CHECK(keys.open(w.db, w.acme, api_key, a.api_key) == "acme-secret");

    // Even if both orgs' key fingerprints were forged alike, the org id in the associated data
    // refuses it: the same envelope opened as org B fails authentication, never yields acme's text.
    CHECK_THROWS_AS(keys.open(w.db, w.globex, toolset_key, a.api_key.envelope()), tenantry::EncryptionError);
  });
}

TEST_CASE("encrypted: a ciphertext moved to another column or table does not open", "[encrypted]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    VaultWorld w(b.url);
    OrgKeys keys(PlatformKey::generate());
    keys.provision(w.db, w.acme);
    const Vault v = w.add_vault(keys, w.acme, "openai", "acme-secret");
    // Same org, same key, another column of the same table.
    expect_throw<TamperedCiphertext>([&] { (void)keys.open(w.db, w.acme, note, v.api_key.envelope()); });
    // Another table's column.
    expect_throw<TamperedCiphertext>([&] { (void)keys.open(w.db, w.acme, toolset_key, v.api_key.envelope()); });
    // A toolset key pasted into the remote-API key column.
    const std::string tk = keys.seal(w.db, w.acme, toolset_key, std::string("exa-key"));
    expect_throw<TamperedCiphertext>([&] { (void)keys.open(w.db, w.acme, remote_key, tk); });
    CHECK(keys.open(w.db, w.acme, toolset_key, tk) == "exa-key");
  });
}

TEST_CASE("encrypted: tampered and malformed ciphertexts are TamperedCiphertext", "[encrypted]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    VaultWorld w(b.url);
    OrgKeys keys(PlatformKey::generate());
    keys.provision(w.db, w.acme);
    const std::string good = keys.seal(w.db, w.acme, note, std::string("hello"));
    // Flip one bit of every byte position of the base64 payload, one at a time: none opens.
    const auto payload_at = good.find(':', 5) + 1;
    std::size_t refused = 0;
    for (std::size_t i = payload_at; i + 2 < good.size(); ++i) {
      std::string bad = good;
      bad[i] = bad[i] == 'A' ? 'B' : 'A';
      try {
        (void)keys.open(w.db, w.acme, note, bad);
      } catch (const TamperedCiphertext&) {
        ++refused;
      } catch (const WrongKey&) {
        ++refused;  // the change hit the key fingerprint
      }
    }
    CHECK(refused == good.size() - 2 - payload_at);
    for (std::string bad : {std::string(""), std::string("sk-plain"), std::string("tnt1:1:"), std::string("tnt1:x:AAAA"),
                            good.substr(0, good.size() - 8), "tnt1:0:" + good.substr(payload_at)})
      expect_throw<TamperedCiphertext>([&] { (void)keys.open(w.db, w.acme, note, bad); });
    CHECK(keys.open(w.db, w.acme, note, good) == "hello");
  });
}

TEST_CASE("encrypted: a wrong platform key and missing keys are told apart", "[encrypted]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    VaultWorld w(b.url);
    OrgKeys keys(PlatformKey::generate());
    keys.provision(w.db, w.acme);
    const Vault v = w.add_vault(keys, w.acme, "openai", "acme-secret");

    OrgKeys wrong(PlatformKey::generate());
    auto e = expect_throw<WrongKey>([&] { (void)wrong.open(w.db, w.acme, api_key, v.api_key); });
    CHECK_THAT(e.what(), Catch::Contains("platform key"));
    expect_throw<WrongKey>([&] { (void)wrong.seal(w.db, w.acme, api_key, std::string("x")); });

    // No key for the org: it was never provisioned.
    expect_throw<MissingKey>([&] { (void)keys.seal(w.db, w.globex, api_key, std::string("x")); });
    // An envelope naming a version the org never had.
    std::string later = v.api_key.envelope();
    later.replace(5, 1, "7");
    expect_throw<MissingKey>([&] { (void)keys.open(w.db, w.acme, note, later); });
    // A wrapped org key copied to another org's row does not unwrap there.
    auto rows = w.key_rows(w.acme);
    OrgKeyRecord copy = rows.at(0);
    copy.org_id = w.globex;
    tenantry::Repository<OrgKeyRecord>(w.db).insert(w.globex, copy);
    OrgKeys fresh(keys.platform());
    expect_throw<TamperedCiphertext>([&] { (void)fresh.seal(w.db, w.globex, api_key, std::string("x")); });
  });
}

TEST_CASE("encrypted: the platform key comes from the environment or a file, never silently absent", "[encrypted]") {
  const PlatformKey k = PlatformKey::generate();
  CHECK(PlatformKey::from_text(k.to_text()).fingerprint() == k.fingerprint());
  CHECK(PlatformKey::from_text("  " + k.to_text() + "\n").fingerprint() == k.fingerprint());
  std::string raw;
  for (std::size_t i = 0; i < 32; ++i) raw += static_cast<char>(k.bytes().b[i]);
  CHECK(PlatformKey::from_text(tenantry::detail::base64(raw)).fingerprint() == k.fingerprint());
  expect_throw<tenantry::KeyConfigError>([] { (void)PlatformKey::from_text("short"); });
  expect_throw<tenantry::KeyConfigError>([] { (void)PlatformKey::from_text(std::string(64, 'z')); });
  expect_throw<tenantry::KeyConfigError>([] { (void)PlatformKey::from_file("/nonexistent/tenantry-key"); });

  svctest::TempFile file("key");
  {
    std::ofstream(file.string(), std::ios::binary) << raw;  // 32 raw bytes
  }
  CHECK(PlatformKey::from_file(file.string()).fingerprint() == k.fingerprint());

  const char* saved = std::getenv("TENANTRY_PLATFORM_KEY");
  const std::string saved_value = saved ? saved : "";
  ::unsetenv("TENANTRY_PLATFORM_KEY");
  ::unsetenv("TENANTRY_PLATFORM_KEY_FILE");
  expect_throw<MissingKey>([] { (void)PlatformKey::from_environment(); });
  ::setenv("TENANTRY_PLATFORM_KEY_FILE", file.string().c_str(), 1);
  CHECK(PlatformKey::from_environment().fingerprint() == k.fingerprint());
  ::unsetenv("TENANTRY_PLATFORM_KEY_FILE");
  ::setenv("TENANTRY_PLATFORM_KEY", k.to_text().c_str(), 1);
  CHECK(PlatformKey::from_environment().fingerprint() == k.fingerprint());
  if (saved) ::setenv("TENANTRY_PLATFORM_KEY", saved_value.c_str(), 1);
  else ::unsetenv("TENANTRY_PLATFORM_KEY");
}

namespace {

/// Seeds acme with 6 vault rows, a toolset, a remote API alias and its client secret; globex with
/// one vault row. Returns the plaintexts by name.
struct Seeded {
  std::vector<std::string> names;
  Uuid toolset, alias;
};

Seeded seed(VaultWorld& w, OrgKeys& keys) {
  keys.provision(w.db, w.acme);
  keys.provision(w.db, w.globex);
  Seeded s;
  for (int i = 1; i <= 6; ++i) {
    s.names.push_back("row-" + std::to_string(i));
    w.add_vault(keys, w.acme, s.names.back(), "secret-" + std::to_string(i));
  }
  w.add_vault(keys, w.globex, "row-1", "globex-secret");
  app::ToolsetRepository<tenantry::AnyDialect> tools(w.db);
  app::Toolset t{.user_id = "u1", .toolset_type = "web-search", .slug = "exa",
                 .encrypted_api_key = keys.seal(w.db, w.acme, toolset_key, std::string("exa-key"))};
  tools.create_toolset(w.acme, t);
  s.toolset = t.id;
  app::ModelRepository<tenantry::AnyDialect> models(w.db);
  app::ApiModelAlias a{.name = "openai", .base_url = "https://api.example", .models = {"[]"},
                       .encrypted_api_key = keys.seal(w.db, w.acme, remote_key, std::string("sk-remote"))};
  tenantry::Repository<app::ApiModelAlias>(w.db).insert(w.acme, a);
  s.alias = a.id;
  tenantry::Repository<app::Organization>(w.db).set(
      w.acme.value, &app::Organization::client_secret,
      keys.seal(w.db, w.acme, client_secret, std::string("oauth-client-secret")));
  return s;
}

/// Every stored envelope of acme and globex, in a fixed order, to compare before and after.
std::vector<std::string> envelopes(VaultWorld& w) {
  std::vector<std::string> out;
  for (OrgId org : {w.acme, w.globex})
    for (const Vault& v : w.vaults(org)) out.push_back(v.api_key.envelope());
  for (const auto& t : tenantry::Repository<app::Toolset>(w.db).list(w.acme)) out.push_back(t.encrypted_api_key.value_or(""));
  for (const auto& a : tenantry::Repository<app::ApiModelAlias>(w.db).list(w.acme))
    out.push_back(a.encrypted_api_key.value_or(""));
  out.push_back(tenantry::Repository<app::Organization>(w.db).find(w.acme.value)->client_secret);
  return out;
}

template <class Keys>
void check_all_open(VaultWorld& w, Keys& keys) {
  const auto rows = w.vaults(w.acme);
  REQUIRE(rows.size() == 6);
  for (std::size_t i = 0; i < rows.size(); ++i)
    CHECK(keys.open(w.db, w.acme, api_key, rows[i].api_key) == "secret-" + std::to_string(i + 1));
  CHECK(keys.open(w.db, w.globex, api_key, w.vaults(w.globex).at(0).api_key) == "globex-secret");
  const auto t = tenantry::Repository<app::Toolset>(w.db).list(w.acme).at(0);
  CHECK(keys.open(w.db, w.acme, toolset_key, *t.encrypted_api_key) == "exa-key");
  const auto a = tenantry::Repository<app::ApiModelAlias>(w.db).list(w.acme).at(0);
  CHECK(keys.open(w.db, w.acme, remote_key, *a.encrypted_api_key) == "sk-remote");
  const auto o = tenantry::Repository<app::Organization>(w.db).find(w.acme.value);
  CHECK(keys.open(w.db, w.acme, client_secret, o->client_secret) == "oauth-client-secret");
}

}  // namespace

TEST_CASE("encrypted: rotation re-seals every value of the org under a new key in one call", "[encrypted]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    VaultWorld w(b.url);
    OrgKeys keys(PlatformKey::generate());
    seed(w, keys);
    const auto before = envelopes(w);

    const auto report = keys.rotate(w.db, w.acme, api_key, blob, toolset_key, remote_key, client_secret);
    CHECK(report.old_version == 1);
    CHECK(report.new_version == 2);
    CHECK(report.resealed == 9);  // 6 vault rows, the toolset, the alias, the client secret
    CHECK(report.skipped == 0);

    const auto after = envelopes(w);
    REQUIRE(after.size() == before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
      INFO("value " << i);
      if (i == 6) {
        CHECK(after[i] == before[i]);  // globex's row: not touched
        CHECK(after[i].starts_with("tnt1:1:"));
      } else {
        CHECK(after[i] != before[i]);
        CHECK(after[i].starts_with("tnt1:2:"));
      }
    }
    check_all_open(w, keys);
    OrgKeys fresh(keys.platform());  // another replica, cold cache
    check_all_open(w, fresh);
    CHECK(keys.active_version(w.db, w.acme) == 2);
    CHECK(keys.seal(w.db, w.acme, api_key, std::string("new")).envelope().starts_with("tnt1:2:"));

    const auto rows = w.key_rows(w.acme);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].state == OrgKeyState::retired);
    CHECK(rows[1].state == OrgKeyState::active);
    CHECK(w.key_rows(w.globex).size() == 1);

    // Again: version 3; nothing of version 1 or 2 is left in acme's values.
    CHECK(keys.rotate(w.db, w.acme, api_key, blob, toolset_key, remote_key, client_secret).new_version == 3);
    for (std::size_t i = 0; i < 6; ++i) CHECK(w.vaults(w.acme)[i].api_key.envelope().starts_with("tnt1:3:"));
    check_all_open(w, fresh);
  });
}

TEST_CASE("encrypted: a rotation that fails half-way changes nothing", "[encrypted]") {
  svctest::on_each_backend([](const svctest::Backend& b) {
    VaultWorld w(b.url);
    OrgKeys keys(PlatformKey::generate());
    seed(w, keys);
    const auto before = envelopes(w);
    const auto keys_before = w.key_rows(w.acme);

    // The database itself fails the update of the fourth row, after three were re-sealed.
    if (b.name == "sqlite") {
      w.db.execute(
          "CREATE TRIGGER fault BEFORE UPDATE OF api_key ON vault_secrets WHEN NEW.name = 'row-4' "
          "BEGIN SELECT RAISE(ABORT, 'injected fault'); END");
    } else {
      w.db.execute(
          "CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'row-4' THEN "
          "RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$;"
          "CREATE TRIGGER fault BEFORE UPDATE ON vault_secrets FOR EACH ROW EXECUTE FUNCTION fault()");
    }
    auto e = expect_throw<tenantry::DatabaseError>(
        [&] { keys.rotate(w.db, w.acme, api_key, blob, toolset_key, remote_key, client_secret); });
    CHECK_THAT(e.what(), Catch::Contains("injected fault"));

    CHECK(envelopes(w) == before);
    const auto keys_after = w.key_rows(w.acme);
    REQUIRE(keys_after.size() == keys_before.size());
    CHECK(keys_after[0].wrapped_key == keys_before[0].wrapped_key);
    CHECK(keys_after[0].state == OrgKeyState::active);
    // Neither this process nor a fresh one learned of the key that was rolled back.
    CHECK(keys.active_version(w.db, w.acme) == 1);
    CHECK(keys.seal(w.db, w.acme, api_key, std::string("x")).envelope().starts_with("tnt1:1:"));
    OrgKeys fresh(keys.platform());
    check_all_open(w, fresh);

    // A value that does not open (tampered) stops the rotation the same way.
    w.db.execute(b.name == "sqlite" ? "DROP TRIGGER fault" : "DROP TRIGGER fault ON vault_secrets");
    auto rows = w.vaults(w.acme);
    std::string bad = rows[2].api_key.envelope();
    bad[bad.size() - 4] = bad[bad.size() - 4] == 'A' ? 'B' : 'A';
    tenantry::Repository<Vault>(w.db).set(w.acme, rows[2].id, &Vault::api_key, Encrypted<std::string>::from_envelope(bad));
    const auto before_tampered = envelopes(w);
    expect_throw<TamperedCiphertext>(
        [&] { keys.rotate(w.db, w.acme, api_key, blob, toolset_key, remote_key, client_secret); });
    CHECK(envelopes(w) == before_tampered);
    CHECK(w.key_rows(w.acme).size() == 1);

    // Repaired, the rotation goes through, as version 2 (the failed attempts left no version).
    tenantry::Repository<Vault>(w.db).set(w.acme, rows[2].id, &Vault::api_key, rows[2].api_key);
    CHECK(keys.rotate(w.db, w.acme, api_key, blob, toolset_key, remote_key, client_secret).new_version == 2);
    check_all_open(w, fresh);
  });
}

TEST_CASE("encrypted: no secret is on disk in clear (SQLite file bytes, pg_dump)", "[encrypted]") {
  const std::string marker = "PLAINTEXT-MARKER-7f3a9c";
  const auto fill = [&](VaultWorld& w, OrgKeys& keys) {
    keys.provision(w.db, w.acme);
    for (int i = 0; i < 20; ++i) w.add_vault(keys, w.acme, "row-" + std::to_string(i), marker + std::to_string(i));
    app::Toolset t{.user_id = "u1", .toolset_type = "web-search", .slug = "exa",
                   .encrypted_api_key = keys.seal(w.db, w.acme, toolset_key, marker)};
    app::ToolsetRepository<tenantry::AnyDialect>(w.db).create_toolset(w.acme, t);
    keys.rotate(w.db, w.acme, api_key, toolset_key);  // old ciphertexts may linger in free pages: still not clear
  };
  const PlatformKey platform = PlatformKey::generate();
  {
    svctest::TempFile file("clear");
    {
      VaultWorld w(file.url());
      OrgKeys keys(platform);
      fill(w, keys);
      CHECK(keys.open(w.db, w.acme, api_key, w.vaults(w.acme).at(0).api_key) == marker + "0");
    }
    std::string bytes = svctest::read_file(file.string()) + svctest::read_file(file.string() + "-wal");
    REQUIRE(bytes.size() > 4096);
    CHECK(bytes.find("vault_secrets") != std::string::npos);  // we are reading the right file
    CHECK(bytes.find("PLAINTEXT-MARKER") == std::string::npos);
    CHECK(bytes.find(platform.to_text()) == std::string::npos);
  }
  {
    const std::string url = tenantry_test::pg_url();
    {
      VaultWorld w(url);
      OrgKeys keys(platform);
      fill(w, keys);
    }
    const std::string dump = svctest::command_output("pg_dump --no-owner '" + url + "'");
    CHECK(dump.find("vault_secrets") != std::string::npos);
    CHECK(dump.find("tnt1:2:") != std::string::npos);
    CHECK(dump.find("PLAINTEXT-MARKER") == std::string::npos);
    CHECK(dump.find(platform.to_text()) == std::string::npos);
  }
}
