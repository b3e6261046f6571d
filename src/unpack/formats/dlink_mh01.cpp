// D-Link "MH01" firmware (newer D-Link routers; the layout of fact_extractor's public test image):
// an outer 16-byte header — "MH01", the little-endian size of the data that follows it and of
// the signature after that, 4 bytes — then the data: an inner "MH01" header with the size of a
// digest text and of the payload, the digest (32 hex digits and a newline), and the payload, an
// OpenSSL `enc` blob ("Salted__", an 8-byte salt, AES-CBC blocks) whose key is the vendor's;
// then the signature (RSA-2048: 256 bytes). probity does not decrypt: the payload is an
// `encrypted` region claimed by this format, never understood; the digest and the signature
// cannot be checked without the plaintext and the vendor's key, and are shown.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"MH01", 0}};
constexpr std::uint64_t kHeader = 16;

struct Layout {
  std::uint64_t data = 0, signature = 0, digest = 0, payload = 0;
  std::string digest_text;
};

std::optional<Layout> parse(Bytes d) {
  if (d.size() < 2 * kHeader || !starts_with(d, "MH01") || !starts_with(d, "MH01", kHeader))
    return std::nullopt;
  Layout l{*read_le<std::uint32_t>(d, 4), *read_le<std::uint32_t>(d, 8),
           *read_le<std::uint32_t>(d, kHeader + 4), *read_le<std::uint32_t>(d, kHeader + 8), ""};
  // The inner header, the digest and the payload make the data; the payload is whole cipher
  // blocks behind OpenSSL's 16-byte "Salted__" header; the digest is hex text.
  if (l.data != kHeader + l.digest + l.payload || l.payload < 32 || l.payload % 16 != 0 ||
      l.digest == 0 || l.digest > 129)
    return std::nullopt;
  const Bytes digest = sub(d, 2 * kHeader, l.digest);
  if (digest.size() < l.digest) return l;  // truncated: extract says so
  for (std::uint8_t c : digest.first(l.digest - 1))
    if (!std::isxdigit(c)) return std::nullopt;
  l.digest_text.assign(digest.begin(), digest.end() - 1);
  if (d.size() >= 2 * kHeader + l.digest + 8 && !starts_with(d, "Salted__", 2 * kHeader + l.digest))
    return std::nullopt;
  return l;
}

std::optional<Probe> probe(Bytes d) {
  auto l = parse(d);
  if (!l) return std::nullopt;
  return Probe{
      std::min<std::uint64_t>(kHeader + l->data + l->signature, d.size()),
      fmt::format("D-Link MH01, {} encrypted bytes, {}-byte signature", l->payload, l->signature)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto l = parse(d);
  if (!l) return fail("bad MH01 header", 0);
  const std::uint64_t total = kHeader + l->data + l->signature;
  const std::uint64_t at = 2 * kHeader + l->digest;
  sink.describe(fmt::format(
      "D-Link MH01, {} encrypted bytes (OpenSSL salted AES-CBC, not decrypted), digest \"{}\", "
      "{}-byte signature (not checked: the vendor's key)",
      l->payload, l->digest_text, l->signature));
  if (d.size() > at) sink.encrypted(at, std::min<std::uint64_t>(l->payload, d.size() - at));
  if (d.size() < total)
    return fail(fmt::format("MH01 truncated: {} of {} bytes", d.size(), total), d.size());
  return total;
}

}  // namespace

const Format kFormat_dlink_mh01 = make_format(
    kind::kFirmwareLeaf, "dlink_mh01", "D-Link MH01 (reported encrypted)", kMagics, probe, extract);

}  // namespace probity::unpacker
