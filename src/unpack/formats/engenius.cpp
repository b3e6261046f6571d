// Senao/EnGenius firmware (ENS/ECB/EAP access points), as unblob's engenius handler and
// fact_extractor's senao plugin describe it: a big-endian header, then the payload XORed with
// an 8-byte schedule key[j] = (K >> j) & 0xff, j = i mod 8 counted from the payload's first byte.
//   v1 (long header): vendor and product ids, a 20-byte version at 12, the payload length at
//      0x20, a 16-byte checksum whose coverage is not public (shown, not checked), the magic
//      12 34 56 78 and a regulatory domain ("all"...) at 0x5C, version numbers, a model name of
//      model_len (0x84) bytes at 0x88; K = 0x5678 (78 3c 9e cf 67 b3 59 ac).
//   v1 (short header): the magic at 0x5C where no long header reads, the payload at 0x60.
//   v2: the magic 30 47 16 88 at 0xB4 (payload at 0xB8), at 0x7C (payload at 0x80) or at 0x11C
//      (payload at 0x120), no stored length (the payload runs to the end); K = 0x1688.
//   v2 with its own key: the version text "3047" at 0x66, 0x7C or 0xCE and, where the magic
//      would be (0xB4, or 0x11C for the 0xCE layout), the big-endian key K; payload as above.
// The short v1 and the own-key v2 layouts have no strong magic (four bytes, or four digits): they
// are taken only when the decoded payload starts with a header the unpacker knows.
// Where the plaintext holds eight zero bytes the schedule itself shows in the image: its first
// appearance fixes the phase (unblob's method), which covers an image whose phase differs from
// the documented one; else the phase giving a known header (uImage, squashfs, TRX...) at the
// payload's start; else the documented phase.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;

constexpr Magic kMagics[] = {{"\x12\x34\x56\x78"
                              "all",
                              0x5C},
                             {"\x30\x47\x16\x88", 0x7C},
                             {"\x30\x47\x16\x88", 0xB4},
                             {"\x30\x47\x16\x88", 0x11C},
                             {"\x12\x34\x56\x78", 0x5C, true},
                             {"3047", 0x66, true},
                             {"3047", 0x7C, true},
                             {"3047", 0xCE, true}};
constexpr std::string_view kDescription = "Senao/EnGenius firmware (XOR-obfuscated, v1 and v2)";
constexpr std::uint64_t kModelAt = 0x88;
/// The longest model name the probe accepts: a plausibility check of the header, not a cap.
constexpr std::uint64_t kMaxEngeniusModel = 64;
constexpr std::string_view kV2Magic = "\x30\x47\x16\x88"sv;
using Key = std::array<std::uint8_t, 8>;

Key schedule(std::uint32_t k) {
  Key key{};
  for (std::size_t j = 0; j < key.size(); ++j) key[j] = std::uint8_t(k >> j);
  return key;
}

struct Header {
  std::string layout;
  std::uint64_t header_len = 0;
  std::uint64_t length = 0;  ///< 0: to the end of the data
  std::uint32_t k = 0;
  std::string version, model;
  /// No strong magic: taken only when the decoded payload starts with a known header.
  bool weak = false;
};

bool printable(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) <= 0x7e;
  });
}

void unxor(Bytes in, const Key& key, std::uint64_t phase, std::vector<std::uint8_t>& out) {
  out.resize(in.size());
  for (std::uint64_t i = 0; i < in.size(); ++i) out[i] = in[i] ^ key[(i + phase) % key.size()];
}

/// Whether `b` starts like something the unpacker knows (a check of the phase, not a probe).
bool known_start(Bytes b) {
  for (std::string_view m : {"\x27\x05\x19\x56"sv, "hsqs"sv, "sqsh"sv, "HDR0"sv, "\x5d\x00\x00"sv,
                             "\x1f\x8b"sv, "\xd0\x0d\xfe\xed"sv})
    if (starts_with(b, m)) return true;
  return false;
}

/// The phase of `key` that turns the payload's first bytes into a known header, if one does.
std::optional<std::uint64_t> header_phase(Bytes payload, const Key& key) {
  std::vector<std::uint8_t> head;
  for (std::uint64_t phase = 0; phase < key.size(); ++phase) {
    unxor(sub(payload, 0, 16), key, phase, head);
    if (known_start(Bytes(head.data(), head.size()))) return phase;
  }
  return std::nullopt;
}

