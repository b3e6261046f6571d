// Helpers shared by the vendor firmware headers in formats/ (TP-Link, Netgear CHK, SEAMA, WRGG,
// Xiaomi HDR, Broadcom SAO...): the digests and checksums their headers carry, over spans of any
// size. Internal to src/unpack.
#pragma once

#include <openssl/evp.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "probity/hash.hpp"

namespace probity::unpacker {

/// zlib's CRC-32 (standard polynomial, initial and final inversion) continued from `crc` over
/// `b`, a GiB at a time (zlib takes an unsigned length).
inline std::uint32_t crc32_of(Bytes b, std::uint32_t crc = 0) {
  uLong c = crc;
  for (std::uint64_t off = 0; off < b.size(); off += 1u << 30) {
    const Bytes part = sub(b, off, 1u << 30);
    c = ::crc32(c, part.data(), uInt(part.size()));
  }
  return std::uint32_t(c);
}

/// A message digest (EVP name: "md5", "sha512") over the concatenation of `parts`; empty when
/// OpenSSL has no such digest.
inline std::string digest_of(const char* name, std::initializer_list<Bytes> parts) {
  const EVP_MD* md = EVP_get_digestbyname(name);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string out;
  if (md && ctx && EVP_DigestInit_ex(ctx, md, nullptr) == 1) {
    bool ok = true;
    for (Bytes p : parts) ok = ok && EVP_DigestUpdate(ctx, p.data(), p.size()) == 1;
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (ok && EVP_DigestFinal_ex(ctx, buf, &len) == 1)
      out.assign(reinterpret_cast<const char*>(buf), len);
  }
  EVP_MD_CTX_free(ctx);
  return out;
}

/// The raw bytes of `b` as a string (to compare with digest_of()).
inline std::string raw(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Lower-case hex of a raw digest, for messages.
inline std::string hex_of(const std::string& raw_digest) {
  return to_hex(Bytes(reinterpret_cast<const std::uint8_t*>(raw_digest.data()), raw_digest.size()));
}

/// AES-CBC decryption of whole blocks (no padding removed) with a vendor's published key:
/// AES-128 for a 16-byte key, AES-256 for a 32-byte one; `in.size()` must be a multiple of 16;
/// empty on an OpenSSL failure.
inline std::vector<std::uint8_t> aes_cbc_decrypt(Bytes in, Bytes key, Bytes iv) {
  std::vector<std::uint8_t> out(in.size());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0, total = 0;
  const EVP_CIPHER* cipher = key.size() == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
  bool ok = ctx && (key.size() == 16 || key.size() == 32) && iv.size() == 16 &&
            in.size() % 16 == 0 &&
            EVP_DecryptInit_ex(ctx, cipher, nullptr, key.data(), iv.data()) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
  for (std::uint64_t off = 0; ok && off < in.size(); off += 1u << 30) {
    const Bytes part = sub(in, off, 1u << 30);
    ok = EVP_DecryptUpdate(ctx, out.data() + total, &len, part.data(), int(part.size())) == 1;
    total += len;
  }
  ok = ok && EVP_DecryptFinal_ex(ctx, out.data() + total, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) out.clear();
  return out;
}

}  // namespace probity::unpacker
