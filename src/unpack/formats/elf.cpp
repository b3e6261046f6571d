// ELF is a leaf: it is recognised (so its bytes count as understood) but never unpacked. The
// span is the furthest of the section header table, the program header table and every
// segment's file extent, each bounds-checked.
#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {
    {"\x7f"
     "ELF",
     0}};

struct Reader {
  Bytes d;
  bool le;
  template <class T>
  std::optional<T> get(std::uint64_t off) const {
    return le ? read_le<T>(d, off) : read_be<T>(d, off);
  }
  std::optional<std::uint64_t> word32(std::uint64_t off) const {
    auto v = get<std::uint32_t>(off);
    return v ? std::optional<std::uint64_t>(*v) : std::nullopt;
  }
};

/// The ELF span, or nullopt if the header is not plausible.
std::optional<std::uint64_t> elf_span(Bytes d) {
  if (d.size() < 52 || !starts_with(d,
                                    "\x7f"
                                    "ELF"))
    return std::nullopt;
  const std::uint8_t cls = d[4], data = d[5], version = d[6];
  if ((cls != 1 && cls != 2) || (data != 1 && data != 2) || version != 1) return std::nullopt;
  Reader r{d, data == 1};
  const bool b64 = cls == 2;
  const auto type = r.get<std::uint16_t>(16);
  const auto ev = r.get<std::uint32_t>(20);
  if (!type || *type < 1 || *type > 4 || !ev || *ev != 1) return std::nullopt;
  std::uint64_t phoff, shoff;
  std::uint16_t phentsize, phnum, shentsize, shnum;
  if (b64) {
    if (d.size() < 64) return std::nullopt;
    phoff = *r.get<std::uint64_t>(32);
    shoff = *r.get<std::uint64_t>(40);
    phentsize = *r.get<std::uint16_t>(54);
    phnum = *r.get<std::uint16_t>(56);
    shentsize = *r.get<std::uint16_t>(58);
    shnum = *r.get<std::uint16_t>(60);
  } else {
    phoff = *r.get<std::uint32_t>(28);
    shoff = *r.get<std::uint32_t>(32);
    phentsize = *r.get<std::uint16_t>(42);
    phnum = *r.get<std::uint16_t>(44);
    shentsize = *r.get<std::uint16_t>(46);
    shnum = *r.get<std::uint16_t>(48);
  }
  const std::uint16_t want_ph = b64 ? 56 : 32, want_sh = b64 ? 64 : 40;
  if ((phnum && phentsize != want_ph) || (shnum && shentsize != want_sh)) return std::nullopt;
  if (phnum > kMaxElfCarveHeaders || shnum > kMaxElfCarveHeaders) return std::nullopt;
  std::uint64_t end = b64 ? 64 : 52;
  if (shnum) end = std::max(end, shoff + std::uint64_t(shnum) * shentsize);
  if (phnum) end = std::max(end, phoff + std::uint64_t(phnum) * phentsize);
  for (std::uint32_t i = 0; i < phnum; ++i) {
    const std::uint64_t h = phoff + std::uint64_t(i) * phentsize;
    const auto off = b64 ? r.get<std::uint64_t>(h + 8) : r.word32(h + 4);
    const auto filesz = b64 ? r.get<std::uint64_t>(h + 32) : r.word32(h + 16);
    if (!off || !filesz) break;
    if (*off <= d.size() && *filesz <= d.size()) end = std::max(end, *off + *filesz);
  }
  return std::min<std::uint64_t>(end, d.size());
}

std::optional<Probe> probe(Bytes d) {
  auto n = elf_span(d);
  if (!n) return std::nullopt;
  return Probe{
      *n, fmt::format("ELF {}-bit {}-endian", d[4] == 2 ? 64 : 32, d[5] == 1 ? "little" : "big")};
}

Result<std::uint64_t> extract(Bytes d, Sink&) {
  auto n = elf_span(d);
  if (!n) return fail("not an ELF header", 0);
  return *n;
}

}  // namespace

const Format kFormat_elf = make_format(
    kind::kLeaf, "elf", "ELF object (a leaf: recognised, not unpacked)", kMagics, probe, extract);

}  // namespace probity::unpacker
