// Tenvis PK2 (IP camera update packages): a 28-byte little-endian header "PK2\0" (camera type,
// creation time, version, section count) and that many sections, each a 24-byte header (type
// "CMD" or "FILE", an MD5, the payload size) and its payload. A CMD payload is a shell command; a
// FILE payload is a name length, a name, a data length and the data. Commands and file data are
// XORed with a fixed eight-byte key (an obfuscation, not encryption); the MD5 covers the payload
// with the XOR undone. Every MD5 is checked.
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{std::string_view("PK2\0", 4), 0}};
constexpr std::string_view kDescription = "Tenvis PK2 update package (XOR-obfuscated, MD5)";
constexpr std::uint64_t kHeader = 28;
constexpr std::uint64_t kSection = 24;
constexpr std::uint8_t kKey[8] = {0xa1, 0x83, 0x24, 0x78, 0xb3, 0x41, 0x43, 0x56};

std::vector<std::uint8_t> unxor(Bytes b) {
  std::vector<std::uint8_t> out(b.begin(), b.end());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] ^= kKey[i % 8];
  return out;
}

bool known_type(const std::string& t) {
  return t == "CMD" || t == "FILE";
}

std::optional<Probe> probe(Bytes d) {
  if (!starts_with(d, std::string_view("PK2\0", 4)) || d.size() < kHeader + kSection)
    return std::nullopt;
  const std::uint32_t count = *read_le<std::uint32_t>(d, 24);
  if (count == 0 || count > kMaxTenvisSections || !known_type(cstr(d, kHeader, 4)))
    return std::nullopt;
  return Probe{0, fmt::format("Tenvis PK2, {} sections", count)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  if (!probe(d)) return fail("bad PK2 header", 0);
  const std::uint32_t count = *read_le<std::uint32_t>(d, 24);
  std::uint64_t at = kHeader;
  std::uint32_t files = 0, commands = 0;
  std::string script;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (d.size() - std::min<std::uint64_t>(at, d.size()) < kSection)
      return fail(fmt::format("PK2 section {} header truncated", i), at);
    const std::string type = cstr(d, at, 4);
    const Bytes md5 = sub(d, at + 4, 16);
    const std::uint64_t size = *read_le<std::uint32_t>(d, at + 20);
    const Bytes payload = sub(d, at + kSection, size);
    if (!known_type(type))
      return fail(fmt::format("PK2 section {}: unknown type \"{}\"", i, type), at);
    if (payload.size() < size)
      return fail(fmt::format("PK2 section {} truncated: {} bytes of {}", i, payload.size(), size),
                  d.size());
    std::string hashed;
    if (type == "CMD") {
      const auto plain = unxor(payload);
      hashed = raw(plain);
      std::string cmd = cstr(plain, 0, plain.size());
      script += cmd + (cmd.ends_with('\n') ? "" : "\n");
      ++commands;
    } else {
      const std::uint64_t name_len = read_le<std::uint32_t>(payload, 0).value_or(UINT32_MAX);
      const auto data_len = read_le<std::uint32_t>(payload, 4 + name_len);
      if (!data_len || 8 + name_len + *data_len > size)
        return fail(fmt::format("PK2 section {}: file lengths exceed the section", i), at);
      const Bytes head = sub(payload, 0, 8 + name_len);
      const auto data = unxor(sub(payload, 8 + name_len, *data_len));
      hashed = raw(head) + raw(data);
      std::string name = cstr(payload, 4, name_len);
      if (name.empty()) name = fmt::format("file{}", i);
      if (auto st = sink.file(Entry{name}, data); !st) return fail(st.error().message, at);
      ++files;
    }
    if (digest_of("md5", {Bytes(reinterpret_cast<const std::uint8_t*>(hashed.data()),
                                hashed.size())}) != raw(md5))
      sink.warn("crc-mismatch", fmt::format("PK2 section {} ({}): MD5 does not match", i, type), {},
                at + 4);
    at += kSection + size;
  }
  if (!script.empty())
    if (auto st =
            sink.file(Entry{"pk2-commands.sh"},
                      Bytes(reinterpret_cast<const std::uint8_t*>(script.data()), script.size()));
        !st)
      return fail(st.error().message, at);
  sink.describe(fmt::format("Tenvis PK2, {} files, {} commands (MD5 checked)", files, commands));
  return at;
}

}  // namespace

const Format kFormat_tenvis_pk2 =
    make_format(kind::kFirmwarePackage, "tenvis_pk2", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
