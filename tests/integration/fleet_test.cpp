// The fleet store end to end (docs/fleet.md): real scans ingested into SQLite and PostgreSQL with
// every row checked against report.json, idempotent ingest, corrupt reports and bad stores as
// clear errors with nothing stored, the evaluators' queries, re-judging from stored rows, and
// batch scans of 20 images through --engine local (SQLite) and Slurm (PostgreSQL).
// The PostgreSQL and Slurm tests need `eval "$(scripts/test-services.sh start)"` (the Makefile's
// unit target does it) and skip without PROBITY_TEST_STORE and SLURM_CONF.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "cli_support.hpp"
#include "fleet/backend.hpp"
#include "probity/hash.hpp"

namespace probity::testing {
namespace fs = std::filesystem;
using fleet::Backend;
using fleet::Row;

namespace {

std::string q(const fs::path& p) {
  return "'" + p.string() + "'";
}

std::unique_ptr<Backend> open_backend(const std::string& store) {
  auto b = store.starts_with("postgresql://") ? fleet::open_postgresql(store)
                                              : fleet::open_sqlite(store);
  EXPECT_TRUE(b) << b.error().to_string();
  return b ? std::move(*b) : nullptr;
}

std::vector<Row> rows(Backend& db, const std::string& sql, const std::string& param) {
  std::vector<fleet::Param> p = {fleet::Param(param)};
  auto r = db.query(sql, p);
  EXPECT_TRUE(r) << r.error().to_string() << " in " << sql;
  return r ? *r : std::vector<Row>{};
}

std::int64_t count(Backend& db, const std::string& table) {
  auto r = db.query("SELECT COUNT(*) FROM " + table, {});
  EXPECT_TRUE(r) << r.error().to_string();
  return r && !r->empty() ? std::stoll(*r->front()[0]) : -1;
}

template <class T>
std::multiset<T> sorted(std::vector<T> v) {
  return {v.begin(), v.end()};
}

/// Every row the store holds for the image of `report_path` against the report itself.
void expect_rows_match(Backend& db, const fs::path& report_path) {
  SCOPED_TRACE(report_path.string());
  const auto report = read_json(report_path);
  ASSERT_TRUE(report.is_object());
  const std::string sha = report["image"]["sha256"];
  auto img = rows(db,
                  "SELECT id, name, size, probity_version, db_snapshot FROM images WHERE sha256 = "
                  "$1",
                  sha);
  ASSERT_EQ(img.size(), 1u) << "one row per image and probity version";
  const std::string id = *img[0][0];
  EXPECT_EQ(*img[0][1], report["image"]["name"].get<std::string>());
  EXPECT_EQ(std::stoull(*img[0][2]), report["image"]["size"].get<std::uint64_t>());
  EXPECT_EQ(*img[0][3], report["tool"]["version"].get<std::string>());
  EXPECT_EQ(*img[0][4], report["db_snapshot"].is_string() ? report["db_snapshot"].get<std::string>()
                                                          : std::string());

  std::vector<std::string> want, got;
  for (const auto& c : report["components"])
    want.push_back(c["name"].get<std::string>() + "@" + c["version"].get<std::string>());
  for (const auto& r : rows(db, "SELECT name, version FROM components WHERE image_id = $1", id))
    got.push_back(*r[0] + "@" + *r[1]);
  EXPECT_EQ(sorted(got), sorted(want)) << "components";
  // Each component's CPE aliases and each evidence's kind and confidence (schema 002), so that
  // rejudge matches and weighs what scan did.
  want.clear(), got.clear();
  for (const auto& c : report["components"]) {
    std::string aliases;
    for (const auto& a : c.value("cpe_aliases", nlohmann::json::array()))
      aliases += (aliases.empty() ? "" : "\n") + a.get<std::string>();
    want.push_back(c["name"].get<std::string>() + "@" + c["version"].get<std::string>() + " " +
                   aliases);
  }
  for (const auto& r :
       rows(db, "SELECT name, version, cpe_aliases FROM components WHERE image_id = $1", id))
    got.push_back(*r[0] + "@" + *r[1] + " " + *r[2]);
  EXPECT_EQ(sorted(got), sorted(want)) << "component CPE aliases";
  want.clear(), got.clear();
  for (const auto& c : report["components"])
    for (const auto& e : c["evidence"])
      want.push_back(e["path"].get<std::string>() + " " + e.value("kind", "") + " " +
                     std::to_string(e.value("confidence", 0.0)));
  for (const auto& r : rows(db,
                            "SELECT path, kind, confidence FROM component_evidence WHERE "
                            "image_id = $1",
                            id))
    got.push_back(*r[0] + " " + *r[1] + " " + std::to_string(std::stod(*r[2])));
  EXPECT_EQ(sorted(got), sorted(want)) << "evidence kinds and confidence";

  want.clear(), got.clear();
  std::size_t keys = 0;
  for (const auto& f : report["findings"]) {
    want.push_back(f["id"].get<std::string>() + " " + f["rule"].get<std::string>() + " " +
                   f["severity"].get<std::string>());
    const auto fp = f["evidence"].value("fingerprint", "");
    if (!fp.empty() && f["rule"] != "fleet-wide-key") ++keys;
  }
  for (const auto& r : rows(db, "SELECT id, rule, severity FROM findings WHERE image_id = $1", id))
    got.push_back(*r[0] + " " + *r[1] + " " + *r[2]);
  EXPECT_EQ(sorted(got), sorted(want)) << "findings";
  EXPECT_EQ(rows(db, "SELECT fingerprint FROM keys WHERE image_id = $1", id).size(), keys);

  want.clear(), got.clear();
  for (const auto& v : report["vulnerabilities"])
    want.push_back(v["id"].get<std::string>() + " " + v["component"].get<std::string>() + "@" +
                   v["version"].get<std::string>());
  for (const auto& r :
       rows(db, "SELECT id, component, version FROM vulnerabilities WHERE image_id = $1", id))
    got.push_back(*r[0] + " " + *r[1] + "@" + *r[2]);
  EXPECT_EQ(sorted(got), sorted(want)) << "vulnerabilities";

  auto j =
      rows(db, "SELECT result, policy_sha256 FROM judgements WHERE image_id = $1 AND seq = 1", id);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(*j[0][0], report["verdict"]["result"].get<std::string>());
  EXPECT_EQ(*j[0][1], report["verdict"]["policy_digest"].get<std::string>());
  want.clear(), got.clear();
  for (const auto& c : report["verdict"]["clauses"])
    want.push_back(c["id"].get<std::string>() + " " + c["result"].get<std::string>());
  for (const auto& r :
       rows(db, "SELECT id, pass FROM clauses WHERE image_id = $1 AND judgement = 1", id))
    got.push_back(*r[0] + " " + (*r[1] == "1" ? "pass" : "fail"));
  EXPECT_EQ(sorted(got), sorted(want)) << "clauses";
  want.clear(), got.clear();
  for (const auto& w : report["verdict"]["reasons"]) want.push_back(w["code"].get<std::string>());
  for (const auto& r :
       rows(db, "SELECT code FROM reasons WHERE image_id = $1 AND judgement = 1", id))
    got.push_back(*r[0]);
  EXPECT_EQ(sorted(got), sorted(want)) << "inconclusive reasons";
}

/// `n` copies of a small real image, each with one more varied byte (distinct sha256).
std::vector<fs::path> make_images(const fs::path& dir, int n) {
  fs::create_directories(dir);
  std::vector<fs::path> out;
  for (int i = 0; i < n; ++i) {
    const auto p = dir / ("fw-" + std::to_string(100 + i) + ".bin");
    fs::copy_file(fixture("diff-pair/old.squashfs"), p);
    std::ofstream(p, std::ios::app | std::ios::binary) << static_cast<char>(i);
    out.push_back(p);
  }
  return out;
}

/// After a batch job: every task done and every image's rows equal to its report.json.
void expect_job_stored(const std::string& store, const fs::path& out,
                       const std::vector<fs::path>& images) {
  auto db = open_backend(store);
  ASSERT_TRUE(db);
  EXPECT_EQ(count(*db, "images"), std::int64_t(images.size()));
  auto tasks = db->query("SELECT job, task, image, state, attempts FROM tasks ORDER BY task", {});
  ASSERT_TRUE(tasks);
  ASSERT_EQ(tasks->size(), images.size());
  std::set<std::string> hashes;
  for (const auto& t : *tasks) {
    SCOPED_TRACE(*t[2]);
    EXPECT_EQ(*t[3], "done");
    EXPECT_GE(std::stoi(*t[4]), 1);
    const fs::path report = out / *t[0] / *t[1] / "report.json";
    ASSERT_TRUE(fs::exists(report));
    EXPECT_FALSE(fs::exists(out / *t[0] / *t[1] / "extracted")) << "only the reports are kept";
    auto sha = sha256_file(*t[2]);
    ASSERT_TRUE(sha);
    EXPECT_EQ(read_json(report)["image"]["sha256"], *sha);
    hashes.insert(*sha);
    expect_rows_match(*db, report);
  }
  EXPECT_EQ(hashes.size(), images.size());
}

}  // namespace

class Fleet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scans_ = new Scratch("fleet-scans");
    for (const char* name : {"planted", "sibling"}) {
      RunResult r = run_probity("scan " + q(fixture(std::string("checks/") + name + ".sqfs")) +
                                " --out " + q(scans_->path() / name) + " --quiet");
      ASSERT_TRUE(r.exit_code == 1) << r.output;
    }
  }
  static void TearDownTestSuite() {
    delete scans_;
    scans_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(fs::exists(fixture("checks/planted.sqfs"))) << "run make fixtures";
    scratch_.emplace(::testing::UnitTest::GetInstance()->current_test_info()->name());
    store_ = (scratch_->path() / "fleet.db").string();
  }
  RunResult fleet(const std::string& args) { return run_probity("fleet " + args); }
  fs::path scan(const char* name) { return scans_->path() / name; }

  static Scratch* scans_;
  std::optional<Scratch> scratch_;
  std::string store_;
};
Scratch* Fleet::scans_ = nullptr;

