// Buffalo encrypted firmware (as OpenWrt's buffalo-enc and buffalo-lib describe it): the magic
// "start" or "asar1" with its NUL, a seed byte, then three length-prefixed (big-endian 32-bit)
// fields - the product name, the version and the data - each scrambled with an RC4-like stream
// keyed by one seed byte followed by the key "Buffalo" (the product by the header's seed, the
// version by the scrambled product's first byte, the data by the scrambled version's first
// byte), and a 32-bit checksum of the plain data (a reflected CRC-32 update seeded with the data
// length, bytes taken as signed). The state is 256 bytes, or - the "longstate" variant - as long
// as the field. This is an obfuscation with a public key, not encryption: the data is restored
// and its checksum checked; data whose checksum matches in neither variant is an `encrypted`
// region, never understood.
#include <fmt/format.h>

#include <algorithm>

#include "probity/limits.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

using namespace std::string_view_literals;
constexpr Magic kMagics[] = {{"start\0"sv, 0}, {"asar1\0"sv, 0}};
constexpr std::string_view kDescription = "Buffalo encrypted firmware (public key, checksum)";
constexpr std::string_view kKey = "Buffalo";
constexpr std::uint64_t kDefaultState = 256;

/// Unscrambles `in` (keyed by `seed` + kKey; state of `state_len` bytes) into a new buffer.
std::vector<std::uint8_t> unscramble(Bytes in, std::uint8_t seed, std::uint64_t state_len) {
  std::vector<std::uint8_t> out(in.size());
  if (in.empty() || state_len == 0) return out;
  std::vector<std::uint8_t> key{seed};
  key.insert(key.end(), kKey.begin(), kKey.end());
  std::vector<std::uint8_t> st(state_len);
  for (std::uint64_t i = 0; i < state_len; ++i) st[i] = std::uint8_t(i);
  std::uint64_t k = 0;
  for (std::uint64_t i = 0, j = 0; i < state_len; ++i, j = (j + 1) % key.size()) {
    const std::uint8_t t = st[i];
    k = (k + key[j] + t) % state_len;
    st[i] = st[k];
    st[k] = t;
  }
  // The reference keeps both indices in bytes, whatever the state length.
  std::uint8_t i = 0, j = 0;
  for (std::uint64_t n = 0; n < in.size(); ++n) {
    i = std::uint8_t((i + 1) % state_len);
    j = std::uint8_t((j + st[i]) % state_len);
    std::swap(st[i], st[j]);
    out[n] = in[n] ^ st[(std::uint64_t(st[i]) + st[j]) % state_len];
  }
  return out;
}

std::uint32_t checksum(Bytes plain) {
  std::uint32_t c = std::uint32_t(plain.size());
  for (std::uint8_t b : plain) {
    c ^= std::uint32_t(std::int32_t(std::int8_t(b)));  // signed, as the reference reads it
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? 0xedb88320u : 0);
  }
  return c;
}

struct Header {
  std::uint8_t seed = 0;
  Bytes product, version, data;
  std::uint32_t csum = 0;
  bool longstate = false;  ///< which state length restores a printable product name
  std::string product_name;
};

/// A NUL-terminated printable string, or nullopt.
std::optional<std::string> printable(const std::vector<std::uint8_t>& b) {
  if (b.empty() || b.back() != 0) return std::nullopt;
  std::string s;
  for (std::size_t i = 0; i + 1 < b.size(); ++i) {
    if (b[i] < 0x20 || b[i] >= 0x7f) return std::nullopt;
    s.push_back(char(b[i]));
  }
  return s;
}

std::optional<Header> parse(Bytes d) {
  if (d.size() < 7 + 12 + 4) return std::nullopt;
  Header h;
  h.seed = d[6];
  std::uint64_t at = 7;
  auto field = [&](std::uint64_t cap) -> std::optional<Bytes> {
    auto len = read_be<std::uint32_t>(d, at);
    if (!len || *len == 0 || *len > cap || d.size() - at - 4 < *len) return std::nullopt;
    const Bytes b = sub(d, at + 4, *len);
    at += 4 + *len;
    return b;
  };
  auto p = field(kMaxBuffaloNameBytes);
  if (!p) return std::nullopt;
  auto v = field(kMaxBuffaloNameBytes);
  if (!v) return std::nullopt;
  auto len = read_be<std::uint32_t>(d, at);
  if (!len) return std::nullopt;
  h.product = *p;
  h.version = *v;
  h.data = sub(d, at + 4, *len);  // may be cut short: extract says so
  h.csum = read_be<std::uint32_t>(d, at + 4 + std::uint64_t(*len)).value_or(0);
  // The product name must come out printable in one of the two variants.
  for (bool longstate : {false, true}) {
    auto name =
        printable(unscramble(h.product, h.seed, longstate ? h.product.size() : kDefaultState));
    if (name) {
      h.longstate = longstate;
      h.product_name = *name;
      return h;
    }
  }
  return std::nullopt;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d);
  if (!h) return std::nullopt;
  return Probe{0, fmt::format("Buffalo encrypted firmware, product \"{}\"", h->product_name)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d);
  if (!h) return fail("bad Buffalo header", 0);
  const std::uint64_t data_at = std::uint64_t(h->data.data() - d.data());
  const std::uint64_t declared = *read_be<std::uint32_t>(d, data_at - 4);
  if (h->data.size() < declared || d.size() - data_at - declared < 4)
    return fail(fmt::format("Buffalo data truncated: {} bytes announced, {} present", declared,
                            d.size() - data_at),
                d.size());
  std::uint64_t end = data_at + declared + 4;
  // buffalo-enc pads the image with 1-4 zero bytes to a multiple of four.
  const std::uint64_t pad = 4 - end % 4;
  const Bytes tail = sub(d, end, pad);
  if (tail.size() == pad &&
      std::all_of(tail.begin(), tail.end(), [](std::uint8_t c) { return c == 0; }))
    end += pad;
  const std::uint64_t state = h->longstate ? h->version.size() : kDefaultState;
  auto version = printable(unscramble(h->version, h->product[0], state));
  // The data: the variant that restored the product first, then the other.
  for (bool longstate : {h->longstate, !h->longstate}) {
    if (longstate && h->data.size() > kMaxBuffaloLongstateBytes) continue;
    auto plain = unscramble(h->data, h->version[0], longstate ? h->data.size() : kDefaultState);
    if (checksum(plain) != h->csum) continue;
    if (auto st = sink.file(Entry{"decrypted.bin"}, plain); !st)
      return fail(st.error().message, data_at);
    sink.describe(fmt::format("Buffalo encrypted firmware, product \"{}\", version \"{}\"{}",
                              h->product_name, version.value_or("?"),
                              longstate ? ", longstate" : ""));
    return end;
  }
  sink.warn("crc-mismatch",
            "Buffalo data checksum matches in neither key schedule: not restored, not seen", {},
            data_at);
  sink.encrypted(data_at, declared);
  sink.describe(fmt::format("Buffalo encrypted firmware, product \"{}\" (data not restored)",
                            h->product_name));
  return end;
}

}  // namespace

const Format kFormat_buffalo =
    make_format(kind::kFirmwareHeader, "buffalo", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
