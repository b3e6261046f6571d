// QNAP firmware images (NAS "QTS" .img files and QHora networking images), from the public
// descriptions of their layout (qnap-utils, EMBA's P18 module, unblob's QNAP handlers): the
// image ends in a 74-byte footer — "icpnas", the little-endian length of the encrypted part, then
// device id, file version, firmware date and revision, 16 NUL-padded bytes each. The first
// `length` bytes are encrypted with QNAP's "PC1" stream cipher, the rest up to the footer is
// plain; decrypted, the whole is a gzip'd tar. The cipher and the keys are public: NAS images use
// "QNAPNASVERSION" followed by the first character of the file version, networking images their
// footer's device id. probity decrypts with both and keeps the result only when it starts as a
// gzip stream; with neither, the encrypted part is an `encrypted` region, never understood.
//
// No Debian tool or library implements the cipher (written here from its description: a 16-bit
// state per key-character pair, one keystream byte per input byte, fed back by the plaintext).
#include <fmt/format.h>

#include <array>
#include <cctype>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

// Every blob start is a candidate: the footer at its end decides (probe).
constexpr Magic kMagics[] = {{"", 0}};
constexpr std::string_view kDescription = "QNAP firmware image (PC1-encrypted .tgz; decrypted)";
constexpr std::uint64_t kFooter = 74;
// The cipher takes the key in pairs of characters; a footer field holds at most 16 (not a cap).
constexpr std::size_t kKeyPairs = 8;

struct Footer {
  std::uint64_t encrypted = 0;
  std::string device, version, date, revision;
};

/// A NUL-padded text field: printable ASCII, then only NULs.
std::optional<std::string> text_field(Bytes f) {
  std::string out;
  bool ended = false;
  for (std::uint8_t c : f) {
    if (c == 0) {
      ended = true;
      continue;
    }
    if (ended || c < 0x20 || c > 0x7e) return std::nullopt;
    out.push_back(char(c));
  }
  return out;
}

std::optional<Footer> parse(Bytes d) {
  if (d.size() < kFooter + 1) return std::nullopt;
  const Bytes f = sub(d, d.size() - kFooter, kFooter);
  if (!starts_with(f, "icpnas")) return std::nullopt;
  Footer out;
  out.encrypted = *read_le<std::uint32_t>(f, 6);
  auto device = text_field(sub(f, 10, 16)), version = text_field(sub(f, 26, 16)),
       date = text_field(sub(f, 42, 16)), revision = text_field(sub(f, 58, 16));
  if (!device || !version || !date || !revision || device->empty() || version->empty())
    return std::nullopt;
  if (out.encrypted == 0 || out.encrypted > d.size() - kFooter) return std::nullopt;
  out.device = std::move(*device);
  out.version = std::move(*version);
  out.date = std::move(*date);
  out.revision = std::move(*revision);
  return out;
}

/// QNAP's PC1 stream cipher (decryption). For each possible feedback byte `a` and key pair i, a
/// precomputed pair of 16-bit words; each keystream byte folds the pairs of the current feedback
/// byte through a 16-bit state.
class Pc1 {
 public:
  explicit Pc1(std::string_view key) : pairs_(std::min(key.size() / 2, kKeyPairs)) {
    for (unsigned a = 0; a < 256; ++a) {
      std::uint32_t state = 0;
      for (std::size_t i = 0; i < pairs_; ++i) {
        const unsigned c0 = std::uint8_t(key[2 * i]) ^ a, c1 = std::uint8_t(key[2 * i + 1]) ^ a;
        // The first character is widened as a signed char less one (the reference tool's quirk).
        const std::int32_t hi = c0 < 0x80 ? std::int32_t(c0) : std::int32_t(c0) - 0x101;
        const std::uint32_t x = state ^ std::uint32_t(hi * 256 + std::int32_t(c1));
        const std::uint16_t y = std::uint16_t(0x4E35u * x + 1), z = std::uint16_t(0x15Au * x);
        table_[a][i] = {z, y};
        state = y;
      }
    }
  }
  [[nodiscard]] bool usable() const { return pairs_ > 0; }

  std::uint8_t decrypt(std::uint8_t in) {
    std::uint16_t res = 0;
    const auto& t = table_[feedback_];
    for (std::size_t i = 0; i < pairs_; ++i) {
      const std::uint16_t previous = y_;
      y_ = t[i].first;
      z_ = std::uint16_t(y_ + previous + 0x4E35u * (std::uint32_t(z_) + i));
      res ^= t[i].second ^ z_;
    }
    const std::uint8_t plain = in ^ std::uint8_t((res >> 8) ^ (res & 0xff));
    feedback_ ^= plain;
    return plain;
  }

 private:
  std::size_t pairs_;
  std::array<std::array<std::pair<std::uint16_t, std::uint16_t>, kKeyPairs>, 256> table_{};
  std::uint8_t feedback_ = 0;
  std::uint16_t y_ = 0, z_ = 0;
};

/// The key under which the image's first bytes decrypt to a gzip header, if any.
std::optional<std::string> find_key(Bytes d, const Footer& f) {
  if (f.encrypted < 3) return std::nullopt;
  for (const std::string& key : {"QNAPNASVERSION" + f.version.substr(0, 1), f.device}) {
    Pc1 c(key);
    if (!c.usable()) continue;
    if (c.decrypt(d[0]) == 0x1f && c.decrypt(d[1]) == 0x8b && c.decrypt(d[2]) == 0x08) return key;
  }
  return std::nullopt;
}

std::string describe(const Footer& f) {
  return fmt::format("QNAP firmware {} {} ({} {}), {} encrypted bytes", f.device, f.version, f.date,
                     f.revision, f.encrypted);
}

std::optional<Probe> probe(Bytes d) {
  auto f = parse(d);
  if (!f) return std::nullopt;
  return Probe{d.size(), describe(*f)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto f = parse(d);
  if (!f) return fail("bad QNAP footer", d.size() < kFooter ? 0 : d.size() - kFooter);
  const auto key = find_key(d, *f);
  if (!key) {
    sink.describe(describe(*f) + " (PC1; neither the NAS key nor the device id decrypts them)");
    sink.warn("format-warning",
              "QNAP image: the encrypted part does not decrypt to gzip under the public keys (its "
              "key is not known); reported as an encrypted region");
    sink.encrypted(0, f->encrypted);
    return d.size();
  }
  sink.describe(describe(*f) + fmt::format(" (PC1, key \"{}\": decrypted)", *key));
  auto out = sink.open_file(Entry{"firmware.tgz"});
  if (!out) return fail_at(out.error(), 0);
  Pc1 c(*key);
  std::vector<std::uint8_t> buf(1 << 20);
  for (std::uint64_t at = 0; at < f->encrypted;) {
    if (auto st = sink.check_time(); !st) {
      out->mark_truncated();
      return fail_at(st.error(), at);
    }
    const std::size_t n = std::size_t(std::min<std::uint64_t>(buf.size(), f->encrypted - at));
    for (std::size_t i = 0; i < n; ++i) buf[i] = c.decrypt(d[at + i]);
    if (auto st = out->write(Bytes(buf.data(), n)); !st) return fail_at(st.error(), at);
    at += n;
  }
  const std::uint64_t plain_end = d.size() - kFooter;
  if (auto st = out->write(sub(d, f->encrypted, plain_end - f->encrypted)); !st)
    return fail_at(st.error(), f->encrypted);
  out->close();
  return d.size();
}

}  // namespace

const Format kFormat_qnap =
    make_format(kind::kFirmwareAtStart, "qnap", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
