// Extraction of archive formats through libarchive (tar, cpio, zip, 7z, ar). Each format file
// selects the libarchive reader; this walks the entries into the Sink.
#pragma once

#include <archive.h>

#include <cstdint>

#include "unpack/format.hpp"

namespace probity::unpacker {

/// Enables exactly one libarchive format reader (and no decompression filter: compressed
/// streams are separate formats here, so each layer is accounted for on its own).
using EnableFormat = int (*)(struct archive*);

/// Reads every entry of the archive at the start of `data` into `sink`. Returns the bytes the
/// archive spans as libarchive consumed them (use `span_hint` when the format knows better).
Result<std::uint64_t> extract_with_libarchive(Bytes data, Sink& sink, EnableFormat enable,
                                              std::uint64_t span_hint = 0);

}  // namespace probity::unpacker
