// The fleet store (include/probity/fleet.hpp, docs/fleet.md): schema migrations, ingest (one
// transaction per image), the evaluators' queries, the fleet-wide key join and re-judging from
// stored rows. SQL is written once for both backends (src/fleet/backend.hpp).
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <map>
#include <set>

#include "fleet/backend.hpp"
#include "probity/checks.hpp"
#include "probity/data.hpp"
#include "probity/diff.hpp"
#include "probity/fleet.hpp"
#include "probity/hash.hpp"
#include "probity/json.hpp"
#include "probity/limits.hpp"
#include "probity/mapped_file.hpp"
#include "probity/policy.hpp"
#include "probity/version.hpp"
#include "probity/vulndb.hpp"

namespace probity {

using fleet::Backend;
using fleet::Param;
using fleet::Row;

namespace {

namespace fs = std::filesystem;

std::string iso(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::floor<std::chrono::seconds>(t));
}
std::string now_iso() {
  return iso(std::chrono::system_clock::now());
}

std::string str(const fleet::Value& v) {
  return v ? *v : std::string();
}
std::int64_t num(const fleet::Value& v) {
  std::int64_t out = 0;
  if (v) std::from_chars(v->data(), v->data() + v->size(), out);
  return out;
}
double dbl(const fleet::Value& v) {
  return v ? std::strtod(v->c_str(), nullptr) : 0.0;
}

std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const auto at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

Param text(const std::string& s) {
  return Param(s);
}
Param opt_text(bool present, const std::string& s) {
  return present ? Param(s) : Param();
}
Param i64(std::uint64_t v) {
  return Param(static_cast<std::int64_t>(v));
}

/// Schema files in order: data/fleet/schema/NNN-*.sql.
Result<std::vector<std::pair<int, fs::path>>> schema_files() {
  const fs::path dir = data_dir() / "fleet" / "schema";
  std::vector<std::pair<int, fs::path>> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    const auto name = it->path().filename().string();
    int n = 0;
    if (!name.ends_with(".sql") ||
        std::from_chars(name.data(), name.data() + name.size(), n).ec != std::errc())
      continue;
    out.emplace_back(n, it->path());
  }
  if (out.empty())
    return fail("the fleet schema files are missing (data/fleet/schema/*.sql)", 0, dir.string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

bool is_postgresql_url(const std::string& store) {
  return store.starts_with("postgresql://") || store.starts_with("postgres://");
}

struct FleetStore::Impl {
  std::unique_ptr<Backend> db;
  std::string name;  ///< the store as given (password redacted), for messages

  Result<std::vector<Row>> q(std::string_view sql, std::initializer_list<Param> params = {}) {
    return db->query(sql, std::span<const Param>(params.begin(), params.size()));
  }
  Status run(std::string_view sql, std::initializer_list<Param> params = {}) {
    auto r = q(sql, params);
    if (!r) return std::unexpected(r.error());
    return {};
  }
  Error named(Error e) {
    if (e.file.empty()) e.file = name;
    return e;
  }

  /// Rolls back unless committed.
  struct Tx {
    Backend* db;
    bool open = false;
    ~Tx() {
      if (open) db->rollback();
    }
    Status commit() {
      open = false;
      return db->commit();
    }
  };

  Status migrate() {
    auto files = schema_files();
    if (!files) return std::unexpected(files.error());
    if (auto s = db->begin(true); !s) return s;
    Tx tx{db.get(), true};
    if (auto s = db->script("CREATE TABLE IF NOT EXISTS fleet_schema (version INTEGER PRIMARY "
                            "KEY, file TEXT NOT NULL, applied_at TEXT NOT NULL)");
        !s)
      return s;
    auto have = q("SELECT COALESCE(MAX(version), 0) FROM fleet_schema");
    if (!have) return std::unexpected(have.error());
    const std::int64_t current = have->empty() ? 0 : num(have->front()[0]);
    for (const auto& [n, path] : *files) {
      if (n <= current) continue;
      auto sql = read_file_capped(path, 1 << 20);
      if (!sql) return std::unexpected(sql.error());
      std::string text = *sql;
      for (auto at = text.find("{{id}}"); at != std::string::npos; at = text.find("{{id}}"))
        text.replace(at, 6, db->id_column());
      if (auto s = db->script(text); !s) {
        Error e = s.error();
        e.message += " (applying " + path.filename().string() + ")";
        return std::unexpected(e);
      }
      if (auto s = run("INSERT INTO fleet_schema (version, file, applied_at) VALUES ($1, $2, $3)",
                       {Param(std::int64_t(n)), text_of(path), Param(now_iso())});
          !s)
        return s;
    }
    return tx.commit();
  }
  static Param text_of(const fs::path& p) { return Param(p.filename().string()); }

  /// One row of vulnerabilities / findings; a judgement with its clauses and reasons.
  Status put_vulnerability(const Param& iid, const Vulnerability& v);
  Status put_finding(const Param& iid, const Finding& f);
  Status put_judgement(const Param& iid, std::int64_t seq, const std::string& judged_at,
                       const char* how, const std::string& snapshot, const Verdict& v);
};

namespace {

/// The five suppression columns (NULL when not suppressed).
void add_suppression(std::vector<Param>& p, const std::optional<Suppression>& sup) {
  for (const std::string* v :
       {sup ? &sup->state : nullptr, sup ? &sup->justification : nullptr, sup ? &sup->by : nullptr,
        sup ? &sup->detail : nullptr, sup ? &sup->date : nullptr})
    p.push_back(v ? Param(*v) : Param());
}

}  // namespace

Status FleetStore::Impl::put_vulnerability(const Param& iid, const Vulnerability& v) {
  std::vector<Param> p = {iid,
                          text(v.id),
                          text(v.component),
                          text(v.version),
                          text(v.severity),
                          Param(v.cvss),
                          text(v.cvss_vector),
                          text(v.fixed_in),
                          text(join(v.cwe, ',')),
                          text(v.description),
                          text(v.published)};
  add_suppression(p, v.suppression);
  auto r = db->query(
      "INSERT INTO vulnerabilities (image_id, id, component, version, severity, cvss, "
      "cvss_vector, fixed_in, cwe, description, published, sup_state, sup_justification, sup_by, "
      "sup_detail, sup_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
      "$15, $16)",
      p);
  if (!r) return std::unexpected(r.error());
  return {};
}

Status FleetStore::Impl::put_finding(const Param& iid, const Finding& f) {
  std::vector<Param> p = {iid,
                          text(f.id),
                          text(f.rule),
                          text(f.category),
                          text(to_string(f.severity)),
                          text(f.path),
                          i64(f.container),
                          text(f.message),
                          text(f.evidence.excerpt),
                          i64(f.evidence.offset),
                          text(join(f.evidence.related, '\n')),
                          text(f.evidence.fingerprint)};
  add_suppression(p, f.suppression);
  auto r = db->query(
      "INSERT INTO findings (image_id, id, rule, category, severity, path, container, message, "
      "excerpt, at_offset, related, fingerprint, sup_state, sup_justification, sup_by, "
      "sup_detail, sup_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
      "$15, $16, $17)",
      p);
  if (!r) return std::unexpected(r.error());
  return {};
}

Status FleetStore::Impl::put_judgement(const Param& iid, std::int64_t seq,
                                       const std::string& judged_at, const char* how,
                                       const std::string& snapshot, const Verdict& v) {
  const Param n(seq);
  if (auto st = run("INSERT INTO judgements (image_id, seq, judged_at, how, db_snapshot, policy, "
                    "policy_sha256, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    {iid, n, text(judged_at), Param(std::string(how)), text(snapshot),
                     text(v.policy), text(v.policy_sha256), text(v.result)});
      !st)
    return st;
  for (const auto& c : v.clauses)
    if (auto st = run("INSERT INTO clauses (image_id, judgement, id, clause_text, pass, findings, "
                      "vulnerabilities) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                      {iid, n, text(c.id), text(c.text), i64(c.pass ? 1 : 0),
                       text(join(c.findings, '\n')), text(join(c.vulnerabilities, '\n'))});
        !st)
      return st;
  for (const auto& why : v.reasons)
    if (auto st = run("INSERT INTO reasons (image_id, judgement, code, reason_text, evidence) "
                      "VALUES ($1, $2, $3, $4, $5)",
                      {iid, n, text(why.code), text(why.text), text(why.evidence)});
        !st)
      return st;
  return {};
}

