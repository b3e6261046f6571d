// The durable log: SQLite in WAL mode with synchronous=FULL. One transaction per append batch
// stores the entries (exact bytes) and every new complete-subtree hash, so proofs and tiles are
// index lookups and a crash at any moment leaves either the whole batch or none of it.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <mutex>

#include "core/sqlite.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity::tlog {
namespace {

using sql::Stmt;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries(idx INTEGER PRIMARY KEY, data BLOB NOT NULL, subject TEXT);
CREATE INDEX IF NOT EXISTS entries_subject ON entries(subject);
CREATE TABLE IF NOT EXISTS nodes(id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cosignatures(size INTEGER NOT NULL, line TEXT NOT NULL,
                                        PRIMARY KEY(size, line));
)sql";
/// Node ids pack (level, index) as level << 56 | index; logs stay far below 2^56 entries.
constexpr unsigned kLevelShift = 56;
/// The node-id packing's range, a format fact, not a cap.
constexpr std::uint64_t kMaxLogEntries = std::uint64_t(1) << kLevelShift;
/// How long a writer waits for another process's lock.
constexpr int kBusyTimeoutMs = 30000;

std::int64_t node_id(unsigned level, std::uint64_t index) {
  return std::int64_t((std::uint64_t(level) << kLevelShift) | index);
}

bool same_key(const PublicKey& a, const PublicKey& b) {
  return a.name == b.name && a.type == b.type && a.key == b.key;
}

/// MTH of the first `size` leaves, from the right edge of the tree: frontier[l] is the complete
/// subtree at level l for each bit l set in `size` (as Log::append keeps it).
Hash root_from_frontier(const std::array<Hash, 64>& frontier, std::uint64_t size) {
  if (size == 0) return empty_root();
  Hash h{};
  bool lowest = true;
  for (unsigned l = 0; l < 64; ++l)
    if ((size >> l) & 1) {
      h = lowest ? frontier[l] : node_hash(frontier[l], h);
      lowest = false;
    }
  return h;
}

}  // namespace

struct Log::Impl {
  std::filesystem::path dir;
  sqlite3* db = nullptr;
  PrivateKey key;
  std::mutex mu;
  Stmt ins_entry, ins_node, get_node, get_entry, get_size, find_subject, get_ckpt, ins_ckpt,
      get_cosigs, ins_cosig, count_cosigs;

  ~Impl() {
    // Statements must be finalized before the connection closes; members die after this body,
    // so finalize explicitly here.
    for (Stmt* s : {&ins_entry, &ins_node, &get_node, &get_entry, &get_size, &find_subject,
                    &get_ckpt, &ins_ckpt, &get_cosigs, &ins_cosig, &count_cosigs}) {
      s->finalize();
    }
    if (db) sqlite3_close(db);
  }

  Error db_error(const std::string& what) const {
    return Error{what + ": " + sqlite3_errmsg(db), (dir / "log.db").string(), 0};
  }

