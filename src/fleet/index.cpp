#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "probity/checks.hpp"
#include "probity/fleet.hpp"
#include "vuln/sqlite.hpp"

namespace probity {

using vuln::Stmt;

struct FleetIndex::Impl {
  sqlite3* db = nullptr;
  ~Impl() { sqlite3_close(db); }
  Status exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK) return {};
    std::string m = msg ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    return fail("fleet index: " + m);
  }
  std::unexpected<Error> error(const std::string& what) {
    return fail("fleet index: " + what + ": " + sqlite3_errmsg(db));
  }
};

FleetIndex::FleetIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FleetIndex::FleetIndex(FleetIndex&&) noexcept = default;
FleetIndex& FleetIndex::operator=(FleetIndex&&) noexcept = default;
FleetIndex::~FleetIndex() = default;

Result<FleetIndex> FleetIndex::open(const std::filesystem::path& file) {
  auto impl = std::make_unique<Impl>();
  if (sqlite3_open_v2(file.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK)
    return fail("cannot open the fleet index: " +
                    std::string(impl->db ? sqlite3_errmsg(impl->db) : "out of memory") +
                    " (give a writable file path)",
                0, file.string());
  // Several scans may record at once (a lab scanning a vendor's whole range): WAL and a wait.
  sqlite3_busy_timeout(impl->db, 30000);
  if (auto s = impl->exec(
          "PRAGMA journal_mode=WAL;"
          "CREATE TABLE IF NOT EXISTS fleet_meta(key TEXT PRIMARY KEY, value TEXT);"
          "INSERT OR IGNORE INTO fleet_meta VALUES('schema','probity-fleet-index 1');"
          "CREATE TABLE IF NOT EXISTS key_sighting("
          " fingerprint TEXT NOT NULL, image_sha256 TEXT NOT NULL, image_name TEXT NOT NULL,"
          " path TEXT NOT NULL, rule TEXT NOT NULL, excerpt TEXT NOT NULL, seen TEXT NOT NULL,"
          " PRIMARY KEY(fingerprint, image_sha256, path, rule));"
          "CREATE INDEX IF NOT EXISTS key_by_image ON key_sighting(image_sha256);");
      !s) {
    Error e = s.error();
    e.file = file.string();
    e.message += " (is it a probity fleet index?)";
    return std::unexpected(e);
  }
  Stmt schema(impl->db, "SELECT value FROM fleet_meta WHERE key='schema'");
  if (!schema.ok() || !schema.step() || schema.text(0) != "probity-fleet-index 1")
    return fail("not a probity fleet index (schema row missing or unknown)", 0, file.string());
  return FleetIndex(std::move(impl));
}

namespace {

std::string now_iso() {
  auto t = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", t);
}

struct Sighting {
  std::string image_name, image_sha256, path;
};

}  // namespace

Result<std::vector<Finding>> FleetIndex::join(const Report& report) {
  const ImageInfo& image = report.tree.image;
  sqlite3* db = impl_->db;
  // Read the other images' sightings first, then record ours, in one write transaction so
  // that two scans of images sharing a key both see each other whatever their timing.
  if (auto s = impl_->exec("BEGIN IMMEDIATE"); !s) return std::unexpected(s.error());
  struct Rollback {
    Impl* impl;
    bool done = false;
    ~Rollback() {
      if (!done) (void)impl->exec("ROLLBACK");
    }
  } guard{impl_.get()};

  Stmt others(db,
              "SELECT image_name, image_sha256, path FROM key_sighting WHERE fingerprint=?1 "
              "AND image_sha256<>?2 ORDER BY seen, image_name, path");
  Stmt count(db,
             "SELECT COUNT(DISTINCT image_sha256) FROM key_sighting WHERE fingerprint=?1 AND "
             "image_sha256<>?2");
  Stmt insert(db, "INSERT OR IGNORE INTO key_sighting VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!others.ok() || !count.ok() || !insert.ok()) return impl_->error("prepare");

  // file (container, path) -> normalised location, for stable ids.
  std::map<std::pair<std::uint32_t, std::string>, std::string> locations;
  for (const auto& f : report.tree.files)
    locations.emplace(std::pair{f.container, f.path}, normalised_location(f));

  const std::string seen = now_iso();
  std::vector<Finding> out;
  for (const Finding& f : report.findings) {
    const std::string& fp = f.evidence.fingerprint;
    if (fp.empty() || f.rule == "fleet-wide-key") continue;
    others.reset();
    others.bind(1, fp).bind(2, image.sha256);
    std::vector<Sighting> hits;
    while (hits.size() < kMaxFleetSightings && others.step())
      hits.push_back(
          {std::string(others.text(0)), std::string(others.text(1)), std::string(others.text(2))});
    if (others.failed()) return impl_->error("query");
    if (!hits.empty()) {
      count.reset();
      count.bind(1, fp).bind(2, image.sha256);
      std::int64_t images = count.step() ? count.i64(0) : std::int64_t(hits.size());
      Finding w;
      w.rule = "fleet-wide-key";
      // A shared private key is a private-key problem; a shared authorized vendor key is a
      // way in (remote-access), like the authorized-key finding it extends.
      w.category = f.category;
      w.severity = Severity::kCritical;
      w.path = f.path;
      w.container = f.container;
      auto loc = locations.find({f.container, f.path});
      w.id = finding_id(w.rule, loc == locations.end() ? f.path : loc->second, fp);
      std::string where;
      for (const auto& h : hits) {
        std::string r = h.image_name + " (sha256:" + h.image_sha256.substr(0, 12) + "): " + h.path;
        where += (where.empty() ? "" : "; ") + r;
        w.evidence.related.push_back(r);
      }
      const bool authorized = f.rule == "authorized-key";
      w.message = fmt::format(
          "the {} {} is also in {} other image{}: {}{}; {}",
          authorized ? "authorized SSH key" : "key", fp, images, images == 1 ? "" : "s", where,
          hits.size() == kMaxFleetSightings ? " (only the first kMaxFleetSightings listed)" : "",
          authorized ? "whoever holds its private half can log in to every device of the fleet"
                     : "whoever extracts it from one device holds it for every device of the "
                       "fleet");
      w.evidence.excerpt = f.evidence.excerpt;
      w.evidence.offset = f.evidence.offset;
      w.evidence.fingerprint = fp;
      out.push_back(std::move(w));
    }
    insert.reset();
    insert.bind(1, fp)
        .bind(2, image.sha256)
        .bind(3, image.name)
        .bind(4, f.path)
        .bind(5, f.rule)
        .bind(6, f.evidence.excerpt)
        .bind(7, seen);
    insert.step();
    if (insert.failed()) return impl_->error("insert");
  }
  if (auto s = impl_->exec("COMMIT"); !s) return std::unexpected(s.error());
  guard.done = true;
  // One finding per (key, file) even when several rules saw the same key in one file.
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.id < b.id; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Finding& a, const Finding& b) { return a.id == b.id; }),
            out.end());
  return out;
}

}  // namespace probity
