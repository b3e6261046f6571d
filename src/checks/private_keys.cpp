// private-key: PEM (PKCS#1, SEC1, PKCS#8, encrypted), OpenSSH and DER private keys with type,
// size and fingerprint (sha256 of the public key, so the same key in several images can be
// recognised as a fleet-wide key).
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "checks_support/check.hpp"
#include "checks_support/keys.hpp"
#include "checks_support/pem.hpp"
#include "checks_support/text.hpp"
#include "probity/base64.hpp"
#include "probity/hash.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "private-key";
/// Smallest encrypted key body taken as a real key (a 512-bit RSA key is ~300 bytes).
/// A heuristic (what is a key), not a cap.
constexpr std::size_t kMinKeyBodyBytes = 128;

/// Never prompts: an encrypted key without a password simply fails to load.
int no_password(char*, int, int, void*) {
  return 0;
}

struct KeyFacts {
  std::string type;
  int bits = 0;
  std::string fingerprint;
};

std::optional<KeyFacts> facts(EVP_PKEY* k) {
  if (!k) return std::nullopt;
  KeyFacts f;
  const char* name = EVP_PKEY_get0_type_name(k);
  f.type = name ? name : "unknown";
  f.bits = EVP_PKEY_get_bits(k);
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(k, &der);
  if (n > 0) {
    f.fingerprint = spki_fingerprint({der, std::size_t(n)});
    OPENSSL_free(der);
  }
  return f;
}

void key_fact(const Context& ctx, const FileView& f, std::string type, int bits,
              std::string fingerprint) {
  std::lock_guard lock(ctx.facts_mutex);
  ctx.facts.keys.push_back({.role = "private",
                            .type = std::move(type),
                            .bits = bits,
                            .fingerprint = std::move(fingerprint),
                            .path = f.path(),
                            .location = f.location()});
}

void report(const Context& ctx, const FileView& f, Emitter& em, const std::string& format,
            const KeyFacts& k, std::uint64_t off) {
  key_fact(ctx, f, k.type, k.bits, k.fingerprint);
  em.add("private-key", kCat, Severity::kHigh, f.rec(), f.location(),
         k.type + " " + std::to_string(k.bits) + "-bit private key (" + format +
             ") shipped in the image; fingerprint " + k.fingerprint,
         k.fingerprint, format + " " + k.type + " " + std::to_string(k.bits) + " " + k.fingerprint,
         off)
      .evidence.fingerprint = k.fingerprint;
}

void openssh(const Context& ctx, const FileView& f, Emitter& em, std::string_view block,
             std::uint64_t off) {
  auto body_start = block.find('\n');
  auto body_end = block.rfind("-----END");
  if (body_start == block.npos || body_end == block.npos || body_end < body_start) return;
  auto raw = base64_decode(block.substr(body_start, body_end - body_start), Base64Mode::kLenient);
  if (!raw) return;
  Bytes b(*raw);
  constexpr std::string_view kMagic{"openssh-key-v1\0", 15};
  if (!starts_with(b, kMagic)) return;
  std::size_t o = kMagic.size();
  auto cipher = ssh_string(b, o);
  auto kdf = ssh_string(b, o);
  auto kdfopt = ssh_string(b, o);
  auto nkeys = read_be<std::uint32_t>(b, o);
  if (!cipher || !kdf || !kdfopt || !nkeys || *nkeys == 0) return;
  o += 4;
  auto pub = ssh_string(b, o);
  if (!pub) return;
  auto info = ssh_blob_info(*pub);
  if (!info) return;
  std::string c(cipher->begin(), cipher->end());
  KeyFacts k{info->type, int(info->bits), info->fingerprint};
  report(ctx, f, em, c == "none" ? "OpenSSH" : "OpenSSH, encrypted with " + c, k, off);
}

