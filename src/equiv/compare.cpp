// The comparison of `probity equiv`: pairs the two ArtifactTrees blob by blob (the image, then
// every extracted file that holds containers), container by container (by format family and
// ordinal, never by offset: another compressor or block size moves everything after it) and
// file by file (by path, never by inode or directory order). Only the rules of docs/equiv.md
// are masked; every other difference is reported at the finest level that applies.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <zlib.h>

#include "core/bytes.hpp"
#include "core/enum_names.hpp"
#include "probity/equiv.hpp"
#include "probity/mapped_file.hpp"
#include "probity/tree_files.hpp"
#include "unpack/fdt_parser.hpp"
#include "unpack/format.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;

// Container formats that are interchangeable for pairing: a rebuilt image may use another
// compressor or another filesystem packer for the same contents. The registry says which
// family a format is in (Format::family).
std::string family(const std::string& format) {
  if (const auto* f = unpacker::find_format(format)) {
    if (f->family == unpacker::Family::kStream) return "stream";
    if (f->family == unpacker::Family::kFilesystem) return "filesystem";
  }
  return format;
}

// Bytes of one file timestamp field as the format stores it (docs/equiv.md, fs-timestamps;
// Format::timestamp_bytes). 0: the format stores no per-file time of its own (the time comes
// from a header another rule masks: uImage, gzip, FIT), so a differing mtime there is not
// counted twice.
std::uint64_t timestamp_width(const std::string& format) {
  const auto* f = unpacker::find_format(format);
  return f ? f->timestamp_bytes : 0;
}

bool is_fill(Bytes b) {
  return std::ranges::all_of(b, [&](std::uint8_t c) { return c == b[0] && (c == 0 || c == 0xff); });
}

// Strips fill bytes (0x00 and 0xFF, in runs of either) from both ends: their length is block
// layout (a filesystem padded to 4 KiB with zeros, then the flash erase value to 64 KiB).
Bytes trim_fill(Bytes b) {
  auto fill = [](std::uint8_t c) { return c == 0 || c == 0xff; };
  std::size_t lo = 0, hi = b.size();
  while (lo < hi && fill(b[lo])) ++lo;
  while (hi > lo && fill(b[hi - 1])) --hi;
  return b.subspan(lo, hi - lo);
}

std::uint64_t count_differing(Bytes a, Bytes b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::uint64_t d = std::max(a.size(), b.size()) - n;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64)
    if (std::memcmp(a.data() + i, b.data() + i, 64) != 0)
      for (std::size_t k = i; k < i + 64; ++k) d += a[k] != b[k];
  for (; i < n; ++i) d += a[i] != b[i];
  return d;
}

bool looks_text(Bytes b) {
  const auto head = sub(b, 0, 8192);
  return std::ranges::none_of(head, [](std::uint8_t c) { return c == 0; });
}

struct Side {
  const ArtifactTree* tree = nullptr;
  fs::path dir;
  TreeFiles files;  ///< every read of the extracted tree
  std::map<std::pair<std::uint32_t, std::string>, std::vector<const Region*>> regions;
  std::map<std::tuple<std::uint32_t, std::string, std::uint64_t>, const Container*> container_at;
  std::map<std::uint32_t, std::vector<const FileRecord*>> files_in;
  std::map<std::pair<std::uint32_t, std::string>, const FileRecord*> file_at;

  Side(const ArtifactTree& t, const std::string& d) : tree(&t), dir(d) {
    if (auto opened = TreeFiles::open(d)) files = std::move(*opened);
    for (const auto& r : t.regions) regions[{r.container, r.source}].push_back(&r);
    for (auto& [k, v] : regions)
      std::ranges::sort(v, {}, [](const Region* r) { return r->offset; });
    for (const auto& c : t.containers) container_at[{c.parent, c.source, c.offset}] = &c;
    for (const auto& f : t.files) {
      files_in[f.container].push_back(&f);
      file_at[{f.container, f.path}] = &f;
    }
  }

  // The bytes of a blob: the image itself or an extracted file.
  Result<MappedFile> blob(std::uint32_t container, const std::string& source) const {
    if (container == 0) return MappedFile::open(tree->image.path);
    const auto it = file_at.find({container, source});
    if (it == file_at.end() || it->second->extracted.empty())
      return fail(fmt::format("{} was not extracted", source));
    return files.map(*it->second);
  }
  // True when the blob holds at least one extracted container (not only not-understood bytes).
  bool holds_containers(std::uint32_t container, const std::string& source) const {
    const auto it = regions.find({container, source});
    if (it == regions.end()) return false;
    return std::ranges::any_of(it->second, [&](const Region* r) {
      return r->understood && r->format != "padding" &&
             container_at.contains({container, source, r->offset});
    });
  }
  Result<MappedFile> file(const FileRecord& f) const {
    if (f.extracted.empty()) return fail(fmt::format("{} was not extracted", f.path));
    return files.map(f);  // resolved inside its container, never a link
  }
};

class Comparer {
 public:
  Comparer(const ArtifactTree& a, const std::string& da, const ArtifactTree& b,
           const std::string& db, const EquivOptions& opt, Equivalence& out)
      : a_(a, da), b_(b, db), opt_(opt), out_(out) {}

  void run() {
    blob(0, "", 0, "", "", a_.tree->image.name);
    for (auto& [key, n] : norms_) out_.normalisations.push_back(std::move(n));
  }

