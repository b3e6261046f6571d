// U-Boot FIT image: a flattened device tree whose /images/<name> nodes carry the payloads, either
// inline ("data") or after the tree ("data-offset" from the 4-aligned end of the tree, or
// "data-position" from its start, with "data-size"). Each image is written as a file named after
// its node; hash nodes (crc32, md5, sha1, sha256, sha384, sha512) are verified; signature nodes
// are recorded (not verified: the keys are in the boot loader). The tree itself is decompiled to
// fit.dts with the payloads elided.
#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "probity/limits.hpp"
#include "unpack/fdt_parser.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\xd0\x0d\xfe\xed", 0}};
constexpr std::string_view kDescription = "U-Boot FIT image (images extracted, hashes verified)";

std::string hex(Bytes b) {
  std::string s;
  for (auto c : b) s += fmt::format("{:02x}", c);
  return s;
}

/// The digest of `data` with a FIT hash algorithm, nullopt for an unknown algorithm.
std::optional<std::string> digest(std::string_view algo, Bytes data) {
  if (algo == "crc32") {
    uLong crc = crc32(0, nullptr, 0);
    for (std::uint64_t off = 0; off < data.size(); off += 1u << 30) {
      const Bytes part = sub(data, off, 1u << 30);
      crc = crc32(crc, part.data(), uInt(part.size()));
    }
    return fmt::format("{:08x}", std::uint32_t(crc));
  }
  static constexpr std::string_view kKnown[] = {"md5", "sha1", "sha256", "sha384", "sha512"};
  if (std::find(std::begin(kKnown), std::end(kKnown), algo) == std::end(kKnown))
    return std::nullopt;
  const EVP_MD* md = EVP_get_digestbyname(std::string(algo).c_str());
  if (!md) return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return std::nullopt;
  return hex(Bytes(out, len));
}

/// True when `t` looks like a FIT: a root with an /images node.
bool is_fit(const fdt::Tree& t) {
  return t.find("/images") != nullptr;
}

std::optional<Probe> probe(Bytes d) {
  auto t = fdt::parse(d);
  if (!t || !is_fit(*t)) return std::nullopt;
  const fdt::Node* images = t->find("/images");
  return Probe{0, fmt::format("FIT image \"{}\", {} images", t->nodes[0].str("description"),
                              images->children.size())};
}

struct ImageData {
  Bytes data;
  std::uint64_t end = 0;  ///< end of the payload relative to the FIT start (0: inline)
  std::string error;
};

