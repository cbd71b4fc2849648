// tenantry/encrypted.hpp - per-org encrypted columns (AES-256-GCM, OpenSSL; link tenantry::encrypted).
//
//   struct Toolset { Uuid id; OrgId org_id; std::optional<Encrypted<std::string>> api_key; ... };
//
//   tenantry::OrgKeys keys{tenantry::PlatformKey::from_environment()};  // TENANTRY_PLATFORM_KEY[_FILE]
//   keys.provision(db, org);                                            // once, when the org is created
//   t.api_key = keys.seal(db, org, tenantry::secret<&Toolset::api_key>, "sk-live-...");
//   tools.insert(org, t);
//   std::string key = keys.open(db, org, tenantry::secret<&Toolset::api_key>, *t.api_key);
//   keys.rotate(db, org, tenantry::secret<&Toolset::api_key>);         // new org key, all or nothing
//
// The scheme (docs/service.md has the long form):
//
//   * Every org has its own 256-bit data key, with a version number (1, 2, ... one per rotation).
//     Org keys live in the database, in the table tenantry_org_keys (entity OrgKeyRecord: add it to
//     your schema), but only wrapped: AES-256-GCM-encrypted under the platform key, with the org id
//     and the version as associated data. The platform key itself never touches the database: it
//     comes from the environment (TENANTRY_PLATFORM_KEY, 64 hex digits or base64 of 32 bytes) or a
//     file (TENANTRY_PLATFORM_KEY_FILE, the same text or 32 raw bytes).
//   * A secret is sealed with AES-256-GCM under its org's current key, a fresh random 96-bit nonce,
//     and as associated data the org id, the table and column it is stored in, and the key version.
//     So a ciphertext copied into another org's row, or into another column, does not open: the
//     authentication tag covers where it may live, not only what it says.
//   * The stored form is text (TEXT in both dialects), "tnt1:<version>:<base64>", where the base64
//     holds an 8-byte fingerprint of the org key, the nonce, the ciphertext and the tag. Plain
//     std::string columns may hold these envelopes too (for schemas that predate Encrypted<T>);
//     Encrypted<T> makes the intent a type: it cannot be built from a plaintext, only by seal().
//
// Errors (all EncryptionError, itself a tenantry::Error), each meaning one thing:
//   MissingKey          no platform key is configured, the org has no key (not provisioned), or
//                       the envelope names a key version the org does not have
//   WrongKey            the key at hand is not the one the data was sealed with: the org key was
//                       wrapped by another platform key, or the secret was sealed by another org's
//                       key (it was copied from another org's row)
//   TamperedCiphertext  the key is the right one but authentication failed: bytes were changed,
//                       the envelope is malformed, or it was moved to another column
//   KeyConfigError      the configured platform key is not 32 bytes in a known form
//
// Rotation. rotate(db, org, columns...) creates the org's next key version, re-seals every value of
// the listed columns of that org under it, and retires the old version, in one transaction (a
// savepoint inside an open one): if anything fails half-way - a database error, a value that does
// not open - nothing is changed and the old key stays active. Retired versions are kept, so a value
// written concurrently by a process whose cache still named the old version remains readable; the
// next rotation re-seals it. Each value is replaced with a compare-and-set on its old envelope, so
// a secret replaced concurrently is never overwritten with the re-sealed old one.
//
// Caching. Unwrapped org keys are cached in memory per (org, version) for the OrgKeys object's
// life (a version's key never changes). Which version is active is cached for
// OrgKeysOptions::active_ttl; invalidate(org) forgets it at once (call it when another process
// may have rotated). Nothing read or created inside a transaction is cached (it may yet roll back,
// and a rolled-back version number is later reused for another key): provision and rotate inside
// a caller's transaction work, the cache simply learns the key on a later use outside one.
// OrgKeys is thread-safe; share one per process.
//
// What it does not do: the ciphertext length reveals the plaintext length; a sealed value is not
// bound to its row, so within one org and column two rows may swap secrets (the org boundary,
// which is tenantry's promise, holds); predicates on an encrypted column compare ciphertexts,
// which are random, so they only find a value by its exact envelope.
#pragma once

#include "tenantry/entity.hpp"
#include "tenantry/error.hpp"
#include "tenantry/query.hpp"
#include "tenantry/repository.hpp"
#include "tenantry/schema.hpp"
#include "tenantry/types.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace tenantry {

// ---- errors -----------------------------------------------------------------------------------

/// Base of every encryption failure. Nothing is written when one is thrown from seal() or rotate().
class EncryptionError : public Error {
 public:
  using Error::Error;
};

/// No key to use: no platform key configured, an org without a key, or an unknown key version.
class MissingKey : public EncryptionError {
 public:
  using EncryptionError::EncryptionError;
};

