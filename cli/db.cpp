// probity db import PATH... [--db FILE] [--quiet]
// probity db import SNAPSHOT --trust PUB [--db FILE]
// probity db export --out FILE --key KEY [--db FILE]
// probity db status [--db FILE] [--json]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "probity/vulndb.hpp"

namespace probity::cli {
namespace {

namespace fs = std::filesystem;

struct DbArgs {
  std::vector<std::string> paths;
  std::string db;
  bool quiet = false;
  bool json = false;
  std::string trust, out, key;
  VulnUpdateOptions update;
  long min_interval_ms = -1, backoff_ms = 2000;
  std::vector<std::string> skip;
};

// What a directory walk imports: JSON feeds (NVD, CVE 5, OSV, KEV, kernel branches, vendor
// tables), EPSS CSV, endoflife.date product files (*.md, not README.md) and CPE alias tables
// (*aliases*.tsv); each also gzip-compressed.
bool is_feed(const fs::path& p) {
  std::string name = p.filename().string();
  if (name.ends_with(".gz")) name.resize(name.size() - 3);
  if (name.starts_with("README")) return false;
  return name.ends_with(".json") || name.ends_with(".csv") || name.ends_with(".md") ||
         (name.ends_with(".tsv") && name.find("aliases") != std::string::npos);
}

// Files to import, in a stable order (directories recursively, sorted by path).
std::vector<fs::path> expand(const std::vector<std::string>& paths, std::string& error) {
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec))
        if (it->is_regular_file() && is_feed(it->path())) found.push_back(it->path());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.emplace_back(p);
    } else {
      error = fmt::format("{}: no such file or directory", p);
      return {};
    }
  }
  return out;
}

// A signed snapshot: verified, then swapped in whole (never merged).
int run_import_snapshot(const DbArgs& a) {
  const fs::path db_path = a.db.empty() ? default_vuln_db_path() : fs::path(a.db);
  if (a.paths.size() != 1) {
    fmt::print(stderr, "probity db import: a snapshot is imported alone (one FILE)\n");
    return kExitUsage;
  }
  if (!is_vuln_snapshot(a.paths.front())) {
    fmt::print(stderr,
               "probity db import: {}: --trust is for signed snapshots (`probity db "
               "export`), and this is not one\n",
               a.paths.front());
    return kExitUsage;
  }
  auto info = import_vuln_snapshot(a.paths.front(), a.trust, db_path);
  if (!info) {
    fmt::print(stderr, "probity db import: {}\n", info.error().to_string());
    return kExitUsage;
  }
  if (!a.quiet)
    fmt::print("verified snapshot signed by {}\nsnapshot {}\ndate {}\nexported {}\ndatabase {}\n",
               info->signer, info->snapshot, info->date.empty() ? "unknown" : info->date,
               info->created, db_path.string());
  return kExitOk;
}

int run_export(const DbArgs& a) {
  const fs::path db_path = a.db.empty() ? default_vuln_db_path() : fs::path(a.db);
  auto info = export_vuln_snapshot(db_path, a.out, a.key);
  if (!info) {
    fmt::print(stderr, "probity db export: {}\n", info.error().to_string());
    return kExitUsage;
  }
  fmt::print("wrote {} ({} bytes of database)\nsnapshot {}\ndate {}\nsigned by {}\n", a.out,
             info->bytes, info->snapshot, info->date.empty() ? "unknown" : info->date,
             info->signer);
  return kExitOk;
}

