// What an ELF file says of its own identity through the dynamic linker's structures, read with
// libelf (elf_memory, gelf_*): its DT_SONAME, its DT_NEEDED libraries and its GNU symbol versions
// (SHT_GNU_verdef: the version nodes it defines, e.g. ZLIB_1.2.9, OPENSSL_3.0.0; SHT_GNU_verneed:
// the nodes it needs from each library, e.g. libc.so.6 GLIBC_2.34). docs/signatures.md,
// "ELF facts".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "probity/limits.hpp"

namespace probity::elf {

struct ElfFacts {
  std::string soname;                         ///< DT_SONAME ("" when none)
  std::vector<std::string> needed;            ///< DT_NEEDED, in order
  std::vector<std::string> defined_versions;  ///< verdef names, the file's own (BASE) node first
  /// verneed: "<library> <version>" per needed version node, e.g. "libc.so.6 GLIBC_2.34".
  std::vector<std::string> needed_versions;
  bool truncated = false;  ///< a cap was hit or a chain ran outside its section
};

/// The facts of `bytes` if they are an ELF file libelf can read, else nullopt. Never reads
/// outside `bytes`; chains of version nodes are followed forwards only and at most
/// kMaxElfVersionNodes steps.
std::optional<ElfFacts> read_elf_facts(std::span<const std::uint8_t> bytes);

}  // namespace probity::elf
