// probity fleet ingest SCAN_DIR|report.json... --store URL
// probity fleet submit IMAGE|DIR... --store URL --engine slurm|local [--out DIR] [--workers N]
// probity fleet status --store URL [--job JOB] [--json]
// probity fleet query component NAME [--below VERSION] | shared-keys | cve ID |
//                     verdict-changes --since SNAPSHOT   --store URL [--json]
// probity fleet rejudge --store URL [--db FILE] [--policy FILE] [--json]
// (docs/fleet.md). `fleet task` is what each batch task runs (one image: scan, then ingest).
#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.hpp"
#include "probity/fleet.hpp"
#include "probity/hash.hpp"
#include "probity/scan.hpp"

extern char** environ;

namespace probity::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct FleetArgs {
  std::string store;
  bool json = false, quiet = false;
  // ingest / submit
  std::vector<std::string> paths;
  std::string engine = "local", out = "fleet-out";
  unsigned workers = 2, retries = 2, cpus = 1, minutes = 60;
  std::string mem, partition;
  bool wait = false, keep_extracted = false;
  // task / status
  std::string job;
  std::int64_t index = -1;
  // query
  std::string name, below, cve, since;
  // rejudge
  std::string db, policy;
};

int error(const char* who, const Error& e) {
  fmt::print(stderr, "probity fleet {}: {}\n", who, e.to_string());
  return kExitUsage;
}

std::optional<FleetStore> open_store(const char* who, const std::string& store) {
  auto s = FleetStore::open(store);
  if (!s) {
    error(who, s.error());
    return std::nullopt;
  }
  return std::move(*s);
}

/// Each path that `take`s as itself; a directory otherwise as every file under it that
/// `match`es (sorted). `missing` names the first path that is neither.
std::vector<fs::path> expand(const std::vector<std::string>& paths,
                             const std::function<bool(const fs::path&)>& take,
                             const std::function<bool(const fs::path&)>& match,
                             std::string& missing) {
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (take(p)) {
      out.emplace_back(p);
    } else if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec))
        if (it->is_regular_file() && match(it->path())) found.push_back(it->path());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else {
      missing = p;
      return {};
    }
  }
  return out;
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

/// Scan directories (holding report.json) or report files under each path, sorted.
std::vector<fs::path> scans_under(const std::vector<std::string>& paths, std::string& missing) {
  return expand(
      paths, [](const fs::path& p) { return is_file(p) || is_file(p / "report.json"); },
      [](const fs::path& p) { return p.filename() == "report.json"; }, missing);
}

int run_ingest(const FleetArgs& a) {
  std::string missing;
  const auto scans = scans_under(a.paths, missing);
  if (!missing.empty()) {
    fmt::print(stderr, "probity fleet ingest: {}: no such file or directory\n", missing);
    return kExitUsage;
  }
  auto store = open_store("ingest", a.store);
  if (!store) return kExitUsage;
  std::size_t stored = 0, skipped = 0, failed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& scan : scans) {
    auto r = store->ingest(scan);
    if (!r) {
      ++failed;
      error("ingest", r.error());
      continue;
    }
    ++(r->stored ? stored : skipped);
    if (!a.quiet)
      fmt::print("{} {} sha256:{} ({})\n", r->stored ? "stored " : "already", r->name,
                 r->sha256.substr(0, 12), r->probity_version);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!a.quiet || failed)
    fmt::print("{} stored, {} already in the store, {} failed ({:.2f} s, {} store)\n", stored,
               skipped, failed, s, store->kind());
  return failed ? kExitUsage : kExitOk;
}

// --- batch scans --------------------------------------------------------------------------

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("probity") : p.string();
}

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Regular files under each path (directories recursively, sorted), as absolute paths.
std::vector<std::string> images_under(const std::vector<std::string>& paths, std::string& missing) {
  std::vector<std::string> out;
  for (const auto& p : expand(
           paths, is_file, [](const fs::path&) { return true; }, missing))
    out.push_back(fs::absolute(p).string());
  return out;
}