FleetStore::FleetStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FleetStore::FleetStore(FleetStore&&) noexcept = default;
FleetStore& FleetStore::operator=(FleetStore&&) noexcept = default;
FleetStore::~FleetStore() = default;

const char* FleetStore::kind() const {
  return impl_->db->kind();
}

Result<FleetStore> FleetStore::open(const std::string& store) {
  if (store.empty()) return fail("no store given (--store FILE.db or --store postgresql://...)");
  auto impl = std::make_unique<Impl>();
  impl->name = fleet::redact_url(store);
  if (store.find("://") != std::string::npos && !is_postgresql_url(store))
    return fail(
        "unknown store URL scheme (use postgresql://USER@HOST:PORT/DATABASE or a SQLite "
        "file path)",
        0, impl->name);
  auto b = is_postgresql_url(store) ? fleet::open_postgresql(store) : fleet::open_sqlite(store);
  if (!b) return std::unexpected(b.error());
  impl->db = std::move(*b);
  if (auto s = impl->migrate(); !s) {
    Error e = impl->named(s.error());
    e.message = "fleet store: " + e.message;
    return std::unexpected(e);
  }
  return FleetStore(std::move(impl));
}

Result<bool> FleetStore::has_image(const std::string& sha256, const std::string& version) {
  auto r = impl_->q("SELECT id FROM images WHERE sha256 = $1 AND probity_version = $2",
                    {text(sha256), text(version)});
  if (!r) return std::unexpected(impl_->named(r.error()));
  return !r->empty();
}

Result<std::size_t> FleetStore::image_count() {
  auto r = impl_->q("SELECT COUNT(*) FROM images");
  if (!r) return std::unexpected(impl_->named(r.error()));
  return r->empty() ? 0 : static_cast<std::size_t>(num(r->front()[0]));
}

// ---------------------------------------------------------------------------------------------
// Ingest