  Status exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "sqlite error";
      sqlite3_free(err);
      return fail(std::string("sqlite: ") + m + " in " + sql, 0, (dir / "log.db").string());
    }
    return {};
  }

  Status prepare(Stmt& st, const char* sql) {
    st = Stmt(db, sql);
    if (!st.ok()) return std::unexpected(db_error("sqlite prepare"));
    return {};
  }

  Status open_db(bool create) {
    const auto path = (dir / "log.db").string();
    const int flags =
        SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK)
      return fail(std::string("cannot open log database: ") + (db ? sqlite3_errmsg(db) : "?"), 0,
                  path);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    // WAL: readers never block the writer; FULL: a COMMIT returns only after the WAL is fsynced,
    // so an acknowledged append survives power loss.
    if (auto s = exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !s) return s;
    // Proofs are ~2 log2(n) random node lookups: map the file and keep a larger page cache so
    // they are memory reads rather than read() calls.
    if (auto s = exec("PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536;"); !s) return s;
    if (create)
      if (auto s = exec(kSchema); !s) return s;
    const std::pair<Stmt*, const char*> stmts[] = {
        {&ins_entry, "INSERT INTO entries(idx, data, subject) VALUES(?, ?, ?)"},
        {&ins_node, "INSERT INTO nodes(id, hash) VALUES(?, ?)"},
        {&get_node, "SELECT hash FROM nodes WHERE id = ?"},
        {&get_entry, "SELECT data FROM entries WHERE idx = ?"},
        {&get_size, "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries"},
        {&find_subject, "SELECT idx FROM entries WHERE subject = ? ORDER BY idx DESC LIMIT 1"},
        {&get_ckpt, "SELECT note FROM checkpoints WHERE size = ?"},
        {&ins_ckpt, "INSERT OR IGNORE INTO checkpoints(size, note) VALUES(?, ?)"},
        {&get_cosigs, "SELECT line FROM cosignatures WHERE size = ? ORDER BY rowid"},
        {&ins_cosig, "INSERT OR IGNORE INTO cosignatures(size, line) VALUES(?, ?)"},
        {&count_cosigs, "SELECT COUNT(*) FROM cosignatures WHERE size = ?"},
    };
    for (auto& [st, sql] : stmts)
      if (auto s = prepare(*st, sql); !s) return s;
    return {};
  }

  Result<std::uint64_t> size_locked() {
    get_size.reset();
    if (!get_size.step()) return std::unexpected(db_error("size"));
    return std::uint64_t(get_size.i64(0));
  }

  Result<Hash> node_locked(unsigned level, std::uint64_t index) {
    if (level >= 64 || index >= kMaxLogEntries) return fail("node out of range");
    get_node.reset();
    get_node.bind(1, std::int64_t(node_id(level, index)));
    if (!get_node.step())
      return fail("log has no complete subtree at level " + std::to_string(level) + " index " +
                  std::to_string(index));
    Hash h;
    const auto stored = get_node.blob(0);
    if (stored.size() != 32) return fail("corrupt node hash in log.db");
    std::memcpy(h.data(), stored.data(), 32);
    return h;
  }

  NodeGetter locked_getter() {
    return [this](unsigned l, std::uint64_t i) { return node_locked(l, i); };
  }

  Status put_node(unsigned level, std::uint64_t index, const Hash& h) {
    ins_node.reset();
    ins_node.bind(1, std::int64_t(node_id(level, index)));
    ins_node.bind_blob_static(2, h);
    if (!ins_node.run()) return std::unexpected(db_error("insert node"));
    return {};
  }

  Result<std::string> note_with_cosigs(std::uint64_t size) {
    get_ckpt.reset();
    get_ckpt.bind(1, std::int64_t(std::int64_t(size)));
    if (!get_ckpt.step()) return fail("no checkpoint of size " + std::to_string(size));
    std::string note(get_ckpt.text(0));
    get_cosigs.reset();
    get_cosigs.bind(1, std::int64_t(std::int64_t(size)));
    while (get_cosigs.step()) note.append(get_cosigs.text(0));
    return note;
  }

  std::size_t cosig_count(std::uint64_t size) {
    count_cosigs.reset();
    count_cosigs.bind(1, std::int64_t(std::int64_t(size)));
    if (!count_cosigs.step()) return 0;
    return std::size_t(count_cosigs.i64(0));
  }
};

Log::Log(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Log::~Log() = default;

Result<std::unique_ptr<Log>> Log::create(const std::filesystem::path& dir, const PrivateKey& key) {
  if (key.type != KeyType::kEd25519) return fail("a log key must be an Ed25519 (0x01) key");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail("cannot create log directory: " + ec.message(), 0, dir.string());
  if (std::filesystem::exists(dir / "log.db"))
    return fail("a log already exists here", 0, (dir / "log.db").string());
  if (auto s = write_file_atomic(dir / "log.key", key.to_string() + "\n", true); !s)
    return std::unexpected(s.error());
  if (auto s = write_file_atomic(dir / "log.pub", key.pub.to_string() + "\n"); !s)
    return std::unexpected(s.error());
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->key = key;
  if (auto s = impl->open_db(true); !s) return std::unexpected(s.error());
  {
    Stmt st(impl->db, "INSERT OR REPLACE INTO meta(k, v) VALUES('origin', ?)");
    if (!st.ok() || !st.bind(1, key.name).run())
      return std::unexpected(impl->db_error("write origin"));
  }
  return std::unique_ptr<Log>(new Log(std::move(impl)));
}

Result<std::unique_ptr<Log>> Log::open(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / "log.db"))
    return fail("no log here (run probity log init)", 0, dir.string());
  auto key = read_private_key(dir / "log.key");
  if (!key) return std::unexpected(key.error());
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->key = *key;
  if (auto s = impl->open_db(false); !s) return std::unexpected(s.error());
  return std::unique_ptr<Log>(new Log(std::move(impl)));
}