 private:
  void normalise(const std::string& rule, const std::string& path, std::uint64_t bytes,
                 const std::string& detail, std::optional<bool> verified = std::nullopt) {
    if (bytes == 0) return;
    auto [it, fresh] = norms_.try_emplace({rule, path});
    auto& n = it->second;
    if (fresh) {
      n.rule = rule;
      n.path = path;
      n.detail = detail;
      n.verified = verified;
    } else if (!detail.empty() && n.detail.find(detail) == std::string::npos &&
               n.detail.size() < 2000) {
      n.detail += "; " + detail;
    }
    n.bytes += bytes;
  }

  void differ(Difference d) {
    ++out_.differences_total;
    if (out_.differences.size() < opt_.max_differences) {
      out_.differences.push_back(std::move(d));
    } else if (out_.differences.size() == opt_.max_differences && !capped_) {
      capped_ = true;
      out_.warnings.push_back(
          fmt::format("cap-differences: more than {} differences; the rest are counted, not listed "
                      "(--max-differences)",
                      opt_.max_differences));
    }
  }

  void warn(const std::string& w) {
    if (out_.warnings.size() < 1000) out_.warnings.push_back(w);
  }

  // One blob on each side (the image, or a file that holds containers).
  void blob(std::uint32_t ca, const std::string& sa, std::uint32_t cb, const std::string& sb,
            const std::string& prefix, const std::string& label) {
    auto ma = a_.blob(ca, sa);
    auto mb = b_.blob(cb, sb);
    if (!ma || !mb) {
      warn(fmt::format("{}: cannot read: {}", label, (!ma ? ma : mb).error().to_string()));
      differ({.path = label, .kind = "content", .explanation = "could not be read for comparison"});
      return;
    }
    const Bytes ba = ma->bytes(), bb = mb->bytes();
    static const std::vector<const Region*> kNone;
    const auto ita = a_.regions.find({ca, sa});
    const auto itb = b_.regions.find({cb, sb});
    const auto& ra = ita == a_.regions.end() ? kNone : ita->second;
    const auto& rb = itb == b_.regions.end() ? kNone : itb->second;

    // Items: containers by (family, ordinal); not-understood regions by ordinal; padding apart.
    struct Item {
      const Region* region;
      const Container* container;
    };
    auto items = [&](const Side& s, const std::vector<const Region*>& rs, std::uint32_t c,
                     const std::string& src, std::map<std::string, std::vector<Item>>& by,
                     std::vector<const Region*>& unknown, std::uint64_t& padding) {
      for (const Region* r : rs) {
        if (r->format == "padding") {
          padding += r->size;
          continue;
        }
        const auto it = s.container_at.find({c, src, r->offset});
        if (!r->understood || it == s.container_at.end()) {
          unknown.push_back(r);
          continue;
        }
        by[family(it->second->format)].push_back({r, it->second});
      }
    };
    std::map<std::string, std::vector<Item>> ia, ib;
    std::vector<const Region*> ua, ub;
    std::uint64_t pad_a = 0, pad_b = 0;
    items(a_, ra, ca, sa, ia, ua, pad_a);
    items(b_, rb, cb, sb, ib, ub, pad_b);
    if (!a_.holds_containers(ca, sa) && !b_.holds_containers(cb, sb)) {
      // Nothing understood in either: compare as bytes.
      bytes_difference(prefix.empty() ? label : prefix.substr(0, prefix.size() - 1), label, ba, bb,
                       "unexplained-region");
      return;
    }
    if (pad_a != pad_b)
      normalise("compression-layout", label, std::max(pad_a, pad_b) - std::min(pad_a, pad_b),
                fmt::format("padding between containers: {} vs {} bytes", pad_a, pad_b));

    std::set<std::string> fams;
    for (auto& [f, v] : ia) fams.insert(f);
    for (auto& [f, v] : ib) fams.insert(f);
    for (const auto& f : fams) {
      const auto& va = ia[f];
      const auto& vb = ib[f];
      for (std::size_t i = 0; i < std::max(va.size(), vb.size()); ++i) {
        const std::string clabel =
            fmt::format("{}{}#{}", prefix,
                        i < va.size() ? va[i].container->format : vb[i].container->format, i + 1);
        if (i >= va.size() || i >= vb.size()) {
          const bool only_b = i >= va.size();
          const auto& it = only_b ? vb[i] : va[i];
          differ({.path = clabel,
                  .kind = only_b ? "added" : "removed",
                  .explanation =
                      fmt::format("{} container at 0x{:x} ({} bytes: {}) only in the {} image",
                                  it.container->format, it.region->offset, it.region->size,
                                  it.container->description, only_b ? "rebuilt" : "shipped"),
                  .container = label});
          continue;
        }
        const Bytes xa = sub(ba, va[i].region->offset, va[i].region->size);
        const Bytes xb = sub(bb, vb[i].region->offset, vb[i].region->size);
        if (xa.size() == xb.size() && std::memcmp(xa.data(), xb.data(), xa.size()) == 0) continue;
        container(*va[i].container, *vb[i].container, xa, xb, prefix, clabel);
      }
    }
    // Not-understood regions: compared byte for byte after trimming fill runs.
    for (std::size_t i = 0; i < std::max(ua.size(), ub.size()); ++i) {
      const std::string rlabel = fmt::format("{}!region#{}", label, i + 1);
      if (i >= ua.size() || i >= ub.size()) {
        const bool only_b = i >= ua.size();
        const Region* r = only_b ? ub[i] : ua[i];
        const Bytes x = sub(only_b ? bb : ba, r->offset, r->size);
        if (is_fill(x)) {
          normalise("compression-layout", label, r->size, "fill-only region in one image only");
          continue;
        }
        differ({.path = rlabel,
                .kind = "unexplained-region",
                .explanation = fmt::format("{} not-understood bytes at 0x{:x} only in the {} image",
                                           r->size, r->offset, only_b ? "rebuilt" : "shipped"),
                .container = label,
                .ranges = {{r->offset, r->size}},
                .ranges_total = 1});
        continue;
      }
      const Bytes xa = sub(ba, ua[i]->offset, ua[i]->size);
      const Bytes xb = sub(bb, ub[i]->offset, ub[i]->size);
      if (xa.size() == xb.size() && std::memcmp(xa.data(), xb.data(), xa.size()) == 0) continue;
      if (fwtool(ba, bb, *ua[i], *ub[i], label, rlabel)) continue;
      const Bytes ta = trim_fill(xa), tb = trim_fill(xb);
      if (ta.size() == tb.size() && std::memcmp(ta.data(), tb.data(), ta.size()) == 0) {
        normalise("compression-layout", label,
                  count_differing(xa, xb) ? std::max(xa.size(), xb.size()) - ta.size() : 0,
                  fmt::format("fill bytes around not-understood region #{} ({} vs {} bytes, same "
                              "{} content bytes)",
                              i + 1, xa.size(), xb.size(), ta.size()));
        continue;
      }
      Difference d{.path = rlabel,
                   .kind = "unexplained-region",
                   .explanation = fmt::format(
                       "not-understood bytes differ (shipped 0x{:x}+{}, rebuilt 0x{:x}+{})",
                       ua[i]->offset, ua[i]->size, ub[i]->offset, ub[i]->size),
                   .container = label};
      d.ranges = differing_ranges(xa, xb, kMaxEquivRanges, &d.ranges_total);
      d.hexdump_diff = hexdump_diff(xa, xb, d.ranges, ua[i]->offset);
      for (auto& r : d.ranges) r.offset += ua[i]->offset;
      differ(std::move(d));
    }
  }

