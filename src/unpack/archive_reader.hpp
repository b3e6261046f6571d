// Extraction of archive formats through libarchive (tar, cpio, zip, 7z, ar). Each format file
// selects the libarchive reader; this walks the entries into the Sink.
#pragma once

#include <archive.h>

#include <cstdint>
#include <memory>

#include "unpack/format.hpp"

namespace probity::unpacker {

/// Enables exactly one libarchive format reader (and no decompression filter: compressed
/// streams are separate formats here, so each layer is accounted for on its own).
using EnableFormat = int (*)(struct archive*);

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
/// A libarchive reader, freed when it goes out of scope.
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadFree>;

/// A new libarchive reader with nothing enabled; an Error when libarchive cannot make one.
inline Result<ArchiveReader> new_archive_reader() {
  ArchiveReader a(archive_read_new());
  if (!a) return fail("libarchive: cannot initialise");
  return a;
}

/// libarchive's message for the reader's last error, or `none` when it has none.
inline const char* archive_message(struct archive* a, const char* none = "?") {
  const char* m = archive_error_string(a);
  return m ? m : none;
}

/// Reads every entry of the archive at the start of `data` into `sink`. Returns the bytes the
/// archive spans as libarchive consumed them (use `span_hint` when the format knows better).
Result<std::uint64_t> extract_with_libarchive(Bytes data, Sink& sink, EnableFormat enable,
                                              std::uint64_t span_hint = 0);

}  // namespace probity::unpacker