/// The data was sealed under a different key than the one at hand (another platform key, another
/// org's key).
class WrongKey : public EncryptionError {
 public:
  using EncryptionError::EncryptionError;
};

/// The right key, but the ciphertext does not authenticate: modified, malformed, or moved to
/// another column than the one it was sealed for.
class TamperedCiphertext : public EncryptionError {
 public:
  using EncryptionError::EncryptionError;
};

/// The configured platform key is unusable (wrong length, not hex or base64, unreadable file).
class KeyConfigError : public EncryptionError {
 public:
  using EncryptionError::EncryptionError;
};

// ---- the column type --------------------------------------------------------------------------

template <class T>
class Encrypted;

namespace detail {
template <class T>
struct plain_ok : std::false_type {};
template <>
struct plain_ok<std::string> : std::true_type {};
template <>
struct plain_ok<Bytes> : std::true_type {};
}  // namespace detail

/// A secret as it is stored: the sealed envelope, never the plaintext. Stored as TEXT. Obtain one
/// from OrgKeys::seal (or read it from the database); read the plaintext with OrgKeys::open.
/// T is the plaintext type: std::string or Bytes. A default-constructed Encrypted holds nothing
/// and cannot be written (binding it throws ValueError): use std::optional<Encrypted<T>> for a
/// column that may be empty.
template <class T>
class Encrypted {
  static_assert(detail::plain_ok<T>::value,
                "tenantry: Encrypted<T> holds std::string or tenantry::Bytes plaintexts");

 public:
  using plain_type = T;

  Encrypted() = default;

  /// The envelope text ("tnt1:<version>:<base64>").
  const std::string& envelope() const noexcept { return envelope_; }
  bool empty() const noexcept { return envelope_.empty(); }

  /// Wraps envelope text read from elsewhere (a plain text column, a backup). Not checked here:
  /// opening a malformed envelope throws TamperedCiphertext.
  static Encrypted from_envelope(std::string text) {
    Encrypted e;
    e.envelope_ = std::move(text);
    return e;
  }

  friend bool operator==(const Encrypted&, const Encrypted&) = default;

 private:
  std::string envelope_;
};

template <class T>
struct type_mapping<Encrypted<T>> {
  using storage = std::string;
  static std::string to_storage(const Encrypted<T>& v) {
    if (v.empty())
      throw ValueError("tenantry: an Encrypted<T> value that was never sealed cannot be stored (seal it with "
                       "OrgKeys::seal, or use std::optional<Encrypted<T>> for an empty column)");
    return v.envelope();
  }
  static Encrypted<T> from_storage(std::string s) { return Encrypted<T>::from_envelope(std::move(s)); }
};

// ---- low-level crypto -------------------------------------------------------------------------

namespace detail {

inline constexpr std::size_t key_size = 32, nonce_size = 12, tag_size = 16, fp_size = 8;
inline constexpr std::string_view envelope_prefix = "tnt1:";

/// 32 key bytes, wiped when destroyed.
struct KeyBytes {
  std::array<unsigned char, key_size> b{};
  KeyBytes() = default;
  KeyBytes(const KeyBytes&) = default;
  KeyBytes& operator=(const KeyBytes&) = default;
  ~KeyBytes() { OPENSSL_cleanse(b.data(), b.size()); }
};

using Fingerprint = std::array<unsigned char, fp_size>;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

inline void key_random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1)
    throw EncryptionError("tenantry: encryption: the system random generator failed (RAND_bytes)");
}

inline KeyBytes random_key() {
  KeyBytes k;
  key_random_bytes(k.b.data(), k.b.size());
  return k;
}

/// SHA-256("tenantry key check v1" || key), first 8 bytes: names a key without revealing it.
inline Fingerprint fingerprint(const KeyBytes& key) {
  static constexpr std::string_view label = "tenantry key check v1";
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), label.data(), label.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), key.b.data(), key.b.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1)
    throw EncryptionError("tenantry: encryption: SHA-256 failed");
  Fingerprint fp{};
  for (std::size_t i = 0; i < fp_size; ++i) fp[i] = digest[i];
  return fp;
}

/// AES-256-GCM: nonce || ciphertext || tag.
inline std::string gcm_seal(const KeyBytes& key, std::string_view aad, std::span<const unsigned char> plain) {
  std::string out(nonce_size + plain.size() + tag_size, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  key_random_bytes(o, nonce_size);
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size), nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.b.data(), o) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      (plain.empty() || EVP_EncryptUpdate(ctx.get(), o + nonce_size, &len, plain.data(),
                                          static_cast<int>(plain.size())) == 1) &&
      EVP_EncryptFinal_ex(ctx.get(), o + nonce_size + plain.size(), &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size),
                          o + nonce_size + plain.size()) == 1;
  if (!ok) throw EncryptionError("tenantry: encryption: AES-256-GCM encryption failed (OpenSSL)");
  return out;
}

