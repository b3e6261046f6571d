// D-Link WRGG images (OpenWrt's mkwrggimg, "wrgg03"): a 160-byte header: a 32-byte signature
// string, the magic 0x20080321 twice (little-endian), version, model, flags, build number, the
// payload size and flash offset (little- or big-endian, per device), a 32-byte device name and
// an MD5 over the offset field, the device name and the payload. The payload (a kernel with its
// root filesystem) follows the header. The MD5 is checked.
#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/vendor.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x21\x03\x08\x20\x21\x03\x08\x20", 32}};
constexpr std::uint64_t kHeader = 160;

struct Header {
  std::uint64_t size = 0;
  bool big_endian = false;
  bool md5_ok = false;
  std::string signature, model, devname;
};

std::optional<Header> parse(Bytes d, bool check_md5) {
  if (d.size() < kHeader || !starts_with(d, "\x21\x03\x08\x20\x21\x03\x08\x20", 32))
    return std::nullopt;
  std::optional<Header> first;
  for (bool be : {false, true}) {
    Header h;
    h.big_endian = be;
    h.size = be ? *read_be<std::uint32_t>(d, 104) : *read_le<std::uint32_t>(d, 104);
    if (h.size == 0) continue;
    h.signature = cstr(d, 0, 32);
    h.model = cstr(d, 56, 16);
    h.devname = cstr(d, 112, 32);
    if (check_md5 && d.size() - kHeader >= h.size) {
      h.md5_ok = digest_of("md5", {sub(d, 108, 4), sub(d, 112, 32), sub(d, kHeader, h.size)}) ==
                 raw(sub(d, 144, 16));
      if (h.md5_ok) return h;
    }
    // Without a matching MD5, the reading whose size fits the input (else the smaller one).
    if (!first || (h.size <= d.size() - kHeader && first->size > d.size() - kHeader) ||
        (h.size < first->size && first->size > d.size() - kHeader))
      first = h;
  }
  return first;
}

std::optional<Probe> probe(Bytes d) {
  auto h = parse(d, false);
  if (!h) return std::nullopt;
  return Probe{std::min<std::uint64_t>(kHeader + h->size, d.size()),
               fmt::format("D-Link WRGG \"{}\", model \"{}\"", h->signature, h->model)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto h = parse(d, true);
  if (!h) return fail("bad WRGG header", 0);
  sink.describe(fmt::format("D-Link WRGG \"{}\", model \"{}\", device \"{}\", {} bytes ({})",
                            h->signature, h->model, h->devname, h->size,
                            h->big_endian ? "big-endian" : "little-endian"));
  const Bytes payload = sub(d, kHeader, h->size);
  const bool cut = payload.size() < h->size;
  if (cut)
    sink.warn("format-error",
              fmt::format("WRGG truncated: payload {} bytes of {}", payload.size(), h->size));
  else if (!h->md5_ok)
    sink.warn("crc-mismatch", "WRGG MD5 does not match the payload (modified image?)");
  if (auto st = sink.file(Entry{"payload"}, payload, cut); !st) return fail(st.error().message, 0);
  return kHeader + payload.size();
}

}  // namespace

const Format kFormat_wrgg = make_format(
    kind::kFirmwareHeader, "wrgg", "D-Link WRGG firmware (MD5 checked)", kMagics, probe, extract);

}  // namespace probity::unpacker
