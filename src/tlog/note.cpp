// C2SP signed-note: Ed25519 keys (vkey / PRIVATE+KEY forms), note signing and verification, and
// C2SP tlog-cosignature/v1 (timestamped Ed25519 cosignatures).
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <memory>

#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity::tlog {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 em dash, space
constexpr std::string_view kPrivatePrefix = "PRIVATE+KEY+";

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

bool valid_key_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyNameBytes) return false;
  for (unsigned char c : name)
    if (c <= 0x20 || c == '+' || c == 0x7f) return false;
  return true;
}

std::string hex8(std::uint32_t v) {
  char buf[9];
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 7; i >= 0; --i) {
    buf[i] = kHex[v & 15];
    v >>= 4;
  }
  buf[8] = 0;
  return buf;
}

std::optional<std::uint32_t> parse_hex8(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return std::nullopt;
    v = (v << 4) | std::uint32_t(d);
  }
  return v;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         p[3];
}

bool known_type(std::uint8_t t) {
  return t == 0x01 || t == 0x04;
}

// name+hash+base64(type||key): shared by vkeys and (after the prefix) private keys.
struct KeyParts {
  std::string name;
  std::uint32_t id;
  KeyType type;
  std::array<std::uint8_t, 32> material;
};

Result<KeyParts> parse_key_parts(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  const auto p1 = s.find('+');
  if (p1 == std::string_view::npos) return fail("key: expected name+keyid+base64");
  const auto p2 = s.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return fail("key: expected name+keyid+base64");
  KeyParts k;
  k.name = std::string(s.substr(0, p1));
  if (!valid_key_name(k.name)) return fail("key: invalid key name");
  auto id = parse_hex8(s.substr(p1 + 1, p2 - p1 - 1));
  if (!id) return fail("key: key id must be 8 lower-case hex digits", p1 + 1);
  auto raw = base64_decode(s.substr(p2 + 1));
  if (!raw || raw->size() != 33 || !known_type((*raw)[0]))
    return fail("key: key material must be base64 of a type byte (0x01 or 0x04) and 32 bytes",
                p2 + 1);
  k.id = *id;
  k.type = KeyType((*raw)[0]);
  std::copy(raw->begin() + 1, raw->end(), k.material.begin());
  return k;
}

Result<std::array<std::uint8_t, 32>> public_from_seed(std::span<const std::uint8_t, 32> seed) {
  std::unique_ptr<EVP_PKEY, PkeyFree> pk(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!pk) return fail("Ed25519: invalid private key");
  std::array<std::uint8_t, 32> pub;
  std::size_t len = pub.size();
  if (EVP_PKEY_get_raw_public_key(pk.get(), pub.data(), &len) != 1 || len != 32)
    return fail("Ed25519: cannot derive the public key");
  return pub;
}

Result<PrivateKey> make_private(std::string name, KeyType type,
                                const std::array<std::uint8_t, 32>& seed) {
  PrivateKey k;
  k.name = std::move(name);
  k.type = type;
  k.seed = seed;
  auto pub = public_from_seed(seed);
  if (!pub) return std::unexpected(pub.error());
  k.pub.name = k.name;
  k.pub.type = type;
  k.pub.key = *pub;
  k.pub.id = key_id(k.name, type, k.pub.key);
  return k;
}