/// The plaintext, or nullopt when the tag does not verify.
inline std::optional<std::string> gcm_open(const KeyBytes& key, std::string_view aad, std::string_view sealed) {
  if (sealed.size() < nonce_size + tag_size) return std::nullopt;
  const auto* s = reinterpret_cast<const unsigned char*>(sealed.data());
  const std::size_t n = sealed.size() - nonce_size - tag_size;
  std::string out(n, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  unsigned char tag[tag_size];
  for (std::size_t i = 0; i < tag_size; ++i) tag[i] = s[nonce_size + n + i];
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.b.data(), s) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      (n > 0 && EVP_DecryptUpdate(ctx.get(), o, &len, s + nonce_size, static_cast<int>(n)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), tag) != 1)
    throw EncryptionError("tenantry: encryption: AES-256-GCM decryption could not start (OpenSSL)");
  if (EVP_DecryptFinal_ex(ctx.get(), o + n, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

inline constexpr char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline std::string base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto u = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = (u(i) << 16) | (u(i + 1) << 8) | u(i + 2);
    out += b64_chars[(v >> 18) & 63];
    out += b64_chars[(v >> 12) & 63];
    out += b64_chars[(v >> 6) & 63];
    out += b64_chars[v & 63];
  }
  if (in.size() - i == 1) {
    const unsigned v = u(i) << 16;
    out += b64_chars[(v >> 18) & 63];
    out += b64_chars[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    const unsigned v = (u(i) << 16) | (u(i + 1) << 8);
    out += b64_chars[(v >> 18) & 63];
    out += b64_chars[(v >> 12) & 63];
    out += b64_chars[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

/// Strict: canonical padding, no whitespace; nullopt otherwise.
inline std::optional<std::string> unbase64(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  const auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    const int pad = last ? (in[i + 3] == '=' ? (in[i + 2] == '=' ? 2 : 1) : 0) : 0;
    int v[4];
    for (int k = 0; k < 4 - pad; ++k)
      if ((v[k] = val(in[i + static_cast<std::size_t>(k)])) < 0) return std::nullopt;
    for (int k = 4 - pad; k < 4; ++k) v[k] = 0;
    const unsigned n = (unsigned(v[0]) << 18) | (unsigned(v[1]) << 12) | (unsigned(v[2]) << 6) | unsigned(v[3]);
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
    if (pad == 1 && (n & 0xFF) != 0) return std::nullopt;  // non-canonical trailing bits
    if (pad == 2 && (n & 0xFFFF) != 0) return std::nullopt;
  }
  return out;
}

inline std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char d[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

inline std::string fp_hex(const Fingerprint& fp) { return hex(fp.data(), fp.size()); }

/// Associated data of a secret: where it may live and under which key version.
inline std::string secret_aad(const OrgId& org, std::string_view table, std::string_view column,
                              std::int64_t version) {
  std::string a = "tenantry/secret/v1";
  a += '\0';
  a += org.to_string();
  a += '\0';
  a += table;
  a += '\0';
  a += column;
  a += '\0';
  a += std::to_string(version);
  return a;
}

/// Associated data of a wrapped org key.
inline std::string wrap_aad(const OrgId& org, std::int64_t version) {
  std::string a = "tenantry/org-key/v1";
  a += '\0';
  a += org.to_string();
  a += '\0';
  a += std::to_string(version);
  return a;
}

/// A parsed envelope "tnt1:<version>:<base64(fp || nonce || ciphertext || tag)>".
struct Envelope {
  std::int64_t version = 0;
  Fingerprint fp{};
  std::string sealed;  // nonce || ciphertext || tag
};

inline std::optional<Envelope> parse_envelope(std::string_view text) {
  if (!text.starts_with(envelope_prefix)) return std::nullopt;
  text.remove_prefix(envelope_prefix.size());
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 18) return std::nullopt;
  Envelope e;
  for (char c : text.substr(0, colon)) {
    if (c < '0' || c > '9') return std::nullopt;
    e.version = e.version * 10 + (c - '0');
  }
  if (e.version <= 0) return std::nullopt;
  auto raw = unbase64(text.substr(colon + 1));
  if (!raw || raw->size() < fp_size + nonce_size + tag_size) return std::nullopt;
  for (std::size_t i = 0; i < fp_size; ++i) e.fp[i] = static_cast<unsigned char>((*raw)[i]);
  e.sealed = raw->substr(fp_size);
  return e;
}

inline std::string short_text(std::string_view s) {
  return std::string(s.substr(0, 24)) + (s.size() > 24 ? "..." : "");
}

template <class P>
struct member_pointer;
template <class E, class M>
struct member_pointer<M E::*> {
  using entity = E;
  using member = M;
};

/// What a secret column stores (the member type without optional) and its plaintext type.
template <class M>
struct secret_storage {
  static constexpr bool ok = false;
};
template <class T>
struct secret_storage<Encrypted<T>> {
  static constexpr bool ok = true;
  using stored = Encrypted<T>;
  using plain = T;
  static const std::string& text(const stored& v) { return v.envelope(); }
  static stored make(std::string text) { return Encrypted<T>::from_envelope(std::move(text)); }
};
template <>
struct secret_storage<std::string> {
  static constexpr bool ok = true;
  using stored = std::string;
  using plain = std::string;
  static const std::string& text(const stored& v) { return v; }
  static stored make(std::string text) { return text; }
};
template <class M>
struct secret_storage<std::optional<M>> : secret_storage<M> {};

template <class T>
std::span<const unsigned char> plain_bytes(const T& v) {
  return {reinterpret_cast<const unsigned char*>(v.data()), v.size()};
}
template <class T>
T plain_from(std::string&& s) {
  if constexpr (std::is_same_v<T, std::string>) {
    return std::move(s);
  } else {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    Bytes out(p, p + s.size());
    OPENSSL_cleanse(s.data(), s.size());
    return out;
  }
}

}  // namespace detail

// ---- naming a secret column -------------------------------------------------------------------

/// A column that holds secrets: secret<&Toolset::api_key>. The member must be a field of a
/// declared entity, of type Encrypted<T>, std::string (envelope text), or an optional of either.
/// The table and column names it resolves to are bound into every ciphertext.
template <auto Member>
struct secret_column {
  using traits = detail::member_pointer<decltype(Member)>;
  using entity_type = typename traits::entity;
  using member_type = typename traits::member;
  using storage = detail::secret_storage<member_type>;
  static_assert(storage::ok,
                "tenantry: a secret column must be Encrypted<T>, std::string or std::optional of either");
  using stored_type = typename storage::stored;
  using plain_type = typename storage::plain;
  static constexpr auto member = Member;
  static constexpr std::size_t index = detail::field_of(Member);

  static const std::string& table() { return table_info<entity_type>().name; }
  static const std::string& column() { return table_info<entity_type>().columns[index].name; }
};

/// secret<&E::member>: see secret_column.
template <auto Member>
inline constexpr secret_column<Member> secret{};

/// A secret column of a global entity that has one row per org, such as an organizations table:
/// org_row_secret<&Organization::client_secret, &Organization::id> names the column client_secret
/// of the row whose id equals the org's id. Sealing and rotation treat it as that org's secret.
template <auto Member, auto IdMember>
struct org_row_secret_column : secret_column<Member> {
  static_assert(!takes_org<typename secret_column<Member>::entity_type>,
                "tenantry: org_row_secret names a column of a global entity; for an org-scoped one use secret<>");
  static_assert(std::is_same_v<typename detail::member_pointer<decltype(IdMember)>::member, Uuid>,
                "tenantry: org_row_secret's second member must be the Uuid field that holds the org's id");
  static constexpr auto id_member = IdMember;
};

template <auto Member, auto IdMember>
inline constexpr org_row_secret_column<Member, IdMember> org_row_secret{};

// ---- keys ---------------------------------------------------------------------------------------

/// The key that wraps every org key. Held only in memory; never written to the database.
class PlatformKey {
 public:
  /// A new random key (for tests and for generating a key to put in the environment).
  static PlatformKey generate() { return PlatformKey(detail::random_key()); }

  /// 64 hex digits, or the base64 of 32 bytes. Surrounding whitespace is ignored.
  static PlatformKey from_text(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' || text.front() == '\t'))
      text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
      text.remove_suffix(1);
    detail::KeyBytes k;
    if (text.size() == 64) {
      const auto hv = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      for (std::size_t i = 0; i < 32; ++i) {
        const int hi = hv(text[2 * i]), lo = hv(text[2 * i + 1]);
        if (hi < 0 || lo < 0) throw KeyConfigError("tenantry: platform key: 64 characters but not hex digits");
        k.b[i] = static_cast<unsigned char>(hi * 16 + lo);
      }
      return PlatformKey(k);
    }
    if (auto raw = detail::unbase64(text); raw && raw->size() == 32) {
      for (std::size_t i = 0; i < 32; ++i) k.b[i] = static_cast<unsigned char>((*raw)[i]);
      OPENSSL_cleanse(raw->data(), raw->size());
      return PlatformKey(k);
    }
    throw KeyConfigError("tenantry: platform key: expected 64 hex digits or the base64 of 32 bytes, got " +
                         std::to_string(text.size()) + " characters of something else");
  }

  /// A file holding the text form, or exactly 32 raw bytes.
  static PlatformKey from_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw KeyConfigError("tenantry: platform key: cannot read the file '" + path + "'");
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.size() == 32) {
      detail::KeyBytes k;
      for (std::size_t i = 0; i < 32; ++i) k.b[i] = static_cast<unsigned char>(data[i]);
      OPENSSL_cleanse(data.data(), data.size());
      return PlatformKey(k);
    }
    try {
      PlatformKey key = from_text(data);
      OPENSSL_cleanse(data.data(), data.size());
      return key;
    } catch (const KeyConfigError& e) {
      OPENSSL_cleanse(data.data(), data.size());
      throw KeyConfigError(std::string(e.what()) + " (in the file '" + path + "')");
    }
  }

  /// TENANTRY_PLATFORM_KEY (the text form), else TENANTRY_PLATFORM_KEY_FILE; MissingKey when
  /// neither is set.
  static PlatformKey from_environment() {
    if (const char* t = std::getenv("TENANTRY_PLATFORM_KEY"); t != nullptr && *t != '\0') return from_text(t);
    if (const char* f = std::getenv("TENANTRY_PLATFORM_KEY_FILE"); f != nullptr && *f != '\0') return from_file(f);
    throw MissingKey(
        "tenantry: no platform key: set TENANTRY_PLATFORM_KEY (64 hex digits) or TENANTRY_PLATFORM_KEY_FILE (a file "
        "holding it); the key must never be stored in the database");
  }

  /// 64 hex digits, the form from_text reads (for writing a generated key to a file).
  std::string to_text() const { return detail::hex(key_.b.data(), key_.b.size()); }
  /// 16 hex digits that name this key without revealing it (stored with every wrapped org key).
  std::string fingerprint() const { return detail::fp_hex(fp_); }

  const detail::KeyBytes& bytes() const noexcept { return key_; }
  const detail::Fingerprint& fingerprint_bytes() const noexcept { return fp_; }

 private:
  explicit PlatformKey(const detail::KeyBytes& k) : key_(k), fp_(detail::fingerprint(k)) {}
  detail::KeyBytes key_;
  detail::Fingerprint fp_;
};