namespace {

/// The file's modification time, UTC ISO 8601.
std::string mtime_iso(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return now_iso();
  return iso(std::chrono::system_clock::from_time_t(st.st_mtime));
}

/// What manifest.json adds to a report: containers and regions (report.json has neither).
struct ManifestPart {
  std::vector<Container> containers;
  std::vector<Region> regions;
};

Result<ManifestPart> read_manifest(const fs::path& path) {
  auto bytes = read_file_capped(path, kMaxReportBytes);
  if (!bytes) return std::unexpected(bytes.error());
  // The files array is the bulk of a manifest and is not needed here: dropped while parsing.
  auto j = parse_json_bounded(
      *bytes, path.string(), kMaxReportBytes,
      [](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& v) {
        return !(depth == 1 && ev == nlohmann::json::parse_event_t::key && v == "files");
      });
  if (!j) return std::unexpected(j.error());
  if (!j->is_object() || j->value("schema", "") != "probity-manifest")
    return fail("not a probity manifest (\"schema\" is not \"probity-manifest\")", 0,
                path.string());
  ManifestPart out;
  try {
    for (const auto& c : j->value("containers", nlohmann::json::array())) {
      Container x;
      x.id = c.at("id").get<std::uint32_t>();
      x.parent = c.value("parent", 0u);
      x.source = c.value("source", "");
      x.offset = c.value("offset", std::uint64_t(0));
      x.length = c.value("length", std::uint64_t(0));
      x.format = c.value("format", "");
      x.depth = c.value("depth", 0u);
      x.complete = c.value("complete", true);
      out.containers.push_back(std::move(x));
    }
    for (const auto& r : j->value("regions", nlohmann::json::array())) {
      Region x;
      x.container = r.value("container", 0u);
      x.source = r.value("source", "");
      x.offset = r.value("offset", std::uint64_t(0));
      x.size = r.value("size", std::uint64_t(0));
      x.understood = r.value("understood", false);
      x.entropy = r.value("entropy", 0.0);
      out.regions.push_back(std::move(x));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("a container or region has a field of the wrong type: ") + e.what(), 0,
                path.string());
  }
  return out;
}

/// tool.version of a report.json (read_report keeps no tool). probity writes "tool" before the
/// bulky arrays, so a SAX pass stops there; the file was already checked by read_report.
Result<std::string> report_tool_version(const fs::path& path) {
  auto file = MappedFile::open(path);
  if (!file) return std::unexpected(file.error());
  struct Sax : nlohmann::json_sax<nlohmann::json> {
    int depth = 0;
    bool in_tool = false, want = false, done = false;
    std::string version;
    bool null() override { return !done; }
    bool boolean(bool) override { return !done; }
    bool number_integer(number_integer_t) override { return !done; }
    bool number_unsigned(number_unsigned_t) override { return !done; }
    bool number_float(number_float_t, const string_t&) override { return !done; }
    bool string(string_t& v) override {
      if (want) {
        version = v;
        done = true;
      }
      return !done;
    }
    bool binary(binary_t&) override { return !done; }
    bool start_object(std::size_t) override { return ++depth, !done; }
    bool end_object() override {
      if (--depth == 1) in_tool = false;
      return !done;
    }
    bool start_array(std::size_t) override { return ++depth, !done; }
    bool end_array() override { return --depth, !done; }
    bool key(string_t& k) override {
      if (depth == 1) in_tool = k == "tool";
      want = in_tool && depth == 2 && k == "version";
      return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
      return false;
    }
  } sax;
  auto bytes = file->bytes();
  (void)nlohmann::json::sax_parse(bytes.begin(), bytes.end(), &sax);
  if (sax.version.empty())
    return fail("corrupt report, nothing ingested: no tool.version", 0, path.string());
  return sax.version;
}

}  // namespace

Result<IngestResult> FleetStore::ingest(const fs::path& scan) {
  std::error_code ec;
  const bool dir = fs::is_directory(scan, ec);
  const fs::path report_path = dir ? scan / "report.json" : scan;
  if (!fs::is_regular_file(report_path, ec))
    return fail(dir ? "no report.json in the scan directory" : "no such report file", 0,
                report_path.string());
  auto report = read_report(report_path);
  if (!report) {
    Error e = report.error();
    e.message = "corrupt report, nothing ingested: " + e.message;
    return std::unexpected(e);
  }
  auto version = report_tool_version(report_path);
  if (!version) return std::unexpected(version.error());
  const fs::path manifest = report_path.parent_path() / "manifest.json";
  return ingest(*report, *version, report_path.string(), mtime_iso(report_path),
                fs::is_regular_file(manifest, ec) ? manifest : fs::path());
}