/// One task: scan image `index` of the job and ingest it (skipped when already stored).
int run_task(const FleetArgs& a) {
  auto store = open_store("task", a.store);
  if (!store) return kExitUsage;
  auto images = store->task_images(a.job);
  if (!images) return error("task", images.error());
  if (a.index < 0 || std::size_t(a.index) >= images->size()) {
    fmt::print(stderr, "probity fleet task: job {} has no task {}\n", a.job, a.index);
    return kExitUsage;
  }
  const std::string image = (*images)[std::size_t(a.index)];
  auto failed = [&](const Error& e) {
    (void)store->set_task(a.job, a.index, "failed", e.to_string());
    return error("task", e);
  };
  if (auto st = store->set_task(a.job, a.index, "running"); !st) return error("task", st.error());
  auto sha = sha256_file(image);
  if (!sha) return failed(sha.error());
  auto have = store->has_image(*sha, PROBITY_VERSION);
  if (!have) return failed(have.error());
  if (*have) {
    if (auto st = store->set_task(a.job, a.index, "skipped"); !st) return error("task", st.error());
    return kExitOk;
  }
  const fs::path out = fs::path(a.out) / a.job / std::to_string(a.index);
  std::error_code ec;
  fs::remove_all(out, ec);  // a retry starts from scratch (this directory is the task's own)
  ScanOptions opt;
  opt.image = image;
  opt.out = out;
  opt.unpack.threads = a.cpus;
  opt.db = a.db;
  opt.policy = a.policy;
  opt.fleet_index = a.store;  // the fleet-wide key finding reads the store
  auto r = probity::scan(opt);
  if (!r) return failed(r.error());
  auto in = store->ingest(
      r->report, PROBITY_VERSION, (out / "report.json").string(),
      fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                  std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())),
      out / "manifest.json");
  if (!in) return failed(in.error());
  if (!a.keep_extracted) fs::remove_all(out / "extracted", ec);
  if (auto st = store->set_task(a.job, a.index, in->stored ? "done" : "skipped"); !st)
    return error("task", st.error());
  return kExitOk;
}

std::vector<std::string> task_argv(const FleetArgs& a, const std::string& job, std::size_t i) {
  std::vector<std::string> v = {self_exe(),
                                "fleet",
                                "task",
                                "--store",
                                a.store,
                                "--job",
                                job,
                                "--index",
                                std::to_string(i),
                                "--out",
                                a.out,
                                "--cpus",
                                std::to_string(a.cpus)};
  if (!a.db.empty()) v.insert(v.end(), {"--db", fs::absolute(a.db).string()});
  if (!a.policy.empty()) v.insert(v.end(), {"--policy", fs::absolute(a.policy).string()});
  if (a.keep_extracted) v.emplace_back("--keep-extracted");
  return v;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

/// --engine local: up to `workers` task processes at once; a failed or killed task is run again
/// up to `retries` times.
int run_local(const FleetArgs& a, FleetStore& store, const std::string& job, std::size_t n) {
  const fs::path logs = fs::path(a.out) / job / "logs";
  std::map<pid_t, std::size_t> running;
  std::vector<unsigned> attempts(n, 0);
  std::vector<std::size_t> queue;
  for (std::size_t i = n; i-- > 0;) queue.push_back(i);
  while (!queue.empty() || !running.empty()) {
    while (!queue.empty() && running.size() < std::max(1u, a.workers)) {
      const std::size_t i = queue.back();
      queue.pop_back();
      ++attempts[i];
      const pid_t pid = spawn(task_argv(a, job, i), (logs / (std::to_string(i) + ".log")).string());
      if (pid < 0) {
        (void)store.set_task(job, std::int64_t(i), "failed", "cannot start the task process");
        continue;
      }
      running[pid] = i;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const std::size_t i = it->second;
    running.erase(it);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    if (attempts[i] <= a.retries) {
      queue.push_back(i);
      continue;
    }
    const std::string why =
        WIFSIGNALED(status)
            ? fmt::format("killed by signal {} ({} attempts)", WTERMSIG(status), attempts[i])
            : fmt::format("exit {} ({} attempts; see {})", WEXITSTATUS(status), attempts[i],
                          (logs / (std::to_string(i) + ".log")).string());
    // A task that reported its own error keeps it; a killed one never could.
    if (WIFSIGNALED(status)) (void)store.set_task(job, std::int64_t(i), "failed", why);
  }
  return kExitOk;
}

/// --engine slurm: one `sbatch --array` job; each array task runs `probity fleet task`.
int run_slurm(const FleetArgs& a, const std::string& job, std::size_t n) {
  const fs::path dir = fs::absolute(fs::path(a.out) / job);
  std::string script = "#!/bin/sh\n";
  script += fmt::format("#SBATCH --job-name={}\n", job);
  script += fmt::format("#SBATCH --array=0-{}%{}\n", n - 1, std::max(1u, a.workers));
  script += fmt::format("#SBATCH --cpus-per-task={}\n", std::max(1u, a.cpus));
  script += fmt::format("#SBATCH --time={}\n", std::max(1u, a.minutes));
  if (!a.mem.empty()) script += fmt::format("#SBATCH --mem={}\n", a.mem);
  if (!a.partition.empty()) script += fmt::format("#SBATCH --partition={}\n", a.partition);
  script += fmt::format("#SBATCH --output={}/logs/%a.log\n", dir.string());
  script += "# Each task scans one image and ingests it; a failed attempt is tried again.\n";
  std::string cmd;
  for (const auto& s : task_argv(a, job, 0)) {
    if (!cmd.empty()) cmd += ' ';
    cmd += sh_quote(s);
  }
  // task_argv's index 0 becomes the array task's own index.
  cmd.replace(cmd.find("'--index' '0'"), 13, "'--index' \"$SLURM_ARRAY_TASK_ID\"");
  script += fmt::format(
      "i=0\nwhile [ $i -le {} ]; do\n  {} && exit 0\n  i=$((i+1))\ndone\nexit 1\n", a.retries, cmd);
  const fs::path path = dir / "job.sbatch";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f || std::fputs(script.c_str(), f) < 0) {
      if (f) std::fclose(f);
      fmt::print(stderr, "probity fleet submit: cannot write {}\n", path.string());
      return kExitUsage;
    }
    std::fclose(f);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);  // may hold a URL
  }
  const std::string sbatch =
      fmt::format("sbatch --parsable {}{} 2>&1", a.wait ? "--wait " : "", sh_quote(path.string()));
  FILE* p = ::popen(sbatch.c_str(), "r");
  if (!p) {
    fmt::print(stderr, "probity fleet submit: cannot run sbatch\n");
    return kExitUsage;
  }
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) output += buf;
  const int rc = ::pclose(p);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  if (rc != 0 && output.find_first_not_of("0123456789;") != std::string::npos) {
    fmt::print(stderr, "probity fleet submit: sbatch failed: {}\n", output);
    return kExitUsage;
  }
  if (!a.quiet) fmt::print("slurm job {} ({} tasks): {}\n", output, n, path.string());
  return kExitOk;
}