/// Whether an org key version seals new values (active, one per org) or only opens old ones.
enum class OrgKeyState { active, retired };

/// One version of one org's data key, wrapped under the platform key: the rows of
/// tenantry_org_keys. Add OrgKeyRecord to the entities your schema creates.
struct OrgKeyRecord {
  OrgId org_id{};
  std::int64_t version = 0;
  std::string wrapped_key{};  // "<platform key fingerprint>:<base64(nonce || encrypted key || tag)>"
  OrgKeyState state = OrgKeyState::active;
  Timestamp created_at{};
};

}  // namespace tenantry

template <>
struct tenantry::entity<tenantry::OrgKeyRecord> {
  using T = tenantry::OrgKeyRecord;
  static constexpr std::string_view table = "tenantry_org_keys";
  static constexpr auto primary_key = key(&T::org_id, &T::version);
  static constexpr auto constraints = std::tuple{check(&T::version, ">", 0),
                                                 // one active key per org: two racing rotations cannot both win
                                                 unique_index(&T::org_id).where("state = 'active'")};
};

namespace tenantry {

/// What rotate() did.
struct RotationReport {
  std::int64_t old_version = 0;
  std::int64_t new_version = 0;
  std::size_t resealed = 0;  ///< values re-encrypted under the new key
  std::size_t skipped = 0;   ///< values replaced concurrently (compare-and-set found another value)
};

struct OrgKeysOptions {
  /// How long the active version of an org is trusted before it is read again.
  std::chrono::milliseconds active_ttl{5000};
};

/// Per-org data keys: provisioning, sealing, opening and rotation. Thread-safe. Every call takes
/// the connection to read tenantry_org_keys from on a cache miss (a driver connection or a
/// tenantry::Database; any connection type a Repository accepts).
class OrgKeys {
 public:
  explicit OrgKeys(PlatformKey platform, OrgKeysOptions options = {})
      : platform_(std::move(platform)), options_(options) {}

