// Key helpers shared by the key checks (internal): SSH public-key blobs, fingerprints (base64 is
// probity/base64.hpp, lenient mode).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"

namespace probity::checks {

/// Facts of an SSH public-key blob (RFC 4253 wire format).
struct SshKeyInfo {
  std::string type;         ///< ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256, ...
  unsigned bits = 0;        ///< RSA/DSA modulus bits; curve size for EC; 256 for ed25519
  std::string fingerprint;  ///< OpenSSH style: "SHA256:" + base64(sha256(blob)) without padding
};
std::optional<SshKeyInfo> ssh_blob_info(Bytes blob);

/// Reads an SSH "string" (uint32 length + bytes) at `off`, advancing it.
std::optional<Bytes> ssh_string(Bytes b, std::size_t& off);

/// "sha256:" + hex digest of the DER SubjectPublicKeyInfo: the fingerprint of X.509 and
/// PKCS#1/PKCS#8/SEC1 keys (the same key in several images gives the same value).
std::string spki_fingerprint(Bytes spki_der);

}  // namespace probity::checks
