// Android boot images ("ANDROID!", AOSP system/tools/mkbootimg's bootimg.h): header versions
// 0–2 (page size in the header; kernel, ramdisk, second stage, recovery DTBO and DTB each padded
// to a page) and 3–4 (4 KiB pages; kernel, ramdisk and the v4 boot signature). Each part is
// written as its own file and carved again (the ramdisk is a compressed cpio, the kernel often a
// zImage or gzip).
#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"ANDROID!", 0}};
constexpr std::string_view kDescription = "Android boot image, header v0-v4";

struct Part {
  std::string_view name;
  std::uint64_t size = 0;
};

struct Layout {
  std::uint32_t version = 0, page = 0;
  std::vector<Part> parts;
  std::string name, cmdline;
};

std::uint64_t pages(std::uint64_t bytes, std::uint32_t page) {
  return (bytes + page - 1) / page;
}

std::optional<Layout> layout(Bytes d) {
  if (d.size() < 2048 || !starts_with(d, "ANDROID!")) return std::nullopt;
  Layout l;
  l.version = *read_le<std::uint32_t>(d, 40);
  const auto u32 = [&](std::uint64_t off) {
    return std::uint64_t(*read_le<std::uint32_t>(d, off));
  };
  if (l.version >= 3 && l.version <= 4) {
    l.page = 4096;
    l.parts = {{"kernel", u32(8)}, {"ramdisk", u32(12)}};
    if (l.version == 4) l.parts.push_back({"boot_signature", u32(1580)});
    l.cmdline = cstr(d, 44, 1536);
  } else {
    l.page = *read_le<std::uint32_t>(d, 36);
    // Before header versions existed this word was unused (some vendors put a DTB size here).
    if (l.version > 2) l.version = 0;
    l.parts = {{"kernel", u32(8)}, {"ramdisk", u32(16)}, {"second", u32(24)}};
    if (l.version >= 1) l.parts.push_back({"recovery_dtbo", u32(1632)});
    if (l.version == 2) l.parts.push_back({"dtb", u32(1648)});
    l.name = cstr(d, 48, 16);
    l.cmdline = cstr(d, 64, 512);
  }
  if (l.page < 2048 || l.page > 65536 || (l.page & (l.page - 1))) return std::nullopt;
  if (l.parts[0].size == 0) return std::nullopt;  // no kernel
  return l;
}

std::uint64_t span(const Layout& l) {
  std::uint64_t n = 1;  // the header page
  for (const Part& p : l.parts) n += pages(p.size, l.page);
  return n * l.page;
}

std::optional<Probe> probe(Bytes d) {
  auto l = layout(d);
  if (!l) return std::nullopt;
  return Probe{
      std::min<std::uint64_t>(span(*l), d.size()),
      fmt::format("Android boot image v{}, {}-byte pages, kernel {} bytes, ramdisk {} bytes",
                  l->version, l->page, l->parts[0].size, l->parts[1].size)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto l = layout(d);
  if (!l) return fail("bad Android boot image header", 0);
  sink.describe(fmt::format("Android boot image v{}{}{}, cmdline \"{}\"", l->version,
                            l->name.empty() ? "" : ", name ", l->name, l->cmdline));
  std::uint64_t off = l->page;
  for (const Part& p : l->parts) {
    if (p.size == 0) continue;
    if (off > d.size() || p.size > d.size() - off) {
      Bytes have = sub(d, std::min<std::uint64_t>(off, d.size()));
      (void)sink.file(Entry{std::string(p.name), EntryType::kFile, 0644}, have, true);
      return fail(fmt::format("{} of {} bytes runs past the end of the image", p.name, p.size),
                  off);
    }
    if (auto st =
            sink.file(Entry{std::string(p.name), EntryType::kFile, 0644}, sub(d, off, p.size));
        !st && sink.exhausted())
      return fail_at(st.error(), off);
    off += pages(p.size, l->page) * l->page;
  }
  return std::min<std::uint64_t>(off, d.size());
}

}  // namespace

const Format kFormat_android_boot =
    make_format(kind::kFirmwareHeader, "android_boot", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
