// ELF identity facts through libelf (src/identify/elf_facts.hpp). libelf checks that each
// structure it returns lies inside its section's data (gelf_getverdef and friends return null
// otherwise); this file only follows the vd_next/vda_next/vn_next/vna_next chains, which it caps
// and requires to move forwards.
#include "identify/elf_facts.hpp"
#include "core/elf_memory.hpp"

#include <gelf.h>
#include <libelf.h>

#include <cstring>

namespace probity::elf {
namespace {

std::string name_at(Elf* e, std::size_t strtab, std::size_t offset) {
  const char* s = elf_strptr(e, strtab, offset);
  if (!s) return {};
  return std::string(s, strnlen(s, kMaxElfNameLength));
}

/// The next offset of a chain: forwards only, inside the data.
bool advance(std::size_t& at, std::uint64_t next, const Elf_Data* d) {
  if (next == 0 || next > d->d_size || at + next >= d->d_size) return false;
  at += next;
  return true;
}

/// Reads the sh_info records of a GNU version section, chained by their next offsets: `read(d,
/// at)` reads the record at `at` and returns its next offset (0: the last), nullopt when it cannot
/// be read. Every record counts against kMaxElfVersionNodes; what cannot be read marks the facts
/// truncated.
template <class Read>
void read_version_chain(Elf_Scn* scn, const GElf_Shdr& sh, ElfFacts& f, std::size_t& nodes,
                        Read read) {
  Elf_Data* d = elf_getdata(scn, nullptr);
  if (!d || d->d_size == 0) return;
  std::size_t at = 0;
  for (std::size_t i = 0; i < sh.sh_info; ++i) {
    if (++nodes > kMaxElfVersionNodes) {
      f.truncated = true;
      return;
    }
    const std::optional<std::uint64_t> next = read(d, at);
    if (!next) {
      f.truncated = true;
      return;
    }
    if (*next == 0) return;
    if (!advance(at, *next, d)) {
      f.truncated = true;
      return;
    }
  }
}

void read_verdef(Elf* e, Elf_Scn* scn, const GElf_Shdr& sh, ElfFacts& f, std::size_t& nodes) {
  read_version_chain(scn, sh, f, nodes, [&](Elf_Data* d, std::size_t at) {
    GElf_Verdef vd;
    if (!gelf_getverdef(d, int(at), &vd)) return std::optional<std::uint64_t>();
    // The first aux entry names the node; later ones name its parents.
    GElf_Verdaux aux;
    if (vd.vd_cnt > 0 && vd.vd_aux < d->d_size && at + vd.vd_aux < d->d_size &&
        gelf_getverdaux(d, int(at + vd.vd_aux), &aux)) {
      auto name = name_at(e, sh.sh_link, aux.vda_name);
      if (!name.empty()) f.defined_versions.push_back(std::move(name));
    }
    return std::optional<std::uint64_t>(vd.vd_next);
  });
}

void read_verneed(Elf* e, Elf_Scn* scn, const GElf_Shdr& sh, ElfFacts& f, std::size_t& nodes) {
  read_version_chain(scn, sh, f, nodes, [&](Elf_Data* d, std::size_t at) {
    GElf_Verneed vn;
    if (!gelf_getverneed(d, int(at), &vn)) return std::optional<std::uint64_t>();
    const std::string file = name_at(e, sh.sh_link, vn.vn_file);
    std::size_t aux_at = at;
    std::uint64_t step = vn.vn_aux;
    for (std::size_t k = 0; k < vn.vn_cnt; ++k) {
      if (++nodes > kMaxElfVersionNodes) {
        f.truncated = true;
        return std::optional<std::uint64_t>(0);
      }
      GElf_Vernaux aux;
      if (!advance(aux_at, step, d) || !gelf_getvernaux(d, int(aux_at), &aux)) {
        f.truncated = true;
        break;
      }
      auto name = name_at(e, sh.sh_link, aux.vna_name);
      if (!name.empty()) f.needed_versions.push_back(file + " " + name);
      if (aux.vna_next == 0) break;
      step = aux.vna_next;
    }
    return std::optional<std::uint64_t>(vn.vn_next);
  });
}

void read_dynamic(Elf* e, Elf_Scn* scn, const GElf_Shdr& sh, ElfFacts& f) {
  Elf_Data* d = elf_getdata(scn, nullptr);
  if (!d || sh.sh_entsize == 0) return;
  const std::size_t total = d->d_size / sh.sh_entsize;
  for (std::size_t i = 0; i < total; ++i) {
    if (i == kMaxElfDynamicEntries) {
      f.truncated = true;
      return;
    }
    GElf_Dyn dyn;
    if (!gelf_getdyn(d, int(i), &dyn) || dyn.d_tag == DT_NULL) return;
    if (dyn.d_tag == DT_SONAME)
      f.soname = name_at(e, sh.sh_link, dyn.d_un.d_val);
    else if (dyn.d_tag == DT_NEEDED)
      if (auto n = name_at(e, sh.sh_link, dyn.d_un.d_val); !n.empty())
        f.needed.push_back(std::move(n));
  }
}

}  // namespace

std::optional<ElfFacts> read_elf_facts(std::span<const std::uint8_t> bytes) {
  const ElfPtr elf = open_elf(bytes);
  if (!elf) return std::nullopt;
  Elf* e = elf.get();
  ElfFacts f;
  std::size_t nodes = 0;
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(e, scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    if (sh.sh_type == SHT_DYNAMIC)
      read_dynamic(e, scn, sh, f);
    else if (sh.sh_type == SHT_GNU_verdef)
      read_verdef(e, scn, sh, f, nodes);
    else if (sh.sh_type == SHT_GNU_verneed)
      read_verneed(e, scn, sh, f, nodes);
  }
  return f;
}

}  // namespace probity::elf
