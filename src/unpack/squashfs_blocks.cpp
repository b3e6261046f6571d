// zlib and raw-LZMA block decoding for the squashfs readers (squashfs_blocks.hpp).
#include "unpack/squashfs_blocks.hpp"

#include <algorithm>
#include "core/enum_names.hpp"

namespace probity::unpacker::sqfs {

const char* codec_name(Codec c) {
  return enum_name<Codec::kLzmaRaw>(c,
                                    {"none", "zlib", "lzma (13-byte header)",
                                     "lzma (5-byte properties, no size)", "lzma (no header)"},
                                    "none");
}

std::vector<std::uint8_t> raw_props_order() {
  std::vector<std::uint8_t> v{0x5d};
  for (std::uint32_t pb = 0; pb <= 4; ++pb)
    for (std::uint32_t lp = 0; lp <= 4; ++lp)
      for (std::uint32_t lc = 0; lc + lp <= 4; ++lc) {
        const auto p = std::uint8_t((pb * 5 + lp) * 9 + lc);
        if (p != 0x5d) v.push_back(p);
      }
  return v;
}

BlockDecoder::~BlockDecoder() {
  if (zinit_) inflateEnd(&z_);
  lzma_end(&lz_);
}

bool BlockDecoder::decode(Bytes in, std::size_t max, bool exact, std::vector<std::uint8_t>& out) {
  if (in.size() < 2) return false;
  // The encoding the image used first is tried first: a header-less LZMA block whose sixth
  // byte happens to be 0 must not be read as one with a 5-byte header.
  if (seen != Codec::kNone && attempt(seen, in, max, exact, out)) return note(seen);
  for (Codec c : {Codec::kZlib, Codec::kLzmaAlone, Codec::kLzmaProps, Codec::kLzmaRaw})
    if (c != seen && attempt(c, in, max, exact, out)) return note(c);
  return false;
}

bool BlockDecoder::decode_as(Codec c, Bytes in, std::size_t max, bool exact,
                             std::vector<std::uint8_t>& out) {
  return in.size() >= 2 && attempt(c, in, max, exact, out) && note(c);
}

bool BlockDecoder::attempt(Codec c, Bytes in, std::size_t max, bool exact,
                           std::vector<std::uint8_t>& out) {
  if (!(allowed_ & codec_bit(c))) return false;
  switch (c) {
    case Codec::kZlib:
      return (in[0] & 0x0f) == 8 && (in[0] >> 4) <= 7 && ((in[0] << 8) | in[1]) % 31 == 0 &&
             inflate_block(in, max, exact, out);
    case Codec::kLzmaAlone: {
      if (in[0] >= 225 || in.size() <= 13 || in[13] != 0) return false;
      std::uint64_t size = 0;
      for (int i = 0; i < 8; ++i) size |= std::uint64_t(in[5 + i]) << (8 * i);
      return (size == UINT64_MAX || size <= max) &&
             lzma_block(in.subspan(13), in[0], max, exact, out);
    }
    case Codec::kLzmaProps:
      return in[0] < 225 && in.size() > 5 && in[5] == 0 &&
             lzma_block(in.subspan(5), in[0], max, exact, out);
    case Codec::kLzmaRaw:
      return in[0] == 0 && lzma_block(in, raw_props, max, exact, out);
    default:
      return false;
  }
}

bool BlockDecoder::note(Codec c) {
  if (seen == Codec::kNone) seen = c;
  used.insert(c);
  return true;
}

bool BlockDecoder::inflate_block(Bytes in, std::size_t max, bool exact,
                                 std::vector<std::uint8_t>& out) {
  if (!zinit_) {
    if (inflateInit(&z_) != Z_OK) return false;
    zinit_ = true;
  } else if (inflateReset(&z_) != Z_OK) {
    return false;
  }
  out.resize(max);
  z_.next_in = const_cast<Bytef*>(in.data());
  z_.avail_in = uInt(in.size());
  z_.next_out = out.data();
  z_.avail_out = uInt(max);
  const int rc = inflate(&z_, Z_FINISH);
  const std::size_t got = max - z_.avail_out;
  out.resize(got);
  if (rc != Z_STREAM_END) return false;
  return !exact || got == max;
}

bool BlockDecoder::lzma_block(Bytes in, std::uint8_t props, std::size_t max, bool exact,
                              std::vector<std::uint8_t>& out) {
  lzma_options_lzma opt{};
  const std::uint32_t lc = props % 9, lp = (props / 9) % 5, pb = props / 45;
  if (props >= 225 || lc + lp > 4) return false;
  opt.lc = lc;
  opt.lp = lp;
  opt.pb = pb;
  // Every block starts a fresh stream, so no match reaches further back than the block: the
  // dictionary the header names (vendors wrote 8 MiB and more) is never needed, and the
  // decoder's memory stays at the block size.
  opt.dict_size = std::max<std::uint32_t>(LZMA_DICT_SIZE_MIN, std::uint32_t(max));
  lzma_filter filters[2] = {{LZMA_FILTER_LZMA1, &opt}, {LZMA_VLI_UNKNOWN, nullptr}};
  if (lzma_raw_decoder(&lz_, filters) != LZMA_OK) return false;
  out.resize(max);
  lz_.next_in = in.data();
  lz_.avail_in = in.size();
  lz_.next_out = out.data();
  lz_.avail_out = max;
  lzma_ret rc = LZMA_OK;
  while (lz_.avail_out > 0) {
    const std::size_t before_in = lz_.avail_in, before_out = lz_.avail_out;
    rc = lzma_code(&lz_, LZMA_FINISH);
    if (rc != LZMA_OK) break;
    if (lz_.avail_in == before_in && lz_.avail_out == before_out) break;
  }
  const std::size_t got = max - lz_.avail_out;
  out.resize(got);
  if (rc != LZMA_OK && rc != LZMA_STREAM_END && rc != LZMA_BUF_ERROR) return false;
  if (exact) return got == max;
  // Without a known size the stream must have been read to (nearly) its end: the range
  // coder's final flush leaves at most a few bytes the decoder has no symbol for.
  return got > 0 && lz_.avail_in <= 8;
}

}  // namespace probity::unpacker::sqfs