const PublicKey& Log::public_key() const {
  return impl_->key.pub;
}
const std::string& Log::origin() const {
  return impl_->key.name;
}

Result<std::uint64_t> Log::size() {
  std::lock_guard lock(impl_->mu);
  return impl_->size_locked();
}

Result<std::vector<std::uint64_t>> Log::append(std::span<const Bytes> entries) {
  // Validate before taking the write lock: a bad entry rejects the whole batch.
  std::vector<std::optional<std::string>> subjects;
  subjects.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (e.empty() || e.size() > kMaxEntryBytes)
      return fail("entry " + std::to_string(i) + " has " + std::to_string(e.size()) +
                  " bytes; entries hold 1 to " + std::to_string(kMaxEntryBytes));
    auto env = parse_envelope(e);
    if (!env)
      return fail("entry " + std::to_string(i) + " is not a DSSE envelope: " + env.error().message);
    auto d = statement_subject_digests(*env);
    subjects.push_back(d.empty() ? std::nullopt : std::optional(d.front()));
  }
  std::lock_guard lock(impl_->mu);
  auto& I = *impl_;
  if (auto s = I.exec("BEGIN IMMEDIATE"); !s) return std::unexpected(s.error());
  auto rollback = [&](Error e) -> Result<std::vector<std::uint64_t>> {
    I.exec("ROLLBACK");
    return std::unexpected(std::move(e));
  };
  auto n = I.size_locked();
  if (!n) return rollback(n.error());
  if (*n + entries.size() >= kMaxLogEntries) return rollback(Error{"log is full", "", 0});
  // The right edge of the tree: frontier[l] is the complete subtree at level l when bit l of
  // the size is set.
  std::array<Hash, 64> frontier{};
  for (unsigned l = 0; l < 64; ++l)
    if ((*n >> l) & 1) {
      auto h = I.node_locked(l, (*n >> l) - 1);
      if (!h) return rollback(h.error());
      frontier[l] = *h;
    }
  std::vector<std::uint64_t> out;
  out.reserve(entries.size());
  std::uint64_t size = *n;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::uint64_t idx = size;
    I.ins_entry.reset();
    I.ins_entry.bind(1, std::int64_t(std::int64_t(idx)));
    I.ins_entry.bind_blob_static(2, entries[i]);
    if (subjects[i])
      I.ins_entry.bind(3, *subjects[i]);
    else
      I.ins_entry.bind_null(3);
    if (!I.ins_entry.run()) return rollback(I.db_error("insert entry"));
    Hash h = leaf_hash(entries[i]);
    if (auto s = I.put_node(0, idx, h); !s) return rollback(s.error());
    unsigned level = 0;
    std::uint64_t at = idx;
    while (at & 1) {
      h = node_hash(frontier[level], h);
      ++level;
      at >>= 1;
      if (auto s = I.put_node(level, at, h); !s) return rollback(s.error());
    }
    frontier[level] = h;
    out.push_back(idx);
    ++size;
  }
  if (auto s = I.exec("COMMIT"); !s) return rollback(s.error());
  return out;
}

Result<Bytes> Log::entry(std::uint64_t index) {
  std::lock_guard lock(impl_->mu);
  auto& st = impl_->get_entry;
  st.reset();
  st.bind(1, std::int64_t(std::int64_t(index)));
  if (!st.step()) return fail("no entry " + std::to_string(index));
  const auto data = st.blob(0);
  return Bytes(data.begin(), data.end());
}

Result<Hash> Log::node(unsigned level, std::uint64_t index) {
  std::lock_guard lock(impl_->mu);
  return impl_->node_locked(level, index);
}

NodeGetter Log::getter() {
  return [this](unsigned l, std::uint64_t i) { return node(l, i); };
}

Result<Hash> Log::root(std::uint64_t size) {
  std::lock_guard lock(impl_->mu);
  auto n = impl_->size_locked();
  if (!n) return std::unexpected(n.error());
  if (size > *n) return fail("tree size " + std::to_string(size) + " is beyond the log");
  return tree_root(size, impl_->locked_getter());
}

