// ext2/ext3/ext4 through libext2fs (e2fsprogs). The image is read from memory through our own
// io_manager (bounds-checked; reads past the end are zero-filled and reported); the directory
// walk is ours (depth cap, directory-loop detection, hard links recorded as links). Only at
// offset 0 of a blob: the two-byte magic sits 1080 bytes in and is too weak to carve for.
// com_err.h has no C++ linkage guard.
extern "C" {
#include <et/com_err.h>
}
#include <ext2fs/ext2_io.h>
#include <ext2fs/ext2fs.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "unpack/format.hpp"

namespace probity::unpacker {
namespace {

constexpr Magic kMagics[] = {{"\x53\xef", 1080}};
constexpr std::string_view kDescription = "ext2/ext3/ext4 filesystem (libext2fs)";
constexpr std::uint32_t kSuper = 1024;
/// Directory nesting depth inside one filesystem.
/// Entries read from one directory before the rest is refused (a hostile directory can claim
/// millions of entries in a few blocks' worth of hash tree).
constexpr std::size_t kReadChunk = 256 * 1024;

// --- an io_manager over bytes in memory ------------------------------------------------------

struct MemIo {
  Bytes data;
  bool short_read = false;
};

errcode_t mem_close(io_channel ch) {
  if (--ch->refcount > 0) return 0;
  delete static_cast<MemIo*>(ch->private_data);
  delete[] ch->name;
  delete ch;
  return 0;
}
errcode_t mem_set_blksize(io_channel ch, int blksize) {
  ch->block_size = blksize;
  return 0;
}
errcode_t mem_read_blk64(io_channel ch, unsigned long long block, int count, void* buf) {
  auto* m = static_cast<MemIo*>(ch->private_data);
  const std::uint64_t size =
      count < 0 ? std::uint64_t(-std::int64_t(count)) : std::uint64_t(count) * ch->block_size;
  const std::uint64_t off = std::uint64_t(block) * std::uint64_t(ch->block_size);
  if (ch->block_size > 0 && off / std::uint64_t(ch->block_size) != block)
    return EXT2_ET_LLSEEK_FAILED;
  const Bytes avail = sub(m->data, off, size);
  if (!avail.empty()) std::memcpy(buf, avail.data(), avail.size());
  if (avail.size() < size) {
    std::memset(static_cast<std::uint8_t*>(buf) + avail.size(), 0, size - avail.size());
    m->short_read = true;
    return EXT2_ET_SHORT_READ;
  }
  return 0;
}
errcode_t mem_read_blk(io_channel ch, unsigned long block, int count, void* buf) {
  return mem_read_blk64(ch, block, count, buf);
}
errcode_t mem_write_blk(io_channel, unsigned long, int, const void*) {
  return EXT2_ET_RO_UNSUPP_FEATURE;
}
errcode_t mem_write_blk64(io_channel, unsigned long long, int, const void*) {
  return EXT2_ET_RO_UNSUPP_FEATURE;
}
errcode_t mem_write_byte(io_channel, unsigned long, int, const void*) {
  return EXT2_ET_RO_UNSUPP_FEATURE;
}
errcode_t mem_flush(io_channel) {
  return 0;
}
errcode_t mem_set_option(io_channel, const char*, const char*) {
  return EXT2_ET_INVALID_ARGUMENT;
}

errcode_t mem_open(const char* name, int flags, io_channel* out);

struct_io_manager make_manager() {
  struct_io_manager m{};
  m.magic = EXT2_ET_MAGIC_IO_MANAGER;
  m.name = "probity in-memory I/O";
  m.open = mem_open;
  m.close = mem_close;
  m.set_blksize = mem_set_blksize;
  m.read_blk = mem_read_blk;
  m.write_blk = mem_write_blk;
  m.flush = mem_flush;
  m.write_byte = mem_write_byte;
  m.set_option = mem_set_option;
  m.read_blk64 = mem_read_blk64;
  m.write_blk64 = mem_write_blk64;
  return m;
}
struct_io_manager g_manager = make_manager();

// The "file name" handed to ext2fs_open2 carries the address and size of the bytes: libext2fs
// passes it through to our open, and nothing is shared between concurrent extractions.
errcode_t mem_open(const char* name, int flags, io_channel* out) {
  if (flags & IO_FLAG_RW) return EXT2_ET_RO_UNSUPP_FEATURE;
  unsigned long long addr = 0, size = 0;
  if (std::sscanf(name, "mem:%llx:%llx", &addr, &size) != 2) return EXT2_ET_BAD_DEVICE_NAME;
  auto* ch = new struct_io_channel{};
  ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  ch->manager = &g_manager;
  const std::size_t len = std::strlen(name);
  ch->name = new char[len + 1];
  std::memcpy(ch->name, name, len + 1);
  ch->block_size = 1024;
  ch->refcount = 1;
  ch->private_data = new MemIo{
      Bytes(reinterpret_cast<const std::uint8_t*>(std::uintptr_t(addr)), std::size_t(size))};
  *out = ch;
  return 0;
}

// --- probe ------------------------------------------------------------------------------------

struct SuperFacts {
  std::uint64_t bytes = 0;
  std::uint32_t block_size = 0, inodes = 0;
  std::string kind, label;
};

std::optional<SuperFacts> super_facts(Bytes d) {
  const Bytes s = sub(d, kSuper, 1024);
  if (s.size() < 1024 || read_le<std::uint16_t>(s, 56) != 0xef53) return std::nullopt;
  const auto inodes = *read_le<std::uint32_t>(s, 0);
  const auto blocks_lo = *read_le<std::uint32_t>(s, 4);
  const auto log_block = *read_le<std::uint32_t>(s, 24);
  const auto blocks_per_group = *read_le<std::uint32_t>(s, 32);
  const auto inodes_per_group = *read_le<std::uint32_t>(s, 40);
  const auto rev = *read_le<std::uint32_t>(s, 76);
  const auto compat = *read_le<std::uint32_t>(s, 92);
  const auto incompat = *read_le<std::uint32_t>(s, 96);
  const auto first_data_block = *read_le<std::uint32_t>(s, 20);
  if (inodes == 0 || blocks_lo == 0 || log_block > 6 || blocks_per_group == 0 ||
      inodes_per_group == 0 || rev > 1)
    return std::nullopt;
  SuperFacts f;
  f.block_size = 1024u << log_block;
  std::uint64_t blocks = blocks_lo;
  if (incompat & 0x80) blocks |= std::uint64_t(*read_le<std::uint32_t>(s, 0x150)) << 32;
  // libext2fs allocates the group descriptor table from these counts before reading anything:
  // the table must be consistent with the inode count and fit in the bytes we have.
  if (first_data_block >= blocks) return std::nullopt;
  const std::uint64_t groups =
      (blocks - first_data_block + blocks_per_group - 1) / blocks_per_group;
  const std::uint64_t desc =
      (incompat & 0x80) ? std::max<std::uint16_t>(*read_le<std::uint16_t>(s, 0xfe), 32) : 32;
  if (groups * inodes_per_group != inodes || groups * desc > d.size()) return std::nullopt;
  f.bytes = blocks * f.block_size;
  f.inodes = inodes;
  f.kind = (incompat & (0x40 | 0x80 | 0x200)) ? "ext4" : (compat & 0x4) ? "ext3" : "ext2";
  f.label = cstr(s, 0x78, 16);
  return f;
}

std::optional<Probe> probe(Bytes d) {
  auto f = super_facts(d);
  if (!f) return std::nullopt;
  return Probe{std::min<std::uint64_t>(f->bytes, d.size()),
               fmt::format("{}{}, {} KiB blocks, {} inodes", f->kind,
                           f->label.empty() ? "" : " \"" + f->label + "\"", f->block_size / 1024,
                           f->inodes)};
}

// --- the walk ---------------------------------------------------------------------------------

std::string ext_error(errcode_t rc) {
  static std::once_flag once;
  std::call_once(once, [] { initialize_ext2_error_table(); });
  const char* m = error_message(rc);
  return m ? m : fmt::format("libext2fs error {}", rc);
}

struct Walker {
  ext2_filsys fs;
  Sink& sink;
  std::uint64_t image_bytes;
  std::set<ext2_ino_t> visited_dirs;  // each directory walked once: loops and DAGs end here
  std::map<ext2_ino_t, std::string> first_path;  // hard links: inode -> first path written
  std::uint64_t written = 0;
  Status status;

