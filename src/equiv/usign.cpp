// usign (OpenWrt's signify-like tool) keys and signatures: Ed25519 via OpenSSL. The formats
// (usign's main.c): a key or signature file is one "untrusted comment: ..." line, then one line
// of padded base64 holding the 2-byte algorithm "Ed", an 8-byte key id (fingerprint), and the
// 32-byte public key or 64-byte signature. The signature is plain Ed25519 (RFC 8032) over the
// message bytes.
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "probity/equiv.hpp"
#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity {
namespace {

constexpr std::string_view kComment = "untrusted comment:";

/// The decoded payload of a usign file: "Ed" + id + body of `body_size` bytes.
std::optional<tlog::Bytes> payload(std::string_view text, std::size_t body_size) {
  if (text.size() > kMaxUsignFileBytes || !text.starts_with(kComment)) return std::nullopt;
  const auto nl = text.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view line = text.substr(nl + 1);
  line = line.substr(0, line.find('\n'));
  if (line.ends_with('\r')) line.remove_suffix(1);
  auto raw = tlog::base64_decode(line);
  if (!raw || raw->size() != 2 + 8 + body_size || (*raw)[0] != 'E' || (*raw)[1] != 'd')
    return std::nullopt;
  return raw;
}

std::string hex(std::span<const std::uint8_t> b) {
  return to_hex(b);
}

}  // namespace

Result<UsignKey> parse_usign_key(std::string_view text, const std::string& source) {
  auto raw = payload(text, 32);
  if (!raw)
    return fail(
        "not a usign public key: expected an \"untrusted comment:\" line and one base64 line "
        "of \"Ed\" + 8-byte key id + 32-byte Ed25519 key (as `usign -G -p` writes it)",
        0, source);
  UsignKey k;
  std::copy_n(raw->begin() + 2, 8, k.id.begin());
  std::copy_n(raw->begin() + 10, 32, k.key.begin());
  k.source = source;
  return k;
}

UsignResult verify_usign(std::string_view signature, std::span<const std::uint8_t> message,
                         std::span<const UsignKey> keys, std::string* key_id) {
  if (key_id) key_id->clear();
  auto raw = payload(signature, 64);
  if (!raw) return UsignResult::kMalformed;
  const std::span<const std::uint8_t> id(raw->data() + 2, 8), sig(raw->data() + 10, 64);
  if (key_id) *key_id = hex(id);
  const auto k = std::ranges::find_if(
      keys, [&](const UsignKey& key) { return std::ranges::equal(key.id, id); });
  if (k == keys.end()) return UsignResult::kUnknownKey;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, k->key.data(), k->key.size()),
      EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!pkey || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1)
    return UsignResult::kBadSignature;
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size()) == 1
             ? UsignResult::kVerified
             : UsignResult::kBadSignature;
}

}  // namespace probity
