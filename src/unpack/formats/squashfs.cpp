// SquashFS 4.0 with every compressor libsquashfs (squashfs-tools-ng) supports. The image is read
// from memory through our own sqfs_file_t; the directory walk is ours (depth and entry caps,
// loop detection); file contents are decompressed by several threads, each with its own
// compressor and data reader. Two compressor objects of our own stand in where libsquashfs has
// none or refuses: LZO (Debian builds it without), and the LZMA blocks vendor SDKs wrote under
// compression id 2 (a 5-byte properties header without the size, vendor dictionaries, or the
// 13-byte alone header with an unknown size), decoded by the squashfs_legacy block decoder
// (unpack/squashfs_blocks.hpp). xz and LZMA compressor options libsquashfs refuses are ignored
// with a warning, as unsquashfs does: the decoder needs none of them.
#include <lzo/lzo1x.h>
#include <sqfs/block.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "probity/task_pool.hpp"
#include "unpack/format.hpp"
#include "unpack/squashfs_be.hpp"
#include "unpack/squashfs_blocks.hpp"

namespace probity::unpacker {
namespace {

// "sqsh": AVM's big-endian 4.0 images (squashfs_legacy takes "sqsh" with versions 1-3).
constexpr Magic kMagics[] = {{"hsqs", 0}, {"sqsh", 0}};
constexpr std::string_view kDescription = "SquashFS 4.0, every compressor (libsquashfs)";
/// Consecutive files a thread takes at a time.
constexpr std::size_t kJobRun = 16;

/// A read-only sqfs_file_t over bytes in memory (bounds-checked): `data`, its first bytes
/// replaced by `head` and followed by `tail` (a big-endian image's little-endian superblock and
/// tables; both empty otherwise).
struct MemFile {
  sqfs_file_t base;
  Bytes data, head, tail;
};

int mem_read_at(sqfs_file_t* f, sqfs_u64 off, void* buf, size_t size) {
  auto* m = reinterpret_cast<MemFile*>(f);
  const std::uint64_t total = m->data.size() + m->tail.size();
  if (off > total || total - off < size) return SQFS_ERROR_OUT_OF_BOUNDS;
  auto* out = static_cast<std::uint8_t*>(buf);
  while (size > 0) {
    const std::uint8_t* src = nullptr;
    std::uint64_t n = 0;
    if (off < m->head.size()) {
      src = m->head.data() + off;
      n = m->head.size() - off;
    } else if (off < m->data.size()) {
      src = m->data.data() + off;
      n = m->data.size() - off;
    } else {
      src = m->tail.data() + (off - m->data.size());
      n = m->tail.size() - (off - m->data.size());
    }
    n = std::min<std::uint64_t>(n, size);
    std::memcpy(out, src, n);
    out += n;
    off += n;
    size -= n;
  }
  return 0;
}
int mem_write_at(sqfs_file_t*, sqfs_u64, const void*, size_t) {
  return SQFS_ERROR_IO;
}
sqfs_u64 mem_get_size(const sqfs_file_t* f) {
  const auto* m = reinterpret_cast<const MemFile*>(f);
  return m->data.size() + m->tail.size();
}
int mem_truncate(sqfs_file_t*, sqfs_u64) {
  return SQFS_ERROR_IO;
}
void mem_destroy(sqfs_object_t*) {}  // owned by the extract call

MemFile make_file(Bytes d, Bytes head = {}, Bytes tail = {}) {
  MemFile m{};
  m.base.base.destroy = mem_destroy;
  m.base.base.copy = nullptr;
  m.base.read_at = mem_read_at;
  m.base.write_at = mem_write_at;
  m.base.get_size = mem_get_size;
  m.base.truncate = mem_truncate;
  m.data = d;
  m.head = head.size() <= d.size() ? head : Bytes{};
  m.tail = tail;
  return m;
}

template <class T>
struct SqfsPtr {
  T* p = nullptr;
  ~SqfsPtr() {
    if (p) sqfs_destroy(p);
  }
};
struct FreePtr {
  void operator()(void* p) const { sqfs_free(p); }
};
using InodePtr = std::unique_ptr<sqfs_inode_generic_t, FreePtr>;

const char* compressor_name(int id) {
  const char* n = sqfs_compressor_name_from_id(static_cast<SQFS_COMPRESSOR>(id));
  return n ? n : "unknown";
}

std::optional<Probe> probe(Bytes d) {
  const bool big = sqfs::is_be_squashfs4(d);
  if (!big && (!starts_with(d, "hsqs") || d.size() < 96)) return std::nullopt;
  auto u16 = [&](std::uint64_t o) {
    return big ? *read_be<std::uint16_t>(d, o) : *read_le<std::uint16_t>(d, o);
  };
  auto u32 = [&](std::uint64_t o) {
    return big ? *read_be<std::uint32_t>(d, o) : *read_le<std::uint32_t>(d, o);
  };
  if (u16(28) != 4 || u16(30) != 0) return std::nullopt;
  const auto bytes_used = big ? *read_be<std::uint64_t>(d, 40) : *read_le<std::uint64_t>(d, 40);
  const auto comp = u16(20), block_log = u16(22);
  const auto block_size = u32(12);
  if (bytes_used < 96 || block_log < 12 || block_log > 20 || block_size != (1u << block_log))
    return std::nullopt;
  return Probe{std::min<std::uint64_t>(bytes_used, d.size()),
               fmt::format("squashfs 4.0{}, {}, {} KiB blocks, {} inodes", big ? " big-endian" : "",
                           compressor_name(comp), block_size / 1024, u32(4))};
}

struct FileJob {
  std::string path;
  InodePtr inode;
  Entry entry;
};

struct Walker {
  Sink& sink;
  sqfs_dir_reader_t* dr;
  sqfs_id_table_t* ids;
  std::vector<FileJob>& jobs;
  std::set<std::uint32_t> active_dirs;  // inode numbers on the current path (loop detection)
  Status status;

