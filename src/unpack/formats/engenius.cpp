// Senao/EnGenius firmware (ENS/ECB/EAP access points): a big-endian header (vendor and product
// ids, a 20-byte version, the payload length at 0x20, a 16-byte checksum whose coverage is not
// public, the magic 12 34 56 78 and a regulatory domain ("all"...) at 0x5C, version numbers, a
// model name of model_len bytes at 0x88), then the payload XORed with the 8-byte key
// ac 78 3c 9e cf 67 b3 59. The key's phase is not stored: a run of eight zero bytes in the
// plaintext shows the key itself, so the first place the key appears fixes it; with no such
// place, the phase that gives a known header (uImage, squashfs, TRX...) at the start of the
// payload. A payload no phase opens is reported as an encrypted region.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;

constexpr Magic kMagics[] = {
    {"\x12\x34\x56\x78"
     "all",
     0x5C}};
constexpr std::string_view kDescription = "Senao/EnGenius firmware (XOR-obfuscated)";
constexpr std::uint64_t kModelAt = 0x88;
/// The longest model name the probe accepts: a plausibility check of the header, not a cap.
constexpr std::uint64_t kMaxEngeniusModel = 64;
constexpr std::array<std::uint8_t, 8> kKey = {0xac, 0x78, 0x3c, 0x9e, 0xcf, 0x67, 0xb3, 0x59};

struct Header {
  std::uint32_t length = 0;
  std::string version, model;
  std::uint64_t header_len = 0;
};

std::optional<Header> parse(Bytes d) {
  if (d.size() < kModelAt || !starts_with(d, "\x12\x34\x56\x78"sv, 0x5C)) return std::nullopt;
  Header h;
  h.length = *read_be<std::uint32_t>(d, 0x20);
  const std::uint32_t model_len = *read_be<std::uint32_t>(d, 0x84);
  if (h.length == 0 || model_len == 0 || model_len > kMaxEngeniusModel ||
      d.size() < kModelAt + model_len)
    return std::nullopt;
  h.model = cstr(d, kModelAt, model_len);
  h.version = cstr(d, 12, 20);
  for (const std::string* s : {&h.model, &h.version})
    for (char c : *s)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
        return std::nullopt;
  if (h.model.empty()) return std::nullopt;
  h.header_len = kModelAt + model_len;
  return h;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(h->header_len + h->length, d.size()),
               fmt::format("EnGenius/Senao firmware for {}, version \"{}\", {} XORed bytes",
                           h->model, h->version, h->length)};
}

void unxor(Bytes in, std::uint64_t phase, std::vector<std::uint8_t>& out) {
  out.resize(in.size());
  for (std::uint64_t i = 0; i < in.size(); ++i) out[i] = in[i] ^ kKey[(i + phase) % kKey.size()];
}

/// Whether `b` starts like something the unpacker knows (a check of the phase, not a probe).
bool known_start(Bytes b) {
  for (std::string_view m : {"\x27\x05\x19\x56"sv, "hsqs"sv, "sqsh"sv, "HDR0"sv, "\x5d\x00\x00"sv,
                             "\x1f\x8b"sv, "\xd0\x0d\xfe\xed"sv})
    if (starts_with(b, m)) return true;
  return false;
}

/// The key's phase at the first payload byte, or nullopt.
std::optional<std::uint64_t> find_phase(Bytes payload) {
  const auto it = std::search(payload.begin(), payload.end(), kKey.begin(), kKey.end());
  if (it != payload.end()) {
    const std::uint64_t at = std::uint64_t(it - payload.begin());
    return (kKey.size() - at % kKey.size()) % kKey.size();
  }
  std::vector<std::uint8_t> head;
  for (std::uint64_t phase = 0; phase < kKey.size(); ++phase) {
    unxor(sub(payload, 0, 16), phase, head);
    if (known_start(Bytes(head.data(), head.size()))) return phase;
  }
  return std::nullopt;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad EnGenius header", 0);
  const Bytes payload = sub(d, h->header_len, h->length);
  const bool cut = payload.size() < h->length;
  const std::string what = fmt::format("EnGenius/Senao firmware for {}, version \"{}\", {} bytes",
                                       h->model, h->version, h->length);
  const auto phase = find_phase(payload);
  if (!phase || payload.size() > sink.limits().max_file_bytes) {
    sink.describe(what + (phase ? " (not decoded: over the file cap)"
                                : " (not decoded: the XOR key's phase was not found)"));
    if (phase) sink.warn("cap-file", "EnGenius payload larger than max_file_bytes: not decoded");
    sink.encrypted(h->header_len, payload.size());
  } else {
    sink.describe(what + " (XOR key applied)");
    std::vector<std::uint8_t> plain;
    unxor(payload, *phase, plain);
    if (auto st = sink.file(Entry{"firmware.bin"}, Bytes(plain.data(), plain.size()), cut);
        !st && sink.exhausted())
      return fail_at(st.error(), h->header_len);
  }
  if (cut)
    return fail(fmt::format("EnGenius truncated: payload needs {} bytes, {} present", h->length,
                            payload.size()),
                d.size());
  return h->header_len + h->length;
}

}  // namespace

const Format kFormat_engenius =
    make_format(kind::kFirmwareHeader, "engenius", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
