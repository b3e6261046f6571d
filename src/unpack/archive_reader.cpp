#include "unpack/archive_reader.hpp"

#include <archive_entry.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <vector>

#include "probity/mapped_file.hpp"

namespace probity::unpacker {
namespace {

/// Passwords tried, in order, on encrypted archive entries (zip traditional PKWARE and WinZip
/// AES, as far as libarchive decrypts them): the empty one, then the ones vendors and the public
/// test suites use for firmware archives ("test" in FACT's and libarchive's own vectors,
/// "password", "12345678", ...). docs/formats.md lists them. An entry none of them opens is
/// never skipped silently: it is an `encrypted` warning, and the archive an encrypted region.
constexpr const char* kArchivePasswords[] = {"",       "test",  "password", "12345678",
                                             "1234",   "admin", "infected", "firmware",
                                             "123456", "root",  "default",  "secret"};

EntryType entry_type(mode_t t) {
  switch (t) {
    case AE_IFDIR:
      return EntryType::kDir;
    case AE_IFLNK:
      return EntryType::kSymlink;
    case AE_IFCHR:
      return EntryType::kCharDev;
    case AE_IFBLK:
      return EntryType::kBlockDev;
    case AE_IFIFO:
      return EntryType::kFifo;
    case AE_IFSOCK:
      return EntryType::kSocket;
    default:
      return EntryType::kFile;
  }
}

/// libarchive reads the blob through these callbacks rather than archive_read_open_memory: the
/// same zero-copy views of the mapping, handed out a chunk at a time, with the pages behind the
/// reader released (MappedFile::release), so that a 1 GB tar read once does not stay resident.
struct MemorySource {
  static constexpr std::uint64_t kChunk = 1 << 20;
  static constexpr std::uint64_t kKeepBehind = 4 << 20;  ///< a format may look back a little
  Bytes data;
  std::uint64_t pos = 0;
  std::uint64_t released = 0;

  static la_ssize_t read(struct archive*, void* self, const void** buf) {
    auto* s = static_cast<MemorySource*>(self);
    if (s->pos >= s->data.size()) return 0;
    const std::uint64_t n = std::min<std::uint64_t>(kChunk, s->data.size() - s->pos);
    *buf = s->data.data() + s->pos;
    s->pos += n;
    if (s->pos > s->released + kKeepBehind + kChunk) {
      const std::uint64_t upto = s->pos - kKeepBehind;
      MappedFile::release(sub(s->data, s->released, upto - s->released));
      s->released = upto;
    }
    return la_ssize_t(n);
  }
  static la_int64_t skip(struct archive*, void* self, la_int64_t request) {
    auto* s = static_cast<MemorySource*>(self);
    if (request <= 0) return 0;
    const std::uint64_t n =
        std::min<std::uint64_t>(std::uint64_t(request), s->data.size() - s->pos);
    s->pos += n;
    return la_int64_t(n);
  }
  static la_int64_t seek(struct archive*, void* self, la_int64_t offset, int whence) {
    auto* s = static_cast<MemorySource*>(self);
    std::int64_t base = whence == SEEK_SET   ? 0
                        : whence == SEEK_CUR ? std::int64_t(s->pos)
                                             : std::int64_t(s->data.size());
    const std::int64_t to = base + offset;
    if (to < 0 || std::uint64_t(to) > s->data.size()) return ARCHIVE_FATAL;
    s->pos = std::uint64_t(to);
    return to;
  }
};

/// Writes zeros from `written` up to `to` (a hole of a sparse entry).
Status fill_zeros(FileOut& f, std::uint64_t& written, std::uint64_t to) {
  static const std::uint8_t kZeros[65536] = {};
  while (written < to) {
    const std::uint64_t n = std::min<std::uint64_t>(sizeof kZeros, to - written);
    if (auto st = f.write({kZeros, n}); !st) return st;
    written += n;
  }
  return {};
}

/// newc and crc cpio store a hard-linked file's data with the last name of its link set, and
/// libarchive hands the earlier names over first, as empty regular files (then the later ones
/// as hard links to the first). Those names are held back until the data comes, then recorded
/// as links to the name that has it; a set whose data never comes (empty files) is recorded at
/// the end: the first name an empty file, the others links to it.
class CpioLinkSets {
 public:
  /// True when `e` was held back or recorded here (the caller skips it).
  bool take(struct archive_entry* e, Entry& out, Sink& sink) {
    if (archive_entry_nlink(e) < 2 || archive_entry_filetype(e) != AE_IFREG) return false;
    const char* hl = archive_entry_hardlink(e);
    const bool empty = archive_entry_size(e) <= 0;
    if (!hl) {
      if (!empty) return false;
      sets_[out.path].held.push_back(out);
      return true;
    }
    auto it = sets_.find(hl);
    if (it == sets_.end()) return false;
    if (!it->second.data.empty()) {  // a name after the data: a link to the name that has it
      out.type = EntryType::kHardlink;
      out.link = it->second.data;
      (void)sink.node(out);
      return true;
    }
    if (empty) {
      it->second.held.push_back(out);
      return true;
    }
    data_set_ = &it->second;  // the caller writes this one's data, then calls written()
    data_path_ = out.path;
    return false;
  }
  /// The entry take() let through was written at `path`: the names held for it link to it.
  void written(const std::string& path, Sink& sink) {
    if (!data_set_ || path != data_path_) return;  // not the entry take() let through
    data_set_->data = path;
    link_held(*data_set_, path, sink);
    data_set_ = nullptr;
  }
  /// The archive ended (or failed): record every set that got no data.
  void flush(Sink& sink) {
    for (auto& [first, set] : sets_) {
      if (set.held.empty()) continue;
      Entry head = set.held.front();
      set.held.erase(set.held.begin());
      head.type = EntryType::kFile;
      (void)sink.file(head, {});
      link_held(set, head.path, sink);
    }
    sets_.clear();
  }