int run_update(DbArgs& a) {
  const fs::path db_path = a.db.empty() ? default_vuln_db_path() : fs::path(a.db);
  VulnUpdateOptions& o = a.update;
  if (const char* k = std::getenv("NVD_API_KEY"); k && *k) o.api_key = k;
  o.min_interval = std::chrono::milliseconds(a.min_interval_ms);
  o.backoff = std::chrono::milliseconds(a.backoff_ms);
  for (const auto& s : a.skip) {
    if (s == "nvd")
      o.nvd = false;
    else if (s == "kev")
      o.kev = false;
    else if (s == "epss")
      o.epss = false;
    else if (s == "eol")
      o.eol = false;
    else if (s == "osv")
      o.osv = false;
    else {
      fmt::print(stderr, "probity db update: --skip {}: one of nvd, kev, epss, eol, osv\n", s);
      return kExitUsage;
    }
  }
  std::error_code ec;
  if (o.eol && o.eol_products.empty() && fs::exists(db_path, ec))
    if (auto db = VulnDb::open(db_path))
      if (auto p = db->eol_products()) o.eol_products = *p;
  o.log = [](std::string_view m) { fmt::print(stderr, "  {}\n", m); };
  auto r = update_vuln_db(db_path, o);
  if (!r) {
    fmt::print(stderr, "probity db update: {}\n(the database is unchanged)\n",
               r.error().to_string());
    return kExitUsage;
  }
  fmt::print("updated {}: {} NVD pages ({} records), {} requests, {} retries{}\nsnapshot {}\n",
             db_path.string(), r->nvd_pages, r->nvd_records, r->requests, r->retries,
             r->resumed ? ", resumed" : "", r->snapshot);
  return kExitOk;
}

int run_import(const DbArgs& a) {
  if (!a.trust.empty()) return run_import_snapshot(a);
  for (const auto& p : a.paths)
    if (is_vuln_snapshot(p)) {
      fmt::print(stderr,
                 "probity db import: {} is a signed snapshot: import it with --trust PUB (the "
                 "verifier key of whoever exported it)\n",
                 p);
      return kExitUsage;
    }
  std::string error;
  const auto files = expand(a.paths, error);
  if (!error.empty()) {
    fmt::print(stderr, "probity db import: {}\n", error);
    return kExitUsage;
  }
  const fs::path db_path = a.db.empty() ? default_vuln_db_path() : fs::path(a.db);
  if (db_path.has_parent_path()) fs::create_directories(db_path.parent_path());
  // The import goes into a copy that replaces the database only when every file imported: a
  // failed import never leaves an empty or half-filled database behind for a later scan.
  const fs::path tmp = db_path.string() + ".import-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  if (fs::exists(db_path, ec) && !fs::copy_file(db_path, tmp, ec)) {
    fmt::print(stderr, "probity db import: cannot copy {} to {}: {}\n", db_path.string(),
               tmp.string(), ec.message());
    return kExitUsage;
  }
  struct RemoveOnExit {
    fs::path path;
    bool keep = false;
    ~RemoveOnExit() {
      std::error_code e;
      if (!keep) fs::remove(path, e);
    }
  } cleanup{tmp};
  std::string snapshot;
  {
    auto db = VulnDb::open(tmp, false);
    if (!db) {
      fmt::print(stderr, "probity db import: {}\n", db.error().to_string());
      return kExitUsage;
    }
    std::uint64_t records = 0, stored = 0, rejected = 0;
    const auto start = std::chrono::steady_clock::now();
    auto all = db->import_files(files);
    if (!all) {
      fmt::print(stderr, "probity db import: {}\n", all.error().to_string());
      return kExitUsage;
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      const auto& f = files[i];
      const auto& st = (*all)[i];
      records += st.records;
      stored += st.stored;
      rejected += st.rejected;
      for (const auto& w : st.warnings) fmt::print(stderr, "  warning: {}: {}\n", f.string(), w);
      if (!a.quiet && files.size() <= 20)
        fmt::print("{}: {} ({} records, {} stored, {} unchanged, {} rejected, {} cpe matches)\n",
                   f.string(), st.format, st.records, st.stored, st.skipped, st.rejected,
                   st.cpe_matches);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!a.quiet) {
      auto snap = db->snapshot_id();
      snapshot = snap ? *snap : "?";
      fmt::print("imported {} files: {} records ({} stored, {} rejected) in {:.2f} s ({:.0f}/s)\n",
                 files.size(), records, stored, rejected, secs, secs > 0 ? records / secs : 0.0);
    }
  }  // the database is closed before it replaces the old one
  fs::rename(tmp, db_path, ec);
  if (ec) {
    fmt::print(stderr, "probity db import: cannot replace {}: {}\n", db_path.string(),
               ec.message());
    return kExitUsage;
  }
  cleanup.keep = true;
  if (!a.quiet) fmt::print("database {}\nsnapshot {}\n", db_path.string(), snapshot);
  return kExitOk;
}