std::string cosigned_message(std::string_view text, std::uint64_t t) {
  std::string m = "cosignature/v1\ntime ";
  m += std::to_string(t);
  m += '\n';
  m += text;
  return m;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::uint32_t key_id(std::string_view name, KeyType type, std::span<const std::uint8_t> key) {
  std::string buf(name);
  buf += '\n';
  buf += char(type);
  buf.append(reinterpret_cast<const char*>(key.data()), key.size());
  const std::string hex = sha256_hex(as_bytes(buf));
  return std::uint32_t(std::stoul(hex.substr(0, 8), nullptr, 16));
}

std::string PublicKey::to_string() const {
  std::array<std::uint8_t, 33> raw;
  raw[0] = std::uint8_t(type);
  std::copy(key.begin(), key.end(), raw.begin() + 1);
  return name + "+" + hex8(id) + "+" + base64_encode(raw);
}

std::string PublicKey::key_hint() const {
  return name + "+" + hex8(id);
}

std::string PrivateKey::to_string() const {
  std::array<std::uint8_t, 33> raw;
  raw[0] = std::uint8_t(type);
  std::copy(seed.begin(), seed.end(), raw.begin() + 1);
  return std::string(kPrivatePrefix) + name + "+" + hex8(pub.id) + "+" + base64_encode(raw);
}

Result<PrivateKey> generate_key(std::string_view name, KeyType type) {
  if (!valid_key_name(name)) return fail("key name must be non-empty, printable, without '+'");
  std::array<std::uint8_t, 32> seed;
  if (RAND_priv_bytes(seed.data(), int(seed.size())) != 1) return fail("no randomness");
  return make_private(std::string(name), type, seed);
}

Result<PrivateKey> parse_private_key(std::string_view text) {
  if (!text.starts_with(kPrivatePrefix)) return fail("private key must start with PRIVATE+KEY+");
  auto parts = parse_key_parts(text.substr(kPrivatePrefix.size()));
  if (!parts) return std::unexpected(parts.error());
  auto k = make_private(parts->name, parts->type, parts->material);
  if (!k) return k;
  if (k->pub.id != parts->id) return fail("private key: key id does not match the key");
  return k;
}

Result<PublicKey> parse_public_key(std::string_view text) {
  auto parts = parse_key_parts(text);
  if (!parts) return std::unexpected(parts.error());
  PublicKey k;
  k.name = parts->name;
  k.type = parts->type;
  k.key = parts->material;
  k.id = key_id(k.name, k.type, k.key);
  if (k.id != parts->id) return fail("public key: key id does not match the key");
  return k;
}

Result<PrivateKey> read_private_key(const std::filesystem::path& path) {
  auto text = read_file_capped(path, 4096);
  if (!text) return std::unexpected(text.error());
  auto k = parse_private_key(*text);
  if (!k) return fail(k.error().message, 0, path.string());
  return k;
}

Result<PublicKey> read_public_key(const std::filesystem::path& path) {
  auto text = read_file_capped(path, 4096);
  if (!text) return std::unexpected(text.error());
  auto k = parse_public_key(*text);
  if (!k) return fail(k.error().message, 0, path.string());
  return k;
}

Result<PublicKey> load_public_key(const std::string& file_or_vkey) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(file_or_vkey, ec)) return read_public_key(file_or_vkey);
  auto k = parse_public_key(file_or_vkey);
  if (!k) return fail("not a readable key file nor a vkey: " + k.error().message, 0, file_or_vkey);
  return k;
}