/// Decoded bytes of a PEM block's base64 body (header lines such as Proc-Type skipped); 0 when
/// it is not base64 (e.g. a template string in a binary).
std::size_t body_bytes(std::string_view block) {
  std::string b64;
  bool first = true;
  for (auto line : split(block, '\n')) {
    if (first) {
      first = false;
      continue;
    }
    if (line.starts_with("-----END")) break;
    if (line.find(':') != std::string_view::npos) continue;
    b64 += trim(line);
  }
  auto d = base64_decode(b64, Base64Mode::kLenient);
  return d ? d->size() : 0;
}

void pem(const Context& ctx, const FileView& f, Emitter& em, std::string_view label,
         std::string_view block, std::uint64_t off) {
  if (label == "OPENSSH PRIVATE KEY") return openssh(ctx, f, em, block, off);
  if (!label.ends_with("PRIVATE KEY") && label != "PGP PRIVATE KEY BLOCK") return;
  std::string format = label == "PRIVATE KEY"             ? "PKCS#8 PEM"
                       : label == "ENCRYPTED PRIVATE KEY" ? "encrypted PKCS#8 PEM"
                       : label == "RSA PRIVATE KEY"       ? "PKCS#1 PEM"
                       : label == "EC PRIVATE KEY"        ? "SEC1 PEM"
                                                          : std::string(label) + " PEM";
  if (label == "PGP PRIVATE KEY BLOCK") {
    std::string fp =
        "sha256:" + sha256_hex({reinterpret_cast<const std::uint8_t*>(block.data()), block.size()});
    key_fact(ctx, f, "PGP", 0, fp);
    em.add("private-key", kCat, Severity::kHigh, f.rec(), f.location(),
           "OpenPGP private key block shipped in the image", fp, "PGP " + fp, off)
        .evidence.fingerprint = fp;
    return;
  }
  BIO* bio = BIO_new_mem_buf(block.data(), int(block.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, no_password, nullptr);
  BIO_free(bio);
  if (auto kf = facts(k)) {
    report(ctx, f, em, format, *kf, off);
  } else if ((label == "ENCRYPTED PRIVATE KEY" ||
              block.find("Proc-Type: 4,ENCRYPTED") != block.npos) &&
             body_bytes(block) >= kMinKeyBodyBytes) {
    // Encrypted with an unknown passphrase: still a shipped key (the passphrase is usually in
    // the same image).
    std::string fp =
        "sha256:" + sha256_hex({reinterpret_cast<const std::uint8_t*>(block.data()), block.size()});
    key_fact(ctx, f, "encrypted", 0, fp);
    em.add("private-key", kCat, Severity::kHigh, f.rec(), f.location(),
           "encrypted private key (" + format + ") shipped in the image; block " + fp, fp,
           format + " encrypted " + fp, off)
        .evidence.fingerprint = fp;
  }
  EVP_PKEY_free(k);
}

void on_file(const Context& ctx, void*, const FileView& f, Emitter& em) {
  bool any = false;
  bool capped = for_each_pem(
      f.bytes(), [&](std::string_view label, std::string_view block, std::uint64_t off) {
        any = true;
        pem(ctx, f, em, label, block, off);
      });
  if (capped) em.cap_hit(f, kCat, "kMaxPemBlocks", kMaxPemBlocks);
  // DER keys: the inventory only recognises long-form lengths; small keys (EC, Ed25519) have
  // short ones, so try every small file that starts like a DER SEQUENCE.
  if (any || f.bytes().size() > kMaxPemBlockBytes || f.bytes().size() < 32 ||
      f.bytes()[0] != 0x30 || f.is_elf() || f.is_text())
    return;
  // DER (PKCS#1 / PKCS#8 / SEC1) as classified by the inventory.
  Bytes b = sub(f.bytes(), 0, kMaxPemBlockBytes);
  const unsigned char* p = b.data();
  EVP_PKEY* k = d2i_AutoPrivateKey(nullptr, &p, long(b.size()));
  if (auto kf = facts(k)) report(ctx, f, em, "DER", *kf, 0);
  EVP_PKEY_free(k);
}

}  // namespace

const Check kCheck_private_keys{.id = "private_keys",
                                .category = kCat,
                                .description = "private keys (PEM, PKCS#8, OpenSSH, DER)",
                                .on_file = on_file};

}  // namespace probity::checks
