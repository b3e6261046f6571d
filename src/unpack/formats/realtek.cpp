// Realtek RTL819x (RTL8196B/C, RTL8198, and the SDKs built on them) firmware images, as the
// Realtek bootcode's rtk.h and OpenWrt's cvimg describe them: a 16-byte big-endian header (a
// four-letter signature - "cs6c" kernel, "cr6c" kernel with root filesystem, "r6cr" root
// filesystem, "w6cp" web pages, and the RTL8196B ("cs6b", "cr6b", "r6br", "w6bp") and generic
// ("csys", "csro", "webp") variants -, the load address, the flash (burn) address and the length
// of what follows), then the payload and a 16-bit checksum that makes the big-endian 16-bit words
// of payload and checksum sum to zero. Parts follow each other (kernel, then root filesystem).
// The checksum is checked (`crc-mismatch`); a part whose checksum fails is accepted only when
// its addresses look like a MIPS load address and a flash offset, so four ASCII letters in a text
// file do not make a container.
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr std::string_view kSignatures[] = {"cs6c", "cr6c", "r6cr", "w6cp", "cs6b", "cr6b",
                                            "r6br", "w6bp", "csys", "csro", "webp"};
constexpr Magic kMagics[] = {{"cs6c", 0, true}, {"cr6c", 0, true}, {"r6cr", 0, true},
                             {"w6cp", 0, true}, {"cs6b", 0, true}, {"cr6b", 0, true},
                             {"r6br", 0, true}, {"w6bp", 0, true}, {"csys", 0, true},
                             {"csro", 0, true}, {"webp", 0, true}};
constexpr std::string_view kDescription = "Realtek RTL819x firmware image (cs6c/cr6c/r6cr...)";
constexpr std::uint64_t kHeader = 16;

struct Part {
  std::string signature;
  std::uint32_t load = 0, burn = 0, len = 0;
  bool checksum_ok = false;
  bool truncated = false;
  /// Bytes from the header to the end of the checksum (the payload is padded to even length).
  [[nodiscard]] std::uint64_t span() const { return kHeader + len + (len & 1); }
};

bool known(std::string_view sig) {
  for (auto s : kSignatures)
    if (s == sig) return true;
  return false;
}

/// The sum of the big-endian 16-bit words of `b` (a last odd byte as the high byte of a word).
std::uint16_t word_sum(Bytes b) {
  std::uint32_t sum = 0;
  std::uint64_t i = 0;
  for (; i + 1 < b.size(); i += 2) sum += (std::uint32_t(b[i]) << 8) | b[i + 1];
  if (i < b.size()) sum += std::uint32_t(b[i]) << 8;
  return std::uint16_t(sum);
}

std::optional<Part> parse(Bytes d, std::uint64_t at) {
  if (d.size() < at || d.size() - at < kHeader + 2) return std::nullopt;
  Part p;
  p.signature = std::string(reinterpret_cast<const char*>(d.data() + at), 4);
  if (!known(p.signature)) return std::nullopt;
  p.load = *read_be<std::uint32_t>(d, at + 4);
  p.burn = *read_be<std::uint32_t>(d, at + 8);
  p.len = *read_be<std::uint32_t>(d, at + 12);
  if (p.len < 2 || p.len > kMaxRealtekPartBytes) return std::nullopt;
  const Bytes body = sub(d, at + kHeader, p.len + (p.len & 1));
  p.truncated = body.size() < p.len;
  p.checksum_ok = !p.truncated && word_sum(body) == 0;
  // MIPS KSEG0/KSEG1 load addresses; the burn address is an offset into a flash of at most
  // 256 MiB.
  const bool plausible = (p.load & 0xc0000000u) == 0x80000000u && p.burn < 0x10000000u;
  if (!p.checksum_ok && !plausible) return std::nullopt;
  return p;
}

std::optional<Probe> probe(Bytes d) {
  auto p = parse(d, 0);
  if (!p) return std::nullopt;
  return Probe{0, fmt::format("Realtek \"{}\" image, load 0x{:08x}, flash 0x{:x}, {} bytes",
                              p->signature, p->load, p->burn, p->len)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  std::uint64_t at = 0;
  std::string parts;
  for (std::uint32_t i = 0; i < kMaxRealtekParts; ++i) {
    auto p = parse(d, at);
    if (!p) break;
    const Bytes payload = sub(d, at + kHeader, p->len - std::min<std::uint32_t>(p->len, 2));
    const std::string name = fmt::format("{}-{}.bin", i + 1, p->signature);
    if (auto st = sink.file(Entry{name}, payload, p->truncated); !st)
      return fail(st.error().message, at);
    if (p->truncated)
      return fail(fmt::format("Realtek \"{}\" part truncated: {} bytes announced, {} present",
                              p->signature, p->len, d.size() - at - kHeader),
                  d.size());
    if (!p->checksum_ok)
      sink.warn("crc-mismatch",
                fmt::format("Realtek \"{}\" part: the 16-bit word sum is not zero", p->signature),
                name, at);
    parts += (parts.empty() ? "" : ", ") + fmt::format("{} ({} bytes, load 0x{:08x}, flash 0x{:x})",
                                                       p->signature, p->len, p->load, p->burn);
    at += p->span();
  }
  if (at == 0) return fail("bad Realtek header", 0);
  sink.describe("Realtek RTL819x image: " + parts);
  return at;
}

}  // namespace

const Format kFormat_realtek =
    make_format(kind::kFirmwareHeader, "realtek", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