TEST_F(Fleet, IngestStoresEveryRowOnceAndIsIdempotent) {
  RunResult r = fleet("ingest " + q(scan("planted")) + " " + q(scan("sibling") / "report.json") +
                      " --store " + q(store_));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 stored, 0 already"), std::string::npos) << r.output;
  auto db = open_backend(store_);
  ASSERT_TRUE(db);
  expect_rows_match(*db, scan("planted") / "report.json");
  expect_rows_match(*db, scan("sibling") / "report.json");
  // manifest.json beside the report added the containers; the squashfs is the root filesystem.
  auto roots = db->query("SELECT root_markers FROM containers WHERE root_markers <> ''", {});
  ASSERT_TRUE(roots);
  EXPECT_EQ(roots->size(), 2u);
  const auto findings = count(*db, "findings");
  r = fleet("ingest " + q(scans_->path()) + " --store " + q(store_));  // a directory of scans
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("0 stored, 2 already"), std::string::npos) << r.output;
  EXPECT_EQ(count(*db, "images"), 2);
  EXPECT_EQ(count(*db, "findings"), findings);
}

TEST_F(Fleet, CorruptReportIsAnErrorAndStoresNothing) {
  const auto dir = scratch_->path() / "bad";
  fs::create_directories(dir);
  fs::copy_file(scan("planted") / "report.json", dir / "report.json");
  fs::resize_file(dir / "report.json", fs::file_size(dir / "report.json") / 2);
  RunResult r = fleet("ingest " + q(dir) + " --store " + q(store_));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("corrupt report, nothing ingested"), std::string::npos) << r.output;
  // A report whose manifest is corrupt: the whole image is refused, no half of it stored.
  const auto dir2 = scratch_->path() / "bad-manifest";
  fs::create_directories(dir2);
  fs::copy_file(scan("planted") / "report.json", dir2 / "report.json");
  std::ofstream(dir2 / "manifest.json") << "{\"schema\": \"probity-manifest\", \"containers\": [{";
  r = fleet("ingest " + q(dir2) + " --store " + q(store_));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("corrupt manifest"), std::string::npos) << r.output;
  auto db = open_backend(store_);
  ASSERT_TRUE(db);
  for (const char* t : {"images", "components", "findings", "vulnerabilities", "judgements"})
    EXPECT_EQ(count(*db, t), 0) << t;
}