  const PlatformKey& platform() const noexcept { return platform_; }

  /// Gives `org` its first key unless it has an active one; returns the active version. Call it
  /// when the org is created (in the same transaction, ideally).
  template <class Conn>
  std::int64_t provision(Conn& db, OrgId org) {
    require_org(org);
    Repository<OrgKeyRecord, typename Conn::dialect, Conn> repo(db);
    const bool outermost = !db.in_transaction();
    auto tx = db.transaction();
    std::int64_t max_version = 0;
    for (const OrgKeyRecord& r : repo.list(org)) {
      if (r.state == OrgKeyState::active) {
        tx.commit();
        return r.version;
      }
      max_version = std::max(max_version, r.version);
    }
    const detail::KeyBytes key = detail::random_key();
    OrgKeyRecord rec{.org_id = org, .version = max_version + 1, .wrapped_key = wrap(org, max_version + 1, key),
                     .state = OrgKeyState::active, .created_at = Timestamp::now()};
    repo.insert(org, rec);
    tx.commit();
    if (outermost) {  // inside a caller's transaction the key exists only if that one commits
      std::lock_guard lock(mutex_);
      keys_[{org, rec.version}] = Entry{key, detail::fingerprint(key)};
      active_[org] = Active{rec.version, clock::now()};
    }
    return rec.version;
  }

