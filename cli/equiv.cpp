// probity equiv SHIPPED REBUILT --out DIR [--quiet] [--diffoscope-json FILE] [--slsa FILE]
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "commands.hpp"
#include "probity/equiv.hpp"
#include "probity/hash.hpp"
#include "probity/json.hpp"

namespace probity::cli {
namespace {

namespace fs = std::filesystem;

struct EquivArgs {
  std::string shipped, rebuilt, out, diffoscope_json, slsa;
  std::vector<std::string> vendor_keys;
  bool quiet = false, force = false;
  std::string format = "table";  ///< --format: json prints equiv.json, table the summary
  std::size_t max_differences = kMaxEquivDifferences;
  std::string max_text = "1M";
  UnpackFlags flags;
};

bool write_file(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) fmt::print(stderr, "probity equiv: cannot write {}\n", path.string());
  return bool(f);
}

std::optional<ImageInfo> image_info(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    fmt::print(stderr, "probity equiv: {}: not a readable regular file\n", path);
    return std::nullopt;
  }
  auto digest = sha256_file(path);
  if (!digest) {
    fmt::print(stderr, "probity equiv: {}: {}\n", path, digest.error().to_string());
    return std::nullopt;
  }
  return ImageInfo{path, fs::path(path).filename().string(), *digest, fs::file_size(path, ec)};
}

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

void print_summary(std::FILE* to, const Equivalence& e, const std::string& out) {
  fmt::print(to, "probity equiv: {} vs {}: {}\n", e.shipped.name, e.rebuilt.name,
             to_string(e.verdict));
  std::uint64_t masked = 0;
  for (const auto& n : e.normalisations) masked += n.bytes;
  if (!e.normalisations.empty())
    fmt::print(to, "  {} normalisation(s), {} bytes masked\n", e.normalisations.size(), masked);
  std::size_t shown = 0;
  for (const auto& d : e.differences) {
    if (++shown > 20) {
      fmt::print(to, "  ... {} more (see {}/equiv.json)\n", e.differences_total - 20, out);
      break;
    }
    fmt::print(to, "  {} [{}] {}\n", d.path, d.kind, d.explanation);
  }
  for (const auto& w : e.warnings) fmt::print(to, "  warning: {}\n", w);
  fmt::print(to, "  report: {}/equiv.json, {}/equiv.html\n", out, out);
}

}  // namespace

