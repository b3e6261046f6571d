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

#include "core/bytes.hpp"
#include "core/elf_memory.hpp"
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

std::optional<Parsed> parse(std::span<const std::uint8_t> bytes) {
  const ElfPtr elf = open_elf(bytes);
  if (!elf) return std::nullopt;
  Elf* e = elf.get();
  GElf_Ehdr eh;
  if (!gelf_getehdr(e, &eh)) return std::nullopt;
  Parsed p;
  p.ehsize = eh.e_ehsize;
  p.phoff = eh.e_phoff;
  p.phsize = std::uint64_t(eh.e_phnum) * eh.e_phentsize;
  p.shoff = eh.e_shoff;
  p.shsize = std::uint64_t(eh.e_shnum) * eh.e_shentsize;
  std::size_t shstrndx = 0;
  if (elf_getshdrstrndx(e, &shstrndx) != 0) return std::nullopt;
  Elf_Scn* symscn = nullptr;
  Elf_Scn* dynscn = nullptr;
  for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    const char* name = elf_strptr(e, shstrndx, sh.sh_name);
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
        const char* nm = elf_strptr(e, sh.sh_link, sym.st_name);
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
  bool build_id_hit = false, debuglink_hit = false;

  // Compares one area: `off_a`/`off_b` where it starts in each file, `sec` its section in a (for
  // symbols) or nullptr. Masked fields are the build-id descriptors and the debug-link CRC at
  // the same place in both files; only they are overwritten (in small copies), nothing else.
  auto compare_area = [&](const std::string& name, const Sec* sec, std::uint64_t off_a, Bytes xa,
                          std::uint64_t off_b, Bytes xb) {
    if (xa.size() == xb.size() && std::memcmp(xa.data(), xb.data(), xa.size()) == 0) return;
    std::vector<ByteRange> masks;  // relative to the area, with the rule that owns each
    std::vector<int> rules;
    for (std::size_t i = 0; i < pa->build_id.size() && i < pb->build_id.size(); ++i) {
      const auto &ra = pa->build_id[i], &rb = pb->build_id[i];
      if (ra.length == rb.length && ra.offset >= off_a &&
          ra.offset + ra.length <= off_a + xa.size() && rb.offset - off_b == ra.offset - off_a) {
        masks.push_back({ra.offset - off_a, ra.length});
        rules.push_back(1);
      }
    }
    if (pa->debuglink_crc && pb->debuglink_crc) {
      const auto &ra = *pa->debuglink_crc, &rb = *pb->debuglink_crc;
      if (ra.offset >= off_a && ra.offset + 4 <= off_a + xa.size() &&
          rb.offset - off_b == ra.offset - off_a) {
        masks.push_back({ra.offset - off_a, 4});
        rules.push_back(2);
      }
    }
    std::vector<std::uint8_t> ca, cb;
    if (!masks.empty() && xa.size() == xb.size()) {
      ca.assign(xa.begin(), xa.end());
      cb.assign(xb.begin(), xb.end());
      for (std::size_t k = 0; k < masks.size(); ++k) {
        const auto& m = masks[k];
        if (std::memcmp(ca.data() + m.offset, cb.data() + m.offset, m.length) == 0) continue;
        (rules[k] == 1 ? build_id_hit : debuglink_hit) = true;
        std::memcpy(ca.data() + m.offset, cb.data() + m.offset, m.length);
      }
      xa = ca;
      xb = cb;
    }
    std::uint64_t total = 0;
    const auto ranges = differing_ranges(xa, xb, kMaxEquivRanges, &total);
    if (!total) return;
    auto [it, fresh] = by_section.try_emplace(name);
    auto& d = it->second;
    if (fresh) {
      d.section = name;
      order.push_back(name);
    }
    d.ranges_total += total;
    const std::size_t n = std::min(xa.size(), xb.size());
    for (std::size_t i = 0; i < n; ++i) d.bytes += xa[i] != xb[i];
    d.bytes += std::max(xa.size(), xb.size()) - n;
    for (const auto& r : ranges) {
      if (d.ranges.size() < kMaxEquivRanges) d.ranges.push_back({off_a + r.offset, r.length});
      add_symbols(*pa, sec, off_a + r.offset, r.length, syms[name]);
    }
  };

  if (out.same_layout) {
    // Areas: the ELF header, program and section header tables, each section, the gaps.
    std::set<std::uint64_t> cuts{0, a.size()};
    auto cut = [&](std::uint64_t o) {
      if (o < a.size()) cuts.insert(o);
    };
    cut(pa->ehsize);
    cut(pa->phoff);
    cut(pa->phoff + pa->phsize);
    cut(pa->shoff);
    cut(pa->shoff + pa->shsize);
    for (const auto& sec : pa->secs) {
      if (!sec.size) continue;
      cut(sec.off);
      cut(sec.off + sec.size);
    }
    for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
      const std::uint64_t lo = *it, hi = *std::next(it);
      const Sec* sec = nullptr;
      const std::string name = locate(*pa, lo, &sec);
      compare_area(name, sec, lo, a.subspan(lo, hi - lo), lo, b.subspan(lo, hi - lo));
    }
  } else {
    // Layouts differ: section by section (paired by name and occurrence).
    std::map<std::string, std::vector<const Sec*>> bsecs;
    for (const auto& sec : pb->secs) bsecs[sec.name].push_back(&sec);
    std::map<std::string, std::size_t> seen;
    for (const auto& sec : pa->secs) {
      if (sec.type == SHT_NULL) continue;
      const auto k = seen[sec.name]++;
      const auto it = bsecs.find(sec.name);
      const Sec* t = it != bsecs.end() && k < it->second.size() ? it->second[k] : nullptr;
      const std::string name = sec.name.empty() ? "(unnamed section)" : sec.name;
      if (!t) {
        auto& d = by_section[name];
        if (d.section.empty()) order.push_back(name);
        d.section = name;
        d.bytes += sec.size;
        d.ranges_total += 1;
        d.ranges.push_back({sec.off, sec.size});
        d.note = "only in the shipped file";
        continue;
      }
      compare_area(name, &sec, sec.off, a.subspan(sec.off, sec.size), t->off,
                   b.subspan(t->off, t->size));
      if (sec.size != t->size && by_section.contains(name))
        by_section[name].note = fmt::format("size {} vs {}", sec.size, t->size);
    }
    for (const auto& [name, list] : bsecs)
      if (list.size() > seen[name] && !name.empty()) {
        auto& d = by_section[name];
        if (d.section.empty()) order.push_back(name);
        d.section = name;
        d.bytes += list[seen[name]]->size;
        d.note = "only in the rebuilt file";
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