int print_status(const FleetArgs& a, FleetStore& store, const std::string& job);

int run_submit(const FleetArgs& a) {
  if (a.engine != "local" && a.engine != "slurm" && a.engine != "none") {
    fmt::print(stderr, "probity fleet submit: --engine must be slurm, local or none\n");
    return kExitUsage;
  }
  std::string missing;
  const auto images = images_under(a.paths, missing);
  if (!missing.empty()) {
    fmt::print(stderr, "probity fleet submit: {}: no such file or directory\n", missing);
    return kExitUsage;
  }
  auto store = open_store("submit", a.store);
  if (!store) return kExitUsage;
  std::vector<std::string> todo;
  std::size_t stored = 0;
  for (const auto& image : images) {
    auto sha = sha256_file(image);
    if (!sha) return error("submit", sha.error());
    auto have = store->has_image(*sha, PROBITY_VERSION);
    if (!have) return error("submit", have.error());
    if (*have)
      ++stored;
    else
      todo.push_back(image);
  }
  if (!a.quiet) fmt::print("{} images, {} already in the store\n", images.size(), stored);
  if (todo.empty()) return kExitOk;
  const std::string job = fmt::format(
      "{}-{:%Y%m%dT%H%M%S}-{}", a.engine,
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()), ::getpid());
  std::error_code ec;
  fs::create_directories(fs::path(a.out) / job / "logs", ec);
  if (ec) {
    fmt::print(stderr, "probity fleet submit: cannot create {}: {}\n",
               (fs::path(a.out) / job).string(), ec.message());
    return kExitUsage;
  }
  if (auto st = store->add_tasks(job, todo); !st) return error("submit", st.error());
  if (!a.quiet || a.engine == "none") fmt::print("job {}\n", job);
  if (a.engine == "none") {
    // Registered only: another engine runs `probity fleet task --job JOB --index 0..N-1`
    // (deploy/k8s/fleet-job.yaml).
    fmt::print(
        "{} tasks registered (indexes 0 to {}); run them as `probity fleet task --store "
        "STORE --job {} --index I --out DIR`\n",
        todo.size(), todo.size() - 1, job);
    return kExitOk;
  }
  FleetArgs b = a;
  b.out = fs::absolute(a.out).string();
  const int rc =
      a.engine == "local" ? run_local(b, *store, job, todo.size()) : run_slurm(b, job, todo.size());
  if (rc != kExitOk) return rc;
  if (a.engine == "slurm" && !a.wait) return kExitOk;
  return print_status(a, *store, job);
}