  /// Seals `plain` for `column` of `org` under the org's active key. Returns what the column
  /// stores (Encrypted<T>, or the envelope text for a std::string column). MissingKey when the
  /// org has no key.
  template <class Conn, class Column>
    requires requires { Column::member; }
  typename Column::stored_type seal(Conn& db, OrgId org, Column, const typename Column::plain_type& plain) {
    require_org(org);
    const auto [version, entry] = active_key(db, org);
    return Column::storage::make(
        seal_with(entry, version, org, Column::table(), Column::column(), detail::plain_bytes(plain)));
  }

  /// The plaintext of a value of `column` of `org`. Throws MissingKey, WrongKey or
  /// TamperedCiphertext (see the file comment).
  template <class Conn, class Column>
    requires requires { Column::member; }
  typename Column::plain_type open(Conn& db, OrgId org, Column, const typename Column::stored_type& value) {
    require_org(org);
    const std::string& text = Column::storage::text(value);
    const auto env = parse(text, Column::table(), Column::column());
    const Entry entry = key_version(db, org, env.version);
    return open_with<typename Column::plain_type>(entry, env, org, Column::table(), Column::column());
  }

  /// The key version an envelope was sealed with; TamperedCiphertext when it is not an envelope.
  static std::int64_t version_of(std::string_view envelope) {
    if (auto e = detail::parse_envelope(envelope)) return e->version;
    throw TamperedCiphertext("tenantry: not an encrypted value: '" + detail::short_text(envelope) + "'");
  }

  /// The org's active key version (from the cache when fresh).
  template <class Conn>
  std::int64_t active_version(Conn& db, OrgId org) {
    return active_key(db, org).first;
  }

  /// Re-encrypts every value of `columns` (secret<...> / org_row_secret<...>) in `org` under a new
  /// org key and retires the old one: one transaction, all or nothing. Returns what it did.
  template <class Conn, class... Columns>
  RotationReport rotate(Conn& db, OrgId org, Columns... columns) {
    require_org(org);
    Repository<OrgKeyRecord, typename Conn::dialect, Conn> repo(db);
    const bool outermost = !db.in_transaction();
    auto tx = db.transaction();
    std::vector<OrgKeyRecord> records = repo.list(org);
    std::map<std::int64_t, Entry> local;  // versions unwrapped inside this transaction
    RotationReport report;
    std::int64_t max_version = 0;
    for (const OrgKeyRecord& r : records) {
      max_version = std::max(max_version, r.version);
      if (r.state == OrgKeyState::active) report.old_version = r.version;
    }
    if (report.old_version == 0)
      throw MissingKey("tenantry: org " + org.to_string() + " has no active encryption key to rotate (provision it first)");
    for (const OrgKeyRecord& r : records) local.emplace(r.version, unwrap(org, r));
    for (const OrgKeyRecord& r : records)
      if (r.state == OrgKeyState::active) repo.set(org, r.version, &OrgKeyRecord::state, OrgKeyState::retired);
    report.new_version = max_version + 1;
    const detail::KeyBytes key = detail::random_key();
    const Entry fresh{key, detail::fingerprint(key)};
    OrgKeyRecord rec{.org_id = org, .version = report.new_version, .wrapped_key = wrap(org, report.new_version, key),
                     .state = OrgKeyState::active, .created_at = Timestamp::now()};
    repo.insert(org, rec);
    (reseal_column(db, org, columns, local, fresh, report), ...);
    tx.commit();
    // Only now, after the commit, does the cache learn the new key: a rolled-back rotation must
    // leave no trace, not even in memory. Inside a caller's transaction (a savepoint here) the
    // rotation is not durable yet: the cache forgets the org's active version instead.
    std::lock_guard lock(mutex_);
    if (!outermost) {
      active_.erase(org);
      return report;
    }
    for (auto& [v, e] : local) keys_[{org, v}] = e;
    keys_[{org, report.new_version}] = fresh;
    active_[org] = Active{report.new_version, clock::now()};
    return report;
  }

  /// Forgets which version is active for `org` (the key material stays cached), so the next seal
  /// reads it again: call when another process may have rotated the org's key.
  void invalidate(OrgId org) {
    std::lock_guard lock(mutex_);
    active_.erase(org);
  }

