// Signed offline snapshots of the vulnerability database (docs/vulndb.md, "Air gap"): the
// database file behind a C2SP signed note that names its snapshot id, data date, size and
// SHA-256, signed with a `probity key` Ed25519 key (src/tlog's keys and notes).
//
// File layout:
//   "probity-vulndb-snapshot v1 <note bytes>\n"  then the signed note  then the database bytes.
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <charconv>
#include <fstream>

#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"
#include "probity/vulndb.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kMagic = "probity-vulndb-snapshot v1 ";

// "key value" lines of the note text.
std::string field(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    auto line = text.substr(pos, nl - pos);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ')
      return std::string(line.substr(key.size() + 1));
    pos = nl + 1;
  }
  return {};
}

}  // namespace

bool is_vuln_snapshot(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(kMagic.size(), '\0');
  return in.read(head.data(), std::streamsize(head.size())) && head == kMagic;
}

Result<VulnSnapshotInfo> export_vuln_snapshot(const fs::path& db_path, const fs::path& out,
                                              const fs::path& key_file) {
  auto key = tlog::read_private_key(key_file);
  if (!key) return std::unexpected(key.error());
  if (key->type != tlog::KeyType::kEd25519)
    return fail("the snapshot key must be an Ed25519 signing key (not a witness key)", 0,
                key_file.string());
  VulnSnapshotInfo info;
  {
    auto db = VulnDb::open(db_path);
    if (!db) return std::unexpected(db.error());
    auto st = db->status();
    if (!st) return std::unexpected(st.error());
    info.snapshot = st->snapshot;
    info.date = st->snapshot_date;
  }
  // A consistent copy, compacted: VACUUM INTO writes the database as one transaction sees it.
  const fs::path tmp = out.string() + ".db-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  {
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(raw);
      return fail("cannot open the database", 0, db_path.string());
    }
    const std::string sql = fmt::format("VACUUM INTO '{}'", [&] {
      std::string q;
      for (char c : tmp.string()) q += c == '\'' ? std::string("''") : std::string(1, c);
      return q;
    }());
    char* err = nullptr;
    const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(raw);
    if (rc != SQLITE_OK) return fail("VACUUM INTO: " + msg, 0, tmp.string());
  }
  struct Remove {
    fs::path p;
    ~Remove() {
      std::error_code e;
      fs::remove(p, e);
    }
  } cleanup{tmp};
  std::ifstream in(tmp, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.eof() && in.fail()) return fail("cannot read the database copy", 0, tmp.string());
  Sha256 h;
  h.update({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  info.created = now_utc();
  info.signer = key->pub.key_hint();
  info.sha256 = h.hex();
  info.bytes = bytes.size();
  const std::string text = fmt::format(
      "probity vulnerability database snapshot\nsnapshot {}\ndate {}\ncreated {}\nsha256 {}\n"
      "size {}\n",
      info.snapshot, info.date.empty() ? "-" : info.date, info.created, info.sha256, info.bytes);
  auto sig = tlog::sign_note_text(text, *key);
  if (!sig) return std::unexpected(sig.error());
  tlog::Note note{text, {*sig}};
  const std::string n = note.to_string();
  const std::string header = fmt::format("{}{}\n", kMagic, n.size());
  const fs::path part = out.string() + ".part-" + std::to_string(::getpid());
  {
    std::ofstream o(part, std::ios::binary | std::ios::trunc);
    o << header << n;
    o.write(bytes.data(), std::streamsize(bytes.size()));
    if (!o.flush()) {
      fs::remove(part, ec);
      return fail("cannot write the snapshot", 0, out.string());
    }
  }
  fs::rename(part, out, ec);
  if (ec) return fail("cannot write the snapshot: " + ec.message(), 0, out.string());
  return info;
}

Result<VulnSnapshotInfo> import_vuln_snapshot(const fs::path& file, const std::string& trust,
                                              const fs::path& db_path) {
  auto pub = tlog::load_public_key(trust);
  if (!pub) return std::unexpected(pub.error());
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail("cannot open the snapshot", 0, file.string());
  std::string line;
  if (!std::getline(in, line) || !line.starts_with(kMagic))
    return fail("not a probity vulnerability database snapshot", 0, file.string());
  std::size_t note_len = 0;
  const auto len = std::string_view(line).substr(kMagic.size());
  if (std::from_chars(len.data(), len.data() + len.size(), note_len).ec != std::errc() ||
      note_len == 0 || note_len > kMaxSnapshotNoteBytes)
    return fail("snapshot header: bad note length", kMagic.size(), file.string());
  std::string note_text(note_len, '\0');
  if (!in.read(note_text.data(), std::streamsize(note_len)))
    return fail("snapshot truncated in its signed note", line.size() + 1, file.string());
  auto note = tlog::parse_note(note_text);
  if (!note) return fail("snapshot note: " + note.error().message, line.size() + 1, file.string());
  // Verify before anything else is believed.
  if (!tlog::note_verified_by(*note, *pub))
    return fail("bad signature: the snapshot is not signed by the trusted key " + pub->key_hint() +
                    " (refused; the database is unchanged)",
                line.size() + 1, file.string());
  VulnSnapshotInfo info;
  info.snapshot = field(note->text, "snapshot");
  info.date = field(note->text, "date");
  if (info.date == "-") info.date.clear();
  info.created = field(note->text, "created");
  info.sha256 = field(note->text, "sha256");
  info.signer = pub->key_hint();
  const auto size = field(note->text, "size");
  if (std::from_chars(size.data(), size.data() + size.size(), info.bytes).ec != std::errc() ||
      info.bytes > kMaxSnapshotBytes || info.snapshot.empty() || info.sha256.size() != 64)
    return fail("snapshot note without snapshot/sha256/size", line.size() + 1, file.string());
  const std::uint64_t body = line.size() + 1 + note_len;
  std::string bytes(info.bytes, '\0');
  if (!in.read(bytes.data(), std::streamsize(bytes.size())) || in.peek() != EOF)
    return fail("snapshot database is not the size its signed note says", body, file.string());
  Sha256 h;
  h.update({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  if (h.hex() != info.sha256)
    return fail("snapshot database does not match the SHA-256 its signed note says (tampered)",
                body, file.string());

  // Refuse to go back in time: an older snapshot than the database in place.
  std::error_code ec;
  if (fs::exists(db_path, ec)) {
    auto cur = VulnDb::open(db_path);
    if (cur) {
      auto date = cur->snapshot_date();
      if (date && !date->empty() && !info.date.empty() && info.date < *date)
        return fail(fmt::format("snapshot of {} is older than the database in place ({}); "
                                "refused (the database is unchanged)",
                                info.date, *date),
                    0, file.string());
    }
  }
  if (db_path.has_parent_path()) fs::create_directories(db_path.parent_path(), ec);
  const fs::path tmp = db_path.string() + ".snapshot-" + std::to_string(::getpid());
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    o.write(bytes.data(), std::streamsize(bytes.size()));
    if (!o.flush()) {
      fs::remove(tmp, ec);
      return fail("cannot write " + tmp.string(), 0, tmp.string());
    }
  }
  // The content must be what the note names: recompute the snapshot id from the records.
  {
    auto db = VulnDb::open(tmp);
    Result<VulnDbStatus> st = db ? db->status() : Result<VulnDbStatus>(std::unexpected(db.error()));
    if (!st || st->snapshot != info.snapshot) {
      fs::remove(tmp, ec);
      return fail(st ? "snapshot database content does not give the snapshot id its note names"
                     : "snapshot database unreadable: " + st.error().message,
                  body, file.string());
    }
  }
  fs::rename(tmp, db_path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return fail("cannot replace the database: " + ec.message(), 0, db_path.string());
  }
  return info;
}

}  // namespace probity