int run_status(const DbArgs& a) {
  const fs::path db_path = a.db.empty() ? default_vuln_db_path() : fs::path(a.db);
  std::error_code ec;
  if (!fs::exists(db_path, ec)) {
    fmt::print(stderr,
               "probity db status: {}: no database (run `probity db import FEED... --db {}`)\n",
               db_path.string(), db_path.string());
    return kExitUsage;
  }
  auto db = VulnDb::open(db_path, true);
  if (!db) {
    fmt::print(stderr, "probity db status: {}\n", db.error().to_string());
    return kExitUsage;
  }
  auto st = db->status();
  if (!st) {
    fmt::print(stderr, "probity db status: {}\n", st.error().to_string());
    return kExitUsage;
  }
  if (a.json) {
    nlohmann::json j;
    j["database"] = db_path.string();
    j["snapshot"] = st->snapshot;
    j["vulnerabilities"] = st->vulnerabilities;
    j["configurations"] = st->configurations;
    j["cpe_matches"] = st->cpe_matches;
    j["snapshot_date"] =
        st->snapshot_date.empty() ? nlohmann::json(nullptr) : nlohmann::json(st->snapshot_date);
    j["kev"] = st->kev;
    j["epss"] = st->epss;
    j["branch_fixes"] = st->branch_fixes;
    j["distro_fixes"] = st->distro_fixes;
    j["eol_products"] = st->eol_products;
    j["eol_cycles"] = st->eol_cycles;
    j["aliases"] = st->aliases;
    j["by_source"] = nlohmann::json::array();
    for (const auto& s : st->by_format)
      j["by_source"].push_back({{"format", s.format},
                                {"files", s.files},
                                {"records", s.records},
                                {"data_date", s.data_date.empty() ? nlohmann::json(nullptr)
                                                                  : nlohmann::json(s.data_date)},
                                {"imported_at", s.imported_at}});
    j["sources"] = nlohmann::json::array();
    for (const auto& s : st->sources)
      j["sources"].push_back({{"path", s.path},
                              {"format", s.format},
                              {"records", s.records},
                              {"imported_at", s.imported_at},
                              {"bytes", s.bytes},
                              {"data_date", s.data_date.empty() ? nlohmann::json(nullptr)
                                                                : nlohmann::json(s.data_date)}});
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  fmt::print("database {}\n", db_path.string());
  fmt::print("snapshot {}\n", st->snapshot);
  fmt::print("snapshot date {}\n", st->snapshot_date.empty() ? "unknown" : st->snapshot_date);
  fmt::print("vulnerabilities {}\nconfigurations {}\ncpe matches {}\n", st->vulnerabilities,
             st->configurations, st->cpe_matches);
  fmt::print("kev {}\nepss {}\nkernel branch fixes {}\ndistribution fixes {}\n", st->kev, st->epss,
             st->branch_fixes, st->distro_fixes);
  fmt::print("end of life {} products, {} release lines\ncpe aliases {}\n", st->eol_products,
             st->eol_cycles, st->aliases);
  fmt::print("by source\n");
  for (const auto& s : st->by_format)
    fmt::print("  {:<16} {:>4} files {:>7} records  data up to {}  imported {}\n", s.format,
               s.files, s.records, s.data_date.empty() ? "unknown" : s.data_date, s.imported_at);
  fmt::print("sources {}\n", st->sources.size());
  for (const auto& s : st->sources)
    fmt::print("  {}  {}  {} records  {} bytes  imported {}\n", s.path, s.format, s.records,
               s.bytes, s.imported_at);
  return kExitOk;
}

}  // namespace