Result<IngestResult> FleetStore::ingest(const Report& r, const std::string& version,
                                        const std::string& source, const std::string& scanned_at,
                                        const fs::path& manifest_path) {
  const ImageInfo& image = r.tree.image;
  const auto bad = [&](const std::string& why) {
    return fail("corrupt report, nothing ingested: " + why, 0, source);
  };
  if (image.sha256.size() != 64 || !from_hex(image.sha256)) return bad("no image sha256");
  if (version.empty()) return bad("no probity version (tool.version)");
  ManifestPart manifest;
  if (!manifest_path.empty()) {
    auto m = read_manifest(manifest_path);
    if (!m) {
      Error e = m.error();
      e.message = "corrupt manifest, nothing ingested: " + e.message;
      return std::unexpected(e);
    }
    manifest = std::move(*m);
  }
  IngestResult out{image.sha256, image.name, version, 0, false};
  Impl& s = *impl_;
  auto err = [&](Error e) -> Result<IngestResult> {
    e.message = "nothing ingested for " + source + ": " + e.message;
    return std::unexpected(s.named(std::move(e)));
  };
  if (auto b = s.db->begin(false); !b) return err(b.error());
  Impl::Tx tx{s.db.get(), true};
  auto have = s.q("SELECT id FROM images WHERE sha256 = $1 AND probity_version = $2",
                  {text(image.sha256), text(version)});
  if (!have) return err(have.error());
  if (!have->empty()) {
    out.image_id = num(have->front()[0]);
    return out;
  }
  // report.json keeps the data files a scan missed only as data-missing reasons.
  std::vector<std::string> missing = r.data_missing;
  if (missing.empty() && r.verdict)
    for (const auto& why : r.verdict->reasons)
      if (why.code == "data-missing") missing.push_back(why.evidence);
  auto id = s.q(
      "INSERT INTO images (sha256, probity_version, name, size, scanned_at, ingested_at, source, "
      "db_snapshot, coverage_bytes, coverage_understood, has_manifest, data_missing) VALUES ($1, "
      "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
      {text(image.sha256), text(version), text(image.name), i64(image.size), text(scanned_at),
       text(now_iso()), text(source), text(r.db_snapshot), i64(r.tree.coverage.bytes),
       i64(r.tree.coverage.understood), Param(std::int64_t(manifest_path.empty() ? 0 : 1)),
       text(join(missing, '\n'))});
  if (!id) {
    // Another worker stored the same image between our check and our insert.
    if (s.db->last_was_conflict()) return out;
    return err(id.error());
  }
  if (id->empty()) return err(Error{"no image id returned", {}, 0, {}});
  const std::int64_t image_id = num(id->front()[0]);
  out.image_id = image_id;
  const Param iid(image_id);

  // Root filesystems from the report's own files (top-level markers), by container.
  std::map<std::uint32_t, std::string> roots;
  {
    ArtifactTree t;
    t.files = r.tree.files;
    t.containers = manifest.containers;
    for (const auto& rf : find_root_filesystems(t)) roots[rf.container] = join(rf.markers, ',');
  }
  std::set<std::uint32_t> written;
  for (const auto& c : manifest.containers) {
    const auto root = roots.find(c.id);
    if (auto st = s.run("INSERT INTO containers (image_id, id, parent, format, source, at_offset, "
                        "length, depth, complete, root_markers) VALUES ($1, $2, $3, $4, $5, $6, "
                        "$7, $8, $9, $10)",
                        {iid, i64(c.id), i64(c.parent), text(c.format), text(c.source),
                         i64(c.offset), i64(c.length), i64(c.depth), i64(c.complete ? 1 : 0),
                         text(root == roots.end() ? "" : root->second)});
        !st)
      return err(st.error());
    written.insert(c.id);
  }
  for (const auto& [cid, markers] : roots)  // without a manifest: the root filesystems only
    if (!written.contains(cid))
      if (auto st = s.run("INSERT INTO containers (image_id, id, parent, format, source, "
                          "at_offset, length, depth, complete, root_markers) VALUES ($1, $2, 0, "
                          "'', '', 0, 0, 0, 1, $3)",
                          {iid, i64(cid), text(markers)});
          !st)
        return err(st.error());
  for (const auto& reg : manifest.regions)
    if (!reg.understood && reg.entropy >= kEncryptedEntropy)
      if (auto st = s.run("INSERT INTO unexplained (image_id, container, source, at_offset, size, "
                          "entropy) VALUES ($1, $2, $3, $4, $5, $6)",
                          {iid, i64(reg.container), text(reg.source), i64(reg.offset),
                           i64(reg.size), Param(reg.entropy)});
          !st)
        return err(st.error());
  for (const auto& w : r.tree.warnings)
    if (w.code.starts_with("cap-"))
      if (auto st = s.run(
              "INSERT INTO cap_warnings (image_id, code, message, container, entry, "
              "at_offset) VALUES ($1, $2, $3, $4, $5, $6)",
              {iid, text(w.code), text(w.message), i64(w.container), text(w.entry), i64(w.offset)});
          !st)
        return err(st.error());

  std::map<std::pair<std::uint32_t, std::string>, const FileRecord*> files;
  for (const auto& f : r.tree.files) files.emplace(std::pair{f.container, f.path}, &f);
  for (std::size_t i = 0; i < r.components.size(); ++i) {
    const Component& c = r.components[i];
    const bool eol = c.eol.has_value();
    if (auto st = s.run(
            "INSERT INTO components (image_id, seq, name, version, vendor, purl, cpe, "
            "source, eol_cycle, eol_date, eol_reached, cpe_aliases) VALUES ($1, $2, $3, $4, $5, "
            "$6, $7, $8, $9, $10, $11, $12)",
            {iid, i64(i), text(c.name), text(c.version), text(c.vendor), text(c.purl), text(c.cpe),
             text(c.source), opt_text(eol, eol ? c.eol->cycle : ""),
             opt_text(eol, eol ? c.eol->date : ""), eol ? i64(c.eol->reached ? 1 : 0) : Param(),
             text(join(c.cpe_aliases, '\n'))});
        !st)
      return err(st.error());
    for (const Evidence& e : c.evidence) {
      auto f = files.find({e.container, e.path});
      if (auto st = s.run(
              "INSERT INTO component_evidence (image_id, component, path, container, "
              "at_offset, excerpt, method, location, kind, confidence) VALUES ($1, $2, $3, $4, "
              "$5, $6, $7, $8, $9, $10)",
              {iid, i64(i), text(e.path), i64(e.container), i64(e.offset), text(e.excerpt),
               text(e.method), text(f == files.end() ? "" : normalised_location(*f->second)),
               text(e.kind), Param(e.confidence)});
          !st)
        return err(st.error());
    }
  }
  for (const auto& v : r.vulnerabilities)
    if (auto st = s.put_vulnerability(iid, v); !st) return err(st.error());
  if (auto st = s.run("DELETE FROM keys WHERE image_sha256 = $1 AND image_id IS NULL",
                      {text(image.sha256)});
      !st)
    return err(st.error());
  const std::string seen = now_iso();
  for (const auto& f : r.findings) {
    if (auto st = s.put_finding(iid, f); !st) return err(st.error());
    if (!f.evidence.fingerprint.empty() && f.rule != "fleet-wide-key")
      if (auto st = s.run("INSERT INTO keys (image_id, image_sha256, image_name, fingerprint, "
                          "rule, path, excerpt, seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                          {iid, text(image.sha256), text(image.name), text(f.evidence.fingerprint),
                           text(f.rule), text(f.path), text(f.evidence.excerpt), text(seen)});
          !st)
        return err(st.error());
  }
  if (r.verdict)
    if (auto st = s.put_judgement(iid, 1, scanned_at, "scan", r.db_snapshot, *r.verdict); !st)
      return err(st.error());
  if (auto st = tx.commit(); !st) {
    if (s.db->last_was_conflict()) return out;
    return err(st.error());
  }
  out.stored = true;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fleet-wide keys (the finding of `scan --fleet-index`)