  // The usign signature in one image's fwtool signature block `b` checked with the vendor keys.
  // A signature that does not verify, or by a key that is not among them, is a difference; a
  // block that is not a usign signature (a ucert blob) is a warning: it could not be checked.
  template <class Block>
  bool signature_verifies(Bytes image, const Block& b, const char* side, const std::string& label,
                          const std::string& rlabel, std::size_t ordinal) {
    const Bytes data = image.subspan(b.start, b.size - 16);
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    std::string id;
    std::string why;
    switch (verify_usign(text, image.subspan(0, b.start), opt_.vendor_keys, &id)) {
      case UsignResult::kVerified:
        return true;
      case UsignResult::kBadSignature:
        why = fmt::format("the usign signature in the {} image does not verify with vendor key {}",
                          side, id);
        break;
      case UsignResult::kUnknownKey:
        why = fmt::format(
            "the {} image is signed by key {}, which is not one of the --vendor-key "
            "keys",
            side, id);
        break;
      case UsignResult::kMalformed:
        warn(
            fmt::format("{}: fwtool block #{} in the {} image is not a usign signature (ucert?): "
                        "not verified",
                        label, ordinal, side));
        return false;
    }
    differ({.path = rlabel,
            .kind = "signature",
            .explanation = fmt::format("fwtool block #{}: {}", ordinal, why),
            .container = label});
    return false;
  }