Command add_db(CLI::App& parent) {
  auto args = std::make_shared<DbArgs>();
  CLI::App* app = parent.add_subcommand(
      "db",
      R"(The offline vulnerability database (NVD, CVE 5, OSV, KEV, EPSS, endoflife.date, kernel
stable-branch fixes, vendor advisory tables).
Without --db: $PROBITY_DB, else the database built with probity.)");
  app->require_subcommand(1);
  CLI::App* imp = app->add_subcommand(
      "import",
      R"(Import NVD CVE API 2.0 records or pages, NVD 1.1 feeds, CVE JSON 5 records, OSV records,
the CISA KEV catalogue, kernel stable-branch fixes and curl's advisory table (.json),
FIRST EPSS scores (.csv), endoflife.date product files (.md) and CPE alias tables
(*aliases*.tsv), each also .gz. Directories are searched for them.
Exit codes: 0 done, 2 bad input.)");
  imp->add_option("PATH", args->paths, "Feed files or directories")->required();
  imp->add_option("--db", args->db, "Database file (created when missing)");
  imp->add_flag("--quiet,-q", args->quiet, "Print only warnings and errors");
  imp->add_option("--trust", args->trust,
                  "Import a signed snapshot (`probity db export`): verify it against this verifier "
                  "key (file or vkey) and replace the database only when the signature, size, "
                  "digest and snapshot id hold and it is not older than the database in place");
  CLI::App* exp = app->add_subcommand(
      "export",
      "Write a signed snapshot of the database for an air-gapped machine (Ed25519, a key made by "
      "`probity key generate`). Exit codes: 0 written, 2 bad usage or input.");
  exp->add_option("--out", args->out, "Snapshot file to write")->required();
  exp->add_option("--key", args->key, "Private key file (PREFIX.key of `probity key generate`)")
      ->required();
  exp->add_option("--db", args->db, "Database file");
  CLI::App* status =
      app->add_subcommand("status", "Print sources, counts and the snapshot id of the database.");
  status->add_option("--db", args->db, "Database file");
  status->add_flag("--json", args->json, "Print JSON");
  CLI::App* upd = app->add_subcommand(
      "update",
      R"(Fetch NVD CVE API 2.0 pages (incremental since the last update; $NVD_API_KEY raises the
rate limit), the KEV catalogue, EPSS scores, endoflife.date files and OSV records; resume
an interrupted update; replace the database only after the complete update verified.
Exit codes: 0 updated, 2 failed (the database is unchanged).)");
  upd->add_option("--db", args->db, "Database file");
  upd->add_option("--nvd-url", args->update.nvd_url, "NVD CVE API 2.0 endpoint");
  upd->add_option("--kev-url", args->update.kev_url, "KEV catalogue (JSON)");
  upd->add_option("--epss-url", args->update.epss_url, "EPSS scores (CSV or .csv.gz)");
  upd->add_option("--eol-url", args->update.eol_url, "endoflife.date products/ directory");
  upd->add_option("--osv-url", args->update.osv_url,
                  "OSV records: a JSON array, or an ecosystem's all.zip");
  upd->add_option("--skip", args->skip, "Sources not to update: nvd, kev, epss, eol, osv");
  upd->add_option("--results-per-page", args->update.results_per_page, "NVD page size")
      ->check(CLI::Range(1, 2000));
  upd->add_option("--min-interval-ms", args->min_interval_ms,
                  "Pause between requests (default: NVD's rate, 6000 or 600 with a key)");
  upd->add_option("--retries", args->update.max_retries, "Retries per request")
      ->check(CLI::Range(0, 20));
  upd->add_option("--backoff-ms", args->backoff_ms, "First retry pause (doubles per retry)");
  return {app, [args, imp, status, exp, upd]() -> int {
            if (upd->parsed()) return run_update(*args);
            if (imp->parsed()) return run_import(*args);
            if (exp->parsed()) return run_export(*args);
            if (status->parsed()) return run_status(*args);
            return kExitUsage;
          }};
}

}  // namespace probity::cli
