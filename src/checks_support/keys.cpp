#include "checks_support/keys.hpp"

#include <openssl/sha.h>

#include "probity/base64.hpp"
#include "probity/hash.hpp"

namespace probity::checks {

std::optional<Bytes> ssh_string(Bytes b, std::size_t& off) {
  auto n = read_be<std::uint32_t>(b, off);
  if (!n || b.size() - off - 4 < *n) return std::nullopt;
  Bytes s = b.subspan(off + 4, *n);
  off += 4 + *n;
  return s;
}

namespace {
unsigned mpint_bits(Bytes m) {
  std::size_t i = 0;
  while (i < m.size() && m[i] == 0) ++i;
  if (i == m.size()) return 0;
  unsigned bits = unsigned(m.size() - i - 1) * 8;
  for (std::uint8_t top = m[i]; top; top >>= 1) ++bits;
  return bits;
}
}  // namespace

std::optional<SshKeyInfo> ssh_blob_info(Bytes blob) {
  std::size_t off = 0;
  auto type = ssh_string(blob, off);
  if (!type || type->empty() || type->size() > 64) return std::nullopt;
  SshKeyInfo k;
  k.type.assign(type->begin(), type->end());
  for (char c : k.type)
    if (c < 0x21 || c > 0x7e) return std::nullopt;
  if (k.type == "ssh-rsa") {
    auto e = ssh_string(blob, off);
    auto n = ssh_string(blob, off);
    if (!e || !n) return std::nullopt;
    k.bits = mpint_bits(*n);
  } else if (k.type == "ssh-dss") {
    auto p = ssh_string(blob, off);
    if (!p) return std::nullopt;
    k.bits = mpint_bits(*p);
  } else if (k.type.starts_with("ecdsa-sha2-nistp") || k.type.starts_with("sk-ecdsa")) {
    k.bits = k.type.ends_with("384") ? 384 : k.type.ends_with("521") ? 521 : 256;
  } else if (k.type.find("ed25519") != std::string::npos) {
    k.bits = 256;
  }
  std::uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(blob.data(), blob.size(), md);
  k.fingerprint = "SHA256:" + base64_encode({md, sizeof md}, false);
  return k;
}

std::string spki_fingerprint(Bytes spki_der) {
  return "sha256:" + sha256_hex(spki_der);
}

}  // namespace probity::checks