  /// Runs `op`; on a checksum error, warns and runs it again ignoring checksums (the data may
  /// still be what the vendor shipped, modified after the fact: show it, flagged).
  template <class Op>
  errcode_t with_csum_retry(const std::string& path, const char* what, Op&& op) {
    errcode_t rc = op();
    if (rc == EXT2_ET_INODE_CSUM_INVALID || rc == EXT2_ET_INODE_IS_GARBAGE ||
        rc == EXT2_ET_DIR_CSUM_INVALID || rc == EXT2_ET_DIR_NO_SPACE_FOR_CSUM ||
        rc == EXT2_ET_EXTENT_CSUM_INVALID || rc == EXT2_ET_EXT_ATTR_CSUM_INVALID) {
      sink.warn("crc-mismatch", fmt::format("{}: {}", what, ext_error(rc)), path);
      fs->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
      rc = op();
      fs->flags &= ~EXT2_FLAG_IGNORE_CSUM_ERRORS;
    }
    return rc;
  }

  errcode_t read_inode(ext2_ino_t ino, ext2_inode& inode, const std::string& path) {
    return with_csum_retry(path, "inode checksum",
                           [&] { return ext2fs_read_inode(fs, ino, &inode); });
  }

  Entry entry_of(const ext2_inode& ino, const std::string& path) {
    Entry e;
    e.path = path;
    e.mode = ino.i_mode & 07777;
    e.uid = inode_uid(ino);
    e.gid = inode_gid(ino);
    e.mtime = std::int64_t(ino.i_mtime);
    return e;
  }