/// The long v1 header: a length, a printable version and a model name of model_len bytes.
std::optional<Header> parse_v1_long(Bytes d) {
  if (d.size() < kModelAt) return std::nullopt;
  Header h;
  h.layout = "v1";
  h.k = 0x5678;
  h.length = *read_be<std::uint32_t>(d, 0x20);
  const std::uint32_t model_len = *read_be<std::uint32_t>(d, 0x84);
  if (h.length == 0 || model_len == 0 || model_len > kMaxEngeniusModel ||
      d.size() < kModelAt + model_len)
    return std::nullopt;
  h.model = cstr(d, kModelAt, model_len);
  h.version = cstr(d, 12, 20);
  if (h.model.empty() || !printable(h.model) || !printable(h.version)) return std::nullopt;
  h.header_len = kModelAt + model_len;
  return h;
}

std::optional<Header> parse_layout(Bytes d) {
  Header h;
  if (starts_with(d, "\x12\x34\x56\x78"sv, 0x5C)) {
    // The long header whatever its regulatory domain; else the short one.
    if (auto v1 = parse_v1_long(d)) return v1;
    h.layout = "v1 (short header)";
    h.k = 0x5678;
    h.header_len = 0x60;
    h.weak = true;
    return h;
  }
  constexpr std::pair<std::uint64_t, const char*> kSlots[] = {
      {0xB4, "long header"}, {0x7C, "short header"}, {0x11C, "very long header"}};
  for (const auto& [at, name] : kSlots) {
    if (!starts_with(d, kV2Magic, at)) continue;
    h.layout = fmt::format("v2 ({})", name);
    h.k = 0x1688;
    h.header_len = at + 4;
    return h;
  }
  // The version text "3047" where the layout has it, the key where the magic would be.
  constexpr struct {
    std::uint64_t version_at, key_at, header_len;
    const char* name;
  } kOwnKey[] = {{0x66, 0xB4, 0xB8, "long header"},
                 {0x7C, 0xB4, 0x80, "short header"},
                 {0xCE, 0x11C, 0x120, "very long header"}};
  for (const auto& l : kOwnKey) {
    if (!starts_with(d, "3047"sv, l.version_at) || d.size() < l.key_at + 4) continue;
    h.layout = fmt::format("v2 ({}, key from the header)", l.name);
    h.k = *read_be<std::uint32_t>(d, l.key_at);
    h.header_len = l.header_len;
    h.weak = true;
    return h;
  }
  return std::nullopt;
}

std::optional<Header> parse(Bytes d) {
  auto h = parse_layout(d);
  if (!h || d.size() <= h->header_len) return std::nullopt;
  if (h->weak && !header_phase(sub(d, h->header_len), schedule(h->k))) return std::nullopt;
  return h;
}

std::uint64_t payload_length(const Header& h, Bytes d) {
  return h.length ? h.length : d.size() - h.header_len;
}

std::string summary(const Header& h, std::uint64_t length) {
  if (h.layout == "v1")
    return fmt::format("Senao/EnGenius firmware v1 for {}, version \"{}\", {} XORed bytes", h.model,
                       h.version, length);
  return fmt::format("Senao firmware {}, {} XORed bytes", h.layout, length);
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  const std::uint64_t length = payload_length(*h, d);
  return Probe{std::min<std::uint64_t>(h->header_len + length, d.size()), summary(*h, length)};
}

/// The schedule's phase at the first payload byte, and how it was found.
std::pair<std::uint64_t, const char*> find_phase(Bytes payload, const Key& key) {
  const auto it = std::search(payload.begin(), payload.end(), key.begin(), key.end());
  if (it != payload.end()) {
    const std::uint64_t at = std::uint64_t(it - payload.begin());
    return {(key.size() - at % key.size()) % key.size(), "phase from the key in the image"};
  }
  if (auto phase = header_phase(payload, key)) return {*phase, "phase from the payload's header"};
  return {0, "documented phase"};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad Senao/EnGenius header", 0);
  const std::uint64_t length = payload_length(*h, d);
  const Bytes payload = sub(d, h->header_len, length);
  const bool cut = payload.size() < length;
  if (payload.size() > sink.limits().max_file_bytes) {
    sink.describe(summary(*h, length) + " (not decoded: over the file cap)");
    sink.warn("cap-file", "Senao payload larger than max_file_bytes: not decoded");
    sink.encrypted(h->header_len, payload.size());
  } else {
    const Key key = schedule(h->k);
    const auto [phase, how] = find_phase(payload, key);
    sink.describe(fmt::format("{} (key 0x{:04x}, {})", summary(*h, length), h->k, how));
    std::vector<std::uint8_t> plain;
    unxor(payload, key, phase, plain);
    if (auto st = sink.file(Entry{"firmware.bin"}, Bytes(plain.data(), plain.size()), cut);
        !st && sink.exhausted())
      return fail_at(st.error(), h->header_len);
  }
  if (cut)
    return fail(fmt::format("Senao/EnGenius truncated: payload needs {} bytes, {} present", length,
                            payload.size()),
                d.size());
  return h->header_len + length;
}

}  // namespace

const Format kFormat_engenius =
    make_format(kind::kFirmwareHeader, "engenius", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