Result<std::string> Log::checkpoint() {
  std::lock_guard lock(impl_->mu);
  auto& I = *impl_;
  // One read transaction: the size and the hashes come from the same snapshot.
  if (auto s = I.exec("BEGIN IMMEDIATE"); !s) return std::unexpected(s.error());
  auto n = I.size_locked();
  if (!n) {
    I.exec("ROLLBACK");
    return std::unexpected(n.error());
  }
  if (auto existing = I.note_with_cosigs(*n)) {
    I.exec("COMMIT");
    return existing;
  }
  auto root = tree_root(*n, I.locked_getter());
  if (!root) {
    I.exec("ROLLBACK");
    return std::unexpected(root.error());
  }
  Checkpoint c{I.key.name, *n, *root, {}};
  const std::string text = c.text();
  auto sig = sign_note_text(text, I.key);
  if (!sig) {
    I.exec("ROLLBACK");
    return std::unexpected(sig.error());
  }
  const std::string note = Note{text, {*sig}}.to_string();
  I.ins_ckpt.reset();
  I.ins_ckpt.bind(1, std::int64_t(std::int64_t(*n)));
  I.ins_ckpt.bind(2, note);
  if (!I.ins_ckpt.run()) {
    auto e = I.db_error("insert checkpoint");
    I.exec("ROLLBACK");
    return std::unexpected(e);
  }
  if (auto s = I.exec("COMMIT"); !s) return std::unexpected(s.error());
  return note;
}

Result<std::string> Log::latest_checkpoint() {
  auto sizes = checkpoint_sizes(1);
  if (!sizes) return std::unexpected(sizes.error());
  if (sizes->empty()) return fail("the log has no checkpoint yet (run probity log checkpoint)");
  std::lock_guard lock(impl_->mu);
  return impl_->note_with_cosigs(sizes->front());
}

Result<std::vector<std::uint64_t>> Log::checkpoint_sizes(std::size_t limit) {
  std::lock_guard lock(impl_->mu);
  Stmt st;
  if (auto s = impl_->prepare(st, "SELECT size FROM checkpoints ORDER BY size DESC LIMIT ?"); !s)
    return std::unexpected(s.error());
  st.bind(1, std::int64_t(std::int64_t(limit)));
  std::vector<std::uint64_t> out;
  while (st.step()) out.push_back(std::uint64_t(st.i64(0)));
  return out;
}

Result<std::string> Log::checkpoint_covering(std::uint64_t index, std::size_t min_cosignatures) {
  std::lock_guard lock(impl_->mu);
  Stmt st;
  if (auto s = impl_->prepare(st, "SELECT size FROM checkpoints WHERE size > ? ORDER BY size DESC");
      !s)
    return std::unexpected(s.error());
  st.bind(1, std::int64_t(std::int64_t(index)));
  while (st.step()) {
    const auto size = std::uint64_t(st.i64(0));
    if (impl_->cosig_count(size) >= min_cosignatures) return impl_->note_with_cosigs(size);
  }
  return fail("no checkpoint covers entry " + std::to_string(index) + " with at least " +
              std::to_string(min_cosignatures) + " cosignatures");
}

Status Log::add_cosignatures(std::string_view note_text) {
  auto note = parse_note(note_text);
  if (!note) return std::unexpected(note.error());
  auto c = parse_checkpoint(note->text);
  if (!c) return std::unexpected(c.error());
  std::lock_guard lock(impl_->mu);
  auto& I = *impl_;
  auto stored = I.note_with_cosigs(c->size);
  if (!stored) return std::unexpected(stored.error());
  auto stored_note = parse_note(*stored);
  if (!stored_note || stored_note->text != note->text)
    return fail("cosigned checkpoint does not match the log's checkpoint of that size");
  std::size_t have = I.cosig_count(c->size);
  for (const auto& s : note->sigs) {
    if (s.name == I.key.name && s.id == I.key.pub.id) continue;  // the log's own signature
    if (have >= kMaxCosignaturesPerCheckpoint) return fail("too many cosignatures");
    const std::string line = s.line();
    I.ins_cosig.reset();
    I.ins_cosig.bind(1, std::int64_t(std::int64_t(c->size)));
    I.ins_cosig.bind(2, line);
    if (!I.ins_cosig.run()) return std::unexpected(I.db_error("insert cosignature"));
    have += std::size_t(sqlite3_changes(I.db));
  }
  return {};
}

