// ELF comparison for `probity equiv`: masks only the NT_GNU_BUILD_ID descriptor and the
// .gnu_debuglink CRC, and names the sections and symbols that cover every other differing byte.
// Parsed with libelf (elfutils), as src/checks_support/elf_info.cpp does.
#include <gelf.h>
#include <libelf.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "probity/equiv.hpp"

namespace probity {
namespace {

struct Sec {
  std::string name;
  std::uint32_t type = 0;
  std::uint64_t flags = 0, off = 0, size = 0, addr = 0;
};

struct Sym {
  std::uint64_t addr = 0, size = 0;
  std::string name;
};

struct Parsed {
  std::vector<Sec> secs;
  std::vector<ByteRange> build_id;  // descriptor ranges of NT_GNU_BUILD_ID notes
  std::optional<ByteRange> debuglink_crc;
  std::vector<Sym> syms;
  std::string symtab;
  std::uint64_t ehsize = 0, phoff = 0, phsize = 0, shoff = 0, shsize = 0;
};

struct ElfHandle {
  Elf* e = nullptr;
  ~ElfHandle() {
    if (e) elf_end(e);
  }
};

std::optional<Parsed> parse(std::span<const std::uint8_t> bytes) {
  static const bool kInit = elf_version(EV_CURRENT) != EV_NONE;
  if (!kInit || bytes.size() < 52 ||
      std::memcmp(bytes.data(),
                  "\x7f"
                  "ELF",
                  4) != 0)
    return std::nullopt;
  ElfHandle h;
  // libelf only reads: ELF_C_READ semantics for memory images.
  h.e = elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size());
  if (!h.e || elf_kind(h.e) != ELF_K_ELF) return std::nullopt;
  GElf_Ehdr eh;
  if (!gelf_getehdr(h.e, &eh)) return std::nullopt;
  Parsed p;
  p.ehsize = eh.e_ehsize;
  p.phoff = eh.e_phoff;
  p.phsize = std::uint64_t(eh.e_phnum) * eh.e_phentsize;
  p.shoff = eh.e_shoff;
  p.shsize = std::uint64_t(eh.e_shnum) * eh.e_shentsize;
  std::size_t shstrndx = 0;
  if (elf_getshdrstrndx(h.e, &shstrndx) != 0) return std::nullopt;
  Elf_Scn* symscn = nullptr;
  Elf_Scn* dynscn = nullptr;
  for (Elf_Scn* scn = elf_nextscn(h.e, nullptr); scn; scn = elf_nextscn(h.e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    const char* name = elf_strptr(h.e, shstrndx, sh.sh_name);
    Sec s{name ? name : "", sh.sh_type, sh.sh_flags, sh.sh_offset, sh.sh_size, sh.sh_addr};
    // Never trust the header: a section past the end of the file has no bytes here.
    if (sh.sh_type == SHT_NOBITS || sh.sh_offset > bytes.size())
      s.size = 0;
    else
      s.size = std::min<std::uint64_t>(sh.sh_size, bytes.size() - sh.sh_offset);
    if (sh.sh_type == SHT_SYMTAB) symscn = scn;
    if (sh.sh_type == SHT_DYNSYM) dynscn = scn;
    if (sh.sh_type == SHT_NOTE && s.size > 0) {
      Elf_Data* d = elf_getdata(scn, nullptr);
      GElf_Nhdr nh;
      std::size_t name_off = 0, desc_off = 0, off = 0, next = 0;
      while (d && (next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && name_off + 4 <= d->d_size &&
            std::memcmp(static_cast<const char*>(d->d_buf) + name_off, "GNU", 4) == 0 &&
            desc_off + nh.n_descsz <= s.size)
          p.build_id.push_back({s.off + desc_off, nh.n_descsz});
        off = next;
      }
    }
    if (s.name == ".gnu_debuglink" && s.size >= 8)
      p.debuglink_crc = ByteRange{s.off + s.size - 4, 4};
    p.secs.push_back(std::move(s));
  }
  Elf_Scn* use = symscn ? symscn : dynscn;
  p.symtab = symscn ? ".symtab" : dynscn ? ".dynsym" : "";
  if (use) {
    GElf_Shdr sh;
    Elf_Data* d = elf_getdata(use, nullptr);
    if (gelf_getshdr(use, &sh) && d && sh.sh_entsize) {
      const std::size_t n = std::min<std::size_t>(sh.sh_size / sh.sh_entsize, 2'000'000);
      for (std::size_t i = 0; i < n; ++i) {
        GElf_Sym sym;
        if (!gelf_getsym(d, int(i), &sym)) break;
        const int t = GELF_ST_TYPE(sym.st_info);
        if ((t != STT_FUNC && t != STT_OBJECT) || sym.st_size == 0) continue;
        const char* nm = elf_strptr(h.e, sh.sh_link, sym.st_name);
        if (!nm || !*nm) continue;
        std::uint64_t addr = sym.st_value;
        if (eh.e_machine == EM_ARM && t == STT_FUNC) addr &= ~std::uint64_t(1);  // Thumb bit
        p.syms.push_back({addr, sym.st_size, nm});
      }
    }
  }
  return p;
}

// Where a file offset lies: a section index, or -1 with a label for the ELF header parts.
std::string locate(const Parsed& p, std::uint64_t off, const Sec** sec) {
  *sec = nullptr;
  for (const auto& s : p.secs)
    if (s.size && off >= s.off && off < s.off + s.size && s.type != SHT_NULL) {
      *sec = &s;
      return s.name.empty() ? "(unnamed section)" : s.name;
    }
  if (off < p.ehsize) return "ELF header";
  if (off >= p.phoff && off < p.phoff + p.phsize) return "program headers";
  if (off >= p.shoff && off < p.shoff + p.shsize) return "section headers";
  return "(between sections)";
}

// End of the area `off` belongs to (so a range crossing sections is split at the boundary).
std::uint64_t area_end(const Parsed& p, std::uint64_t off, std::uint64_t file_end) {
  std::uint64_t end = file_end;
  for (const auto& s : p.secs) {
    if (!s.size) continue;
    if (off >= s.off && off < s.off + s.size) end = std::min(end, s.off + s.size);
    if (s.off > off) end = std::min(end, s.off);
  }
  for (auto [b, n] : {std::pair{std::uint64_t(0), p.ehsize}, std::pair{p.phoff, p.phsize},
                      std::pair{p.shoff, p.shsize}}) {
    if (!n) continue;
    if (off >= b && off < b + n) end = std::min(end, b + n);
    if (b > off) end = std::min(end, b);
  }
  return end;
}

void add_symbols(const Parsed& p, const Sec* s, std::uint64_t off, std::uint64_t len,
                 std::set<std::string>& names) {
  if (!s || !(s->flags & SHF_ALLOC)) return;
  const std::uint64_t lo = s->addr + (off - s->off), hi = lo + len;
  for (const auto& y : p.syms) {
    if (names.size() >= kMaxSymbolsPerRange) return;
    if (y.addr < hi && y.addr + y.size > lo) names.insert(y.name);
  }
}

}  // namespace

std::optional<ElfComparison> compare_elf(std::span<const std::uint8_t> a,
                                         std::span<const std::uint8_t> b) {
  auto pa = parse(a), pb = parse(b);
  if (!pa || !pb) return std::nullopt;
  ElfComparison out;
  out.symbol_table = pa->symtab;
  out.same_layout = a.size() == b.size() && pa->secs.size() == pb->secs.size();
  for (std::size_t i = 0; out.same_layout && i < pa->secs.size(); ++i) {
    const auto &x = pa->secs[i], &y = pb->secs[i];
    out.same_layout = x.name == y.name && x.off == y.off && x.size == y.size && x.type == y.type;
  }
  std::map<std::string, ElfSectionDiff> by_section;
  std::map<std::string, std::set<std::string>> syms;
  std::vector<std::string> order;
  auto record = [&](const std::string& name, std::uint64_t off, std::uint64_t len,
                    std::uint64_t diff_bytes) {
    auto [it, fresh] = by_section.try_emplace(name);
    if (fresh) {
      it->second.section = name;
      order.push_back(name);
    }
    ++it->second.ranges_total;
    if (it->second.ranges.size() < kMaxEquivRanges) it->second.ranges.push_back({off, len});
    it->second.bytes += diff_bytes;
  };
  // Masks: the same in both files when the layout is the same (checked per field below).
  auto masked = [&](std::uint64_t off, std::uint64_t* rule) -> bool {
    for (std::size_t i = 0; i < pa->build_id.size(); ++i) {
      const auto& r = pa->build_id[i];
      const bool same_in_b = i < pb->build_id.size() && pb->build_id[i].offset == r.offset &&
                             pb->build_id[i].length == r.length;
      if (same_in_b && off >= r.offset && off < r.offset + r.length) {
        *rule = 1;
        return true;
      }
    }
    if (pa->debuglink_crc && pb->debuglink_crc &&
        pa->debuglink_crc->offset == pb->debuglink_crc->offset &&
        off >= pa->debuglink_crc->offset && off < pa->debuglink_crc->offset + 4) {
      *rule = 2;
      return true;
    }
    return false;
  };
  bool build_id_hit = false, debuglink_hit = false;
  // Walks [off, off+len) of both files (same offsets), splitting at area boundaries and
  // dropping masked bytes; records what is left.
  auto walk = [&](std::uint64_t off, std::uint64_t len) {
    const std::uint64_t end = off + len;
    while (off < end) {
      const std::uint64_t stop = std::min(end, area_end(*pa, off, std::max(a.size(), b.size())));
      const Sec* s = nullptr;
      const std::string name = locate(*pa, off, &s);
      std::uint64_t first = UINT64_MAX, last = 0, n = 0;
      for (std::uint64_t i = off; i < stop; ++i) {
        const bool differs = i >= a.size() || i >= b.size() || a[i] != b[i];
        if (!differs) continue;
        std::uint64_t rule = 0;
        if (masked(i, &rule)) {
          (rule == 1 ? build_id_hit : debuglink_hit) = true;
          continue;
        }
        first = std::min(first, i);
        last = i;
        ++n;
      }
      if (n) {
        record(name, first, last + 1 - first, n);
        add_symbols(*pa, s, first, last + 1 - first, syms[name]);
      }
      off = std::max(stop, off + 1);
    }
  };
  if (out.same_layout) {
    std::uint64_t total = 0;
    for (const auto& r : differing_ranges(a, b, SIZE_MAX, &total)) walk(r.offset, r.length);
  } else {
    // Layouts differ: compare section by section (paired by name and occurrence).
    std::map<std::string, std::vector<const Sec*>> bsecs;
    for (const auto& s : pb->secs) bsecs[s.name].push_back(&s);
    std::map<std::string, std::size_t> seen;
    for (const auto& s : pa->secs) {
      if (s.type == SHT_NULL) continue;
      const auto k = seen[s.name]++;
      auto it = bsecs.find(s.name);
      const Sec* t = it != bsecs.end() && k < it->second.size() ? it->second[k] : nullptr;
      const std::string name = s.name.empty() ? "(unnamed section)" : s.name;
      if (!t) {
        record(name, s.off, s.size, s.size);
        by_section[name].note = "only in the shipped file";
        continue;
      }
      if (s.size != t->size) {
        record(name, s.off, s.size, std::max(s.size, t->size));
        by_section[name].note = fmt::format("size {} vs {}", s.size, t->size);
        continue;
      }
      const auto sa = a.subspan(s.off, s.size), sb = b.subspan(t->off, t->size);
      for (const auto& r : differing_ranges(sa, sb, SIZE_MAX)) {
        std::uint64_t first = UINT64_MAX, last = 0, n = 0;
        for (std::uint64_t i = r.offset; i < r.offset + r.length; ++i) {
          if (sa[i] == sb[i]) continue;
          const bool in_build_id = std::ranges::any_of(pa->build_id, [&](const ByteRange& m) {
            return s.off + i >= m.offset && s.off + i < m.offset + m.length;
          });
          const bool in_crc = s.name == ".gnu_debuglink" && i + 4 >= s.size;
          if (in_build_id || in_crc) {
            (in_build_id ? build_id_hit : debuglink_hit) = true;
            continue;
          }
          first = std::min(first, i);
          last = i;
          ++n;
        }
        if (n) {
          record(name, s.off + first, last + 1 - first, n);
          add_symbols(*pa, &s, s.off + first, last + 1 - first, syms[name]);
        }
      }
    }
    for (const auto& [name, list] : bsecs)
      if (list.size() > seen[name] && !name.empty()) {
        record(name, 0, 0, list[seen[name]]->size);
        by_section[name].note = "only in the rebuilt file";
      }
  }
  if (build_id_hit)
    for (const auto& r : pa->build_id) out.build_id_bytes += r.length;
  if (debuglink_hit) out.debuglink_bytes = 4;
  for (const auto& name : order) {
    auto d = std::move(by_section[name]);
    d.symbols.assign(syms[name].begin(), syms[name].end());
    out.sections.push_back(std::move(d));
  }
  return out;
}

}  // namespace probity