/// Array tasks of a Slurm job still queued or running, by task index ("PENDING", "RUNNING").
std::map<std::int64_t, std::string> slurm_states(const std::string& job, bool& ok) {
  std::map<std::int64_t, std::string> out;
  FILE* p =
      ::popen(fmt::format("squeue -h -r -n {} -o '%K %T' 2>/dev/null", sh_quote(job)).c_str(), "r");
  ok = p != nullptr;
  if (!p) return out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) {
    long long idx = -1;
    char state[64] = {};
    if (std::sscanf(buf, "%lld %63s", &idx, state) == 2) out[idx] = state;
  }
  ok = ::pclose(p) == 0;
  return out;
}

int print_status(const FleetArgs& a, FleetStore& store, const std::string& job) {
  auto counts = store.task_counts(job);
  if (!counts) return error("status", counts.error());
  TaskCounts c = *counts;
  std::size_t lost = 0;
  if (job.starts_with("slurm-")) {
    // Slurm knows what is still queued or running; a task the store says is pending or running
    // that Slurm no longer has was killed before it could report.
    bool ok = false;
    auto queued = slurm_states(job, ok);
    if (ok) {
      std::size_t queued_pending = 0, queued_running = 0;
      for (const auto& [idx, st] : queued) ++(st == "PENDING" ? queued_pending : queued_running);
      const std::size_t unfinished = counts->pending + counts->running;
      c.pending = queued_pending;
      c.running = queued_running;
      lost = unfinished > queued.size() ? unfinished - queued.size() : 0;
    }
  } else if (job.starts_with("local-")) {
    // The local engine waits for every task: one left running was killed with its engine.
    lost = c.running;
    c.running = 0;
  }
  c.failed += lost;
  if (a.json) {
    json j = {{"job", job},         {"done", c.done},       {"skipped", c.skipped},
              {"failed", c.failed}, {"pending", c.pending}, {"running", c.running},
              {"lost", lost}};
    json f = json::array();
    for (const auto& [image, why] : c.failures) f.push_back({{"image", image}, {"error", why}});
    j["failures"] = f;
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("job {}: {} done, {} skipped (already stored), {} failed, {} pending, {} running\n",
               job, c.done, c.skipped, c.failed, c.pending, c.running);
    if (lost) fmt::print("  {} task(s) ended without reporting (killed)\n", lost);
    for (const auto& [image, why] : c.failures) fmt::print("  failed: {}: {}\n", image, why);
  }
  return c.failed ? kExitFail : kExitOk;
}

int run_status(const FleetArgs& a) {
  auto store = open_store("status", a.store);
  if (!store) return kExitUsage;
  std::string job = a.job;
  if (job.empty()) {
    auto jobs = store->jobs();
    if (!jobs) return error("status", jobs.error());
    if (jobs->empty()) {
      auto n = store->image_count();
      fmt::print("no batch jobs; {} images in the store\n", n ? *n : 0);
      return kExitOk;
    }
    job = jobs->front();
  }
  return print_status(a, *store, job);
}

// --- queries ------------------------------------------------------------------------------

void print_table(const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> w(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& r) {
    std::string s;
    for (std::size_t i = 0; i < r.size(); ++i)
      s += i + 1 == r.size() ? r[i] : fmt::format("{:<{}}  ", r[i], w[i]);
    fmt::print("{}\n", s);
  };
  line(head);
  for (const auto& r : rows) line(r);
}

/// A query's answer as JSON (an array) or a table.
template <class T, class ToJson, class ToRows>
int answer(const FleetArgs& a, const Result<std::vector<T>>& r,
           const std::vector<std::string>& head, ToJson to_json, ToRows to_rows) {
  if (!r) return error("query", r.error());
  if (a.json) {
    json j = json::array();
    for (const auto& x : *r) j.push_back(to_json(x));
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& x : *r)
    for (auto& row : to_rows(x)) rows.push_back(std::move(row));
  print_table(head, rows);
  return kExitOk;
}

using Rows = std::vector<std::vector<std::string>>;