 private:
  struct Set {
    std::vector<Entry> held;
    std::string data;  ///< the name the data was written at
  };
  static void link_held(Set& set, const std::string& to, Sink& sink) {
    for (Entry& h : set.held) {
      h.type = EntryType::kHardlink;
      h.link = to;
      (void)sink.node(h);
    }
    set.held.clear();
  }
  std::map<std::string, Set> sets_;  ///< by the set's first name (libarchive's link source)
  Set* data_set_ = nullptr;
  std::string data_path_;
};

}  // namespace

Result<std::uint64_t> extract_with_libarchive(Bytes data, Sink& sink, EnableFormat enable,
                                              std::uint64_t span_hint) {
  auto reader = new_archive_reader();
  if (!reader) return std::unexpected(reader.error());
  struct archive* a = reader->get();
  enable(a);
  archive_read_support_filter_none(a);
  for (const char* p : kArchivePasswords) archive_read_add_passphrase(a, p);
  std::uint64_t encrypted_unread = 0;
  MemorySource src{data};
  archive_read_set_read_callback(a, &MemorySource::read);
  archive_read_set_skip_callback(a, &MemorySource::skip);
  archive_read_set_seek_callback(a, &MemorySource::seek);
  archive_read_set_callback_data(a, &src);
  if (archive_read_open1(a) != ARCHIVE_OK)
    return fail(fmt::format("not readable: {}", archive_message(a)));
  struct archive_entry* e = nullptr;
  std::uint64_t entries = 0;
  CpioLinkSets cpio_links;
  struct Flush {
    CpioLinkSets& links;
    Sink& sink;
    ~Flush() { links.flush(sink); }
  } flush{cpio_links, sink};
  for (;;) {
    if (auto st = sink.check_time(); !st)
      return fail_at(st.error(), std::uint64_t(archive_filter_bytes(a, 0)));
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc == ARCHIVE_WARN) {
      sink.warn("format-warning", archive_message(a, "warning"),
                archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    } else if (rc != ARCHIVE_OK) {
      const std::uint64_t at = std::uint64_t(std::max<la_int64_t>(archive_filter_bytes(a, 0), 0));
      if (entries == 0 && span_hint == 0)
        return fail(fmt::format("corrupt archive: {}", archive_message(a)), 0);
      return fail(
          fmt::format("corrupt entry header after {} entries: {}", entries, archive_message(a)),
          span_hint ? span_hint : at);
    }
    ++entries;
    const char* path = archive_entry_pathname(e);
    Entry out;
    out.path = path ? path : "";
    out.mode = std::uint32_t(archive_entry_perm(e)) | (archive_entry_mode(e) & 07000);
    out.uid = std::uint32_t(archive_entry_uid(e));
    out.gid = std::uint32_t(archive_entry_gid(e));
    out.mtime = archive_entry_mtime(e);
    const int format = archive_format(a);
    if ((format == ARCHIVE_FORMAT_CPIO_SVR4_NOCRC || format == ARCHIVE_FORMAT_CPIO_SVR4_CRC) &&
        cpio_links.take(e, out, sink))
      continue;
    if (const char* hl = archive_entry_hardlink(e); hl && archive_entry_size(e) <= 0) {
      out.type = EntryType::kHardlink;
      out.link = hl;
      (void)sink.node(out);
      continue;
    }
    out.type = entry_type(archive_entry_filetype(e));
    if (out.type == EntryType::kSymlink) {
      const char* t = archive_entry_symlink(e);
      out.link = t ? t : "";
    }
    if (out.type != EntryType::kFile) {
      (void)sink.node(out);
      continue;
    }
    auto f = sink.open_file(out);
    if (!f) {
      if (sink.exhausted())
        return fail(f.error().message, std::uint64_t(archive_filter_bytes(a, 0)));
      continue;  // refused (and warned); skip its data
    }
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    std::uint64_t written = 0;
    for (;;) {
      rc = archive_read_data_block(a, &buf, &size, &offset);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        f->mark_truncated();
        if (archive_entry_is_data_encrypted(e)) {
          ++encrypted_unread;
          sink.warn("encrypted",
                    fmt::format("entry is encrypted and none of the {} default passwords opens "
                                "it: not seen ({})",
                                std::size(kArchivePasswords), archive_message(a)),
                    out.path, std::uint64_t(archive_filter_bytes(a, 0)));
          break;
        }
        sink.warn("format-error", fmt::format("entry data unreadable: {}", archive_message(a)),
                  out.path, std::uint64_t(archive_filter_bytes(a, 0)));
        break;
      }
      // Sparse entries: fill holes with zeros (bounded by the file and total caps).
      if (auto st = fill_zeros(*f, written, std::uint64_t(offset)); !st)
        return fail_at(st.error(), std::uint64_t(archive_filter_bytes(a, 0)));
      if (auto st = f->write({static_cast<const std::uint8_t*>(buf), size}); !st)
        return fail_at(st.error(), std::uint64_t(archive_filter_bytes(a, 0)));
      written += size;
    }
    // A sparse file that ends in a hole (or is nothing but holes) has no data block for it: its
    // size is the entry's, not the bytes read.
    if (archive_entry_sparse_count(e) > 0 && archive_entry_size_is_set(e) &&
        archive_entry_size(e) > 0)
      if (auto st = fill_zeros(*f, written, std::uint64_t(archive_entry_size(e))); !st)
        return fail_at(st.error(), std::uint64_t(archive_filter_bytes(a, 0)));
    f->close();
    cpio_links.written(out.path, sink);
  }
  const std::uint64_t consumed = std::uint64_t(std::max<la_int64_t>(archive_filter_bytes(a, 0), 0));
  const std::uint64_t span = span_hint ? span_hint : consumed;
  // What no password opened was not seen: the archive's bytes are an encrypted region (one span
  // per container, so the whole archive), never understood.
  if (encrypted_unread > 0) sink.encrypted(0, span);
  return span;
}

}  // namespace probity::unpacker