  // OpenWrt fwtool blocks at the end of an image (docs/equiv.md, vendor-signature): each block
  // is [data][16-byte trailer: "FWx0", CRC32, type, pad, size], type 0 a usign signature, type 1
  // metadata (8-byte header + JSON). Each trailer's CRC covers every byte before the trailer, so
  // it changes with any image byte: it is masked only where it verifies on its own side. A
  // signature block is masked whole (the usign signature itself is not verified: no key).
  // Metadata is never masked. Returns true when the regions were handled here.
  bool fwtool(Bytes ba, Bytes bb, const Region& ra, const Region& rb, const std::string& label,
              const std::string& rlabel) {
    struct Block {
      std::uint64_t start, size, trailer;
      std::uint8_t type;
      bool crc_ok;
    };
    auto chain = [](Bytes x) {
      std::vector<Block> out;
      std::uint64_t end = x.size();
      while (end >= 16 && out.size() < 16) {
        const auto t = x.subspan(end - 16, 16);
        if (read_be<std::uint32_t>(t, 0) != 0x46577830u) break;  // "FWx0"
        const auto size = *read_be<std::uint32_t>(t, 12);
        if (size <= 16 || size > end) break;
        // The running CRC32 (reflected, initial ~0, no final inversion) of all bytes before
        // the trailer: zlib's crc32 with the final inversion undone.
        const auto crc = std::uint32_t(::crc32_z(0, x.data(), end - 16)) ^ 0xffffffffu;
        out.push_back({end - size, size, end - 16, t[8], crc == *read_be<std::uint32_t>(t, 4)});
        end -= size;
      }
      return out;
    };
    const auto ca = chain(ba), cb = chain(bb);
    if (ca.empty() || cb.empty() || ra.offset + ra.size != ba.size() ||
        rb.offset + rb.size != bb.size())
      return false;
    const std::uint64_t sa = ca.back().start, sb = cb.back().start;
    if (sa < ra.offset || sb < rb.offset) return false;
    // The bytes before the blocks: as any not-understood region.
    const Bytes pa = ba.subspan(ra.offset, sa - ra.offset),
                pb = bb.subspan(rb.offset, sb - rb.offset);
    if (!std::ranges::equal(trim_fill(pa), trim_fill(pb))) {
      Difference d{.path = rlabel,
                   .kind = "unexplained-region",
                   .explanation = "not-understood bytes before the fwtool blocks differ",
                   .container = label};
      d.ranges = differing_ranges(pa, pb, kMaxEquivRanges, &d.ranges_total);
      for (auto& r : d.ranges) r.offset += ra.offset;
      differ(std::move(d));
    } else if (!std::ranges::equal(pa, pb)) {
      normalise("compression-layout", label, std::max(pa.size(), pb.size()) - trim_fill(pa).size(),
                "fill bytes before the fwtool blocks");
    }
    if (ca.size() != cb.size()) {
      differ({.path = rlabel,
              .kind = "unexplained-region",
              .explanation = fmt::format("fwtool blocks: {} vs {}", ca.size(), cb.size()),
              .container = label});
      return true;
    }
    std::uint64_t sig_bytes = 0, crc_bytes = 0;
    std::size_t signatures = 0;
    bool sig_verified = true;
    for (std::size_t k = ca.size(); k-- > 0;) {  // in file order
      const auto &x = ca[k], &y = cb[k];
      if (x.type != y.type) {
        differ({.path = rlabel,
                .kind = "unexplained-region",
                .explanation =
                    fmt::format("fwtool block #{} type {} vs {}", ca.size() - k, x.type, y.type),
                .container = label});
        continue;
      }
      for (const auto* b : {&x, &y})
        if (!b->crc_ok)
          differ({.path = rlabel,
                  .kind = "header-field",
                  .explanation =
                      fmt::format("fwtool block #{} trailer CRC32 does not verify in the {} image",
                                  ca.size() - k, b == &x ? "shipped" : "rebuilt"),
                  .container = label});
      if (x.type == 0) {  // FWIMAGE_SIGNATURE
        if (!std::ranges::equal(ba.subspan(x.start, x.size), bb.subspan(y.start, y.size)))
          sig_bytes += std::max(x.size, y.size);
        if (!opt_.vendor_keys.empty()) {
          // The signed message is every byte before the signature block (what OpenWrt's
          // `fwtool -T -s` passes to `usign -V` on the device).
          const bool a_ok = signature_verifies(ba, x, "shipped", label, rlabel, ca.size() - k);
          const bool b_ok = signature_verifies(bb, y, "rebuilt", label, rlabel, ca.size() - k);
          sig_verified = sig_verified && a_ok && b_ok;
        } else {
          sig_verified = false;
        }
        ++signatures;
        continue;
      }
      // Metadata (and unknown types): the data must be equal; only a verified CRC is masked.
      const Bytes da = ba.subspan(x.start, x.size - 16), db = bb.subspan(y.start, y.size - 16);
      if (!std::ranges::equal(da, db)) {
        const std::string_view ta(reinterpret_cast<const char*>(da.data()), da.size());
        const std::string_view tb(reinterpret_cast<const char*>(db.data()), db.size());
        Difference d{.path = label + "!fwtool-metadata",
                     .kind = "text",
                     .explanation = fmt::format("fwtool block #{} (type {}, metadata) differs",
                                                ca.size() - k, x.type),
                     .container = label};
        d.ranges = differing_ranges(da, db, kMaxEquivRanges, &d.ranges_total);
        for (auto& r : d.ranges) r.offset += x.start;
        d.unified_diff = unified_line_diff(ta.substr(std::min<std::size_t>(8, ta.size())),
                                           tb.substr(std::min<std::size_t>(8, tb.size())),
                                           "shipped/metadata", "rebuilt/metadata");
        differ(std::move(d));
      }
      if (x.crc_ok && y.crc_ok &&
          !std::ranges::equal(ba.subspan(x.trailer + 4, 4), bb.subspan(y.trailer + 4, 4)))
        crc_bytes += 4;
    }
    const bool verified = signatures > 0 && sig_verified;
    normalise("vendor-signature", label + "!fwtool-signature", sig_bytes,
              verified ? "OpenWrt fwtool signature block (usign): Ed25519 signature verified on "
                         "each side with a --vendor-key key"
              : opt_.vendor_keys.empty()
                  ? "OpenWrt fwtool signature block (usign): structure and trailer CRC32 "
                    "verified, signature not verified (no --vendor-key given)"
                  : "OpenWrt fwtool signature block (usign): structure and trailer CRC32 "
                    "verified, signature not verified (see differences and warnings)",
              verified);
    normalise("vendor-signature", label + "!fwtool-trailer-crc", crc_bytes,
              "fwtool trailer CRC32 over the preceding bytes, verified on each side on its own",
              true);
    return true;
  }