Result<std::vector<Finding>> FleetStore::join_keys(const Report& report) {
  const ImageInfo& image = report.tree.image;
  Impl& s = *impl_;
  // Read the other images' sightings and record ours in one exclusive transaction, so that two
  // scans of images sharing a key both see each other whatever their timing.
  if (auto b = s.db->begin(true); !b) return std::unexpected(s.named(b.error()));
  Impl::Tx tx{s.db.get(), true};
  std::map<std::pair<std::uint32_t, std::string>, std::string> locations;
  for (const auto& f : report.tree.files)
    locations.emplace(std::pair{f.container, f.path}, normalised_location(f));
  const std::string seen = now_iso();
  const std::string others_sql = fmt::format(
      "SELECT image_name, image_sha256, path FROM keys WHERE fingerprint = $1 AND image_sha256 "
      "<> $2 GROUP BY image_name, image_sha256, path ORDER BY MIN(seen), image_name, path "
      "LIMIT {}",
      kMaxFleetSightings);
  std::vector<Finding> out;
  for (const Finding& f : report.findings) {
    const std::string& fp = f.evidence.fingerprint;
    if (fp.empty() || f.rule == "fleet-wide-key") continue;
    auto hits = s.q(others_sql, {text(fp), text(image.sha256)});
    if (!hits) return std::unexpected(s.named(hits.error()));
    if (!hits->empty()) {
      auto count =
          s.q("SELECT COUNT(DISTINCT image_sha256) FROM keys WHERE fingerprint = $1 AND "
              "image_sha256 <> $2",
              {text(fp), text(image.sha256)});
      if (!count) return std::unexpected(s.named(count.error()));
      const std::int64_t images =
          count->empty() ? std::int64_t(hits->size()) : num(count->front()[0]);
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
      for (const auto& h : *hits) {
        std::string r = str(h[0]) + " (sha256:" + str(h[1]).substr(0, 12) + "): " + str(h[2]);
        where += (where.empty() ? "" : "; ") + r;
        w.evidence.related.push_back(r);
      }
      const bool authorized = f.rule == "authorized-key";
      w.message = fmt::format(
          "the {} {} is also in {} other image{}: {}{}; {}",
          authorized ? "authorized SSH key" : "key", fp, images, images == 1 ? "" : "s", where,
          hits->size() == kMaxFleetSightings ? " (only the first kMaxFleetSightings listed)" : "",
          authorized ? "whoever holds its private half can log in to every device of the fleet"
                     : "whoever extracts it from one device holds it for every device of the "
                       "fleet");
      w.evidence.excerpt = f.evidence.excerpt;
      w.evidence.offset = f.evidence.offset;
      w.evidence.fingerprint = fp;
      out.push_back(std::move(w));
    }
    auto there =
        s.q("SELECT 1 FROM keys WHERE fingerprint = $1 AND image_sha256 = $2 AND path = "
            "$3 AND rule = $4",
            {text(fp), text(image.sha256), text(f.path), text(f.rule)});
    if (!there) return std::unexpected(s.named(there.error()));
    if (there->empty())
      if (auto st = s.run("INSERT INTO keys (image_id, image_sha256, image_name, fingerprint, "
                          "rule, path, excerpt, seen) VALUES (NULL, $1, $2, $3, $4, $5, $6, $7)",
                          {text(image.sha256), text(image.name), text(fp), text(f.rule),
                           text(f.path), text(f.evidence.excerpt), text(seen)});
          !st)
        return std::unexpected(s.named(st.error()));
  }
  if (auto st = tx.commit(); !st) return std::unexpected(s.named(st.error()));
  // One finding per (key, file) even when several rules saw the same key in one file.
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.id < b.id; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Finding& a, const Finding& b) { return a.id == b.id; }),
            out.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Queries

