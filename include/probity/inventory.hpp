// Inventory: file kinds and ELF facts for every extracted file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "probity/artifact.hpp"

namespace probity {

class TaskPool;

/// The kind of a file from its leading bytes (and, for DER, a parse attempt):
/// elf, script, certificate, private-key, archive, filesystem, text or data.
std::string classify(std::span<const std::uint8_t> head);

/// ELF header facts via libelf, or nullopt for anything that is not a valid ELF header.
std::optional<ElfFacts> elf_facts(std::span<const std::uint8_t> bytes);

/// Fills `kind` and `elf` for every regular file of `tree` from the files under `out_dir`,
/// using `threads` workers (0: all cores).
void inventory(ArtifactTree& tree, const std::filesystem::path& out_dir, unsigned threads = 0);
/// The same on the run's task pool (probity::scan: one --threads bounds every stage).
void inventory(ArtifactTree& tree, const std::filesystem::path& out_dir, TaskPool& pool);

}  // namespace probity