  std::string symlink_target(ext2_ino_t ino, ext2_inode& inode) {
    const std::uint64_t size = std::min<std::uint64_t>(EXT2_I_SIZE(&inode), kMaxLinkBytes);
    if (ext2fs_is_fast_symlink(&inode))
      return std::string(reinterpret_cast<const char*>(inode.i_block),
                         std::min<std::uint64_t>(size, sizeof(inode.i_block)));
    ext2_file_t f = nullptr;
    if (ext2fs_file_open2(fs, ino, &inode, 0, &f) != 0) return {};
    std::string s(size, '\0');
    unsigned int got = 0;
    if (ext2fs_file_read(f, s.data(), unsigned(size), &got) != 0) got = 0;
    ext2fs_file_close(f);
    s.resize(got);
    return s;
  }

  void regular(ext2_ino_t ino, ext2_inode& inode, const Entry& e) {
    auto out = sink.open_file(e);
    if (!out) return;
    ext2_file_t f = nullptr;
    if (errcode_t rc = ext2fs_file_open2(fs, ino, &inode, 0, &f); rc != 0) {
      sink.warn("format-error", "cannot open file: " + ext_error(rc), e.path);
      out->mark_truncated();
      return;
    }
    std::vector<char> buf(kReadChunk);
    std::uint64_t left = EXT2_I_SIZE(&inode);
    while (left > 0) {
      unsigned int got = 0;
      const auto want = unsigned(std::min<std::uint64_t>(left, buf.size()));
      errcode_t rc = ext2fs_file_read(f, buf.data(), want, &got);
      if (rc != 0 || got == 0) {
        sink.warn("format-error",
                  fmt::format("file data unreadable after {} bytes: {}", EXT2_I_SIZE(&inode) - left,
                              rc ? ext_error(rc) : "short read"),
                  e.path);
        out->mark_truncated();
        break;
      }
      if (!out->write({reinterpret_cast<const std::uint8_t*>(buf.data()), got})) break;
      left -= got;
      written += got;
      // Sparse files cost no image bytes: bound what one filesystem may produce.
      if (auto st = sink.check_ratio(image_bytes, written); !st) {
        status = st;
        out->mark_truncated();
        break;
      }
      if (auto st = sink.check_time(); !st) {
        status = st;
        out->mark_truncated();
        break;
      }
    }
    ext2fs_file_close(f);
  }