  std::uint32_t id_of(std::uint16_t idx) {
    sqfs_u32 id = 0;
    if (sqfs_id_table_index_to_id(ids, idx, &id) != 0) return 0;
    return id;
  }

  Entry entry_of(const sqfs_inode_generic_t& ino, const std::string& path) {
    Entry e;
    e.path = path;
    e.mode = ino.base.mode & 07777;
    e.uid = id_of(ino.base.uid_idx);
    e.gid = id_of(ino.base.gid_idx);
    e.mtime = ino.base.mod_time;
    return e;
  }

  Status walk(const sqfs_inode_generic_t& dir, const std::string& prefix, std::uint32_t depth) {
    if (!within_dir_depth(sink, depth, prefix)) return {};
    if (!active_dirs.insert(dir.base.inode_number).second) {
      sink.warn("format-error", "directory loop (a directory contains itself)", prefix);
      return {};
    }
    if (int rc = sqfs_dir_reader_open_dir(dr, &dir, 0); rc != 0) {
      active_dirs.erase(dir.base.inode_number);
      sink.warn("format-error", fmt::format("unreadable directory (libsquashfs error {})", rc),
                prefix);
      return {};
    }
    // Read the whole listing first: recursing re-positions the shared reader.
    std::vector<std::pair<std::string, InodePtr>> children;
    for (;;) {
      sqfs_dir_entry_t* ent = nullptr;
      int rc = sqfs_dir_reader_read(dr, &ent);
      if (rc > 0) break;
      if (rc < 0) {
        sink.warn("format-error",
                  fmt::format("corrupt directory listing (libsquashfs error {})", rc), prefix);
        break;
      }
      std::string name(reinterpret_cast<const char*>(ent->name), std::size_t(ent->size) + 1);
      sqfs_free(ent);
      sqfs_inode_generic_t* ino = nullptr;
      if (int irc = sqfs_dir_reader_get_inode(dr, &ino); irc != 0) {
        sink.warn("format-error", fmt::format("unreadable inode (libsquashfs error {})", irc),
                  prefix.empty() ? name : prefix + "/" + name);
        continue;
      }
      children.emplace_back(std::move(name), InodePtr(ino));
      if (auto st = sink.check_time(); !st) return st;
    }
    for (auto& [name, ino] : children) {
      const auto child = child_path(sink, prefix, name);
      if (!child) continue;
      const std::string& path = *child;
      Entry e = entry_of(*ino, path);
      switch (ino->base.type) {
        case SQFS_INODE_DIR:
        case SQFS_INODE_EXT_DIR:
          e.type = EntryType::kDir;
          (void)sink.node(e);
          if (auto st = walk(*ino, path, depth + 1); !st) return st;
          break;
        case SQFS_INODE_FILE:
        case SQFS_INODE_EXT_FILE:
          e.type = EntryType::kFile;
          e.order = sink.reserve_order();  // extracted later by several threads
          jobs.push_back({path, std::move(ino), e});
          break;
        case SQFS_INODE_SLINK:
        case SQFS_INODE_EXT_SLINK: {
          e.type = EntryType::kSymlink;
          const std::size_t n = std::min<std::size_t>(ino->data.slink.target_size, kMaxLinkBytes);
          const std::size_t avail = ino->payload_bytes_used;
          e.link.assign(reinterpret_cast<const char*>(ino->extra), std::min(n, avail));
          (void)sink.node(e);
          break;
        }
        case SQFS_INODE_BDEV:
        case SQFS_INODE_EXT_BDEV:
          e.type = EntryType::kBlockDev;
          (void)sink.node(e);
          break;
        case SQFS_INODE_CDEV:
        case SQFS_INODE_EXT_CDEV:
          e.type = EntryType::kCharDev;
          (void)sink.node(e);
          break;
        case SQFS_INODE_FIFO:
        case SQFS_INODE_EXT_FIFO:
          e.type = EntryType::kFifo;
          (void)sink.node(e);
          break;
        default:
          e.type = EntryType::kSocket;
          (void)sink.node(e);
          break;
      }
    }
    active_dirs.erase(dir.base.inode_number);
    return {};
  }
};

/// A decode-only sqfs_compressor_t of ours. `T` starts with `sqfs_compressor_t base` and holds
/// `block_size`; libsquashfs only ever calls do_block. Options are accepted unread: none of
/// ours needs them to decode.
template <class T, SQFS_COMPRESSOR kId>
struct Decompressor {
  static void destroy(sqfs_object_t* o) { delete reinterpret_cast<T*>(o); }
  static void get_configuration(const sqfs_compressor_t* c, sqfs_compressor_config_t* cfg) {
    *cfg = sqfs_compressor_config_t{};
    cfg->id = kId;
    cfg->block_size = reinterpret_cast<const T*>(c)->block_size;
    cfg->flags = SQFS_COMP_FLAG_UNCOMPRESS;
  }
  static int write_options(sqfs_compressor_t*, sqfs_file_t*) { return SQFS_ERROR_UNSUPPORTED; }
  static int read_options(sqfs_compressor_t*, sqfs_file_t*) { return 0; }
  static T* make(std::uint32_t block_size) {
    auto* c = new T{};
    c->base.base.destroy = destroy;
    c->base.base.copy = nullptr;
    c->base.get_configuration = get_configuration;
    c->base.write_options = write_options;
    c->base.read_options = read_options;
    c->base.do_block = T::do_block;
    c->block_size = block_size;
    return c;
  }
};

// Debian's libsquashfs is built without LZO (the library is LGPL, liblzo2 GPL), yet LZO squashfs
// is common in router firmware. libsquashfs takes any sqfs_compressor_t, so we supply a
// decompress-only one backed by liblzo2. The options (algorithm and level) only matter for
// compressing; every lzo1x variant decompresses with lzo1x_decompress_safe.
struct LzoDecompressor {
  sqfs_compressor_t base;
  std::uint32_t block_size;