  void bytes_difference(const std::string& path, const std::string& chain, Bytes x, Bytes y,
                        const std::string& kind) {
    Difference d{.path = path,
                 .kind = kind,
                 .explanation = x.size() == y.size() ? "bytes differ"
                                                     : fmt::format("bytes differ (size {} vs {})",
                                                                   x.size(), y.size()),
                 .container = chain};
    d.ranges = differing_ranges(x, y, kMaxEquivRanges, &d.ranges_total);
    d.hexdump_diff = hexdump_diff(x, y, d.ranges);
    std::uint64_t n = 0;
    for (const auto& r : d.ranges) n += r.length;
    d.explanation +=
        fmt::format(" in {} range(s){}", d.ranges_total,
                    d.ranges_total <= d.ranges.size() ? fmt::format(", {} bytes", n) : "");
    differ(std::move(d));
  }

  // Two paired containers whose bytes differ.
  void container(const Container& x, const Container& y, Bytes xa, Bytes xb,
                 const std::string& prefix, const std::string& label) {
    const std::uint64_t before = out_.differences_total;
    const bool has_files = a_.files_in.contains(x.id) || b_.files_in.contains(y.id);
    std::set<std::string> differing_entries;
    if (has_files) differing_entries = files(x, y, prefix, label);
    if (x.format == "fit" && y.format == "fit") fit_tree(xa, xb, label, differing_entries);
    const bool contents_equal = out_.differences_total == before;
    // Header fields: masked per rule; everything else there is a difference.
    std::vector<ByteRange> header_masks;
    if (x.format == y.format)
      if (const auto* f = unpacker::find_format(x.format))
        header(*f, xa, xb, contents_equal, label, header_masks);
    if (!has_files && x.format == y.format && xa.size() == xb.size()) {
      // A container with nothing extracted (an ELF carved from a kernel, a device tree): its
      // bytes are its contents.
      std::vector<std::uint8_t> ma(xa.begin(), xa.end()), mb(xb.begin(), xb.end());
      for (const auto& m : header_masks)
        for (std::uint64_t k = m.offset; k < m.offset + m.length && k < ma.size(); ++k)
          ma[k] = mb[k];
      if (ma != mb) bytes_difference(label, label, Bytes(ma), Bytes(mb), "content");
      return;
    }
    if (!has_files) {
      bytes_difference(label, label, xa, xb, "content");
      return;
    }
    // What the header rules did not claim is re-encoding: another compressor, block size or
    // layout of the same contents.
    std::uint64_t masked = 0;
    for (const auto& m : header_masks) masked += m.length;
    const std::uint64_t differing = count_differing(xa, xb);
    if (differing > masked) {
      normalise("compression-layout", label, differing - masked,
                fmt::format("{} vs {}: {} of {} vs {} container bytes differ; contents compared "
                            "entry by entry",
                            x.description, y.description, differing, xa.size(), xb.size()));
      if (!contents_equal)
        warn(fmt::format("{}: re-encoded container with differing contents (see differences)",
                         label));
    }
  }

  // The header fields the format file states (Format::header_fields), each compared by its role:
  // a timestamp is masked under its rule, a field that follows from the payload's encoding only
  // when the payloads compared equivalent, a header checksum only when no other field differs;
  // any other field that differs is a header-field difference.
  void header(const unpacker::Format& f, Bytes xa, Bytes xb, bool payload_equal,
              const std::string& label, std::vector<ByteRange>& masks) {
    if (!f.header_fields) return;
    using Role = unpacker::HeaderField::Role;
    auto fa = f.header_fields(xa), fb = f.header_fields(xb);
    if (fa.empty() || fb.empty()) return;
    auto inside = [](const unpacker::HeaderField& h, Bytes b) {
      return h.offset <= b.size() && h.length <= b.size() - h.offset;
    };
    std::erase_if(fa, [&](const auto& h) { return !inside(h, xa); });
    std::erase_if(fb, [&](const auto& h) { return !inside(h, xb); });
    auto bytes = [](Bytes b, const unpacker::HeaderField& h) {
      return b.subspan(h.offset, h.length);
    };
    auto same_place = [](const unpacker::HeaderField& a, const unpacker::HeaderField& b) {
      return a.offset == b.offset && a.length == b.length;
    };
    bool other = false;
    auto identity = [&](const std::string& name, std::uint64_t off, std::uint64_t len,
                        const std::string& va, const std::string& vb) {
      other = true;
      differ({.path = label,
              .kind = "header-field",
              .explanation = fmt::format("{} {} differs: {} vs {}", f.header_label, name, va, vb),
              .container = label,
              .ranges = {{off, len}},
              .ranges_total = 1,
              .shipped = va,
              .rebuilt = vb});
    };
    std::vector<std::pair<const unpacker::HeaderField*, const unpacker::HeaderField*>> crcs;
    for (const auto& a : fa) {
      const auto it = std::ranges::find(fb, a.name, &unpacker::HeaderField::name);
      if (it == fb.end()) {
        if (a.role == Role::kIdentity) identity(a.name, a.offset, a.length, a.value, "absent");
        continue;
      }
      const auto& b = *it;
      const Bytes va = bytes(xa, a), vb = bytes(xb, b);
      if (va.size() == vb.size() && std::equal(va.begin(), va.end(), vb.begin())) continue;
      const std::string detail = fmt::format("{} {} vs {}", a.name, a.value, b.value);
      switch (a.role) {
        case Role::kIdentity:
          identity(a.name, a.offset, a.length, a.value, b.value);
          break;
        case Role::kTimestamp:
          normalise(std::string(a.rule), label, a.length, detail);
          if (same_place(a, b)) masks.push_back({a.offset, a.length});
          break;
        case Role::kEncoding:
          if (payload_equal) {  // else: a consequence of the payload difference reported below
            normalise(std::string(a.rule), label, a.length, detail + " (payload equivalent)");
            if (same_place(a, b)) masks.push_back({a.offset, a.length});
          }
          break;
        case Role::kHeaderCrc:
          crcs.emplace_back(&a, &b);
          break;
      }
    }
    for (const auto& b : fb)
      if (b.role == Role::kIdentity &&
          std::ranges::find(fa, b.name, &unpacker::HeaderField::name) == fa.end())
        identity(b.name, b.offset, b.length, "absent", b.value);
    if (other) return;
    for (const auto& [a, b] : crcs) {
      if (!same_place(*a, *b)) continue;
      normalise(
          std::string(a->rule), label, a->length,
          fmt::format("{} {} vs {} (only masked fields differ)", a->name, a->value, b->value));
      masks.push_back({a->offset, a->length});
    }
  }