  void walk(ext2_ino_t dir, const std::string& prefix, std::uint32_t depth) {
    if (!enter_directory(sink, visited_dirs, dir, prefix, depth)) return;
    struct Child {
      ext2_ino_t ino;
      std::string name;
    };
    struct Ctx {
      std::vector<Child> children;
      bool capped = false;
    } ctx;
    auto cb = [](ext2_dir_entry* de, int, int, char*, void* priv) -> int {
      auto* c = static_cast<Ctx*>(priv);
      const int len = ext2fs_dirent_name_len(de);
      std::string name(de->name, std::size_t(len));
      if (de->inode == 0 || name == "." || name == "..") return 0;
      if (c->children.size() >= kMaxDirEntries) {
        c->capped = true;
        return DIRENT_ABORT;
      }
      c->children.push_back({de->inode, std::move(name)});
      return 0;
    };
    if (errcode_t rc = with_csum_retry(prefix, "directory checksum",
                                       [&] {
                                         ctx.children.clear();
                                         return ext2fs_dir_iterate(fs, dir, 0, nullptr, cb, &ctx);
                                       });
        rc != 0)
      sink.warn("format-error", "directory unreadable: " + ext_error(rc), prefix);
    if (ctx.capped)
      sink.warn("cap-entries", fmt::format("more than {} entries in one directory", kMaxDirEntries),
                prefix);
    for (const Child& c : ctx.children) {
      if (!status) break;
      if (auto st = sink.check_time(); !st) {
        status = st;
        break;
      }
      const auto child = child_path(sink, prefix, c.name);
      if (!child) continue;
      const std::string& path = *child;
      ext2_inode inode{};
      if (errcode_t rc = read_inode(c.ino, inode, path); rc != 0) {
        sink.warn("format-error", "inode unreadable: " + ext_error(rc), path);
        continue;
      }
      Entry e = entry_of(inode, path);
      const auto type = inode.i_mode & 0xf000;
      if (type == 0x4000) {
        (void)sink.node(Entry{e.path, EntryType::kDir, e.mode, e.uid, e.gid, e.mtime});
        walk(c.ino, path, depth + 1);
        continue;
      }
      if (type == 0x8000) {
        if (inode.i_links_count > 1) {
          auto [it, fresh] = first_path.emplace(c.ino, path);
          if (!fresh) {
            e.type = EntryType::kHardlink;
            e.link = it->second;
            (void)sink.node(e);
            continue;
          }
        }
        regular(c.ino, inode, e);
        continue;
      }
      switch (type) {
        case 0xa000:
          e.type = EntryType::kSymlink;
          e.link = symlink_target(c.ino, inode);
          break;
        default:
          if (auto t = node_type(type)) {
            e.type = *t;
            break;
          }
          sink.warn("format-error", fmt::format("unknown inode type 0{:o}", type), path);
          continue;
      }
      (void)sink.node(e);
    }
  }
};

Result<std::uint64_t> extract(Bytes d, Sink& sink) {
  auto facts = super_facts(d);
  if (!facts) return fail("bad ext superblock", kSuper);
  const Bytes image = sub(d, 0, facts->bytes);
  if (image.size() < facts->bytes)
    sink.warn("format-error", fmt::format("{} truncated: superblock says {} bytes, {} present",
                                          facts->kind, facts->bytes, image.size()));
  const std::string name = fmt::format("mem:{:x}:{:x}", std::uintptr_t(image.data()), image.size());
  ext2_filsys fs = nullptr;
  const int flags = EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP;
  errcode_t rc = ext2fs_open2(name.c_str(), nullptr, flags, 0, 0, &g_manager, &fs);
  if (rc != 0 && rc != EXT2_ET_UNSUPP_FEATURE) {
    // A checksum error on open: read on, but say so (a modified image, or corruption).
    errcode_t rc2 = ext2fs_open2(name.c_str(), nullptr, flags | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0, 0,
                                 &g_manager, &fs);
    if (rc2 != 0) return fail(fmt::format("{}: cannot open: {}", facts->kind, ext_error(rc)), 0);
    sink.warn("crc-mismatch",
              fmt::format("{}: {}; read on ignoring checksums", facts->kind, ext_error(rc)));
  } else if (rc != 0) {
    return fail(fmt::format("{}: {}", facts->kind, ext_error(rc)), 0);
  }
  struct Closer {
    ext2_filsys fs;
    ~Closer() { ext2fs_close_free(&fs); }
  } closer{fs};
  sink.describe(fmt::format("{}{}, {} KiB blocks, {} inodes, {} bytes", facts->kind,
                            facts->label.empty() ? "" : " \"" + facts->label + "\"",
                            facts->block_size / 1024, facts->inodes, facts->bytes));
  Walker w{fs, sink, image.size()};
  ext2_inode root{};
  if (errcode_t rc = w.read_inode(EXT2_ROOT_INO, root, "/"); rc != 0)
    return fail("root inode unreadable: " + ext_error(rc), 0);
  if ((root.i_mode & 0xf000) != 0x4000) return fail("root inode is not a directory", 0);
  w.walk(EXT2_ROOT_INO, "", 0);
  if (!w.status) return fail(w.status.error().message, image.size());
  return image.size();
}

}  // namespace

const Format kFormat_ext = make_format(kind::kFilesystemAtStart, "ext", kDescription, kMagics,
                                       probe, extract, {.timestamp_bytes = 4});

}  // namespace probity::unpacker
