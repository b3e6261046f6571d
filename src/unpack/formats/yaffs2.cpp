// yaffs2 NAND images as mkyaffs2image and vendor tools write them: chunks of a data page
// (512 .. 16384 bytes) and its spare area, the spare holding the packed tags (sequence number,
// object id, chunk id, byte count) at offset 0 or after a 2-byte bad-block marker. Chunk 0 of
// an object is its header (type, parent, name, mode, owner, times, size, hard-link target,
// symlink alias, device); chunks 1.. are file data. The geometry, the tags' offset and each
// part's byte order (headers and tags are byte-swapped independently by some tools) are
// detected from the first chunks. Later sequence numbers supersede earlier copies.
#include <fmt/format.h>

#include <array>
#include <map>
#include <set>
#include <unordered_map>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {
    // The first object header as a freshly made image starts: a file, directory or symlink
    // (type 1, 3 or 2) in the root (parent 1), the unused checksum 0xffff, in either byte order.
    {std::string_view("\x01\0\0\0\x01\0\0\0\xff\xff", 10), 0},
    {std::string_view("\x02\0\0\0\x01\0\0\0\xff\xff", 10), 0},
    {std::string_view("\x03\0\0\0\x01\0\0\0\xff\xff", 10), 0},
    {std::string_view("\0\0\0\x01\0\0\0\x01\xff\xff", 10), 0},
    {std::string_view("\0\0\0\x02\0\0\0\x01\xff\xff", 10), 0},
    {std::string_view("\0\0\0\x03\0\0\0\x01\xff\xff", 10), 0},
};
constexpr std::string_view kDescription =
    "yaffs2 NAND image (page 512-16384, LE/BE, tags at spare 0 or 2)";

constexpr std::array<std::uint32_t, 6> kPages = {512, 1024, 2048, 4096, 8192, 16384};
constexpr std::array<std::uint32_t, 6> kSpares = {16, 32, 64, 128, 256, 512};
constexpr std::uint32_t kLowestSeq = 0x1000, kHighestSeq = 0xefffff00;
constexpr std::uint32_t kExtraHeader = 0x80000000u;
constexpr std::uint32_t kRootId = 1, kUnlinkedId = 3, kDeletedId = 4;
enum ObjType : std::uint32_t { kFile = 1, kSymlink = 2, kDir = 3, kHardlink = 4, kSpecial = 5 };
constexpr std::uint32_t kHeaderBytes = 512;  // the object header's fields fit in 512 bytes
/// Chunks looked at to settle the geometry.
constexpr std::uint64_t kGeometryChunks = 16;

struct Geometry {
  std::uint32_t page = 0, spare = 0, tag_off = 0;
  bool tags_be = false, header_be = false;
  [[nodiscard]] std::uint64_t chunk() const { return std::uint64_t(page) + spare; }
};

struct Tags {
  std::uint32_t seq = 0, obj = 0, chunk = 0, bytes = 0;
  [[nodiscard]] bool header() const { return chunk == 0 || (chunk & kExtraHeader); }
  [[nodiscard]] std::uint32_t id() const { return (chunk & kExtraHeader) ? obj & 0x0fffffff : obj; }
};

std::uint32_t u32(Bytes d, std::uint64_t off, bool be) {
  auto v = be ? read_be<std::uint32_t>(d, off) : read_le<std::uint32_t>(d, off);
  return v.value_or(0);
}

enum class TagState { kValid, kErased, kBad };

TagState tags_at(Bytes d, const Geometry& g, std::uint64_t index, Tags& t) {
  const std::uint64_t at = index * g.chunk() + g.page + g.tag_off;
  if (at + 16 > d.size()) return TagState::kBad;
  bool erased = true;
  for (std::uint64_t i = 0; i < 16; ++i) erased = erased && d[at + i] == 0xff;
  if (erased) return TagState::kErased;
  t.seq = u32(d, at, g.tags_be);
  t.obj = u32(d, at + 4, g.tags_be);
  t.chunk = u32(d, at + 8, g.tags_be);
  t.bytes = u32(d, at + 12, g.tags_be);
  if (t.seq < kLowestSeq || t.seq > kHighestSeq || t.id() == 0) return TagState::kBad;
  if (!t.header() && t.bytes > g.page) return TagState::kBad;
  return TagState::kValid;
}

