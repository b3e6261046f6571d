// ELF facts the checks need (imports, program headers, dynamic tags), parsed once per file with
// libelf (internal).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "probity/limits.hpp"

namespace probity::checks {

enum class Relro { kNone, kPartial, kFull };

struct ElfInfo {
  bool exec_type = false;  ///< ET_EXEC
  bool dyn_type = false;   ///< ET_DYN
  bool has_interp = false;
  bool has_dynamic = false;
  bool has_gnu_stack = false;
  bool stack_exec = false;  ///< PT_GNU_STACK has PF_X
  bool has_gnu_relro = false;
  bool bind_now = false;  ///< DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW
  bool df1_pie = false;
  bool dt_debug = false;
  bool has_soname = false;  ///< DT_SONAME: a library (libc.so.6 has PT_INTERP too but is one)
  bool has_symtab = false;
  std::string rpath;
  std::string runpath;
  std::string soname;
  std::vector<std::string> needed;  ///< DT_NEEDED entries in order (at most kMaxElfDynamicEntries)
  std::set<std::string> imports;    ///< undefined dynamic symbols (version suffix removed)
  bool canary_symbol = false;       ///< __stack_chk_fail/__stack_chk_guard in any symbol table
  bool fortify_symbol = false;      ///< some __*_chk symbol in any symbol table
  /// Caps reached while parsing (the hardening check reports them).
  struct CapHit {
    std::string_view name;  ///< the constant, e.g. "kMaxElfSymbols"
    std::size_t value;
  };
  std::vector<CapHit> caps_hit;

  [[nodiscard]] bool nx() const { return has_gnu_stack && !stack_exec; }
  /// An executable (not a library): ET_EXEC, or ET_DYN with DF_1_PIE, DT_DEBUG (what checksec
  /// looks at) or an interpreter and no soname.
  [[nodiscard]] bool executable() const { return exec_type || pie(); }
  [[nodiscard]] bool pie() const {
    return dyn_type && (df1_pie || dt_debug || (has_interp && !has_soname));
  }
  [[nodiscard]] Relro relro() const {
    return !has_gnu_relro ? Relro::kNone : bind_now ? Relro::kFull : Relro::kPartial;
  }
  [[nodiscard]] bool imports_any(std::initializer_list<std::string_view> names) const {
    for (auto n : names)
      if (imports.contains(std::string(n))) return true;
    return false;
  }
};

/// nullopt when `bytes` is not an ELF object libelf accepts.
std::optional<ElfInfo> parse_elf(Bytes bytes);

}  // namespace probity::checks