Command add_equiv(CLI::App& parent) {
  auto args = std::make_shared<EquivArgs>();
  CLI::App* app = parent.add_subcommand(
      "equiv",
      "Is REBUILT the same image as SHIPPED? Compares what the images hold, masking only the "
      "named normalisations of docs/equiv.md, and writes DIR/equiv.json and DIR/equiv.html.\n"
      "Exit codes: 0 identical or equivalent, 1 different, 2 bad usage or unreadable input,\n"
      "3 inconclusive (a cap left content of either image unextracted: not proven equivalent).");
  app->add_option("SHIPPED", args->shipped, "The image as shipped")->required();
  app->add_option("REBUILT", args->rebuilt, "The image rebuilt from source")->required();
  add_out_flags(*app, args->out, args->force);
  app->add_flag("--quiet,-q", args->quiet, "No progress and no summary");
  add_format_flag(*app, args->format, {"table", "json"});
  app->add_option("--diffoscope-json", args->diffoscope_json,
                  "Also write the differences in diffoscope's JSON format to FILE");
  app->add_option("--slsa", args->slsa,
                  "Also write an in-toto Statement with an SLSA verification summary to FILE");
  app->add_option("--max-differences", args->max_differences,
                  "Differences listed before the rest are only counted");
  app->add_option("--max-diff-bytes", args->max_text,
                  "Text files larger than this are compared as bytes (default 1M)");
  app->add_option("--vendor-key", args->vendor_keys,
                  "usign public key (as in OpenWrt's etc/opkg/keys/); repeatable. Each image's\n"
                  "fwtool signature must then verify with one of them");
  add_unpack_flags(*app, args->flags);
  return {
      app, [args]() -> int {
        EquivOptions opt;
        for (const auto& file : args->vendor_keys) {
          std::ifstream in(file, std::ios::binary);
          if (!in) {
            fmt::print(stderr, "probity equiv: --vendor-key: cannot read {}\n", file);
            return kExitUsage;
          }
          std::string text(4096, '\0');
          in.read(text.data(), std::streamsize(text.size()));
          text.resize(std::size_t(in.gcount()));
          auto key = parse_usign_key(text, file);
          if (!in.eof() || !key) {
            fmt::print(stderr, "probity equiv: --vendor-key: {}\n",
                       key ? file + ": larger than a usign key file" : key.error().to_string());
            return kExitUsage;
          }
          opt.vendor_keys.push_back(std::move(*key));
        }
        const auto a = image_info(args->shipped);
        const auto b = image_info(args->rebuilt);
        if (!a || !b) return kExitUsage;
        const fs::path out(args->out);
        if (!prepare_out_dir("equiv", args->out, args->force)) return kExitUsage;
        opt.max_differences = args->max_differences;
        try {
          opt.max_text_bytes = parse_size(args->max_text);
        } catch (const std::exception& e) {
          fmt::print(stderr, "probity equiv: --max-diff-bytes: {}\n", e.what());
          return kExitUsage;
        }
        const auto start = std::chrono::steady_clock::now();
        Equivalence e;
        std::vector<std::string> unseen;  ///< "side: cap-code", when a cap hid content
        if (a->sha256 == b->sha256 && a->size == b->size) {
          e = identical_images(*a, *b);  // same bytes: nothing to unpack
        } else {
          // Both images are unpacked at once: each run is mostly single-stream work
          // (one large filesystem or compressed kernel), so two overlap well.
          SharedBlobs blobs;
          auto shipped = std::async(std::launch::async, [&] {
            auto t = unpack_and_inventory("equiv", args->shipped, (out / "shipped").string(),
                                          args->flags, true, blobs.side(0));
            blobs.done(0);
            return t;
          });
          const auto tb = unpack_and_inventory("equiv", args->rebuilt, (out / "rebuilt").string(),
                                               args->flags, true, blobs.side(1));
          blobs.done(1);
          const auto ta = shipped.get();
          if (!ta || !tb) return kExitUsage;
          if (!write_file(out / "shipped" / "manifest.json",
                          dump_json(manifest_json(*ta)) + "\n") ||
              !write_file(out / "rebuilt" / "manifest.json", dump_json(manifest_json(*tb)) + "\n"))
            return kExitUsage;
          e = compare_images(*ta, (out / "shipped").string(), *tb, (out / "rebuilt").string(), opt);
          // An equivalence is a claim about every byte: a cap that left content unextracted on
          // either side leaves it unproven (inconclusive), never equivalent. A difference found
          // in what was seen stays a difference.
          const std::pair<const char*, const ArtifactTree*> sides[] = {{"shipped", &*ta},
                                                                       {"rebuilt", &*tb}};
          for (const auto& [side, tree] : sides)
            for (const auto& w : tree->warnings)
              if (w.code.starts_with("cap-")) unseen.push_back(fmt::format("{}: {}", side, w.code));
          std::sort(unseen.begin(), unseen.end());
          unseen.erase(std::unique(unseen.begin(), unseen.end()), unseen.end());
          if (e.verdict != EquivVerdict::kDifferent && !unseen.empty())
            e.warnings.push_back("not fully seen, so equivalence is unproven (inconclusive): " +
                                 fmt::format("{}", fmt::join(unseen, ", ")));
        }
        e.elapsed_ms = std::uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count());
        if (!write_file(out / "equiv.json", dump_json(equiv_json(e)) + "\n") ||
            !write_file(out / "equiv.html", equiv_html(e)))
          return kExitUsage;
        if (!args->diffoscope_json.empty() &&
            !write_file(args->diffoscope_json, dump_json(equiv_diffoscope_json(e)) + "\n"))
          return kExitUsage;
        if (!args->slsa.empty() && !write_file(args->slsa, dump_json(equiv_slsa_vsa(e)) + "\n"))
          return kExitUsage;
        const bool table = args->format == "table";
        if (!args->quiet) print_summary(table ? stdout : stderr, e, args->out);
        if (!table && !print_file("equiv", out / "equiv.json")) return kExitUsage;
        if (e.verdict == EquivVerdict::kDifferent) return kExitFail;
        if (!unseen.empty()) {
          fmt::print(stderr, "probity equiv: INCONCLUSIVE: {} (see {}/equiv.json)\n",
                     e.warnings.back(), args->out);
          return kExitInconclusive;
        }
        return kExitOk;
      }};
}

}  // namespace probity::cli