/// A plausible object header at `off`: a known type and a NUL-terminated name.
bool header_at(Bytes d, std::uint64_t off, bool be) {
  if (off + kHeaderBytes > d.size()) return false;
  const std::uint32_t type = u32(d, off, be);
  if (type < kFile || type > kSpecial) return false;
  for (std::uint64_t i = 10; i < 10 + 256; ++i)
    if (d[off + i] == 0) return true;
  return false;
}

std::optional<Geometry> detect(Bytes d) {
  if (d.size() < 512 + 16) return std::nullopt;
  Geometry best;
  std::uint64_t best_score = 0;
  for (bool header_be : {false, true}) {
    if (!header_at(d, 0, header_be)) continue;
    for (std::uint32_t page : kPages)
      for (std::uint32_t spare : kSpares) {
        if (spare * 8 > page || spare * 128 < page) continue;
        for (std::uint32_t tag_off : {0u, 2u})
          for (bool tags_be : {false, true}) {
            Geometry g{page, spare, tag_off, tags_be, header_be};
            if (d.size() < g.chunk()) continue;
            Tags t;
            if (tags_at(d, g, 0, t) != TagState::kValid || !t.header()) continue;
            const std::uint64_t n = std::min<std::uint64_t>(d.size() / g.chunk(), kGeometryChunks);
            std::uint64_t score = 1;
            bool ok = true;
            for (std::uint64_t i = 1; i < n && ok; ++i) {
              const TagState s = tags_at(d, g, i, t);
              if (s == TagState::kBad) ok = false;
              if (s == TagState::kValid) {
                ++score;
                if (t.header() && !header_at(d, i * g.chunk(), header_be)) ok = false;
              }
            }
            if (!ok) continue;
            score = score * 2 + (d.size() % g.chunk() == 0);  // a whole number of chunks
            if (score > best_score) best_score = score, best = g;
          }
      }
  }
  if (best_score == 0) return std::nullopt;
  return best;
}

std::optional<Probe> probe(Bytes d) {
  auto g = detect(d);
  if (!g) return std::nullopt;
  return Probe{0, fmt::format("yaffs2, {}+{} byte pages, {}-endian headers, tags at spare {} ({})",
                              g->page, g->spare, g->header_be ? "big" : "little", g->tag_off,
                              g->tags_be ? "big-endian" : "little-endian")};
}

struct Object {
  std::uint32_t type = 0, parent = 0, mode = 0, uid = 0, gid = 0, mtime = 0, equiv = 0;
  std::uint64_t size = 0;
  std::string name, alias;
};

