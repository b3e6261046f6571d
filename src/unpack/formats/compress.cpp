// Unix compress (.Z, LZW), decoded by libarchive's built-in compress filter under its raw
// format. The stream has no end marker: it spans the rest of the blob.
#include <archive.h>

#include <fmt/format.h>

#include "unpack/format.hpp"
#include "unpack/stream.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x1f\x9d", 0}};

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 4 || d[0] != 0x1f || d[1] != 0x9d) return std::nullopt;
  // Flags: code width 9..16 bits in bits 4..0, bits 6..5 reserved (zero), bit 7 block mode.
  const unsigned bits = d[2] & 0x1f;
  if (bits < 9 || bits > 16 || (d[2] & 0x60)) return std::nullopt;
  return Probe{0, fmt::format("compress (.Z), {}-bit codes", bits)};
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  struct archive* a = archive_read_new();
  if (!a) return fail("libarchive: cannot initialise");
  struct Guard {
    struct archive* a;
    ~Guard() { archive_read_free(a); }
  } guard{a};
  // Only the built-in LZW filter and the raw format: no external program is ever run.
  archive_read_support_filter_compress(a);
  archive_read_support_format_raw(a);
  if (archive_read_open_memory(a, d.data(), d.size()) != ARCHIVE_OK)
    return fail(fmt::format("not a compress stream: {}",
                            archive_error_string(a) ? archive_error_string(a) : "?"));
  if (archive_filter_code(a, 0) != ARCHIVE_FILTER_COMPRESS)  // raw bytes are not a .Z stream
    return fail("not a compress stream (libarchive's LZW filter did not take it)");
  struct archive_entry* e = nullptr;
  if (archive_read_next_header(a, &e) != ARCHIVE_OK)
    return fail(fmt::format("compress stream unreadable: {}",
                            archive_error_string(a) ? archive_error_string(a) : "?"));
  const int last = archive_filter_count(a) - 1;
  auto consumed = [&] {
    return std::uint64_t(std::max<la_int64_t>(archive_filter_bytes(a, last), 0));
  };
  auto r = pump_stream(
      sink, "decompressed", [&](std::uint8_t* buf, std::size_t cap) -> Result<StepResult> {
        const la_ssize_t n = archive_read_data(a, buf, cap);
        if (n < 0)
          return fail(fmt::format("corrupt compress data: {}",
                                  archive_error_string(a) ? archive_error_string(a) : "?"),
                      consumed());
        return StepResult{std::size_t(n), n == 0, consumed()};
      });
  if (!r) return r;
  return d.size();
}

}  // namespace

const Format kFormat_compress{.id = "compress",
                              .description = "Unix compress .Z stream (libarchive)",
                              .magics = kMagics,
                              .carve = Carve::kAnyOffset,
                              .output = Output::kStream,
                              .strength = Strength::kMagicOnly,
                              .family = Family::kStream,
                              .probe = probe,
                              .extract = extract};

}  // namespace probity::unpacker