  // FIT: the tree itself, node by node and property by property (fit.dts, the unpacker's
  // rendering of it, is not compared as text). Image payloads are compared as the extracted
  // files; what depends only on a payload is masked when that payload compared equivalent:
  // hash-* `value` (rule fit-hash-value) and external-data `data-offset`/`data-position`/
  // `data-size` (compression-layout). Root and signature-node `timestamp`: fit-timestamp (the
  // root one counted by the FIT format's header_fields). Signature `value`: vendor-signature, not
  // verified. Any other property or node that differs is a header-field difference.
  void fit_tree(Bytes xa, Bytes xb, const std::string& label,
                const std::set<std::string>& differing_images) {
    const auto ta = unpacker::fdt::parse(xa), tb = unpacker::fdt::parse(xb);
    if (!ta || !tb) return;
    auto paths = [](const unpacker::fdt::Tree& t) {
      std::map<std::string, const unpacker::fdt::Node*> out;
      std::vector<std::string> full(t.nodes.size());
      for (std::size_t i = 0; i < t.nodes.size() && i < kMaxFitNodes; ++i) {
        const auto& n = t.nodes[i];
        full[i] = i == 0 ? "/" : (full[n.parent] == "/" ? "" : full[n.parent]) + "/" + n.name;
        out.emplace(full[i], &n);
      }
      return out;
    };
    const auto na = paths(*ta), nb = paths(*tb);
    if (std::max(ta->nodes.size(), tb->nodes.size()) > kMaxFitNodes)
      warn(fmt::format("{}: FIT nodes beyond kMaxFitNodes = {} were not compared", label,
                       kMaxFitNodes));
    // "/images/<img>" or "/images/<img>/<sub>" -> <img> (the extracted file's name).
    auto image_of = [](const std::string& path) -> std::string {
      if (!path.starts_with("/images/")) return "";
      const auto rest = path.substr(8);
      return unpacker::safe_file_name(rest.substr(0, rest.find('/')), "image");
    };
    std::uint64_t hash_bytes = 0, layout_bytes = 0, time_bytes = 0, sig_bytes = 0;
    std::set<std::string> all;
    for (const auto& [p, n] : na) all.insert(p);
    for (const auto& [p, n] : nb) all.insert(p);
    for (const auto& path : all) {
      const auto ia = na.find(path), ib = nb.find(path);
      if (ia == na.end() || ib == nb.end()) {
        differ({.path = label,
                .kind = "header-field",
                .explanation = fmt::format("FIT node {} only in the {} image", path,
                                           ia == na.end() ? "rebuilt" : "shipped"),
                .container = label});
        continue;
      }
      const std::string img = image_of(path);
      const bool payload_equal = !img.empty() && !differing_images.contains(img);
      const std::string leaf = path.substr(path.rfind('/') + 1);
      std::set<std::string_view> names;
      for (const auto& pr : ia->second->props) names.insert(pr.name);
      for (const auto& pr : ib->second->props) names.insert(pr.name);
      for (const auto name : names) {
        const auto* pa = ia->second->prop(name);
        const auto* pb = ib->second->prop(name);
        if (pa && pb && std::ranges::equal(pa->value, pb->value)) continue;
        const std::uint64_t width = std::max(pa ? pa->value.size() : 0, pb ? pb->value.size() : 0);
        if (pa && pb) {
          if (path == "/" && name == "timestamp") continue;  // the FIT format's header_fields
          const bool image_node =
              path.starts_with("/images/") && path.find('/', 8) == std::string::npos;
          if (image_node && name == "data") continue;  // compared as the extracted file
          if (image_node &&
              (name == "data-offset" || name == "data-position" || name == "data-size")) {
            if (payload_equal) layout_bytes += width;
            continue;  // else a consequence of the payload difference reported for it
          }
          if (leaf.starts_with("hash") && name == "value") {
            if (payload_equal) hash_bytes += width;
            if (payload_equal || differing_images.contains(img)) continue;
          }
          if (leaf.starts_with("signature") && name == "timestamp") {
            time_bytes += width;
            continue;
          }
          if (leaf.starts_with("signature") && name == "value") {
            sig_bytes += width;
            continue;
          }
        }
        auto show = [](const unpacker::fdt::Property* pr) {
          if (!pr) return std::string("(absent)");
          const auto v = pr->value.subspan(0, std::min<std::size_t>(pr->value.size(), 32));
          std::string out;
          for (auto c : v) out += fmt::format("{:02x}", c);
          return out + (pr->value.size() > 32 ? "..." : "");
        };
        differ({.path = label,
                .kind = "header-field",
                .explanation = fmt::format("FIT property {}/{} differs: {} vs {}",
                                           path == "/" ? "" : path, name, show(pa), show(pb)),
                .container = label,
                .shipped = show(pa),
                .rebuilt = show(pb)});
      }
    }
    normalise("fit-hash-value", label, hash_bytes,
              "hash-* value of image payloads that compared equivalent");
    normalise("compression-layout", label, layout_bytes,
              "external-data offsets and sizes of image payloads that compared equivalent");
    normalise("fit-timestamp", label, time_bytes, "signature node timestamps");
    normalise("vendor-signature", label, sig_bytes,
              "FIT signature node value (RSA/ECDSA over the configuration): not verified", false);
  }

