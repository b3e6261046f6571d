// Bosch security-camera firmware (.fw: Flexidome, CPP platforms), as Anvil Secure's
// BoschFirmwareTool and fact_extractor's plugin describe it: 1024-byte big-endian headers (magic
// 0x10122003, target, variant, version, data length, base, checksum, type, an RSA signature at 76
// and, on newer images, a 256-byte wrapped AES key at 588). A root header whose target is 0x10
// ("nested") is followed by sub-headers, each with its data section right behind it; otherwise
// the root header's own data follows. Firmware up to 6.50 obfuscates the data with XOR 0x42; a
// section is a chain of 64-byte file records (magic 0xDEADAFFE, offset to the next record, a
// 32-byte name, the length) each followed by its contents, ended by a record of length 0.
// Newer images encrypt the sections (AES under the key blob): those sections, and any whose
// first record does not decode, are `encrypted` regions, never understood. The checksum and
// signature are shown, not checked. Written by hand: no Debian tool reads it.
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x10\x12\x20\x03", 0}};
constexpr std::string_view kDescription = "Bosch camera firmware (.fw, XOR-obfuscated)";
constexpr std::uint64_t kHeader = 0x400, kRecord = 0x40, kKeyBlob = 588, kKeyBlobBytes = 256;
constexpr std::uint32_t kNested = 0x10, kFileMagic = 0xdeadaffe;
constexpr std::uint8_t kXor = 0x42;

struct Section {
  std::uint64_t offset = 0;  ///< of its header
  std::uint32_t target = 0, length = 0;
  bool keyed = false;  ///< a wrapped key: the data is encrypted
};

bool header_at(Bytes d, std::uint64_t at) {
  return d.size() >= at + kHeader && *read_be<std::uint32_t>(d, at) == 0x10122003;
}

/// The sections with data: the root's own, or every sub-header's of a nested image.
std::optional<std::vector<Section>> parse(Bytes d, std::uint64_t& end) {
  if (!header_at(d, 0)) return std::nullopt;
  auto section = [&d](std::uint64_t at) {
    Section s{at, *read_be<std::uint32_t>(d, at + 4), *read_be<std::uint32_t>(d, at + 16), false};
    const Bytes blob = sub(d, at + kKeyBlob, kKeyBlobBytes);
    s.keyed = std::any_of(blob.begin(), blob.end(), [](std::uint8_t c) { return c != 0; });
    return s;
  };
  const Section root = section(0);
  std::vector<Section> out;
  if (root.target != kNested) {
    end = kHeader + root.length;
    out.push_back(root);
    return out;
  }
  // Sub-headers back to back, each followed by its data; at least one.
  std::uint64_t at = kHeader;
  while (header_at(d, at) && out.size() < kMaxDirEntries) {
    out.push_back(section(at));
    at += kHeader + out.back().length;
  }
  if (out.empty()) return std::nullopt;
  end = at;
  return out;
}

std::optional<Probe> probe(Bytes d) {
  std::uint64_t end = 0;
  auto sections = parse(d, end);
  if (!sections) return std::nullopt;
  return Probe{std::min<std::uint64_t>(end, d.size()),
               fmt::format("Bosch firmware, {} sections", sections->size())};
}

/// A section's data with the XOR undone, when its first record decodes; nullopt otherwise.
std::optional<std::vector<std::uint8_t>> deobfuscate(Bytes data) {
  if (data.size() < kRecord) return std::nullopt;
  std::vector<std::uint8_t> out(data.begin(), data.end());
  for (auto& c : out) c ^= kXor;
  if (*read_be<std::uint32_t>(Bytes(out.data(), out.size()), 0) != kFileMagic) return std::nullopt;
  return out;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  std::uint64_t end = 0;
  auto sections = parse(d, end);
  if (!sections) return fail("bad Bosch firmware header", 0);
  const std::string version = fmt::format("{}.{}", d[14], d[15]);
  std::size_t encrypted = 0;
  std::uint64_t first_encrypted = 0, encrypted_bytes = 0;
  for (std::size_t n = 0; n < sections->size(); ++n) {
    const Section& s = (*sections)[n];
    const std::uint64_t at = s.offset + kHeader;
    const Bytes data = sub(d, at, s.length);
    auto plain = s.keyed ? std::nullopt : deobfuscate(data);
    if (!plain) {
      // One encrypted span per container (the sink's rule): the first one.
      if (encrypted++ == 0) first_encrypted = at, encrypted_bytes = data.size();
      continue;
    }
    const Bytes b(plain->data(), plain->size());
    const std::string dir = sections->size() > 1 ? fmt::format("section-{}", n) : "";
    if (!dir.empty()) (void)sink.node(Entry{dir, EntryType::kDir, 0755});
    for (std::uint64_t off = 0; off + kRecord <= b.size();) {
      const std::uint64_t next = *read_be<std::uint32_t>(b, off + 4),
                          length = *read_be<std::uint32_t>(b, off + 40);
      if (length == 0) break;  // the end of the section (a record of zeros)
      if (*read_be<std::uint32_t>(b, off) != kFileMagic) {
        sink.warn("format-error", "Bosch file record without its magic", dir, at + off);
        break;
      }
      const auto path = child_path(sink, dir, cstr(b, off + 8, 32), at + off);
      const Bytes content = sub(b, off + kRecord, length);
      if (path) {
        if (content.size() < length)
          sink.warn("format-error", fmt::format("{} of {} bytes present", content.size(), length),
                    *path, at + off);
        if (auto st = sink.file(Entry{*path}, content, content.size() < length);
            !st && sink.exhausted())
          return fail_at(st.error(), at + off);
      }
      if (next < kRecord) {
        sink.warn("format-error", "Bosch file record points backwards", dir, at + off);
        break;
      }
      off += next;
    }
  }
  sink.describe(fmt::format("Bosch firmware v{}, {} sections{}", version, sections->size(),
                            encrypted ? fmt::format(", {} encrypted (not decrypted)", encrypted)
                                      : ", XOR-obfuscated (undone)"));
  if (encrypted) sink.encrypted(first_encrypted, encrypted_bytes);
  if (d.size() < end)
    return fail(fmt::format("Bosch firmware truncated: {} of {} bytes", d.size(), end), d.size());
  return end;
}

}  // namespace

const Format kFormat_bosch_fw =
    make_format(kind::kFirmwarePackage, "bosch_fw", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
