#include "core/elf_memory.hpp"

#include <cstring>

namespace probity {

ElfPtr open_elf(Bytes bytes) {
  static const bool kInit = elf_version(EV_CURRENT) != EV_NONE;
  if (!kInit || bytes.size() < 52 ||
      std::memcmp(bytes.data(),
                  "\x7f"
                  "ELF",
                  4) != 0)
    return {};
  ElfPtr e(
      elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size()));
  if (e && elf_kind(e.get()) != ELF_K_ELF) e.reset();
  return e;
}

}  // namespace probity