  // The entries of two paired containers, by path.
  /// Returns the entry paths (of this container) that differ.
  std::set<std::string> files(const Container& x, const Container& y, const std::string& prefix,
                              const std::string& label) {
    std::set<std::string> differing;
    // A FIT's fit.dts is the unpacker's rendering of its tree: the tree is compared by fit_tree.
    const bool fit = x.format == "fit" && y.format == "fit";
    static const std::vector<const FileRecord*> kNone;
    const auto ita = a_.files_in.find(x.id);
    const auto itb = b_.files_in.find(y.id);
    const auto& fa = ita == a_.files_in.end() ? kNone : ita->second;
    const auto& fb = itb == b_.files_in.end() ? kNone : itb->second;
    std::map<std::string, const FileRecord*> ma, mb;
    for (const auto* f : fa) ma.emplace(f->path, f);
    for (const auto* f : fb) mb.emplace(f->path, f);
    // Entry order (inode / directory order, as the unpacker met the entries): the rank of each
    // common path on both sides.
    auto in_order = [](std::vector<const FileRecord*> v) {
      std::ranges::stable_sort(v, {}, &FileRecord::entry);
      return v;
    };
    std::vector<std::string> oa, ob;
    for (const auto* f : in_order(fa))
      if (mb.contains(f->path)) oa.push_back(f->path);
    for (const auto* f : in_order(fb))
      if (ma.contains(f->path)) ob.push_back(f->path);
    std::uint64_t moved = 0;
    for (std::size_t i = 0; i < oa.size() && i < ob.size(); ++i) moved += oa[i] != ob[i];
    if (moved)
      normalise("inode-order", label, 4 * moved,
                fmt::format("{} entries at another position in inode/directory order", moved));
    std::uint64_t times = 0;
    const std::uint64_t width = x.format == y.format ? timestamp_width(x.format) : 4;
    std::set<std::string> paths;
    for (auto& [p, f] : ma) paths.insert(p);
    for (auto& [p, f] : mb) paths.insert(p);
    for (const auto& p : paths) {
      const auto* ra = ma.contains(p) ? ma[p] : nullptr;
      const auto* rb = mb.contains(p) ? mb[p] : nullptr;
      const std::string shown = prefix + p;
      if (fit && p == "fit.dts") continue;
      const std::uint64_t before = out_.differences_total;
      if (!ra || !rb) {
        differing.insert(p);
        const auto* r = ra ? ra : rb;
        differ(
            {.path = shown,
             .kind = ra ? "removed" : "added",
             .explanation = fmt::format("{} {} only in the {} image ({} bytes)", to_string(r->type),
                                        p, ra ? "shipped" : "rebuilt", r->size),
             .container = label});
        continue;
      }
      ++out_.files_compared;
      if (ra->mtime != rb->mtime) times += width;
      entry(*ra, *rb, shown, label);
      if (out_.differences_total != before) differing.insert(p);
    }
    if (times)
      normalise("fs-timestamps", label, times,
                fmt::format("entry modification times ({} bytes per {} entry)", width, x.format));
    return differing;
  }

