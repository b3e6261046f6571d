#include "checks_support/elf_info.hpp"
#include "core/elf_memory.hpp"
#include "probity/limits.hpp"

#include <gelf.h>
#include <libelf.h>

#include <cstring>

namespace probity::checks {
namespace {

void scan_symbols(Elf* e, Elf_Scn* scn, const GElf_Shdr& sh, ElfInfo& info, bool dynamic) {
  Elf_Data* d = elf_getdata(scn, nullptr);
  if (!d || sh.sh_entsize == 0) return;
  std::size_t n = std::min<std::size_t>(sh.sh_size / sh.sh_entsize, kMaxElfSymbols);
  if (sh.sh_size / sh.sh_entsize > kMaxElfSymbols)
    info.caps_hit.push_back({"kMaxElfSymbols", kMaxElfSymbols});
  for (std::size_t i = 1; i < n; ++i) {
    GElf_Sym sym;
    if (!gelf_getsym(d, int(i), &sym)) break;
    const char* name = elf_strptr(e, sh.sh_link, sym.st_name);
    if (!name || !*name) continue;
    std::string_view nm(name);
    if (nm.find("__stack_chk_fail") != nm.npos || nm.find("__stack_chk_guard") != nm.npos ||
        nm.find("__intel_security_cookie") != nm.npos)
      info.canary_symbol = true;
    if (nm.starts_with("__") && nm.ends_with("_chk") && nm != "__stack_chk_fail" &&
        nm != "__stack_chk_guard")
      info.fortify_symbol = true;
    if (dynamic && sym.st_shndx == SHN_UNDEF) {
      auto at = nm.find('@');
      info.imports.emplace(nm.substr(0, at));
    }
  }
}

}  // namespace

std::optional<ElfInfo> parse_elf(Bytes bytes) {
  const ElfPtr elf = open_elf(bytes);
  if (!elf) return std::nullopt;
  Elf* e = elf.get();
  ElfInfo info;
  GElf_Ehdr eh;
  if (!gelf_getehdr(e, &eh)) return std::nullopt;
  info.exec_type = eh.e_type == ET_EXEC;
  info.dyn_type = eh.e_type == ET_DYN;
  std::size_t nph = 0;
  if (elf_getphdrnum(e, &nph) == 0) {
    if (nph > kMaxElfProgramHeaders)
      info.caps_hit.push_back({"kMaxElfProgramHeaders", kMaxElfProgramHeaders});
    for (std::size_t i = 0; i < nph && i < kMaxElfProgramHeaders; ++i) {
      GElf_Phdr ph;
      if (!gelf_getphdr(e, int(i), &ph)) break;
      if (ph.p_type == PT_INTERP) info.has_interp = true;
      if (ph.p_type == PT_DYNAMIC) info.has_dynamic = true;
      if (ph.p_type == PT_GNU_STACK) {
        info.has_gnu_stack = true;
        info.stack_exec = (ph.p_flags & PF_X) != 0;
      }
      if (ph.p_type == PT_GNU_RELRO) info.has_gnu_relro = true;
    }
  }
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(e, scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    if (sh.sh_type == SHT_SYMTAB) {
      info.has_symtab = true;
      scan_symbols(e, scn, sh, info, false);
    } else if (sh.sh_type == SHT_DYNSYM) {
      scan_symbols(e, scn, sh, info, true);
    } else if (sh.sh_type == SHT_DYNAMIC) {
      Elf_Data* d = elf_getdata(scn, nullptr);
      if (!d || sh.sh_entsize == 0) continue;
      const std::size_t total = sh.sh_size / sh.sh_entsize;
      for (std::size_t i = 0; i < total; ++i) {
        if (i == kMaxElfDynamicEntries) {  // no DT_NULL yet: entries were left unread
          info.caps_hit.push_back({"kMaxElfDynamicEntries", kMaxElfDynamicEntries});
          break;
        }
        GElf_Dyn dyn;
        if (!gelf_getdyn(d, int(i), &dyn) || dyn.d_tag == DT_NULL) break;
        switch (dyn.d_tag) {
          case DT_BIND_NOW:
            info.bind_now = true;
            break;
          case DT_FLAGS:
            if (dyn.d_un.d_val & DF_BIND_NOW) info.bind_now = true;
            break;
          case DT_FLAGS_1:
            if (dyn.d_un.d_val & DF_1_NOW) info.bind_now = true;
            if (dyn.d_un.d_val & DF_1_PIE) info.df1_pie = true;
            break;
          case DT_DEBUG:
            info.dt_debug = true;
            break;
          case DT_SONAME: {
            info.has_soname = true;
            const char* s = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
            if (s) info.soname = s;
            break;
          }
          case DT_NEEDED: {
            const char* s = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
            if (s && *s) info.needed.emplace_back(s);
            break;
          }
          case DT_RPATH:
          case DT_RUNPATH: {
            const char* s = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
            (dyn.d_tag == DT_RPATH ? info.rpath : info.runpath) = s ? s : "?";
            break;
          }
          default:
            break;
        }
      }
    }
  }
  return info;
}

}  // namespace probity::checks
