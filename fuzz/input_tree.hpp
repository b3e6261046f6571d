// Shared by the fuzz targets that need a small unpacked tree: the input is split at NUL bytes
// into the files `paths` names (in order), written under `root` as `unpack` would have written
// them (one squashfs container), and described by FileRecords.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include "probity/artifact.hpp"

namespace probity::fuzz {

inline ArtifactTree input_tree(const std::uint8_t* data, std::size_t size,
                               std::span<const char* const> paths,
                               const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  fs::remove_all(root);
  ArtifactTree tree;
  std::size_t start = 0, n = 0;
  for (std::size_t i = 0; i <= size && n < paths.size(); ++i) {
    if (i < size && data[i] != 0) continue;
    FileRecord f;
    f.path = paths[n++];
    f.container = 1;
    f.type = EntryType::kFile;
    f.size = i - start;
    f.extracted = "extracted/1-squashfs/" + f.path;
    f.origin = {{"fw.bin", 0, "squashfs"}};
    fs::create_directories((root / f.extracted).parent_path());
    std::ofstream(root / f.extracted, std::ios::binary)
        .write(reinterpret_cast<const char*>(data + start), std::streamsize(i - start));
    tree.files.push_back(std::move(f));
    start = i + 1;
  }
  return tree;
}

}  // namespace probity::fuzz
