// Block decoding shared by the squashfs readers: zlib and the raw-LZMA encodings vendor SDKs
// wrote (squashfs_legacy for 1.x-3.x; squashfs's compressor object for 4.0 images whose
// compression id 2 blocks libsquashfs cannot read). Every output is capped at the size the
// caller gives (the block size, or 8 KiB for metadata).
#pragma once

#include <lzma.h>
#include <zlib.h>

#include <cstdint>
#include <set>
#include <vector>

#include "core/bytes.hpp"

namespace probity::unpacker::sqfs {

/// How a compressed block is stored. Decided per block (vendors mixed them), first match wins.
enum class Codec : std::uint8_t { kNone, kZlib, kLzmaAlone, kLzmaProps, kLzmaRaw };

/// "zlib", "lzma (13-byte header)", ...
const char* codec_name(Codec c);

/// Bit masks of codecs a decoder may try.
inline constexpr unsigned codec_bit(Codec c) {
  return 1u << unsigned(c);
}
inline constexpr unsigned kAllCodecs = codec_bit(Codec::kZlib) | codec_bit(Codec::kLzmaAlone) |
                                       codec_bit(Codec::kLzmaProps) | codec_bit(Codec::kLzmaRaw);
inline constexpr unsigned kLzmaCodecs = kAllCodecs & ~codec_bit(Codec::kZlib);

/// Properties tried for LZMA blocks with no header: the LZMA SDK default 0x5d first, then every
/// other lc/lp/pb liblzma accepts (lc + lp <= 4).
std::vector<std::uint8_t> raw_props_order();

/// zlib and raw-LZMA decoding into a bounded buffer. Not thread-safe: one per thread.
class BlockDecoder {
 public:
  explicit BlockDecoder(unsigned allowed = kAllCodecs) : allowed_(allowed) {}
  BlockDecoder(const BlockDecoder&) = delete;
  BlockDecoder& operator=(const BlockDecoder&) = delete;
  ~BlockDecoder();

  /// Properties byte (lc/lp/pb) for LZMA blocks stored with no header at all.
  std::uint8_t raw_props = 0x5d;
  /// The first codec that decoded a block, and every codec that did (for the description).
  Codec seen = Codec::kNone;
  std::set<Codec> used;

  /// Decodes `in` into `out` (resized to what came out, never more than `max`). `exact`: the
  /// block must produce exactly `max` bytes (data blocks whose size is known); otherwise at
  /// most `max` with the input read to within 8 bytes of its end (metadata, fragments, blocks
  /// of unknown size).
  bool decode(Bytes in, std::size_t max, bool exact, std::vector<std::uint8_t>& out);

  /// Only this codec: no header sniffing (used to trial a variant on one block).
  bool decode_as(Codec c, Bytes in, std::size_t max, bool exact, std::vector<std::uint8_t>& out);

 private:
  bool attempt(Codec c, Bytes in, std::size_t max, bool exact, std::vector<std::uint8_t>& out);
  bool note(Codec c);
  bool inflate_block(Bytes in, std::size_t max, bool exact, std::vector<std::uint8_t>& out);
  bool lzma_block(Bytes in, std::uint8_t props, std::size_t max, bool exact,
                  std::vector<std::uint8_t>& out);

  unsigned allowed_;
  z_stream z_{};
  bool zinit_ = false;
  lzma_stream lz_ = LZMA_STREAM_INIT;
};

}  // namespace probity::unpacker::sqfs