  static sqfs_s32 do_block(sqfs_compressor_t*, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                           sqfs_u32 outsize) {
    lzo_uint len = outsize;
    if (lzo1x_decompress_safe(in, size, out, &len, nullptr) != LZO_E_OK)
      return SQFS_ERROR_COMPRESSOR;
    return sqfs_s32(len);
  }
};

sqfs_compressor_t* make_lzo(std::uint32_t block_size) {
  static const bool kInit = lzo_init() == LZO_E_OK;
  if (!kInit) return nullptr;
  return &Decompressor<LzoDecompressor, SQFS_COMP_LZO>::make(block_size)->base;
}

// Vendor LZMA under compression id 2: each block one raw LZMA stream behind a 5-byte properties
// header (no size), the 13-byte alone header (any size field, vendor dictionaries) or, found by
// trial on a metadata block, no header at all. The output is capped at `outsize` (the block
// size, 8 KiB for metadata) whatever the header claims.
struct VendorLzma {
  sqfs_compressor_t base;
  std::uint32_t block_size;
  sqfs::BlockDecoder dec{sqfs::kLzmaCodecs};
  std::vector<std::uint8_t> buf;
  std::atomic<unsigned>* used = nullptr;  ///< codecs met, for the description (owned by extract)

  static sqfs_s32 do_block(sqfs_compressor_t* base, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                           sqfs_u32 outsize) {
    auto* c = reinterpret_cast<VendorLzma*>(base);
    const std::size_t max = std::min<std::size_t>(
        outsize, std::max<std::uint32_t>(c->block_size, SQFS_META_BLOCK_SIZE));
    if (!c->dec.decode(Bytes(in, size), max, false, c->buf)) return SQFS_ERROR_COMPRESSOR;
    if (c->buf.size() > max) return SQFS_ERROR_OVERFLOW;  // never: decode stops at max
    std::memcpy(out, c->buf.data(), c->buf.size());
    unsigned m = 0;
    for (auto k : c->dec.used) m |= sqfs::codec_bit(k);
    if (c->used) c->used->fetch_or(m, std::memory_order_relaxed);
    return sqfs_s32(c->buf.size());
  }
};

/// How this image's blocks are decoded: chosen once per image (choose_variant), then every
/// thread makes its own compressor object from it.
struct Variant {
  enum Kind { kLibrary, kLzo, kVendorLzma } kind = kLibrary;
  bool ignore_options = false;  ///< options libsquashfs refuses: defaults are used
  std::uint8_t raw_props = 0x5d;
  sqfs::Codec first = sqfs::Codec::kNone;
  std::atomic<unsigned> used{0};
};

sqfs_compressor_t* make_vendor_lzma(std::uint32_t block_size, Variant& v) {
  auto* c = Decompressor<VendorLzma, SQFS_COMP_LZMA>::make(block_size);
  c->dec.raw_props = v.raw_props;
  c->dec.seen = v.first;
  c->used = &v.used;
  return &c->base;
}

Result<sqfs_compressor_t*> make_library(const sqfs_super_t& super, sqfs_file_t* file,
                                        bool read_options) {
  sqfs_compressor_config_t cfg{};
  if (sqfs_compressor_config_init(&cfg, static_cast<SQFS_COMPRESSOR>(super.compression_id),
                                  super.block_size, SQFS_COMP_FLAG_UNCOMPRESS) != 0)
    return fail(fmt::format("unsupported squashfs compressor id {}", super.compression_id), 20);
  sqfs_compressor_t* cmp = nullptr;
  if (sqfs_compressor_create(&cfg, &cmp) != 0 || !cmp)
    return fail(fmt::format("libsquashfs cannot decode compressor '{}'",
                            compressor_name(super.compression_id)),
                20);
  if (read_options && (super.flags & SQFS_FLAG_COMPRESSOR_OPTIONS)) {
    if (int rc = cmp->read_options(cmp, file); rc != 0) {
      sqfs_destroy(cmp);
      return fail(fmt::format("bad compressor options (libsquashfs error {})", rc), 96);
    }
  }
  return cmp;
}

Result<sqfs_compressor_t*> make_compressor(const sqfs_super_t& super, sqfs_file_t* file,
                                           Variant& v) {
  switch (v.kind) {
    case Variant::kLzo:
      return make_lzo(super.block_size);
    case Variant::kVendorLzma:
      return make_vendor_lzma(super.block_size, v);
    default:
      return make_library(super, file, !v.ignore_options);
  }
}

/// The compressor options block (an uncompressed metadata block after the superblock), as
/// text for a warning: xz's dictionary size and filter flags, other compressors' bytes in hex.
std::string describe_options(Bytes fs, const sqfs_super_t& super) {
  const auto h = read_le<std::uint16_t>(fs, 96);
  if (!h) return "options block past the end";
  const std::uint32_t size = *h & 0x7fff;
  if (!(*h & 0x8000)) return fmt::format("a compressed options block of {} bytes", size);
  const Bytes b = sub(fs, 98, std::min<std::uint32_t>(size, 32));
  if (super.compression_id == SQFS_COMP_XZ && b.size() >= 8)
    return fmt::format("dictionary size {}, filter flags 0x{:x}", *read_le<std::uint32_t>(b, 0),
                       *read_le<std::uint32_t>(b, 4));
  std::string hex;
  for (auto x : b) hex += fmt::format("{:02x}", x);
  return fmt::format("{} bytes: {}", size, hex);
}

/// A compressed metadata block to try the LZMA variants on: the first of the inode table,
/// directory table and id table blocks that is compressed and inside the image.
std::optional<Bytes> trial_block(Bytes fs, const sqfs_super_t& super) {
  std::uint64_t at[] = {super.inode_table_start, super.directory_table_start, UINT64_MAX};
  if (auto id = read_le<std::uint64_t>(fs, super.id_table_start)) at[2] = *id;
  for (std::uint32_t i = 0; i < std::min<std::uint32_t>(kSquashfsTrialBlocks, 3); ++i) {
    const auto h = read_le<std::uint16_t>(fs, at[i]);
    if (!h || (*h & 0x8000)) continue;
    const std::uint32_t size = *h & 0x7fff;
    if (size == 0 || size > SQFS_META_BLOCK_SIZE || at[i] + 2 > fs.size() ||
        fs.size() - at[i] - 2 < size)
      continue;
    return sub(fs, at[i] + 2, size);
  }
  return std::nullopt;
}

/// Decides how the image's blocks are decoded; warnings for what is ignored.
void choose_variant(Bytes fs, const sqfs_super_t& super, sqfs_file_t* file, Sink& sink,
                    Variant& v) {
  const bool has_options = super.flags & SQFS_FLAG_COMPRESSOR_OPTIONS;
  if (super.compression_id == SQFS_COMP_LZO) {
    v.kind = Variant::kLzo;
    return;
  }
  if (super.compression_id == SQFS_COMP_XZ && has_options) {
    if (auto cmp = make_library(super, file, true)) {
      sqfs_destroy(*cmp);
      return;
    }
    auto plain = make_library(super, file, false);
    if (!plain) return;  // no xz decoder at all, whatever the options: extract says so
    sqfs_destroy(*plain);
    v.ignore_options = true;
    sink.warn("format-warning",
              fmt::format("xz compressor options ignored ({}): libsquashfs refuses them; blocks "
                          "are decoded with the filters each xz stream names",
                          describe_options(fs, super)),
              {}, 96);
    return;
  }
  if (super.compression_id != SQFS_COMP_LZMA) return;
  if (has_options) {
    v.ignore_options = true;  // libsquashfs reads no LZMA options at all
    sink.warn("format-warning",
              fmt::format("lzma compressor options ignored ({}): every block names its own "
                          "properties",
                          describe_options(fs, super)),
              {}, 96);
  }
  const auto block = trial_block(fs, super);
  if (!block) {
    v.kind = Variant::kVendorLzma;  // nothing to try on: decide per block
    return;
  }
  std::vector<std::uint8_t> out(SQFS_META_BLOCK_SIZE);
  if (auto lib = make_library(super, file, false)) {
    SqfsPtr<sqfs_compressor_t> guard{*lib};
    if ((*lib)->do_block(*lib, block->data(), sqfs_u32(block->size()), out.data(),
                         sqfs_u32(out.size())) > 0)
      return;  // the standard encoding
  }
  v.kind = Variant::kVendorLzma;
  for (std::uint8_t props : sqfs::raw_props_order()) {
    sqfs::BlockDecoder dec(sqfs::kLzmaCodecs);
    dec.raw_props = props;
    if (dec.decode(*block, SQFS_META_BLOCK_SIZE, false, out)) {
      v.raw_props = props;
      v.first = dec.seen;
      return;
    }
    if ((*block)[0] != 0) break;  // only header-less blocks depend on the properties
  }
  sink.warn("format-error", "first compressed metadata block decodes under no LZMA variant", {},
            std::uint64_t(block->data() - fs.data()) - 2);
}

/// "lzma (5-byte properties, no size)", "xz (options ignored)", "gzip".
std::string compression_text(const sqfs_super_t& super, const Variant& v) {
  std::string s = compressor_name(super.compression_id);
  if (v.kind == Variant::kVendorLzma) {
    std::string kinds;
    const unsigned used =
        v.used.load() | (v.first != sqfs::Codec::kNone ? sqfs::codec_bit(v.first) : 0);
    for (auto c : {sqfs::Codec::kLzmaAlone, sqfs::Codec::kLzmaProps, sqfs::Codec::kLzmaRaw})
      if (used & sqfs::codec_bit(c)) {
        kinds += kinds.empty() ? "" : " + ";
        kinds += sqfs::codec_name(c);
        if (c == sqfs::Codec::kLzmaRaw) kinds += fmt::format(", properties 0x{:02x}", v.raw_props);
      }
    s = "vendor " + (kinds.empty() ? s : kinds);
  }
  if (v.ignore_options) s += " (compressor options ignored)";
  return s;
}

/// Decompresses the jobs [i, jobs.size()) taken one by one from `next`, writing through the sink.
void extract_files(const MemFile& image, const sqfs_super_t& super, Variant& variant,
                   std::vector<FileJob>& jobs, std::atomic<std::size_t>& next, Sink& sink,
                   std::atomic<bool>& stop) {
  MemFile f = image;
  auto cmp = make_compressor(super, &f.base, variant);
  if (!cmp) return;
  SqfsPtr<sqfs_compressor_t> cmp_guard{*cmp};
  SqfsPtr<sqfs_data_reader_t> dr{sqfs_data_reader_create(&f.base, super.block_size, *cmp, 0)};
  if (!dr.p) return;
  if (!(super.flags & SQFS_FLAG_NO_FRAGMENTS) && super.fragment_entry_count > 0 &&
      sqfs_data_reader_load_fragment_table(dr.p, &super) != 0)
    sink.warn("format-error", "fragment table unreadable; tails of files will be missing");
  std::vector<std::uint8_t> buf(super.block_size);
  // Threads take runs of consecutive files: neighbours share fragment blocks, and each data
  // reader caches the last fragment block it decompressed.
  for (std::size_t first; !stop && (first = next.fetch_add(kJobRun)) < jobs.size();)
    for (std::size_t i = first; i < std::min(first + kJobRun, jobs.size()) && !stop; ++i) {
      FileJob& job = jobs[i];
      sqfs_u64 size = 0;
      sqfs_inode_get_file_size(job.inode.get(), &size);
      auto out = sink.open_file(job.entry);
      if (!out) {
        if (sink.exhausted()) stop = true;
        continue;
      }
      for (sqfs_u64 off = 0; off < size;) {
        const auto want = sqfs_u32(std::min<sqfs_u64>(buf.size(), size - off));
        const sqfs_s32 got = sqfs_data_reader_read(dr.p, job.inode.get(), off, buf.data(), want);
        if (got <= 0) {
          out->mark_truncated();
          sink.warn("format-error",
                    fmt::format("file data unreadable at byte {} of {} (libsquashfs error {})", off,
                                size, got),
                    job.path);
          break;
        }
        if (auto st = out->write({buf.data(), std::size_t(got)}); !st) {
          sink.warn("cap", st.error().message, job.path);
          if (sink.exhausted()) stop = true;
          break;
        }
        off += sqfs_u64(got);
        if (!sink.check_time()) {
          out->mark_truncated();
          stop = true;
          break;
        }
      }
      out->close();
    }
}

/// A big-endian image's tables, byte-swapped into a little-endian copy (squashfs_be.hpp). The
/// metadata is decoded with the compressor the image names; its options, big-endian too, are
/// ignored (none is needed to decode).
Result<sqfs::LeTables> swap_big_endian(Bytes fs, Variant& v, Sink& sink) {
  sqfs_super_t fake{};
  fake.compression_id = *read_be<std::uint16_t>(fs, 20);
  fake.block_size = *read_be<std::uint32_t>(fs, 12);
  v.kind = fake.compression_id == SQFS_COMP_LZO    ? Variant::kLzo
           : fake.compression_id == SQFS_COMP_LZMA ? Variant::kVendorLzma
                                                   : Variant::kLibrary;
  v.ignore_options = *read_be<std::uint16_t>(fs, 24) & SQFS_FLAG_COMPRESSOR_OPTIONS;
  auto cmp = make_compressor(fake, nullptr, v);
  if (!cmp) return std::unexpected(cmp.error());
  SqfsPtr<sqfs_compressor_t> guard{*cmp};
  auto decode = [&](Bytes in, std::size_t max, std::vector<std::uint8_t>& out) {
    out.resize(max);
    const sqfs_s32 n =
        (*cmp)->do_block(*cmp, in.data(), sqfs_u32(in.size()), out.data(), sqfs_u32(max));
    out.resize(n > 0 ? std::size_t(n) : 0);
    return n > 0;
  };
  auto le = sqfs::swap_to_le(fs, decode, kSquashfsBeMetadataBytes);
  if (le)
    for (const auto& what : le->dropped)
      sink.warn("format-warning",
                fmt::format("big-endian squashfs: {} not carried into the little-endian copy (not "
                            "read)",
                            what));
  return le;
}

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  if (d.size() < 96) return fail("squashfs superblock truncated", 0);
  const bool big = sqfs::is_be_squashfs4(d);
  const std::uint64_t claimed =
      big ? *read_be<std::uint64_t>(d, 40) : *read_le<std::uint64_t>(d, 40);
  if (claimed > d.size())
    sink.warn("format-error",
              fmt::format("squashfs claims {} bytes but only {} remain: truncated image", claimed,
                          d.size()));
  const std::uint64_t span = std::min<std::uint64_t>(claimed, d.size());
  Bytes fs = sub(d, 0, span);
  Variant variant;
  sqfs::LeTables le;
  if (big) {
    auto swapped = swap_big_endian(fs, variant, sink);
    if (!swapped) return std::unexpected(swapped.error());
    le = std::move(*swapped);
  }
  const MemFile image = make_file(fs, Bytes(le.super.data(), big ? le.super.size() : 0), le.tables);
  MemFile f = image;
  sqfs_super_t super_v{};
  if (int rc = sqfs_super_read(&super_v, &f.base); rc != 0)
    return fail(fmt::format("bad squashfs superblock (libsquashfs error {})", rc), 0);
  // libsquashfs sizes the fragment table from the count before reading any of it: a count whose
  // index (one 64-bit offset per 8 KiB of entries) does not even fit in the image is refused.
  if (super_v.fragment_entry_count > 0 && !(super_v.flags & SQFS_FLAG_NO_FRAGMENTS)) {
    const std::uint64_t index_bytes =
        8 * ((std::uint64_t(super_v.fragment_entry_count) * 16 + SQFS_META_BLOCK_SIZE - 1) /
             SQFS_META_BLOCK_SIZE);
    const std::uint64_t size = mem_get_size(&f.base);
    if (super_v.fragment_table_start > size || size - super_v.fragment_table_start < index_bytes) {
      sink.warn("format-error",
                fmt::format("fragment table claims {} entries, more than the image can index; "
                            "tails of files will be missing",
                            super_v.fragment_entry_count),
                {}, 16);
      super_v.flags |= SQFS_FLAG_NO_FRAGMENTS;
    }
  }
  const sqfs_super_t* super = &super_v;
  if (!big) choose_variant(fs, *super, &f.base, sink, variant);
  auto cmp = make_compressor(*super, &f.base, variant);
  if (!cmp) return std::unexpected(cmp.error());
  SqfsPtr<sqfs_compressor_t> cmp_guard{*cmp};
  SqfsPtr<sqfs_id_table_t> ids{sqfs_id_table_create(0)};
  if (!ids.p || sqfs_id_table_read(ids.p, &f.base, &*super, *cmp) != 0)
    sink.warn("format-error", "id table unreadable; uid/gid reported as 0");
  SqfsPtr<sqfs_dir_reader_t> dr{sqfs_dir_reader_create(&*super, *cmp, &f.base, 0)};
  if (!dr.p) return fail("libsquashfs: cannot create directory reader", 0);
  sqfs_inode_generic_t* root_raw = nullptr;
  if (int rc = sqfs_dir_reader_get_root_inode(dr.p, &root_raw); rc != 0)
    return fail(fmt::format("root inode unreadable (libsquashfs error {})", rc),
                std::min<std::uint64_t>(super->root_inode_ref >> 16, span));
  InodePtr root(root_raw);
  std::vector<FileJob> jobs;
  Walker w{sink, dr.p, ids.p, jobs, {}, {}};
  if (auto st = w.walk(*root, "", 0); !st) return fail_at(st.error(), span);

  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  // File data is decompressed by as many readers as the run's pool has idle threads (--threads
  // bounds them, together with every other container being unpacked); each reader takes runs of
  // files from `next`, so a reader that starts late finds less to do, never a wait.
  TaskPool* pool = sink.pool();
  const std::size_t readers = pool && jobs.size() > kJobRun ? pool->concurrency() : 1;
  auto read_files = [&](unsigned, std::size_t) {
    extract_files(image, *super, variant, jobs, next, sink, stop);
  };
  if (pool)
    pool->for_each(readers, read_files);
  else
    read_files(0, 0);
  sink.describe(fmt::format("squashfs 4.0{}, {}, {} KiB blocks, {} inodes, {} bytes",
                            big ? " big-endian" : "", compression_text(*super, variant),
                            super->block_size / 1024, super->inode_count, span));
  if (sink.exhausted()) return fail_code("cap-total", "total cap hit (--max-total)", span);
  return span;
}

// Header fields for equiv: the superblock's modification_time (docs/equiv.md, fs-timestamps);
// "sqsh" images are big-endian.
std::vector<HeaderField> header_fields(Bytes d) {
  if (d.size() < 96) return {};
  const bool le = starts_with(d, "hsqs");
  const std::uint32_t t = le ? *read_le<std::uint32_t>(d, 8) : *read_be<std::uint32_t>(d, 8);
  return {{"superblock modification_time", 8, 4, HeaderField::Role::kTimestamp, "fs-timestamps",
           std::to_string(t)}};
}

}  // namespace

const Format kFormat_squashfs = make_format(
    kind::kFilesystem, "squashfs", kDescription, kMagics, probe, extract,
    {.timestamp_bytes = 4, .header_fields = header_fields, .header_label = "squashfs superblock"});

}  // namespace probity::unpacker