Result<std::optional<std::uint64_t>> Log::find_subject(std::string_view sha256_hex) {
  std::lock_guard lock(impl_->mu);
  auto& st = impl_->find_subject;
  st.reset();
  st.bind(1, sha256_hex);
  if (st.step()) return std::optional<std::uint64_t>(std::uint64_t(st.i64(0)));
  if (!st.failed()) return std::optional<std::uint64_t>();
  return std::unexpected(impl_->db_error("find subject"));
}

Result<Bytes> Log::tile(const TileRef& ref) {
  std::lock_guard lock(impl_->mu);
  auto& I = *impl_;
  auto n = I.size_locked();
  if (!n) return std::unexpected(n.error());
  const unsigned level_bits = ref.entries ? 0 : 8 * ref.level;
  if (level_bits >= 64) return fail("tile level out of range");
  const std::uint64_t row = *n >> level_bits;
  const std::uint64_t first = ref.index * 256;
  if (ref.index > (kMaxLogEntries >> 8) || first + ref.width > row)
    return fail("tile is beyond the tree");
  Bytes out;
  Stmt st;
  if (ref.entries) {
    if (auto s = I.prepare(st, "SELECT data FROM entries WHERE idx BETWEEN ? AND ? ORDER BY idx");
        !s)
      return std::unexpected(s.error());
    st.bind(1, std::int64_t(std::int64_t(first)));
    st.bind(2, std::int64_t(std::int64_t(first + ref.width - 1)));
    while (st.step()) {
      const auto data = st.blob(0);
      const auto len = data.size();
      out.push_back(std::uint8_t(len >> 8));
      out.push_back(std::uint8_t(len));
      out.insert(out.end(), data.begin(), data.end());
    }
    return out;
  }
  if (auto s = I.prepare(st, "SELECT hash FROM nodes WHERE id BETWEEN ? AND ? ORDER BY id"); !s)
    return std::unexpected(s.error());
  st.bind(1, std::int64_t(node_id(level_bits, first)));
  st.bind(2, std::int64_t(node_id(level_bits, first + ref.width - 1)));
  while (st.step()) {
    // A stored hash of another length is corruption, never read past.
    const auto hash = st.blob(0);
    if (hash.size() != 32) return fail("corrupt node hash in log.db");
    out.insert(out.end(), hash.begin(), hash.end());
  }
  if (out.size() != std::size_t(ref.width) * 32) return fail("log.db is missing tile hashes");
  return out;
}