struct Copy {
  std::uint32_t seq = 0;
  std::uint64_t index = 0;  ///< chunk index in the image
  std::uint32_t bytes = 0;
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto g = detect(d);
  if (!g) return fail("no yaffs2 geometry fits the first chunks", 0);
  sink.describe(*probe(d).transform([](const Probe& p) { return p.description; }));
  // Pass 1: the newest copy of every (object, chunk).
  std::unordered_map<std::uint32_t, Copy> headers;
  std::map<std::pair<std::uint32_t, std::uint32_t>, Copy> data;
  const std::uint64_t chunks = d.size() / g->chunk();
  std::uint64_t end = 0;
  for (std::uint64_t i = 0; i < chunks; ++i) {
    Tags t;
    const TagState s = tags_at(d, *g, i, t);
    if (s == TagState::kBad) {
      sink.warn("format-error", "chunk with invalid tags: the image ends here", {}, i * g->chunk());
      break;
    }
    end = (i + 1) * g->chunk();
    if (s == TagState::kErased) continue;
    auto newer = [&](Copy& c) {
      if (c.seq > t.seq) return;
      c = Copy{t.seq, i, t.bytes};
    };
    if (t.header())
      newer(headers[t.id()]);
    else
      newer(data[{t.id(), t.chunk}]);
  }
  // Pass 2: the objects.
  std::unordered_map<std::uint32_t, Object> objects;
  for (const auto& [id, c] : headers) {
    const std::uint64_t off = c.index * g->chunk();
    if (!header_at(d, off, g->header_be)) {
      sink.warn("format-error", fmt::format("object {}: header chunk is not an object header", id),
                {}, off);
      continue;
    }
    Object o;
    const bool be = g->header_be;
    o.type = u32(d, off, be);
    o.parent = u32(d, off + 4, be);
    o.name = cstr(d, off + 10, 256);
    o.mode = u32(d, off + 268, be);
    o.uid = u32(d, off + 272, be);
    o.gid = u32(d, off + 276, be);
    o.mtime = u32(d, off + 284, be);
    o.size = u32(d, off + 292, be);
    const std::uint32_t high = u32(d, off + 496, be);
    if (high != 0xffffffff) o.size |= std::uint64_t(high) << 32;
    o.equiv = u32(d, off + 296, be);
    o.alias = cstr(d, off + 300, 160);
    objects.emplace(id, std::move(o));
  }
  // Paths: each object's parent chain up to the root. A chain that loops, runs deeper than
  // kMaxDirDepth, reaches a deleted/unlinked/missing object or goes through an object that is not
  // a directory gives no path (the object is skipped).
  std::unordered_map<std::uint32_t, std::optional<std::string>> paths;
  auto path_of = [&](std::uint32_t id) -> std::optional<std::string> {
    std::vector<std::uint32_t> chain;
    std::set<std::uint32_t> on_chain;
    std::uint32_t cur = id;
    std::optional<std::string> base = std::string();  // the path children of `cur` go under
    while (cur != kRootId) {
      if (auto it = paths.find(cur); it != paths.end()) {
        base = objects[cur].type == kDir ? it->second : std::nullopt;
        break;
      }
      auto o = objects.find(cur);
      if (o == objects.end() || !on_chain.insert(cur).second || chain.size() > kMaxDirDepth ||
          o->second.parent == kUnlinkedId || o->second.parent == kDeletedId) {
        base.reset();
        break;
      }
      chain.push_back(cur);
      cur = o->second.parent;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const Object& o = objects[*it];
      std::optional<std::string> mine;
      if (base) mine = child_path(sink, *base, o.name, headers[*it].index * g->chunk());
      paths[*it] = mine;
      base = o.type == kDir ? mine : std::nullopt;
    }
    return chain.empty() ? paths[id] : paths[chain.front()];
  };
  // Objects in image order (headers by chunk index), so a hard link's target comes first.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order;
  for (const auto& [id, c] : headers)
    if (objects.contains(id) && id != kRootId) order.push_back({c.index, id});
  std::sort(order.begin(), order.end());
  std::vector<std::pair<Entry, std::uint32_t>> links;
  for (const auto& [index, id] : order) {
    if (auto st = sink.check_time(); !st) return fail_at(st.error(), end);
    const Object& o = objects[id];
    auto path = path_of(id);
    if (!path) continue;  // deleted, unlinked, orphaned or refused (warned)
    Entry e;
    e.path = *path;
    e.mode = o.mode & 07777;
    e.uid = o.uid;
    e.gid = o.gid;
    e.mtime = o.mtime;
    switch (o.type) {
      case kDir:
        e.type = EntryType::kDir;
        (void)sink.node(e);
        break;
      case kSymlink:
        e.type = EntryType::kSymlink;
        e.link = o.alias;
        (void)sink.node(e);
        break;
      case kHardlink:
        links.push_back({e, o.equiv});
        break;
      case kSpecial:
        if (auto t = node_type(o.mode)) {
          e.type = *t;
          (void)sink.node(e);
        }
        break;
      default: {
        auto out = sink.open_file(e);
        if (!out) {
          if (sink.exhausted()) return fail(out.error().message, end);
          break;
        }
        bool truncated = false;
        for (std::uint64_t pos = 0, k = 1; pos < o.size; ++k) {
          const std::uint64_t want = std::min<std::uint64_t>(g->page, o.size - pos);
          auto it = data.find({id, std::uint32_t(k)});
          if (k > UINT32_MAX || it == data.end() || it->second.bytes < want) {
            truncated = true;
            break;
          }
          if (!out->write(sub(d, it->second.index * g->chunk(), want))) break;
          pos += want;
        }
        if (truncated) {
          out->mark_truncated();
          sink.warn("format-error", "file data chunks missing", e.path);
        }
        out->close();
      }
    }
  }
  for (auto& [e, target] : links) {
    auto to = objects.contains(target) ? path_of(target) : std::nullopt;
    if (!to) {
      sink.warn("format-error", "hard link to an unknown object", e.path);
      continue;
    }
    e.type = EntryType::kHardlink;
    e.link = *to;
    (void)sink.node(e);
  }
  return end;
}

}  // namespace

const Format kFormat_yaffs2 =
    make_format(kind::kFilesystem, "yaffs2", kDescription, kMagics, probe, extract);

}  // namespace probity::unpacker