int run_query(const FleetArgs& a, const std::string& what) {
  auto store = open_store("query", a.store);
  if (!store) return kExitUsage;
  if (what == "component")
    return answer(
        a, store->query_component(a.name, a.below), {"IMAGE", "SHA256", "VERSION", "COPIES"},
        [](const ComponentHit& h) {
          return json{{"sha256", h.sha256},
                      {"image", h.image},
                      {"component", h.component},
                      {"version", h.version},
                      {"copies", h.copies}};
        },
        [](const ComponentHit& h) {
          return Rows{{h.image, h.sha256.substr(0, 12), h.version, std::to_string(h.copies)}};
        });
  if (what == "shared-keys")
    return answer(
        a, store->query_shared_keys(), {"FINGERPRINT", "IMAGES", "IMAGE", "PATH", "RULE"},
        [](const SharedKey& k) {
          json s = json::array();
          for (const auto& x : k.sightings)
            s.push_back(
                {{"sha256", x.sha256}, {"image", x.image}, {"path", x.path}, {"rule", x.rule}});
          return json{{"fingerprint", k.fingerprint}, {"images", k.images}, {"sightings", s}};
        },
        [](const SharedKey& k) {
          Rows rows;
          for (const auto& x : k.sightings)
            rows.push_back({k.fingerprint, std::to_string(k.images), x.image, x.path, x.rule});
          return rows;
        });
  if (what == "cve")
    return answer(
        a, store->query_cve(a.cve),
        {"IMAGE", "SHA256", "COMPONENT", "VERSION", "SEVERITY", "CVSS", ""},
        [](const CveHit& h) {
          return json{{"sha256", h.sha256},        {"image", h.image},
                      {"component", h.component},  {"version", h.version},
                      {"severity", h.severity},    {"cvss", h.cvss},
                      {"suppressed", h.suppressed}};
        },
        [](const CveHit& h) {
          return Rows{{h.image, h.sha256.substr(0, 12), h.component, h.version, h.severity,
                       fmt::format("{:.1f}", h.cvss), h.suppressed ? "suppressed" : ""}};
        });
  return answer(
      a, store->verdict_changes(a.since), {"IMAGE", "SHA256", "BEFORE", "AFTER", "NOW UNDER"},
      [](const VerdictChange& c) {
        return json{{"sha256", c.sha256},
                    {"image", c.image},
                    {"before", c.before},
                    {"after", c.after},
                    {"before_snapshot", c.before_snapshot},
                    {"after_snapshot", c.after_snapshot}};
      },
      [](const VerdictChange& c) {
        return Rows{
            {c.image, c.sha256.substr(0, 12), c.before, c.after, c.after_snapshot.substr(0, 19)}};
      });
}

int run_rejudge(const FleetArgs& a) {
  auto store = open_store("rejudge", a.store);
  if (!store) return kExitUsage;
  const auto start = std::chrono::steady_clock::now();
  auto r = store->rejudge({a.db, a.policy});
  if (!r) return error("rejudge", r.error());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (a.json)
    fmt::print("{}\n", json{{"images", r->images},
                            {"changed", r->changed},
                            {"vulnerabilities", r->vulnerabilities},
                            {"db_snapshot", r->db_snapshot},
                            {"seconds", s}}
                           .dump(2));
  else
    fmt::print(
        "{} images re-judged under {} in {:.2f} s: {} verdicts changed, {} "
        "vulnerabilities\n",
        r->images, r->db_snapshot, s, r->changed, r->vulnerabilities);
  return kExitOk;
}

}  // namespace

