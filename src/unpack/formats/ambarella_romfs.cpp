// Ambarella ROMFS partitions (camera and drone firmware on Ambarella SoCs), as dji-firmware-tools'
// amba_romfs.py describes them: a 2048-byte header — little-endian file count, magic 0x66FC328A,
// then 0xFF padding —, the file entries (128 bytes each: a NUL-padded 116-byte name, the data's
// offset and length, magic 0x2387AB76), then each file's data at its offset, padded with 0xFF to
// the next 2048-byte boundary (a whole 2048 bytes more when it already ends on one). Every
// entry's magic is checked, its data must lie inside the partition; a name may hold directories.
// Written by hand: no Debian tool reads it.
#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x8a\x32\xfc\x66", 4}};
constexpr std::uint64_t kHeader = 2048, kEntry = 128, kNameBytes = 116, kPad = 2048;
constexpr std::uint32_t kEntryMagic = 0x2387ab76;

struct File {
  std::string name;
  std::uint64_t offset = 0, length = 0;
};

/// The padded end of data ending at `end` (amba_romfs.py's rule).
std::uint64_t padded(std::uint64_t end) {
  return end + kPad - end % kPad;
}

/// The entries, when the count and every entry's magic hold; `end` is the partition's end.
std::optional<std::vector<File>> parse(Bytes d, std::uint64_t& end) {
  if (d.size() < kHeader || *read_le<std::uint32_t>(d, 4) != 0x66fc328a) return std::nullopt;
  const std::uint32_t count = *read_le<std::uint32_t>(d, 0);
  if (count == 0 || count > kMaxDirEntries) return std::nullopt;
  const std::uint64_t table_end = kHeader + std::uint64_t(count) * kEntry;
  if (d.size() < table_end) {
    // Too short for its table: a probe still sees the first entry's magic.
    if (d.size() < kHeader + kEntry || *read_le<std::uint32_t>(d, kHeader + 124) != kEntryMagic)
      return std::nullopt;
    end = table_end;
    return std::vector<File>{};
  }
  std::vector<File> files;
  end = padded(table_end);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint64_t at = kHeader + std::uint64_t(i) * kEntry;
    if (*read_le<std::uint32_t>(d, at + 124) != kEntryMagic) return std::nullopt;
    File f{cstr(d, at, kNameBytes), *read_le<std::uint32_t>(d, at + kNameBytes),
           *read_le<std::uint32_t>(d, at + kNameBytes + 4)};
    if (f.name.empty() || f.offset < table_end) return std::nullopt;
    end = std::max(end, padded(f.offset + f.length));
    files.push_back(std::move(f));
  }
  return files;
}

std::optional<Probe> probe(Bytes d) {
  std::uint64_t end = 0;
  auto files = parse(d, end);
  if (!files) return std::nullopt;
  return Probe{std::min(end, std::uint64_t(d.size())),
               fmt::format("Ambarella ROMFS, {} files", *read_le<std::uint32_t>(d, 0))};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  std::uint64_t end = 0;
  auto files = parse(d, end);
  if (!files) return fail("bad Ambarella ROMFS header", 0);
  if (files->empty()) return fail("Ambarella ROMFS truncated inside its file table", d.size());
  sink.describe(fmt::format("Ambarella ROMFS, {} files", files->size()));
  for (const File& f : *files) {
    // A name may hold directories ("sub/file.bin"): each component is checked.
    std::string path;
    bool ok = true;
    for (std::size_t at = 0; ok && at <= f.name.size();) {
      const std::size_t slash = std::min(f.name.find('/', at), f.name.size());
      auto child = child_path(sink, path, std::string_view(f.name).substr(at, slash - at));
      ok = child.has_value();
      if (ok) path = *child;
      if (ok && slash < f.name.size()) (void)sink.node(Entry{path, EntryType::kDir, 0755});
      at = slash + 1;
    }
    if (!ok) continue;
    const Bytes data = sub(d, f.offset, f.length);
    const bool cut = data.size() < f.length;
    if (cut)
      sink.warn("format-error", fmt::format("{} of {} bytes present", data.size(), f.length), path,
                f.offset);
    if (auto st = sink.file(Entry{path}, data, cut); !st && sink.exhausted())
      return fail_at(st.error(), f.offset);
  }
  if (d.size() < end)
    return fail(fmt::format("Ambarella ROMFS truncated: {} of {} bytes", d.size(), end), d.size());
  return end;
}

}  // namespace

const Format kFormat_ambarella_romfs = make_format(
    kind::kFilesystem, "ambarella_romfs", "Ambarella ROMFS partition", kMagics, probe, extract);

}  // namespace probity::unpacker