ImageData image_data(const fdt::Node& img, Bytes d, std::uint64_t base_external) {
  ImageData r;
  if (const fdt::Property* p = img.prop("data")) {
    r.data = p->value;
    return r;
  }
  auto size = img.u32("data-size");
  auto off = img.u32("data-offset");
  auto pos = img.u32("data-position");
  if (!size || (!off && !pos)) {
    r.error = "no data, data-offset or data-position property";
    return r;
  }
  const std::uint64_t start = pos ? std::uint64_t(*pos) : base_external + *off;
  r.data = sub(d, start, *size);
  r.end = start + *size;
  if (r.data.size() < *size)
    r.error = fmt::format("external data truncated: {} of {} bytes present", r.data.size(), *size);
  return r;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto t = fdt::parse(d);
  if (!t || !is_fit(*t)) return fail("not a FIT image", 0);
  const std::uint64_t total = t->header.totalsize;
  const std::uint64_t base_external = (total + 3) & ~std::uint64_t(3);
  std::uint64_t span = std::min<std::uint64_t>(total, d.size());
  if (!t->error.empty())
    sink.warn("format-error", "FIT device tree: " + t->error, "", t->error_offset);

  const fdt::Node& root = t->nodes[0];
  const fdt::Node* images = t->find("/images");
  std::vector<std::string> summaries;
  std::set<std::string> used;
  std::size_t signatures = 0;
  for (std::uint32_t idx : images->children) {
    if (auto st = sink.check_time(); !st) return fail(st.error().message, span);
    if (used.size() >= kMaxFitImages) {
      sink.warn("cap-entries", fmt::format("more than {} images in the FIT", kMaxFitImages));
      break;
    }
    const fdt::Node& img = t->nodes[idx];
    std::string name = safe_file_name(img.name, "image");
    while (!used.insert(name).second) name += "_";
    ImageData data = image_data(img, d, base_external);
    if (!data.error.empty()) sink.warn("format-error", data.error, name);
    span = std::max(span, std::min<std::uint64_t>(data.end, d.size()));

    std::string summary = name + ":";
    for (const char* key : {"type", "os", "arch", "compression"})
      if (auto v = img.str(key); !v.empty()) summary += fmt::format(" {}={}", key, v);
    if (auto v = img.str("description"); !v.empty()) summary += fmt::format(" \"{}\"", v);
    if (auto load = img.u32("load")) summary += fmt::format(" load=0x{:x}", *load);
    if (auto entry = img.u32("entry")) summary += fmt::format(" entry=0x{:x}", *entry);
    summary += fmt::format(" {} bytes", data.data.size());

    for (std::uint32_t h : img.children) {
      const fdt::Node& hn = t->nodes[h];
      if (hn.name.starts_with("signature")) {
        ++signatures;
        summary += fmt::format(" signature({}, key \"{}\", not verified)", hn.str("algo"),
                               hn.str("key-name-hint"));
        continue;
      }
      if (!hn.name.starts_with("hash")) continue;
      const std::string algo = hn.str("algo");
      const fdt::Property* value = hn.prop("value");
      if (!value) {
        sink.warn("format-error", fmt::format("hash node {} without a value", hn.name), name);
        continue;
      }
      const std::string want = hex(value->value);
      if (!data.error.empty()) {
        summary += fmt::format(" {}={} (data incomplete)", algo, want);
        continue;
      }
      auto got = digest(algo, data.data);
      if (!got) {
        summary += fmt::format(" {}={} (algorithm not checked)", algo, want);
      } else if (*got != want) {
        summary += fmt::format(" {}={} MISMATCH", algo, want);
        sink.warn("crc-mismatch",
                  fmt::format("FIT image {}: {} is {}, the hash node says {} (modified payload?)",
                              name, algo, *got, want),
                  name);
      } else {
        summary += fmt::format(" {}={} ok", algo, want);
      }
    }
    summaries.push_back(std::move(summary));
    if (data.data.empty() && !data.error.empty()) continue;
    auto st = sink.file(
        Entry{name, EntryType::kFile, 0644, 0, 0, std::int64_t(root.u32("timestamp").value_or(0))},
        data.data);
    if (!st) return fail(st.error().message, span);
  }
  if (const fdt::Node* conf = t->find("/configurations"))
    for (std::uint32_t c : conf->children)
      for (std::uint32_t s : t->nodes[c].children)
        if (const fdt::Node& sn = t->nodes[s]; sn.name.starts_with("signature")) {
          ++signatures;
          summaries.push_back(
              fmt::format("{}: signature({}, key \"{}\", signs \"{}\", not verified)",
                          safe_file_name(t->nodes[c].name, "image"), sn.str("algo"),
                          sn.str("key-name-hint"), sn.str("sign-images")));
        }

  const std::string dts = fdt::to_dts(*t, kMaxFitDtsValueBytes);
  if (auto st = sink.file(Entry{"fit.dts"},
                          Bytes(reinterpret_cast<const std::uint8_t*>(dts.data()), dts.size()));
      !st)
    return fail(st.error().message, span);

  std::string desc =
      fmt::format("FIT image \"{}\", {} images", root.str("description"), images->children.size());
  if (const fdt::Node* conf = t->find("/configurations"); conf && !conf->str("default").empty())
    desc += fmt::format(", default configuration {}", conf->str("default"));
  desc += signatures ? fmt::format(", {} signature nodes", signatures) : ", unsigned";
  for (const auto& s : summaries) desc += "; " + s;
  sink.describe(desc);
  if (!t->error.empty()) return fail("FIT device tree: " + t->error, t->error_offset);
  return span;
}

// Header fields for equiv: the root "timestamp" property (docs/equiv.md, fit-timestamp); the
// tree's other properties are compared node by node by equiv itself.
std::vector<HeaderField> header_fields(Bytes d) {
  const auto t = fdt::parse(d);
  if (!t || t->nodes.empty()) return {};
  const auto* p = t->nodes[0].prop("timestamp");
  if (!p || p->value.size() != 4 || p->offset + 4 > d.size()) return {};
  return {{"/timestamp", p->offset, 4, HeaderField::Role::kTimestamp, "fit-timestamp",
           std::to_string(*read_be<std::uint32_t>(p->value, 0))}};
}

}  // namespace

const Format kFormat_fit =
    make_format(kind::kFirmwareHeader, "fit", kDescription, kMagics, probe, extract,
                {.header_fields = header_fields, .header_label = "FIT"});

}  // namespace probity::unpacker