  /// Forgets everything cached about `org`, key material included.
  void forget(OrgId org) {
    std::lock_guard lock(mutex_);
    active_.erase(org);
    for (auto it = keys_.begin(); it != keys_.end();) it = it->first.first == org ? keys_.erase(it) : std::next(it);
  }

 private:
  using clock = std::chrono::steady_clock;
  struct Entry {
    detail::KeyBytes key;
    detail::Fingerprint fp{};
  };
  struct Active {
    std::int64_t version = 0;
    clock::time_point fetched{};
  };

  static void require_org(const OrgId& org) {
    if (org.is_nil()) throw UsageError("tenantry: encryption: the nil org id is no tenant and has no key");
  }

  std::string wrap(const OrgId& org, std::int64_t version, const detail::KeyBytes& key) const {
    const std::string sealed =
        detail::gcm_seal(platform_.bytes(), detail::wrap_aad(org, version), std::span(key.b));
    return platform_.fingerprint() + ":" + detail::base64(sealed);
  }

  Entry unwrap(const OrgId& org, const OrgKeyRecord& r) const {
    const std::string where = "org " + org.to_string() + " key version " + std::to_string(r.version);
    const auto colon = r.wrapped_key.find(':');
    if (colon != 2 * detail::fp_size)
      throw TamperedCiphertext("tenantry: the wrapped key of " + where + " is malformed");
    const std::string fp = r.wrapped_key.substr(0, colon);
    if (fp != platform_.fingerprint())
      throw WrongKey("tenantry: the key of " + where + " was wrapped by platform key " + fp +
                     ", but this process has platform key " + platform_.fingerprint() +
                     " (check TENANTRY_PLATFORM_KEY / TENANTRY_PLATFORM_KEY_FILE)");
    auto raw = detail::unbase64(std::string_view(r.wrapped_key).substr(colon + 1));
    if (!raw) throw TamperedCiphertext("tenantry: the wrapped key of " + where + " is malformed");
    auto plain = detail::gcm_open(platform_.bytes(), detail::wrap_aad(org, r.version), *raw);
    if (!plain || plain->size() != detail::key_size) {
      if (plain) OPENSSL_cleanse(plain->data(), plain->size());
      throw TamperedCiphertext("tenantry: the wrapped key of " + where +
                               " does not authenticate under the platform key (modified, or copied from another org)");
    }
    Entry e;
    for (std::size_t i = 0; i < detail::key_size; ++i) e.key.b[i] = static_cast<unsigned char>((*plain)[i]);
    OPENSSL_cleanse(plain->data(), plain->size());
    e.fp = detail::fingerprint(e.key);
    return e;
  }

  /// The active version and its key, from the cache when fresh.
  template <class Conn>
  std::pair<std::int64_t, Entry> active_key(Conn& db, const OrgId& org) {
    {
      std::lock_guard lock(mutex_);
      if (auto a = active_.find(org); a != active_.end() && clock::now() - a->second.fetched < options_.active_ttl)
        if (auto k = keys_.find({org, a->second.version}); k != keys_.end()) return {a->second.version, k->second};
    }
    Repository<OrgKeyRecord, typename Conn::dialect, Conn> repo(db);
    auto rows = repo.list(org, col(&OrgKeyRecord::state) == OrgKeyState::active, limit(1));
    if (rows.empty())
      throw MissingKey("tenantry: org " + org.to_string() +
                       " has no encryption key (provision it with OrgKeys::provision when the org is created)");
    const std::int64_t version = rows.front().version;
    const bool cacheable = !db.in_transaction();
    Entry e = cached_or(cacheable, org, version, [&] { return unwrap(org, rows.front()); });
    if (cacheable) {
      std::lock_guard lock(mutex_);
      active_[org] = Active{version, clock::now()};
    }
    return {version, e};
  }

  /// The key of one version of the org (cached forever: a version's key never changes).
  template <class Conn>
  Entry key_version(Conn& db, const OrgId& org, std::int64_t version) {
    return cached_or(!db.in_transaction(), org, version, [&] {
      Repository<OrgKeyRecord, typename Conn::dialect, Conn> repo(db);
      auto rec = repo.find(org, version);
      if (!rec)
        throw MissingKey("tenantry: org " + org.to_string() + " has no key version " + std::to_string(version) +
                         " (the value was sealed by a key this org never had: copied from another org?)");
      return unwrap(org, *rec);
    });
  }