TEST_F(Fleet, BadStoresAreClearErrors) {
  RunResult r =
      fleet("ingest " + q(scan("planted")) + " --store postgresql://nobody@127.0.0.1:1/none");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cannot connect to the store"), std::string::npos) << r.output;
  r = fleet("ingest " + q(scan("planted")) + " --store postgresql://u:secret@[bad/x");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output.find("secret"), std::string::npos) << "the password is never printed";
  r = fleet("ingest " + q(scan("planted")) + " --store mysql://host/db");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown store URL scheme"), std::string::npos) << r.output;
  std::ofstream(scratch_->path() / "not.db") << "this is not SQLite at all, just text";
  r = fleet("query shared-keys --store " + q(scratch_->path() / "not.db"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST_F(Fleet, QueriesAnswerFromTheStore) {
  ASSERT_EQ(fleet("ingest " + q(scans_->path()) + " --store " + q(store_) + " -q").exit_code, 0);
  // make-checks.sh: sibling.sqfs shares three keys with planted.sqfs.
  auto keys = nlohmann::json::parse(fleet("query shared-keys --json --store " + q(store_)).output);
  ASSERT_EQ(keys.size(), 3u) << keys.dump();
  for (const auto& k : keys) {
    EXPECT_EQ(k["images"], 2);
    std::set<std::string> images;
    for (const auto& s : k["sightings"]) images.insert(s["image"].get<std::string>());
    EXPECT_EQ(images, (std::set<std::string>{"planted.sqfs", "sibling.sqfs"}));
  }
  const auto report = read_json(scan("planted") / "report.json");
  std::string name, version;
  for (const auto& c : report["components"])
    if (!c["version"].get<std::string>().empty()) {
      name = c["name"], version = c["version"];
      break;
    }
  ASSERT_FALSE(name.empty());
  auto hits = nlohmann::json::parse(
      fleet("query component " + name + " --json --store " + q(store_)).output);
  std::set<std::string> images;
  for (const auto& h : hits) images.insert(h["image"].get<std::string>());
  EXPECT_TRUE(images.contains("planted.sqfs")) << hits.dump();
  auto below = nlohmann::json::parse(
      fleet("query component " + name + " --below " + version + " --json --store " + q(store_))
          .output);
  for (const auto& h : below) EXPECT_NE(h["version"], version) << "not below itself";
  auto above = nlohmann::json::parse(
      fleet("query component " + name + " --below 99999 --json --store " + q(store_)).output);
  EXPECT_EQ(above.size(), hits.size());
  ASSERT_FALSE(report["vulnerabilities"].empty());
  const std::string cve = report["vulnerabilities"][0]["id"];
  auto affected =
      nlohmann::json::parse(fleet("query cve " + cve + " --json --store " + q(store_)).output);
  images.clear();
  for (const auto& h : affected) images.insert(h["image"].get<std::string>());
  EXPECT_TRUE(images.contains("planted.sqfs")) << affected.dump();
  EXPECT_TRUE(
      nlohmann::json::parse(fleet("query cve CVE-1999-0000 --json --store " + q(store_)).output)
          .empty());
  RunResult table = fleet("query component " + name + " --store " + q(store_));
  EXPECT_NE(table.output.find("planted.sqfs"), std::string::npos) << table.output;
}

TEST_F(Fleet, RejudgeReproducesTheScanThenFollowsANewDatabaseAndPolicy) {
  ASSERT_EQ(fleet("ingest " + q(scans_->path()) + " --store " + q(store_) + " -q").exit_code, 0);
  const auto planted = read_json(scan("planted") / "report.json");
  const std::string snapshot = planted["db_snapshot"];
  // Same database, same policy: every image gets the verdict and clause outcomes its scan had,
  // rebuilt from stored rows alone.
  RunResult r = fleet("rejudge --json --store " + q(store_));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto stats = nlohmann::json::parse(r.output);
  EXPECT_EQ(stats["images"], 2);
  EXPECT_EQ(stats["changed"], 0);
  EXPECT_EQ(stats["db_snapshot"], snapshot);
  auto db = open_backend(store_);
  ASSERT_TRUE(db);
  auto clause_rows = [&](int judgement) {
    std::multiset<std::string> out;
    auto rs = db->query(
        "SELECT image_id, id, pass, findings, vulnerabilities FROM clauses WHERE "
        "judgement = " +
            std::to_string(judgement),
        {});
    EXPECT_TRUE(rs);
    for (const auto& x : *rs) out.insert(*x[0] + *x[1] + *x[2] + *x[3] + *x[4]);
    return out;
  };
  EXPECT_EQ(clause_rows(2), clause_rows(1)) << "same clauses, same breaking findings and CVEs";
  EXPECT_TRUE(nlohmann::json::parse(fleet("query verdict-changes --since " + snapshot +
                                          " --json --store " + q(store_))
                                        .output)
                  .empty());

  // A smaller database and a lenient policy: planted's failure is gone.
  const auto small = scratch_->path() / "small.db";
  ASSERT_EQ(run_probity("db import --quiet --db " + q(small) + " " +
                        q(fs::path(PROBITY_SOURCE_DIR) / "data/vulndata/nvd/CVE-2023-42363.json"))
                .exit_code,
            0);
  const auto lenient = scratch_->path() / "lenient.toml";
  std::ofstream(lenient) << "name = \"lenient\"\n[evidence]\nmin_coverage = 0.0\n"
                            "require_root_filesystem = false\nrequire_db = false\n"
                            "max_unexplained_bytes = 1000000000000\n"
                            "[[clause]]\nid = \"nothing\"\ntext = \"No finding of a rule that "
                            "does not exist.\"\nrules = [\"no-such-rule\"]\n";
  r = fleet("rejudge --json --store " + q(store_) + " --db " + q(small) + " --policy " +
            q(lenient));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  stats = nlohmann::json::parse(r.output);
  EXPECT_EQ(stats["changed"], 2);
  EXPECT_NE(stats["db_snapshot"], snapshot);
  auto changes =
      nlohmann::json::parse(fleet("query verdict-changes --since " + snapshot.substr(0, 20) +
                                  " --json --store " + q(store_))
                                .output);
  ASSERT_EQ(changes.size(), 2u) << changes.dump();
  for (const auto& c : changes) {
    EXPECT_EQ(c["before"], "fail");
    EXPECT_EQ(c["after"], "pass");
    EXPECT_EQ(c["before_snapshot"], snapshot);
  }
  // The vulnerabilities now are the new database's matches only.
  EXPECT_LT(count(*db, "vulnerabilities"), std::int64_t(planted["vulnerabilities"].size()));
}

TEST_F(Fleet, RejudgeMatchesThroughStoredCpeAliases) {
  // A CVE that NVD files only under another vendor:product of a planted component (busybox is
  // also rob_landley:busybox): scan would match it through Component::cpe_aliases, and so must
  // rejudge from the stored rows.
  const auto planted = read_json(scan("planted") / "report.json");
  std::string name, version, alias;
  for (const auto& c : planted["components"])
    for (const auto& a : c.value("cpe_aliases", nlohmann::json::array()))
      if (name.empty() && a.get<std::string>() != c["cpe"].get<std::string>()) {
        name = c["name"], version = c["version"], alias = a;
      }
  ASSERT_FALSE(alias.empty()) << "planted has a component with a CPE alias";
  // cpe:2.3:a:VENDOR:PRODUCT:VERSION:... -> the pair at any version
  std::vector<std::string> parts;
  std::istringstream fields(alias);
  for (std::string f; std::getline(fields, f, ':');) parts.push_back(f);
  ASSERT_GE(parts.size(), 6u) << alias;
  const std::string criteria =
      "cpe:2.3:" + parts[2] + ":" + parts[3] + ":" + parts[4] + ":*:*:*:*:*:*:*:*";
  nlohmann::json cve = {
      {"id", "CVE-2024-99999"},
      {"sourceIdentifier", "test"},
      {"published", "2024-01-01T00:00:00.000"},
      {"lastModified", "2024-01-01T00:00:00.000"},
      {"vulnStatus", "Analyzed"},
      {"descriptions", {{{"lang", "en"}, {"value", "filed under " + criteria + " only"}}}},
      {"configurations",
       {{{"nodes",
          {{{"operator", "OR"},
            {"negate", false},
            {"cpeMatch",
             {{{"vulnerable", true},
               {"criteria", criteria},
               {"versionEndIncluding", version}}}}}}}}}}};
  const auto json = scratch_->path() / "CVE-2024-99999.json";
  std::ofstream(json) << cve.dump();
  const auto db_path = scratch_->path() / "alias.db";
  RunResult r = run_probity("db import --quiet --db " + q(db_path) + " " + q(json));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(fleet("ingest " + q(scan("planted")) + " --store " + q(store_) + " -q").exit_code, 0);
  r = fleet("rejudge --json --store " + q(store_) + " --db " + q(db_path));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto db = open_backend(store_);
  ASSERT_TRUE(db);
  auto hit =
      db->query("SELECT component, version FROM vulnerabilities WHERE id = 'CVE-2024-99999'", {});
  ASSERT_TRUE(hit);
  ASSERT_EQ(hit->size(), 1u) << name << "@" << version << " through " << alias;
  EXPECT_EQ(*(*hit)[0][0], name);
  EXPECT_EQ(*(*hit)[0][1], version);
}

TEST_F(Fleet, LocalEngineScansTwentyImagesIntoSqlite) {
  const auto images = make_images(scratch_->path() / "images", 20);
  const auto out = scratch_->path() / "out";
  RunResult r = fleet("submit " + q(scratch_->path() / "images") +
                      " --engine local --workers 2 "
                      "--store " +
                      q(store_) + " --out " + q(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("20 done"), std::string::npos) << r.output;
  expect_job_stored(store_, out, images);
  r = fleet("submit " + q(scratch_->path() / "images") + " --engine local --store " + q(store_) +
            " --out " + q(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("20 images, 20 already in the store"), std::string::npos) << r.output;
  r = fleet("status --json --store " + q(store_));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["done"], 20);
}

/// Pids of `probity fleet task` processes working for `store`.
std::vector<pid_t> task_pids(const std::string& store) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(std::string("fleet\0task\0--store\0", 19) + store) != std::string::npos)
      out.push_back(std::stoi(name));
  }
  return out;
}