Result<std::array<std::uint8_t, 64>> ed25519_sign(const PrivateKey& key,
                                                  std::span<const std::uint8_t> message) {
  std::unique_ptr<EVP_PKEY, PkeyFree> pk(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.seed.data(), key.seed.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::array<std::uint8_t, 64> sig;
  std::size_t len = sig.size();
  if (!pk || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pk.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 || len != 64)
    return fail("Ed25519: signing failed");
  return sig;
}

bool ed25519_verify(std::span<const std::uint8_t, 32> pub, std::span<const std::uint8_t> message,
                    std::span<const std::uint8_t> signature) {
  if (signature.size() != 64) return false;
  std::unique_ptr<EVP_PKEY, PkeyFree> pk(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!pk || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pk.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                          message.size()) == 1;
}

std::string NoteSignature::line() const {
  Bytes raw(4 + sig.size());
  raw[0] = std::uint8_t(id >> 24);
  raw[1] = std::uint8_t(id >> 16);
  raw[2] = std::uint8_t(id >> 8);
  raw[3] = std::uint8_t(id);
  std::copy(sig.begin(), sig.end(), raw.begin() + 4);
  return std::string(kSigPrefix) + name + " " + base64_encode(raw) + "\n";
}

std::string Note::to_string() const {
  std::string out = text;
  out += '\n';
  for (const auto& s : sigs) out += s.line();
  return out;
}

Result<Note> parse_note(std::string_view note) {
  if (note.size() > kMaxNoteBytes) return fail("note is larger than the cap");
  if (note.empty() || note.back() != '\n') return fail("note must end with a newline");
  // The text ends at the last blank line (a note's text itself has no blank lines before it
  // and signature lines never are blank).
  const auto split = note.rfind("\n\n");
  if (split == std::string_view::npos) return fail("note has no blank line before signatures");
  Note n;
  n.text = std::string(note.substr(0, split + 1));
  for (unsigned char c : n.text)
    if (c < 0x20 && c != '\n') return fail("note text holds a control character");
  std::string_view rest = note.substr(split + 2);
  std::uint64_t off = split + 2;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    if (!line.starts_with(kSigPrefix)) return fail("note signature line must start with '— '", off);
    line.remove_prefix(kSigPrefix.size());
    const auto sp = line.find(' ');
    if (sp == std::string_view::npos) return fail("note signature line has no signature", off);
    NoteSignature s;
    s.name = std::string(line.substr(0, sp));
    if (!valid_key_name(s.name)) return fail("note signature has an invalid key name", off);
    auto raw = base64_decode(line.substr(sp + 1));
    if (!raw || raw->size() < 5) return fail("note signature is not base64 of id||sig", off);
    s.id = be32(raw->data());
    s.sig.assign(raw->begin() + 4, raw->end());
    n.sigs.push_back(std::move(s));
    if (n.sigs.size() > kMaxNoteSignatures) return fail("note has too many signatures", off);
    rest.remove_prefix(eol + 1);
    off += eol + 1;
  }
  if (n.sigs.empty()) return fail("note has no signatures");
  return n;
}

Result<NoteSignature> sign_note_text(std::string_view text, const PrivateKey& key) {
  if (key.type != KeyType::kEd25519) return fail("note signing needs an Ed25519 (0x01) key");
  if (text.empty() || text.back() != '\n') return fail("note text must end with a newline");
  auto sig = ed25519_sign(key, as_bytes(text));
  if (!sig) return std::unexpected(sig.error());
  return NoteSignature{key.name, key.pub.id, Bytes(sig->begin(), sig->end())};
}

bool note_verified_by(const Note& note, const PublicKey& key) {
  if (key.type != KeyType::kEd25519) return false;
  for (const auto& s : note.sigs)
    if (s.name == key.name && s.id == key.id && ed25519_verify(key.key, as_bytes(note.text), s.sig))
      return true;
  return false;
}

Result<NoteSignature> cosign(std::string_view checkpoint_text, const PrivateKey& key,
                             std::uint64_t timestamp) {
  if (key.type != KeyType::kCosignatureV1)
    return fail("cosigning needs a cosignature/v1 (0x04) key (probity key generate --witness)");
  if (timestamp > (std::uint64_t(1) << 63) - 1) return fail("cosignature timestamp out of range");
  auto sig = ed25519_sign(key, as_bytes(cosigned_message(checkpoint_text, timestamp)));
  if (!sig) return std::unexpected(sig.error());
  NoteSignature s{key.name, key.pub.id, Bytes(8 + 64)};
  for (int i = 0; i < 8; ++i) s.sig[std::size_t(i)] = std::uint8_t(timestamp >> (56 - 8 * i));
  std::copy(sig->begin(), sig->end(), s.sig.begin() + 8);
  return s;
}

std::optional<std::uint64_t> cosignature_time(const Note& note, const PublicKey& key) {
  if (key.type != KeyType::kCosignatureV1) return std::nullopt;
  for (const auto& s : note.sigs) {
    if (s.name != key.name || s.id != key.id || s.sig.size() != 72) continue;
    std::uint64_t t = 0;
    for (int i = 0; i < 8; ++i) t = (t << 8) | s.sig[std::size_t(i)];
    if (t > (std::uint64_t(1) << 63) - 1) continue;
    const std::string m = cosigned_message(note.text, t);
    if (ed25519_verify(key.key, as_bytes(m), std::span(s.sig).subspan(8))) return t;
  }
  return std::nullopt;
}

}  // namespace probity::tlog