  /// The cached key of (org, version), else load()'s, cached when `cacheable`. Keys read inside a
  /// transaction are not cached: they may belong to a provisioning or rotation that has not
  /// committed, and a rolled-back version number is later reused for another key.
  template <class F>
  Entry cached_or(bool cacheable, const OrgId& org, std::int64_t version, F&& load) {
    {
      std::lock_guard lock(mutex_);
      if (auto k = keys_.find({org, version}); k != keys_.end()) return k->second;
    }
    Entry e = load();
    if (cacheable) {
      std::lock_guard lock(mutex_);
      keys_.emplace(std::pair{org, version}, e);
    }
    return e;
  }

  static detail::Envelope parse(std::string_view text, std::string_view table, std::string_view column) {
    if (auto e = detail::parse_envelope(text)) return std::move(*e);
    throw TamperedCiphertext("tenantry: " + std::string(table) + "." + std::string(column) +
                             " holds no encrypted value (malformed envelope '" + detail::short_text(text) + "')");
  }

  static std::string seal_with(const Entry& e, std::int64_t version, const OrgId& org, std::string_view table,
                               std::string_view column, std::span<const unsigned char> plain) {
    std::string raw(e.fp.begin(), e.fp.end());
    raw += detail::gcm_seal(e.key, detail::secret_aad(org, table, column, version), plain);
    return std::string(detail::envelope_prefix) + std::to_string(version) + ":" + detail::base64(raw);
  }

  template <class Plain = std::string>
  static Plain open_with(const Entry& e, const detail::Envelope& env, const OrgId& org, std::string_view table,
                         std::string_view column) {
    const std::string where = std::string(table) + "." + std::string(column) + " of org " + org.to_string();
    if (env.fp != e.fp)
      throw WrongKey("tenantry: a value of " + where + " was sealed under key " + detail::fp_hex(env.fp) +
                     ", not this org's key version " + std::to_string(env.version) + " (" +
                     detail::fp_hex(e.fp) + "): it was copied from another org");
    auto plain = detail::gcm_open(e.key, detail::secret_aad(org, table, column, env.version), env.sealed);
    if (!plain)
      throw TamperedCiphertext("tenantry: a value of " + where +
                               " does not authenticate: it was modified, or moved from another column");
    return detail::plain_from<Plain>(std::move(*plain));
  }

  template <class Conn, class Column>
  void reseal_column(Conn& db, const OrgId& org, Column, const std::map<std::int64_t, Entry>& local,
                     const Entry& fresh, RotationReport& report) {
    using E = typename Column::entity_type;
    using M = typename Column::member_type;
    using Plain = typename Column::plain_type;
    constexpr auto member = Column::member;
    Repository<E, typename Conn::dialect, Conn> repo(db);
    const auto reseal_one = [&](const M& value) -> std::optional<M> {
      const typename Column::stored_type* stored = nullptr;
      if constexpr (is_optional<M>::value) {
        if (!value) return std::nullopt;
        stored = &*value;
      } else {
        stored = &value;
      }
      const auto env = parse(Column::storage::text(*stored), Column::table(), Column::column());
      if (env.version == report.new_version) return std::nullopt;
      const auto k = local.find(env.version);
      if (k == local.end())
        throw MissingKey("tenantry: a value of " + Column::table() + "." + Column::column() + " of org " +
                         org.to_string() + " names key version " + std::to_string(env.version) +
                         ", which this org never had; nothing was rotated");
      Plain plain = open_with<Plain>(k->second, env, org, Column::table(), Column::column());
      std::string sealed = seal_with(fresh, report.new_version, org, Column::table(), Column::column(),
                                     detail::plain_bytes(plain));
      OPENSSL_cleanse(plain.data(), plain.size());
      return M(Column::storage::make(std::move(sealed)));
    };
    if constexpr (takes_org<E>) {
      for (const E& row : repo.list(org)) {
        auto next = reseal_one(row.*member);
        if (!next) continue;
        const std::int64_t n = repo.update_where(org, col(member) == row.*member, assign(col(member), std::move(*next)));
        count(report, n);
      }
    } else {
      static_assert(requires { Column::id_member; },
                    "tenantry: rotate: name a secret column of a global entity with org_row_secret<member, id member>");
      constexpr auto id = Column::id_member;
      for (const E& row : repo.list(col(id) == org.value)) {
        auto next = reseal_one(row.*member);
        if (!next) continue;
        const std::int64_t n = repo.update_where(col(id) == org.value && col(member) == row.*member,
                                                 assign(col(member), std::move(*next)));
        count(report, n);
      }
    }
  }

  /// A compare-and-set that changed no row means the value was replaced meanwhile: left alone.
  static void count(RotationReport& report, std::int64_t changed) {
    if (changed > 0) report.resealed += static_cast<std::size_t>(changed);
    else ++report.skipped;
  }

  PlatformKey platform_;
  OrgKeysOptions options_;
  std::mutex mutex_;
  std::map<std::pair<OrgId, std::int64_t>, Entry> keys_;
  std::map<OrgId, Active> active_;
};

}  // namespace tenantry