// A task killed mid-run (SIGKILL: no chance to report) is a failed task with a clear error, and
// its image is in the store completely or not at all; the other tasks are unaffected.
TEST_F(Fleet, KilledTaskFailsCleanlyAndStoresNothingHalf) {
  const auto images = make_images(scratch_->path() / "images", 3);
  const auto out = scratch_->path() / "out";
  const std::string cmd = std::string(PROBITY_BINARY) + " fleet submit " +
                          q(scratch_->path() / "images") + " --engine local --workers 1 " +
                          "--retries 0 --store " + q(store_) + " --out " + q(out) + " 2>&1";
  FILE* submit = popen(cmd.c_str(), "r");
  ASSERT_TRUE(submit);
  bool killed = false;
  for (int i = 0; i < 3000 && !killed; ++i) {  // up to 30 s for the first task to start
    for (pid_t pid : task_pids(store_)) killed = ::kill(pid, SIGKILL) == 0 || killed;
    if (!killed) usleep(10000);
  }
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, submit)) output += buf;
  pclose(submit);
  ASSERT_TRUE(killed) << output;
  EXPECT_NE(output.find("killed by signal 9"), std::string::npos) << output;
  EXPECT_NE(output.find("2 done"), std::string::npos) << output;
  auto db = open_backend(store_);
  ASSERT_TRUE(db);
  auto tasks = db->query("SELECT job, task, state FROM tasks ORDER BY task", {});
  ASSERT_TRUE(tasks);
  ASSERT_EQ(tasks->size(), 3u);
  EXPECT_EQ(*(*tasks)[0][2], "failed");
  for (const auto& t : *tasks) {
    const fs::path report = out / *t[0] / *t[1] / "report.json";
    auto sha = sha256_file(images[std::stoul(*t[1])]);
    ASSERT_TRUE(sha);
    const auto stored = rows(*db, "SELECT id FROM images WHERE sha256 = $1", *sha);
    if (*t[2] == "done" || !stored.empty()) {
      ASSERT_TRUE(fs::exists(report)) << "stored, so its scan finished";
      expect_rows_match(*db, report);  // all of it
    }
  }
  // Nothing of an image that is not stored: every row belongs to a stored image.
  for (const char* table : {"components", "findings", "judgements", "containers"}) {
    auto orphans = db->query(std::string("SELECT COUNT(*) FROM ") + table +
                                 " WHERE image_id NOT IN (SELECT id FROM images)",
                             {});
    ASSERT_TRUE(orphans);
    EXPECT_EQ(*orphans->front()[0], "0") << table;
  }
}