Result<CheckReport> Log::check(const CheckOptions& opt) {
  std::lock_guard lock(impl_->mu);
  auto& I = *impl_;
  CheckReport r;
  std::size_t unlisted = 0;
  auto problem = [&](std::string m) {
    if (r.problems.size() < kMaxCheckProblems)
      r.problems.push_back(std::move(m));
    else
      ++unlisted;
  };

  // The key: the one the caller pins, log.key, log.pub and the stored origin must all agree.
  const PublicKey& key = opt.log_key ? *opt.log_key : I.key.pub;
  if (opt.log_key && !same_key(*opt.log_key, I.key.pub))
    problem("log.key is not the expected log key " + opt.log_key->to_string() + " (it holds " +
            I.key.pub.to_string() + ")");
  if (auto pub = read_public_key(I.dir / "log.pub"); !pub)
    problem("log.pub cannot be read: " + pub.error().message);
  else if (!same_key(*pub, I.key.pub))
    problem("log.pub (" + pub->to_string() + ") does not match log.key");

  if (auto s = I.exec("BEGIN"); !s) return std::unexpected(s.error());
  struct End {
    Impl& i;
    ~End() { i.exec("COMMIT"); }
  } end{I};
  {
    Stmt st;
    if (auto s = I.prepare(st, "SELECT v FROM meta WHERE k = 'origin'"); !s)
      return std::unexpected(s.error());
    const bool row = st.step();
    const std::string origin = row ? std::string(st.text(0)) : std::string();
    if (origin != key.name)
      problem("log.db records origin '" + origin + "', not the log key's name '" + key.name + "'");
  }
  auto n = I.size_locked();
  if (!n) return std::unexpected(n.error());
  r.entries = *n;

  // Every root a signature vouches for: the stored checkpoints and the trusted notes.
  struct Claim {
    std::string what;
    std::uint64_t size = 0;
    Hash root{};
    bool stored = false;
  };
  std::vector<Claim> claims;
  auto claim = [&](const std::string& what, std::string_view text, bool stored,
                   std::optional<std::uint64_t> stored_size) {
    auto note = parse_note(text);
    if (!note || !note_verified_by(*note, key)) {
      problem(what + " is not signed by the log key " + key.key_hint());
      return;
    }
    auto c = parse_checkpoint(note->text);
    if (!c) {
      problem(what + " is not a checkpoint: " + c.error().message);
      return;
    }
    if (c->origin != key.name) {
      problem(what + " has origin '" + c->origin + "', not the log's '" + key.name + "'");
      return;
    }
    if (stored_size && c->size != *stored_size) {
      problem(what + " is stored under size " + std::to_string(*stored_size) + " but says " +
              std::to_string(c->size));
      return;
    }
    claims.push_back({what, c->size, c->root, stored});
  };
  {
    Stmt ck;
    if (auto s = I.prepare(ck, "SELECT size, note FROM checkpoints ORDER BY size"); !s)
      return std::unexpected(s.error());
    while (ck.step()) {
      const auto size = std::uint64_t(ck.i64(0));
      const std::string text(ck.text(1));
      ++r.checkpoints;
      claim("checkpoint of size " + std::to_string(size), text, true, size);
    }
    // A read that stops early must not pass for a log with fewer checkpoints.
    if (ck.failed()) return std::unexpected(I.db_error("read checkpoints"));
  }
  if (r.checkpoints == 0)
    problem(
        "log.db holds no checkpoint: log init signs one and none is ever removed, so they "
        "were deleted");
  for (const auto& [name, text] : opt.trusted) claim(name, text, false, std::nullopt);

  // One pass over the entries: every leaf and interior hash, and the root at each claimed size,
  // from the entry bytes alone (the stored nodes are what is being checked).
  std::vector<std::uint64_t> sizes;
  for (const auto& c : claims) sizes.push_back(c.size);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  std::map<std::uint64_t, Hash> roots;
  auto want = sizes.begin();
  if (want != sizes.end() && *want == 0) roots[*want++] = empty_root();
  Stmt st;
  if (auto s = I.prepare(st, "SELECT idx, data FROM entries ORDER BY idx"); !s)
    return std::unexpected(s.error());
  std::array<Hash, 64> frontier{};
  std::uint64_t expect = 0, nodes = 0;
  bool gap = false;
  while (st.step()) {
    const auto idx = std::uint64_t(st.i64(0));
    if (idx != expect) {
      problem("entry indices have a gap at " + std::to_string(expect));
      gap = true;
      break;
    }
    Hash h = leaf_hash(st.blob(1));
    unsigned level = 0;
    std::uint64_t at = idx;
    for (;;) {
      auto stored = I.node_locked(level, at);
      if (!stored || *stored != h)
        problem("node at level " + std::to_string(level) + " index " + std::to_string(at) +
                " does not match the entries");
      ++nodes;
      if (!(at & 1)) break;
      h = node_hash(frontier[level], h);
      ++level;
      at >>= 1;
    }
    frontier[level] = h;
    ++expect;
    while (want != sizes.end() && *want == expect)
      roots[*want++] = root_from_frontier(frontier, expect);
  }
  if (!gap && st.failed()) return std::unexpected(I.db_error("read entries"));
  Stmt cnt;
  if (auto s = I.prepare(cnt, "SELECT COUNT(*) FROM nodes"); !s) return std::unexpected(s.error());
  if (!cnt.step()) return std::unexpected(I.db_error("count nodes"));
  if (std::uint64_t(cnt.i64(0)) != nodes)
    problem("log.db holds node hashes for entries that do not exist");

  for (const auto& c : claims) {
    if (c.size > *n) {
      problem(c.what + " is beyond the log's " + std::to_string(*n) +
              " entries: entries were deleted or the log was rolled back");
      continue;
    }
    auto it = roots.find(c.size);
    if (it == roots.end()) {  // only past a gap
      problem(c.what + " cannot be checked: the entries before it have a gap");
      continue;
    }
    if (it->second != c.root) {
      problem(c.what + " does not match the entries (its root differs from the root " +
              "recomputed at size " + std::to_string(c.size) + "): the history was rewritten");
      continue;
    }
    if (c.stored && (!r.signed_size || c.size > *r.signed_size)) r.signed_size = c.size;
  }
  if (unlisted) problem("and " + std::to_string(unlisted) + " more problems");
  return r;
}

}  // namespace probity::tlog