Command add_fleet(CLI::App& parent) {
  auto a = std::make_shared<FleetArgs>();
  CLI::App* app = parent.add_subcommand(
      "fleet",
      R"(Fleet scale: a results store (SQLite file or PostgreSQL), batch scans on Slurm or local
workers, queries and re-judging (docs/fleet.md).)");
  app->require_subcommand(1);
  auto store_opt = [&](CLI::App* c) {
    c->add_option(
         "--store", a->store,
         "The store: a SQLite file (created when missing) or postgresql://USER@HOST:PORT/DB")
        ->required();
  };
  CLI::App* ingest = app->add_subcommand(
      "ingest",
      "Load existing scans (scan directories, report.json files, or directories of "
      "them). Idempotent by image sha256 and probity version; one transaction per image.");
  ingest->add_option("SCAN", a->paths, "SCAN_DIR or report.json (or a directory of scans)")
      ->required();
  store_opt(ingest);
  ingest->add_flag("--quiet,-q", a->quiet, "Print only the summary and errors");

  CLI::App* submit = app->add_subcommand(
      "submit",
      "Scan images on a batch engine, each task ingesting its result; images already "
      "in the store are skipped.");
  submit->add_option("IMAGE", a->paths, "Images or directories of images")->required();
  store_opt(submit);
  submit
      ->add_option("--engine", a->engine,
                   "slurm (one sbatch --array job), local (worker processes) or none (only "
                   "register the tasks, e.g. for the Kubernetes Indexed Job in deploy/)")
      ->check(CLI::IsMember({"slurm", "local", "none"}));
  submit->add_option("--out", a->out,
                     "Directory for the scan outputs and logs (shared with the "
                     "cluster's nodes for slurm)");
  submit->add_option("--workers", a->workers, "Tasks at once (local processes; slurm array %N)");
  submit->add_option("--retries", a->retries, "Attempts after a task fails (default 2)");
  submit->add_option("--cpus", a->cpus, "Threads per task (slurm: --cpus-per-task)");
  submit->add_option("--mem", a->mem, "Memory per task (slurm --mem, e.g. 2G)");
  submit->add_option("--time", a->minutes, "Time limit per task in minutes (slurm)");
  submit->add_option("--partition", a->partition, "Slurm partition");
  submit->add_option("--db", a->db, "Vulnerability database the scans use");
  submit->add_option("--policy", a->policy, "Policy the scans judge against");
  submit->add_flag("--wait", a->wait, "slurm: wait until the job ends, then print its status");
  submit->add_flag("--keep-extracted", a->keep_extracted,
                   "Keep each scan's extracted tree (default: only its reports)");
  submit->add_flag("--quiet,-q", a->quiet, "Print only the status and errors");

  CLI::App* task = app->add_subcommand("task", "Run one task of a batch job (used by submit)");
  task->group("");  // internal: not listed in --help
  store_opt(task);
  task->add_option("--job", a->job)->required();
  task->add_option("--index", a->index)->required();
  task->add_option("--out", a->out)->required();
  task->add_option("--cpus", a->cpus);
  task->add_option("--db", a->db);
  task->add_option("--policy", a->policy);
  task->add_flag("--keep-extracted", a->keep_extracted);

  CLI::App* status = app->add_subcommand(
      "status",
      "Tasks of a batch job (the newest without --job): done, skipped, failed, pending, "
      "running, from Slurm and the store. Exit 1 when a task failed.");
  store_opt(status);
  status->add_option("--job", a->job, "Job name printed by submit");
  status->add_flag("--json", a->json, "Print JSON");

  CLI::App* query = app->add_subcommand("query", "Questions across every stored image");
  query->require_subcommand(1);
  CLI::App* qc = query->add_subcommand("component", "Images holding a component");
  qc->add_option("NAME", a->name, "Component name, e.g. openssl")->required();
  qc->add_option("--below", a->below, "Only versions below this one (probity's version order)");
  CLI::App* qk =
      query->add_subcommand("shared-keys", "Private or host keys found in several images");
  CLI::App* qv = query->add_subcommand("cve", "Images affected by a vulnerability");
  qv->add_option("ID", a->cve, "CVE or OSV id")->required();
  CLI::App* qd = query->add_subcommand(
      "verdict-changes", "Images whose verdict changed since a database snapshot (fleet rejudge)");
  qd->add_option("--since", a->since, "Database snapshot id (sha256:..., or a prefix)")->required();
  for (CLI::App* q : {qc, qk, qv, qd}) {
    store_opt(q);
    q->add_flag("--json", a->json, "Print JSON");
  }

  CLI::App* rejudge = app->add_subcommand(
      "rejudge",
      "Re-match every stored image's components against a vulnerability database and "
      "judge it again against a policy, without unpacking anything.");
  store_opt(rejudge);
  rejudge->add_option("--db", a->db, "Vulnerability database (default: the one scan uses)");
  rejudge->add_option("--policy", a->policy, "Policy (default: data/policy/default.toml)");
  rejudge->add_flag("--json", a->json, "Print JSON");

  return {app, [a, ingest, submit, task, status, qc, qk, qv, qd, rejudge]() -> int {
            if (ingest->parsed()) return run_ingest(*a);
            if (submit->parsed()) return run_submit(*a);
            if (task->parsed()) return run_task(*a);
            if (status->parsed()) return run_status(*a);
            if (qc->parsed()) return run_query(*a, "component");
            if (qk->parsed()) return run_query(*a, "shared-keys");
            if (qv->parsed()) return run_query(*a, "cve");
            if (qd->parsed()) return run_query(*a, "verdict-changes");
            if (rejudge->parsed()) return run_rejudge(*a);
            return kExitUsage;
          }};
}

}  // namespace probity::cli
