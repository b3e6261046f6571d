// libelf over an ELF image already in memory: the one way every stage opens one (inventory,
// identify, the checks, equiv, source explain).
#pragma once

#include <libelf.h>

#include <memory>

#include "core/bytes.hpp"

namespace probity {

struct ElfEnd {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfPtr = std::unique_ptr<Elf, ElfEnd>;

/// libelf's read-only view of `bytes` (which must outlive it), ended when it goes out of scope;
/// null unless `bytes` start with the ELF magic, hold at least a 32-bit ELF header and libelf
/// takes them as an ELF object. libelf only reads a memory image: converted data is its own copy.
ElfPtr open_elf(Bytes bytes);

}  // namespace probity
