// libFuzzer target for the ELF facts reader (src/identify/elf_facts.cpp): libelf parses, the
// reader follows the verdef/verneed chains by hand. Any input: nullopt or facts, never a read
// outside the input, never a hang.
#include <cstdint>
#include <span>

#include "identify/elf_facts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)probity::elf::read_elf_facts(std::span<const std::uint8_t>(data, size));
  return 0;
}
