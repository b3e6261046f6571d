// probity::equiv: the whole `probity equiv` run as one library call (issue 14 item 1). The CLI
// (cli/equiv.cpp) parses flags into EquivRunOptions, calls this and prints.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include "pipeline/stages.hpp"
#include "probity/equiv.hpp"
#include "probity/hash.hpp"
#include "probity/inventory.hpp"
#include "probity/json.hpp"
#include "probity/task_pool.hpp"

namespace probity {
namespace {

namespace fs = std::filesystem;

// Blobs (extracted files) both unpack runs meet. The comparison never looks inside a file whose
// bytes are equal on both sides, so such a blob need not be carved in either image: a run that
// meets a large blob first waits until the other run has met the same path (then both skip it
// when the bytes are equal, both carve it when not), has finished, or kSharedWait has passed.
// Small blobs are carved unless the other run met them first. Skipping can only make a
// comparison coarser (bytes instead of containers), never mask anything.
class SharedBlobs {
 public:
  static constexpr std::uint64_t kWaitBytes = 1 * kMiB;
  static constexpr auto kSharedWait = std::chrono::seconds(5);

  std::function<bool(const FileRecord&)> side(int s) {
    return [this, s](const FileRecord& f) { return check(s, f); };
  }
  void done(int s) {
    std::lock_guard lock(mu_);
    done_[s] = true;
    cv_.notify_all();
  }

 private:
  bool check(int s, const FileRecord& f) {
    const std::string key = f.sha256 + '\0' + f.path;
    std::unique_lock lock(mu_);
    if (seen_[1 - s].contains(key)) {
      both_.insert(key);
      cv_.notify_all();
      return true;
    }
    seen_[s].insert(key);
    paths_[s][f.path].insert(f.sha256);
    cv_.notify_all();
    if (f.size < kWaitBytes) return false;
    const auto other_differs = [&] {
      const auto it = paths_[1 - s].find(f.path);
      return it != paths_[1 - s].end() && !it->second.contains(f.sha256);
    };
    cv_.wait_for(lock, kSharedWait,
                 [&] { return both_.contains(key) || other_differs() || done_[1 - s]; });
    return both_.contains(key);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> seen_[2], both_;
  std::map<std::string, std::set<std::string>> paths_[2];
  bool done_[2] = {false, false};
};

Result<ImageInfo> image_info(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return fail("not a readable regular file", 0, path.string());
  auto digest = sha256_file(path);
  if (!digest) return std::unexpected(digest.error());
  return ImageInfo{path.string(), path.filename().string(), *digest, fs::file_size(path, ec)};
}

/// One side unpacked into `out` with its own pool (--threads bounds unpack and inventory).
Result<ArtifactTree> unpack_side(const fs::path& image, const fs::path& out, UnpackOptions opt,
                                 std::function<bool(const FileRecord&)> skip) {
  opt.skip_blob = std::move(skip);
  opt.progress = nullptr;
  TaskPool pool(opt.threads);
  opt.pool = &pool;
  auto tree = unpack(image, out, opt);
  if (tree) inventory(*tree, out, pool);
  return tree;
}

}  // namespace

Result<EquivRun> equiv(const EquivRunOptions& o) {
  auto a = image_info(o.shipped);
  if (!a) return std::unexpected(a.error());
  auto b = image_info(o.rebuilt);
  if (!b) return std::unexpected(b.error());
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) return fail("cannot create the output directory: " + ec.message(), 0, o.out.string());

  const auto start = std::chrono::steady_clock::now();
  EquivRun run;
  Equivalence& e = run.equivalence;
  if (a->sha256 == b->sha256 && a->size == b->size) {
    e = identical_images(*a, *b);  // same bytes: nothing to unpack
  } else {
    // Both images are unpacked at once: each run is mostly single-stream work (one large
    // filesystem or compressed kernel), so two overlap well.
    SharedBlobs blobs;
    auto shipped = std::async(std::launch::async, [&] {
      auto t = unpack_side(o.shipped, o.out / "shipped", o.unpack, blobs.side(0));
      blobs.done(0);
      return t;
    });
    auto tb = unpack_side(o.rebuilt, o.out / "rebuilt", o.unpack, blobs.side(1));
    blobs.done(1);
    auto ta = shipped.get();
    if (!ta) return std::unexpected(ta.error());
    if (!tb) return std::unexpected(tb.error());
    for (const auto& [dir, tree] : {std::pair{"shipped", &*ta}, std::pair{"rebuilt", &*tb}})
      if (auto w = write_text(o.out / dir / "manifest.json", dump_json(manifest_json(*tree)) + "\n",
                              &run.written);
          !w)
        return std::unexpected(w.error());
    e = compare_images(*ta, (o.out / "shipped").string(), *tb, (o.out / "rebuilt").string(),
                       o.compare);
    // An equivalence is a claim about every byte: a cap that left content unextracted on either
    // side leaves it unproven (inconclusive), never equivalent. A difference found in what was
    // seen stays a difference.
    for (const auto& [side, tree] : {std::pair{"shipped", &*ta}, std::pair{"rebuilt", &*tb}})
      for (const auto& w : tree->warnings)
        if (w.code.starts_with("cap-")) run.unseen.push_back(fmt::format("{}: {}", side, w.code));
    std::sort(run.unseen.begin(), run.unseen.end());
    run.unseen.erase(std::unique(run.unseen.begin(), run.unseen.end()), run.unseen.end());
    if (e.verdict != EquivVerdict::kDifferent && !run.unseen.empty())
      e.warnings.push_back("not fully seen, so equivalence is unproven (inconclusive): " +
                           fmt::format("{}", fmt::join(run.unseen, ", ")));
  }
  e.elapsed_ms = std::uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
  std::vector<std::pair<fs::path, std::string>> outputs = {
      {o.out / "equiv.json", dump_json(equiv_json(e)) + "\n"},
      {o.out / "equiv.html", equiv_html(e)}};
  if (!o.diffoscope_json.empty())
    outputs.emplace_back(o.diffoscope_json, dump_json(equiv_diffoscope_json(e)) + "\n");
  if (!o.slsa.empty()) outputs.emplace_back(o.slsa, dump_json(equiv_slsa_vsa(e)) + "\n");
  for (const auto& [path, text] : outputs)
    if (auto w = write_text(path, text, &run.written); !w) return std::unexpected(w.error());
  return run;
}

int equiv_exit_code(const EquivRun& run) {
  if (run.equivalence.verdict == EquivVerdict::kDifferent) return 1;
  return run.unseen.empty() ? 0 : 3;
}

}  // namespace probity
