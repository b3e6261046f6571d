// probity db import PATH... [--db FILE] [--quiet]
// probity db status [--db FILE] [--json]
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
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
};

bool is_feed(const fs::path& p) {
  const auto name = p.filename().string();
  return name.ends_with(".json") || name.ends_with(".json.gz");
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

int run_import(const DbArgs& a) {
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
    j["sources"] = nlohmann::json::array();
    for (const auto& s : st->sources)
      j["sources"].push_back({{"path", s.path},
                              {"format", s.format},
                              {"records", s.records},
                              {"imported_at", s.imported_at},
                              {"bytes", s.bytes}});
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  fmt::print("database {}\n", db_path.string());
  fmt::print("snapshot {}\n", st->snapshot);
  fmt::print("vulnerabilities {}\nconfigurations {}\ncpe matches {}\n", st->vulnerabilities,
             st->configurations, st->cpe_matches);
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
      "The offline vulnerability database (NVD CVE API 2.0, NVD 1.1 feeds, OSV).\n"
      "Without --db: $PROBITY_DB, else the database built with probity.");
  app->require_subcommand(1);
  CLI::App* imp = app->add_subcommand(
      "import",
      "Import NVD CVE API 2.0 records or pages, NVD 1.1 feeds (.json, .json.gz) and OSV records.\n"
      "Directories are searched for *.json and *.json.gz. Exit codes: 0 done, 2 bad input.");
  imp->add_option("PATH", args->paths, "Feed files or directories")->required();
  imp->add_option("--db", args->db, "Database file (created when missing)");
  imp->add_flag("--quiet,-q", args->quiet, "Print only warnings and errors");
  CLI::App* status =
      app->add_subcommand("status", "Print sources, counts and the snapshot id of the database.");
  status->add_option("--db", args->db, "Database file");
  status->add_flag("--json", args->json, "Print JSON");
  return {app, [args, imp, status]() -> int {
            if (imp->parsed()) return run_import(*args);
            if (status->parsed()) return run_status(*args);
            return kExitUsage;
          }};
}

}  // namespace probity::cli