  void entry(const FileRecord& ra, const FileRecord& rb, const std::string& shown,
             const std::string& label) {
    auto meta = [&](const char* kind, std::string va, std::string vb, const char* what) {
      if (va == vb) return;
      differ({.path = shown,
              .kind = kind,
              .explanation = fmt::format("{} differs: {} vs {}", what, va, vb),
              .container = label,
              .shipped = va,
              .rebuilt = vb});
    };
    if (ra.type != rb.type) {
      meta("type", to_string(ra.type), to_string(rb.type), "entry type");
      return;
    }
    meta("mode", fmt::format("{:04o}", ra.mode), fmt::format("{:04o}", rb.mode), "mode");
    meta("owner", fmt::format("{}:{}", ra.uid, ra.gid), fmt::format("{}:{}", rb.uid, rb.gid),
         "owner uid:gid");
    meta("link", ra.link, rb.link, "link target");
    if (ra.type != EntryType::kFile || ra.sha256 == rb.sha256) return;
    if (ra.truncated || rb.truncated)
      warn(fmt::format("{}: content was cut short by a cap or corruption; compared as extracted",
                       shown));
    // A file holding containers on both sides: compare what it holds.
    if (a_.holds_containers(ra.container, ra.path) && b_.holds_containers(rb.container, rb.path)) {
      blob(ra.container, ra.path, rb.container, rb.path, shown + "!", shown);
      return;
    }
    auto ma = a_.file(ra);
    auto mb = b_.file(rb);
    if (!ma || !mb) {
      warn(fmt::format("{}: cannot read: {}", shown, (!ma ? ma : mb).error().to_string()));
      differ({.path = shown,
              .kind = "content",
              .explanation = "content differs (sha256); not readable for detail",
              .container = label});
      return;
    }
    const Bytes ba = ma->bytes(), bb = mb->bytes();
    if (starts_with(ba,
                    "\x7f"
                    "ELF") &&
        starts_with(bb,
                    "\x7f"
                    "ELF")) {
      if (auto e = compare_elf(ba, bb)) {
        normalise("elf-build-id", shown, e->build_id_bytes, "NT_GNU_BUILD_ID note descriptor");
        normalise("elf-debuglink-crc", shown, e->debuglink_bytes, ".gnu_debuglink CRC32");
        for (auto& s : e->sections) {
          std::string why = fmt::format("ELF section {} differs in {} byte(s)", s.section, s.bytes);
          if (!s.note.empty()) why += " (" + s.note + ")";
          if (!s.ranges.empty())
            why += fmt::format(
                " at file offset 0x{:x}{}", s.ranges[0].offset,
                s.ranges_total > 1 ? fmt::format(" and {} more range(s)", s.ranges_total - 1) : "");
          if (!s.symbols.empty()) {
            std::string names;
            for (const auto& n : s.symbols) names += (names.empty() ? "" : ", ") + n;
            why += fmt::format("; symbol(s): {} (from {}{})", names, e->symbol_table,
                               e->symbol_table == ".dynsym" ? ", no .symtab: stripped binary" : "");
          } else if (e->symbol_table != ".symtab") {
            why += "; stripped binary: no symbol covers these bytes";
          }
          Difference d{.path = shown,
                       .kind = "elf-section",
                       .explanation = why,
                       .container = label,
                       .section = s.section,
                       .symbols = s.symbols,
                       .symbol_table = e->symbol_table,
                       .ranges = s.ranges,
                       .ranges_total = s.ranges_total};
          if (e->same_layout) d.hexdump_diff = hexdump_diff(ba, bb, s.ranges);
          differ(std::move(d));
        }
        return;
      }
    }
    if (std::max(ba.size(), bb.size()) <= opt_.max_text_bytes && looks_text(ba) && looks_text(bb)) {
      const std::string_view ta(reinterpret_cast<const char*>(ba.data()), ba.size());
      const std::string_view tb(reinterpret_cast<const char*>(bb.data()), bb.size());
      auto diff = unified_line_diff(ta, tb, "shipped/" + shown, "rebuilt/" + shown);
      std::uint64_t plus = 0, minus = 0;
      for (std::size_t p = 0; p < diff.size();) {
        const auto nl = diff.find('\n', p);
        if (diff[p] == '+' && diff.compare(p, 4, "+++ ") != 0) ++plus;
        if (diff[p] == '-' && diff.compare(p, 4, "--- ") != 0) ++minus;
        if (nl == std::string::npos) break;
        p = nl + 1;
      }
      Difference d{
          .path = shown,
          .kind = "text",
          .explanation = fmt::format("text differs: {} line(s) removed, {} added", minus, plus),
          .container = label};
      d.ranges = differing_ranges(ba, bb, kMaxEquivRanges, &d.ranges_total);
      d.unified_diff = std::move(diff);
      differ(std::move(d));
      return;
    }
    bytes_difference(shown, label, ba, bb, "content");
  }

  Side a_, b_;
  const EquivOptions& opt_;
  Equivalence& out_;
  std::map<std::pair<std::string, std::string>, Normalisation> norms_;
  bool capped_ = false;
};

}  // namespace

const char* to_string(EquivVerdict v) {
  return enum_name<EquivVerdict::kDifferent>(v, {"identical", "equivalent", "different"},
                                             "different");
}

Equivalence identical_images(const ImageInfo& shipped, const ImageInfo& rebuilt) {
  Equivalence e;
  e.shipped = shipped;
  e.rebuilt = rebuilt;
  e.verdict = EquivVerdict::kIdentical;
  return e;
}

Equivalence compare_images(const ArtifactTree& shipped, const std::string& shipped_dir,
                           const ArtifactTree& rebuilt, const std::string& rebuilt_dir,
                           const EquivOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Equivalence e;
  e.shipped = shipped.image;
  e.rebuilt = rebuilt.image;
  if (shipped.image.sha256 == rebuilt.image.sha256 && shipped.image.size == rebuilt.image.size)
    return identical_images(shipped.image, rebuilt.image);
  for (const auto* t : {&shipped, &rebuilt})
    if (!t->warnings.empty())
      e.warnings.push_back(fmt::format(
          "{} image: {} unpack warning(s) (refusals, caps or corruption): see {}/manifest.json",
          t == &shipped ? "shipped" : "rebuilt", t->warnings.size(),
          t == &shipped ? "shipped" : "rebuilt"));
  Comparer(shipped, shipped_dir, rebuilt, rebuilt_dir, options, e).run();
  if (e.differences_total == 0 && e.normalisations.empty()) {
    // The images differ but nothing located the difference: fail closed.
    e.differences.push_back({.path = shipped.image.name,
                             .kind = "unexplained-region",
                             .explanation = "the images differ but no difference was located"});
    e.differences_total = 1;
  }
  e.verdict = e.differences_total ? EquivVerdict::kDifferent : EquivVerdict::kEquivalent;
  e.elapsed_ms = std::uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
  return e;
}

}  // namespace probity
