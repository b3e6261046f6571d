// romfs (Linux ROM filesystem, Documentation/filesystems/romfs.rst): "-rom1fs-", the image size
// and a checksum of its first 512 bytes (big-endian words summing to zero), the volume name,
// then 16-byte aligned file headers: next (offset of the next header in the directory, its low
// 4 bits the type and an executable bit), spec.info (a directory's first header, a hard link's
// target, a device's numbers), size, checksum, the name, and the data. Uncompressed, big-endian.
#include <fmt/format.h>

#include <map>
#include <set>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"-rom1fs-", 0}};
constexpr std::uint32_t kHeaderBytes = 16;

enum Type : std::uint32_t {
  kHardlink = 0,
  kDirectory = 1,
  kRegular = 2,
  kSymlink = 3,
  kBlockDev = 4,
  kCharDev = 5,
  kSocket = 6,
  kFifo = 7
};

std::uint64_t align16(std::uint64_t v) {
  return (v + 15) & ~std::uint64_t(15);
}

/// Sum of the big-endian words of [off, off + len) (len a multiple of 4, inside `d`).
std::uint32_t word_sum(Bytes d, std::uint64_t off, std::uint64_t len) {
  std::uint32_t sum = 0;
  for (std::uint64_t i = 0; i + 4 <= len; i += 4) sum += *read_be<std::uint32_t>(d, off + i);
  return sum;
}

/// The offset just past a NUL-terminated name at `off` padded to 16 bytes, or nullopt.
std::optional<std::uint64_t> name_end(Bytes d, std::uint64_t off) {
  for (std::uint64_t i = off; i < d.size() && i < off + kMaxPathBytes; ++i)
    if (d[i] == 0) return align16(i + 1);
  return std::nullopt;
}

std::optional<Probe> probe(Bytes d) {
  if (d.size() < 32 || !starts_with(d, "-rom1fs-")) return std::nullopt;
  const auto size = *read_be<std::uint32_t>(d, 8);
  if (size < 32) return std::nullopt;
  const std::uint64_t checked = std::min<std::uint64_t>({512, size, d.size()}) & ~std::uint64_t(3);
  if (word_sum(d, 0, checked) != 0) return std::nullopt;
  return Probe{std::min<std::uint64_t>(size, d.size()),
               fmt::format("romfs, {} bytes, volume \"{}\"", size, cstr(d, 16, 64))};
}

struct Walker {
  Bytes d;
  Sink& sink;
  std::set<std::uint64_t> seen;                ///< headers visited (loops, shared entries)
  std::map<std::uint64_t, std::string> paths;  ///< regular files' headers -> their path
  Status status;

  struct Header {
    std::uint64_t at = 0, next = 0, data = 0;
    std::uint32_t type = 0, info = 0, size = 0;
    bool exec = false;
    std::string name;
  };

  std::optional<Header> header(std::uint64_t at) {
    auto next = read_be<std::uint32_t>(d, at), info = read_be<std::uint32_t>(d, at + 4),
         size = read_be<std::uint32_t>(d, at + 8);
    if (!next || !info || !size) return std::nullopt;
    auto end = name_end(d, at + kHeaderBytes);
    if (!end) return std::nullopt;
    Header h;
    h.at = at;
    h.next = *next & ~std::uint32_t(15);
    h.type = *next & 7;
    h.exec = *next & 8;
    h.info = *info;
    h.size = *size;
    h.name = cstr(d, at + kHeaderBytes, std::size_t(*end - at - kHeaderBytes));
    h.data = *end;
    if (word_sum(d, at, std::min<std::uint64_t>(*end, d.size()) - at) != 0)
      sink.warn("checksum-mismatch", "romfs file header checksum mismatch", h.name, at);
    return h;
  }

  Bytes data_of(const Header& h, const std::string& path) {
    if (h.data > d.size() || h.size > d.size() - h.data) {
      sink.warn("format-error", fmt::format("data of {} bytes past the end of the image", h.size),
                path, h.data);
      return sub(d, std::min<std::uint64_t>(h.data, d.size()));
    }
    return sub(d, h.data, h.size);
  }

  void file(const Header& h, const Entry& base, const std::string& path) {
    Entry e = base;
    Bytes content = data_of(h, path);
    (void)sink.file(e, content, content.size() < h.size);
    paths[h.at] = path;
  }

  void walk(std::uint64_t first, const std::string& prefix, std::uint32_t depth) {
    if (!within_dir_depth(sink, depth, prefix)) return;
    for (std::uint64_t at = first; at != 0 && status;) {
      if (auto st = sink.check_time(); !st) {
        status = st;
        return;
      }
      if (!seen.insert(at).second) {
        sink.warn("format-error", "file header reached twice (a loop): not read again", prefix, at);
        return;
      }
      auto h = header(at);
      if (!h) {
        sink.warn("format-error", "file header past the end of the image", prefix, at);
        return;
      }
      at = h->next;
      if (h->name == "." || h->name == "..") continue;
      const auto child = child_path(sink, prefix, h->name, h->at);
      if (!child) continue;
      Entry e;
      e.path = *child;
      e.mode = (h->exec || h->type == kDirectory) ? 0755 : 0644;
      switch (h->type) {
        case kDirectory:
          e.type = EntryType::kDir;
          (void)sink.node(e);
          walk(h->info & ~std::uint32_t(15), *child, depth + 1);
          break;
        case kRegular:
          file(*h, e, *child);
          break;
        case kSymlink: {
          e.type = EntryType::kSymlink;
          Bytes t = data_of(*h, *child);
          e.link = cstr(t, 0, std::min<std::size_t>(t.size(), kMaxLinkBytes));
          (void)sink.node(e);
          break;
        }
        case kHardlink: {
          const std::uint64_t target = h->info & ~std::uint32_t(15);
          if (auto it = paths.find(target); it != paths.end()) {
            e.type = EntryType::kHardlink;
            e.link = it->second;
            (void)sink.node(e);
          } else if (auto t = header(target); t && t->type == kRegular) {
            file(*t, e, *child);  // the target comes later in the walk: this name has the data
          } else {
            sink.warn("format-error", "hard link to something that is not a regular file", *child,
                      h->at);
          }
          break;
        }
        case kBlockDev:
          e.type = EntryType::kBlockDev;
          (void)sink.node(e);
          break;
        case kCharDev:
          e.type = EntryType::kCharDev;
          (void)sink.node(e);
          break;
        case kSocket:
          e.type = EntryType::kSocket;
          (void)sink.node(e);
          break;
        default:
          e.type = EntryType::kFifo;
          (void)sink.node(e);
          break;
      }
    }
  }
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  if (!probe(d)) return fail("bad romfs superblock", 0);
  const std::uint64_t size = *read_be<std::uint32_t>(d, 8);
  if (size > d.size())
    sink.warn("truncated", fmt::format("romfs image of {} bytes, only {} present", size, d.size()),
              {}, d.size());
  Bytes image = sub(d, 0, size);
  auto root = name_end(image, 16);
  if (!root) return fail("romfs volume name not terminated", 16);
  sink.describe(fmt::format("romfs, {} bytes, volume \"{}\"", size, cstr(d, 16, 64)));
  Walker w{image, sink};
  w.walk(*root, "", 0);
  if (!w.status) return fail(w.status.error().message, image.size());
  return image.size();
}

}  // namespace

const Format kFormat_romfs = make_format(kind::kFilesystem, "romfs", "romfs (Linux ROM filesystem)",
                                         kMagics, probe, extract);

}  // namespace probity::unpacker
