// Big-endian squashfs 4.0 (AVM's "sqsh" images) made readable by libsquashfs, which reads only
// little-endian: the superblock and every metadata table (inodes, directories, fragments, ids)
// are byte-swapped field by field into a little-endian copy of the tables, stored uncompressed
// after the image. Data and fragment blocks keep their offsets, so the image itself is never
// copied: the caller reads it through an overlay (new superblock, image, appended tables).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "probity/error.hpp"

namespace probity::unpacker::sqfs {

struct LeTables {
  std::array<std::uint8_t, 96> super{};  ///< the superblock, little-endian, pointing at `tables`
  std::vector<std::uint8_t> tables;      ///< to be read at offset `image.size()`
  std::vector<std::string> dropped;      ///< what the copy leaves out (export table, xattrs)
};

/// Decompresses one metadata block into at most `max` bytes.
using MetaDecoder = std::function<bool(Bytes in, std::size_t max, std::vector<std::uint8_t>& out)>;

/// Whether `image` starts with a big-endian 4.0 superblock ("sqsh", version 4.0 big-endian).
bool is_be_squashfs4(Bytes image);

/// Byte-swaps the tables of the big-endian 4.0 `image` (already cut to its bytes_used).
/// Decompressed metadata is capped at `max_metadata` bytes.
Result<LeTables> swap_to_le(Bytes image, const MetaDecoder& decode, std::uint64_t max_metadata);

}  // namespace probity::unpacker::sqfs
