// One zlib inflate loop for the deflate-based stream formats (gzip, zlib): the decoded output
// goes to one file of the sink, fed to zlib in windows below 4 GiB (zlib counts in uInt).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "probity/error.hpp"
#include "unpack/sink.hpp"

namespace probity::unpacker {

/// Inflates `d` (zlib's inflateInit2 `window_bits`: 16 + MAX_WBITS for gzip, MAX_WBITS for zlib)
/// into the file `name`. Returns the bytes of `d` the stream spans (its trailer included); an
/// error names `what` ("gzip", "zlib") and carries the offset zlib had reached.
Result<std::uint64_t> inflate_stream(Bytes d, Sink& sink, const std::string& name, int window_bits,
                                     std::string_view what);

}  // namespace probity::unpacker