Result<std::vector<ComponentHit>> FleetStore::query_component(const std::string& name,
                                                              const std::string& below) {
  auto rows = impl_->q(
      "SELECT i.sha256, i.name, c.version, COUNT(*) FROM components c JOIN images i ON i.id = "
      "c.image_id WHERE c.name = $1 GROUP BY i.sha256, i.name, c.version ORDER BY i.name, "
      "i.sha256, c.version",
      {text(name)});
  if (!rows) return std::unexpected(impl_->named(rows.error()));
  std::vector<ComponentHit> out;
  for (const auto& r : *rows) {
    ComponentHit h{str(r[0]), str(r[1]), name, str(r[2]), static_cast<std::size_t>(num(r[3]))};
    // An unknown version cannot be said to be below anything: left out of --below.
    if (!below.empty() && (h.version.empty() || compare_versions(h.version, below) >= 0)) continue;
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<SharedKey>> FleetStore::query_shared_keys() {
  auto rows = impl_->q(
      "SELECT k.fingerprint, k.image_sha256, k.image_name, k.path, k.rule FROM keys k WHERE "
      "k.image_id IS NOT NULL AND k.fingerprint IN (SELECT fingerprint FROM keys WHERE image_id "
      "IS NOT NULL GROUP BY fingerprint HAVING COUNT(DISTINCT image_sha256) > 1) ORDER BY "
      "k.fingerprint, k.image_name, k.image_sha256, k.path, k.rule");
  if (!rows) return std::unexpected(impl_->named(rows.error()));
  std::vector<SharedKey> out;
  std::set<std::string> images;
  for (const auto& r : *rows) {
    if (out.empty() || out.back().fingerprint != str(r[0])) {
      if (!out.empty()) out.back().images = images.size();
      images.clear();
      out.push_back({str(r[0]), {}, 0});
    }
    SharedKey::Sighting s{str(r[1]), str(r[2]), str(r[3]), str(r[4])};
    auto& list = out.back().sightings;
    if (!list.empty() && list.back().sha256 == s.sha256 && list.back().path == s.path) continue;
    images.insert(s.sha256);
    list.push_back(std::move(s));
  }
  if (!out.empty()) out.back().images = images.size();
  return out;
}

Result<std::vector<CveHit>> FleetStore::query_cve(const std::string& id) {
  auto rows = impl_->q(
      "SELECT i.sha256, i.name, v.component, v.version, v.severity, v.cvss, v.sup_state FROM "
      "vulnerabilities v JOIN images i ON i.id = v.image_id WHERE v.id = $1 ORDER BY i.name, "
      "i.sha256, v.component, v.version",
      {text(id)});
  if (!rows) return std::unexpected(impl_->named(rows.error()));
  std::vector<CveHit> out;
  for (const auto& r : *rows)
    out.push_back(
        {str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), dbl(r[5]), r[6].has_value()});
  return out;
}

Result<std::vector<VerdictChange>> FleetStore::verdict_changes(const std::string& since) {
  if (since.empty()) return fail("--since needs a database snapshot id (or a prefix of one)");
  auto rows = impl_->q(
      "SELECT i.sha256, i.name, j.image_id, j.seq, j.db_snapshot, j.result FROM judgements j JOIN "
      "images i ON i.id = j.image_id ORDER BY i.name, i.sha256, j.image_id, j.seq");
  if (!rows) return std::unexpected(impl_->named(rows.error()));
  std::vector<VerdictChange> out;
  for (std::size_t i = 0; i < rows->size();) {
    std::size_t end = i;
    while (end < rows->size() && (*rows)[end][2] == (*rows)[i][2]) ++end;
    const Row* before = nullptr;
    for (std::size_t k = i; k < end; ++k)
      if (str((*rows)[k][4]).starts_with(since)) before = &(*rows)[k];
    const Row& after = (*rows)[end - 1];
    if (before && str((*before)[5]) != str(after[5]))
      out.push_back({str(after[0]), str(after[1]), str((*before)[5]), str(after[5]),
                     str((*before)[4]), str(after[4])});
    i = end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Re-judging from stored rows

namespace {

bool component_rule(const std::string& rule) {
  return rule == "vulnerable-component" || rule == "outdated-component";
}

std::optional<Suppression> suppression_of(const Row& r, std::size_t at) {
  if (!r[at]) return std::nullopt;
  return Suppression{str(r[at]), str(r[at + 1]), str(r[at + 2]), str(r[at + 3]), str(r[at + 4])};
}

/// Rows of one table for every image, grouped by image id (column 0).
Result<std::map<std::int64_t, std::vector<Row>>> by_image(FleetStore::Impl& s,
                                                          std::string_view sql) {
  auto rows = s.q(sql);
  if (!rows) return std::unexpected(rows.error());
  std::map<std::int64_t, std::vector<Row>> out;
  for (auto& r : *rows) out[num(r[0])].push_back(std::move(r));
  return out;
}

const std::vector<Row>& rows_of(const std::map<std::int64_t, std::vector<Row>>& m,
                                std::int64_t id) {
  static const std::vector<Row> kNone;
  auto it = m.find(id);
  return it == m.end() ? kNone : it->second;
}

}  // namespace

Result<RejudgeStats> FleetStore::rejudge(const RejudgeOptions& opt) {
  Impl& s = *impl_;
  const fs::path db_path = opt.db.empty() ? default_vuln_db_path() : opt.db;
  if (!fs::is_regular_file(db_path))
    return fail("cannot read the vulnerability database", 0, db_path.string());
  auto vdb = VulnDb::open(db_path);
  if (!vdb) return std::unexpected(vdb.error());
  auto status = vdb->status();
  if (!status) return std::unexpected(status.error());
  std::string imported_at;
  for (const auto& src : status->sources) imported_at = std::max(imported_at, src.imported_at);
  auto policy = load_policy(opt.policy.empty() ? default_policy_path() : opt.policy);
  if (!policy) return std::unexpected(policy.error());

  // Everything a verdict needs, read table by table (a few queries for the whole fleet, not a
  // few per image: a PostgreSQL round trip costs more than the rows).
  auto images =
      s.q("SELECT id, sha256, name, size, coverage_bytes, coverage_understood, has_manifest, "
          "data_missing FROM images ORDER BY id");
  if (!images) return std::unexpected(s.named(images.error()));
  auto load = [&](std::string_view sql) { return by_image(s, sql); };
  auto components = load(
      "SELECT image_id, seq, name, version, vendor, purl, cpe, source, eol_cycle, eol_date, "
      "eol_reached, cpe_aliases FROM components ORDER BY image_id, seq");
  auto evidence = load(
      "SELECT image_id, component, path, container, at_offset, excerpt, method, location, kind, "
      "confidence FROM component_evidence ORDER BY image_id, component");
  auto findings = load(
      "SELECT image_id, id, rule, category, severity, path, container, message, excerpt, "
      "at_offset, related, fingerprint, sup_state, sup_justification, sup_by, sup_detail, "
      "sup_date FROM findings ORDER BY image_id");
  auto vulns = load(
      "SELECT image_id, id, sup_state, sup_justification, sup_by, sup_detail, sup_date FROM "
      "vulnerabilities WHERE sup_state IS NOT NULL ORDER BY image_id");
  auto containers = load(
      "SELECT image_id, id, parent, format, source, at_offset, length, depth, complete, "
      "root_markers FROM containers ORDER BY image_id, id");
  auto unexplained = load(
      "SELECT image_id, container, source, at_offset, size, entropy FROM unexplained ORDER BY "
      "image_id");
  auto caps = load(
      "SELECT image_id, code, message, container, entry, at_offset FROM cap_warnings ORDER BY "
      "image_id");
  auto latest = load(
      "SELECT j.image_id, j.seq, j.result FROM judgements j WHERE j.seq = (SELECT MAX(seq) FROM "
      "judgements k WHERE k.image_id = j.image_id)");
  // Without manifest.json the containers' completeness and the regions are unknown: what the
  // scan said of them is carried over.
  auto carried = load(
      "SELECT image_id, code, reason_text, evidence FROM reasons WHERE judgement = 1 AND code IN "
      "('container-failed', 'unexplained-bytes')");
  for (auto* t : {&components, &evidence, &findings, &vulns, &containers, &unexplained, &caps,
                  &latest, &carried})
    if (!*t) return std::unexpected(s.named(t->error()));

  RejudgeStats stats;
  stats.db_snapshot = status->snapshot;
  MatchCache cache;
  const std::string judged_at = now_iso();
  std::size_t in_batch = 0;
  std::optional<Impl::Tx> tx;
  auto put = [&](std::string_view sql, std::initializer_list<Param> params) {
    return s.run(sql, params);
  };
  for (const Row& img : *images) {
    const std::int64_t id = num(img[0]);
    Report r;
    r.tree.image = {"", str(img[2]), str(img[1]), static_cast<std::uint64_t>(num(img[3]))};
    r.tree.coverage.bytes = static_cast<std::uint64_t>(num(img[4]));
    r.tree.coverage.understood = static_cast<std::uint64_t>(num(img[5]));
    const bool has_manifest = num(img[6]) != 0;
    r.data_missing = split(str(img[7]), '\n');
    for (const Row& c : rows_of(*containers, id)) {
      Container x;
      x.id = static_cast<std::uint32_t>(num(c[1]));
      x.parent = static_cast<std::uint32_t>(num(c[2]));
      x.format = str(c[3]);
      x.source = str(c[4]);
      x.offset = static_cast<std::uint64_t>(num(c[5]));
      x.length = static_cast<std::uint64_t>(num(c[6]));
      x.depth = static_cast<std::uint32_t>(num(c[7]));
      x.complete = num(c[8]) != 0;
      if (has_manifest) r.tree.containers.push_back(x);
      // The root filesystem's top-level markers stand in for its files.
      for (const auto& m : split(str(c[9]), ',')) {
        FileRecord f;
        f.path = m;
        f.container = x.id;
        f.type = m == "init" ? EntryType::kFile : EntryType::kDir;
        r.tree.files.push_back(std::move(f));
      }
    }
    for (const Row& u : rows_of(*unexplained, id))
      r.tree.regions.push_back(
          {static_cast<std::uint32_t>(num(u[1])), str(u[2]), static_cast<std::uint64_t>(num(u[3])),
           static_cast<std::uint64_t>(num(u[4])), "", false, dbl(u[5]), false});
    for (const Row& w : rows_of(*caps, id))
      r.tree.warnings.push_back({str(w[1]), str(w[2]), static_cast<std::uint32_t>(num(w[3])),
                                 str(w[4]), static_cast<std::uint64_t>(num(w[5]))});
    std::map<std::int64_t, std::size_t> seq_to_index;
    for (const Row& c : rows_of(*components, id)) {
      Component x;
      x.name = str(c[2]);
      x.version = str(c[3]);
      x.vendor = str(c[4]);
      x.purl = str(c[5]);
      x.cpe = str(c[6]);
      x.source = str(c[7]);
      if (c[8]) x.eol = Eol{str(c[8]), str(c[9]), num(c[10]) != 0};
      // The vulnerability match asks for every alias, as scan's does (schema 002).
      x.cpe_aliases = split(str(c[11]), '\n');
      seq_to_index[num(c[1])] = r.components.size();
      r.components.push_back(std::move(x));
    }
    std::set<std::pair<std::uint32_t, std::string>> evidence_files;
    for (const Row& e : rows_of(*evidence, id)) {
      auto at = seq_to_index.find(num(e[1]));
      if (at == seq_to_index.end()) continue;
      Evidence ev{str(e[2]),
                  static_cast<std::uint32_t>(num(e[3])),
                  static_cast<std::uint64_t>(num(e[4])),
                  str(e[5]),
                  str(e[6]),
                  str(e[8]),
                  dbl(e[9])};
      // The file stands in with the normalised location recorded at ingest, so that component
      // finding ids come out as the scan made them.
      const std::string location = str(e[7]);
      if (!location.empty() && location.ends_with(":" + ev.path) &&
          evidence_files.insert({ev.container, ev.path}).second) {
        FileRecord f;
        f.path = ev.path;
        f.container = ev.container;
        f.origin = {{"", 0, location.substr(0, location.size() - ev.path.size() - 1)}};
        r.tree.files.push_back(std::move(f));
      }
      r.components[at->second].evidence.push_back(std::move(ev));
    }
    std::vector<SuppressionEntry> decisions;
    for (const Row& f : rows_of(*findings, id)) {
      const std::string rule = str(f[2]);
      if (component_rule(rule)) {
        if (auto sup = suppression_of(f, 12)) decisions.push_back({str(f[1]), *sup});
        continue;
      }
      Finding x;
      x.id = str(f[1]);
      x.rule = rule;
      x.category = str(f[3]);
      x.severity = parse_severity(str(f[4])).value_or(Severity::kInfo);
      x.path = str(f[5]);
      x.container = static_cast<std::uint32_t>(num(f[6]));
      x.message = str(f[7]);
      x.evidence.excerpt = str(f[8]);
      x.evidence.offset = static_cast<std::uint64_t>(num(f[9]));
      x.evidence.related = split(str(f[10]), '\n');
      x.evidence.fingerprint = str(f[11]);
      x.suppression = suppression_of(f, 12);
      r.findings.push_back(std::move(x));
    }
    for (const Row& v : rows_of(*vulns, id))
      if (auto sup = suppression_of(v, 2)) decisions.push_back({str(v[1]), *sup});

    auto matched = match_components(*vdb, r.components, &cache);
    if (!matched) return std::unexpected(matched.error());
    r.vulnerabilities = std::move(*matched);
    r.db_snapshot = status->snapshot;
    r.db_vulnerabilities = status->vulnerabilities;
    r.db_imported_at = imported_at;
    auto from_components = component_findings(r);
    r.findings.insert(r.findings.end(), from_components.begin(), from_components.end());
    (void)apply_suppressions(r, decisions);  // decisions whose finding is gone match nothing
    Verdict v = judge(*policy, r);
    if (!has_manifest)
      for (const Row& why : rows_of(*carried, id)) {
        v.reasons.push_back({str(why[1]), str(why[2]), str(why[3])});
        if (v.result == "pass") {
          v.result = "inconclusive";
          v.pass = false;
        }
      }

    const auto& last = rows_of(*latest, id);
    const std::int64_t seq = last.empty() ? 1 : num(last.front()[1]) + 1;
    if (!last.empty() && str(last.front()[2]) != v.result) ++stats.changed;

    if (!tx) {
      if (auto b = s.db->begin(false); !b) return std::unexpected(s.named(b.error()));
      tx.emplace(s.db.get(), true);
    }
    const Param iid(id);
    auto write = [&]() -> Status {
      if (auto st = put("DELETE FROM vulnerabilities WHERE image_id = $1", {iid}); !st) return st;
      for (const auto& x : r.vulnerabilities)
        if (auto st = s.put_vulnerability(iid, x); !st) return st;
      if (auto st = put("DELETE FROM findings WHERE image_id = $1 AND rule IN "
                        "('vulnerable-component', 'outdated-component')",
                        {iid});
          !st)
        return st;
      for (const auto& f : r.findings)
        if (component_rule(f.rule))
          if (auto st = s.put_finding(iid, f); !st) return st;
      return s.put_judgement(iid, seq, judged_at, "rejudge", status->snapshot, v);
    };
    if (auto st = write(); !st) return std::unexpected(s.named(st.error()));
    stats.vulnerabilities += r.vulnerabilities.size();
    ++stats.images;
    if (++in_batch == kRejudgeBatch) {
      if (auto st = tx->commit(); !st) return std::unexpected(s.named(st.error()));
      tx.reset();
      in_batch = 0;
    }
  }
  if (tx)
    if (auto st = tx->commit(); !st) return std::unexpected(s.named(st.error()));
  return stats;
}

// ---------------------------------------------------------------------------------------------
// Batch tasks

Status FleetStore::add_tasks(const std::string& job, const std::vector<std::string>& images) {
  Impl& s = *impl_;
  if (auto b = s.db->begin(false); !b) return std::unexpected(s.named(b.error()));
  Impl::Tx tx{s.db.get(), true};
  const std::string now = now_iso();
  for (std::size_t i = 0; i < images.size(); ++i)
    if (auto st = s.run("INSERT INTO tasks (job, task, image, state, attempts, error, updated_at) "
                        "VALUES ($1, $2, $3, 'pending', 0, '', $4)",
                        {text(job), i64(i), text(images[i]), text(now)});
        !st)
      return std::unexpected(s.named(st.error()));
  return tx.commit();
}

Status FleetStore::set_task(const std::string& job, std::int64_t task, const std::string& state,
                            const std::string& error) {
  auto st = impl_->run(
      "UPDATE tasks SET state = $1, error = $2, updated_at = $3, attempts = attempts + $4 WHERE "
      "job = $5 AND task = $6",
      {text(state), text(error), text(now_iso()), Param(std::int64_t(state == "running" ? 1 : 0)),
       text(job), Param(task)});
  if (!st) return std::unexpected(impl_->named(st.error()));
  return {};
}

Result<std::vector<std::string>> FleetStore::task_images(const std::string& job) {
  auto rows = impl_->q("SELECT image FROM tasks WHERE job = $1 ORDER BY task", {text(job)});
  if (!rows) return std::unexpected(impl_->named(rows.error()));
  std::vector<std::string> out;
  for (const auto& r : *rows) out.push_back(str(r[0]));
  return out;
}

Result<TaskCounts> FleetStore::task_counts(const std::string& job) {
  auto rows =
      impl_->q("SELECT state, image, error FROM tasks WHERE job = $1 ORDER BY task", {text(job)});
  if (!rows) return std::unexpected(impl_->named(rows.error()));
  TaskCounts c;
  for (const auto& r : *rows) {
    const std::string state = str(r[0]);
    if (state == "pending")
      ++c.pending;
    else if (state == "running")
      ++c.running;
    else if (state == "done")
      ++c.done;
    else if (state == "skipped")
      ++c.skipped;
    else {
      ++c.failed;
      c.failures.emplace_back(str(r[1]), str(r[2]));
    }
  }
  return c;
}

Result<std::vector<std::string>> FleetStore::jobs() {
  auto rows =
      impl_->q("SELECT job, MIN(updated_at) FROM tasks GROUP BY job ORDER BY 2 DESC, 1 DESC");
  if (!rows) return std::unexpected(impl_->named(rows.error()));
  std::vector<std::string> out;
  for (const auto& r : *rows) out.push_back(str(r[0]));
  return out;
}

}  // namespace probity
