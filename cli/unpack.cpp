// probity unpack IMAGE --out DIR [--quiet] [--json]
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "commands.hpp"
#include "probity/inventory.hpp"
#include "probity/json.hpp"
#include "probity/task_pool.hpp"
#include "probity/unpack.hpp"

namespace probity::cli {
namespace {

struct UnpackArgs {
  std::string image, out;
  bool quiet = false, json = false, force = false;
  UnpackFlags flags;
};

void print_summary(std::FILE* to, const ArtifactTree& t, const std::string& out) {
  fmt::print(to, "probity unpack: {} ({} bytes, sha256 {})\n", t.image.name, t.image.size,
             t.image.sha256);
  fmt::print(to,
             "  understood {:.1f}% of the image; {} containers, {} files ({} entries), {:.1f} MiB "
             "written in {:.2f} s\n",
             t.coverage.share() * 100, t.containers.size(), t.stats.files, t.stats.entries,
             double(t.stats.bytes_written) / (1 << 20), double(t.stats.elapsed_ms) / 1000);
  for (const auto& c : t.containers) {
    if (c.depth > 3) continue;
    fmt::print(to, "  {:>{}}#{} {} at 0x{:x} ({} bytes){}: {}\n", "", 2 * (c.depth - 1), c.id,
               c.format, c.offset, c.length, c.complete ? "" : " INCOMPLETE", c.description);
  }
  std::map<std::string, int> kinds;
  for (const auto& f : t.files)
    if (f.type == EntryType::kFile) ++kinds[f.kind];
  std::string k;
  for (auto& [kind, n] : kinds) k += fmt::format("{}{} {}", k.empty() ? "" : ", ", n, kind);
  if (!k.empty()) fmt::print(to, "  kinds: {}\n", k);
  if (!t.warnings.empty()) {
    std::map<std::string, int> codes;
    for (const auto& w : t.warnings) ++codes[w.code];
    std::string s;
    for (auto& [code, n] : codes) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", n, code);
    fmt::print(to, "  warnings: {} ({})\n", t.warnings.size(), s);
  }
  fmt::print(to, "  manifest: {}/manifest.json\n", out);
}

}  // namespace

void add_unpack_flags(CLI::App& app, UnpackFlags& f) {
  app.add_flag("--deep", f.deep, "Carve every extracted file at every offset (slow, noisy)");
  app.add_option("--max-total", f.max_total, "Cap on total bytes extracted (default 4G)");
  app.add_option("--max-file", f.max_file, "Cap on one extracted file (default 2G)");
  app.add_option("--max-ratio", f.max_ratio, "Cap on a stream's decompression ratio");
  app.add_option("--max-depth", f.max_depth, "Cap on container nesting depth");
  app.add_option("--max-files", f.max_files, "Cap on extracted entries");
  app.add_option("--max-memory", f.max_memory,
                 "Cap on the memory the unpacker's entry records take (default 192M)");
  app.add_option("--max-candidates", f.max_candidates,
                 "Cap on carve candidates per magic in one blob");
  app.add_option("--format-timeout", f.format_timeout, "Seconds one format may run");
  app.add_option("--threads", f.threads, "Worker threads (0: all cores)");
}

std::optional<UnpackOptions> unpack_options(const char* who, const UnpackFlags& f) {
  UnpackOptions opt;
  try {
    opt.limits.max_total_bytes = parse_size(f.max_total);
    opt.limits.max_file_bytes = parse_size(f.max_file);
    opt.limits.max_record_bytes = parse_size(f.max_memory);
  } catch (const std::exception& e) {
    fmt::print(stderr, "probity {}: {}\n", who, e.what());
    return std::nullopt;
  }
  opt.limits.max_ratio = f.max_ratio;
  opt.limits.max_depth = f.max_depth;
  opt.limits.max_entries = f.max_files;
  opt.limits.max_carve_candidates = f.max_candidates;
  opt.limits.format_seconds = f.format_timeout;
  opt.deep = f.deep;
  opt.threads = f.threads;
  return opt;
}

namespace {

/// Unpacks IMAGE into OUT and inventories it, with progress on stderr unless quiet. On failure
/// prints "probity WHO: error" and returns nullopt (the caller exits kExitUsage).
std::optional<ArtifactTree> unpack_and_inventory(const char* who, const std::string& image,
                                                 const std::string& out, const UnpackFlags& f,
                                                 bool quiet) {
  auto parsed = unpack_options(who, f);
  if (!parsed) return std::nullopt;
  UnpackOptions opt = std::move(*parsed);
  Progress progress;
  opt.progress = &progress;
  Result<ArtifactTree> tree = fail("not run");
  {
    TaskPool pool(f.threads);  // one pool for unpack and inventory: --threads bounds both
    opt.pool = &pool;
    ProgressPrinter printer(who, progress.bytes, progress.files, quiet);
    tree = unpack(image, out, opt);
    if (tree) inventory(*tree, out, pool);
  }
  if (!tree) {
    fmt::print(stderr, "probity {}: {}\n", who, tree.error().to_string());
    return std::nullopt;
  }
  return std::move(*tree);
}

}  // namespace

Command add_unpack(CLI::App& parent) {
  auto args = std::make_shared<UnpackArgs>();
  CLI::App* app = parent.add_subcommand(
      "unpack",
      R"(Unpack IMAGE safely and recursively into DIR and write DIR/manifest.json.
Exit codes: 0 done (warnings allowed), 2 bad usage or unreadable input.)");
  app->add_option("IMAGE", args->image, "Firmware image")->required();
  add_out_flags(*app, args->out, args->force);
  app->add_flag("--quiet,-q", args->quiet, "No progress and no summary");
  app->add_flag("--json", args->json, "Also print the manifest to stdout");
  add_unpack_flags(*app, args->flags);
  return {app, [args]() -> int {
            if (!prepare_out_dir("unpack", args->out, args->force)) return kExitUsage;
            auto tree =
                unpack_and_inventory("unpack", args->image, args->out, args->flags, args->quiet);
            if (!tree) return kExitUsage;
            const auto manifest = manifest_json(*tree, /*with_files=*/false);
            const auto path = std::filesystem::path(args->out) / "manifest.json";
            std::ofstream f(path);
            if (!write_json_streaming(f, manifest, tree->files) || !f.flush()) {
              fmt::print(stderr, "probity unpack: cannot write {}\n", path.string());
              return kExitUsage;
            }
            if (args->json) write_json_streaming(std::cout, manifest, tree->files);
            if (!args->quiet) print_summary(args->json ? stderr : stdout, *tree, args->out);
            return kExitOk;
          }};
}

}  // namespace probity::cli