TEST_F(Fleet, SlurmScansTwentyImagesIntoPostgres) {
  const char* url = std::getenv("PROBITY_TEST_STORE");
  if (!url || !std::getenv("SLURM_CONF"))
    GTEST_SKIP() << "needs eval \"$(scripts/test-services.sh start)\"";
  // A database of its own, so that runs never see each other's images.
  const std::string name = "fleet_test_" + std::to_string(getpid());
  auto admin = open_backend(url);
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->script("DROP DATABASE IF EXISTS " + name));
  ASSERT_TRUE(admin->script("CREATE DATABASE " + name));
  std::string store(url);
  store = store.substr(0, store.rfind('/') + 1) + name;
  struct Drop {
    Backend* db;
    std::string name;
    ~Drop() { (void)db->script("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }
  } drop{admin.get(), name};

  const auto images = make_images(scratch_->path() / "images", 20);
  const auto out = scratch_->path() / "out";
  RunResult r = fleet("submit " + q(scratch_->path() / "images") +
                      " --engine slurm --workers 2 "
                      "--wait --store '" +
                      store + "' --out " + q(out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("20 done"), std::string::npos) << r.output;
  expect_job_stored(store, out, images);
  // The shared keys of 20 copies of one image: every key in all 20.
  auto keys =
      nlohmann::json::parse(fleet("query shared-keys --json --store '" + store + "'").output);
  for (const auto& k : keys) EXPECT_EQ(k["images"], 20);
}

}  // namespace probity::testing
