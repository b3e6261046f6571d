// probity identify DIR [--threads N] [--json] [--signatures DIR]
// The identification stage alone, on an already unpacked directory tree (for benchmarks and for
// trees unpacked by other tools). `probity scan` runs it as part of the whole pipeline.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "commands.hpp"
#include "probity/identify.hpp"
#include "probity/json.hpp"

namespace probity::cli {
namespace {

struct IdentifyArgs {
  std::string dir, signatures;
  bool json = false, quiet = false;
  unsigned threads = 0;
};

}  // namespace

Command add_identify(CLI::App& parent) {
  auto args = std::make_shared<IdentifyArgs>();
  CLI::App* app = parent.add_subcommand(
      "identify",
      R"(Identify third-party components (name, exact version, evidence) in an unpacked directory
tree DIR with the version signatures, and print them with the scan throughput.
Exit codes: 0 done, 2 bad usage or unreadable input.)");
  app->add_option("DIR", args->dir, "Directory tree (e.g. an unpacked root filesystem)")
      ->required();
  app->add_option("--signatures", args->signatures,
                  "Directory of version signatures (default: the installed data/signatures)");
  app->add_option("--threads", args->threads, "Worker threads (0: all cores; 1 for one core)");
  app->add_flag("--json", args->json, "Print the components as JSON");
  app->add_flag("--quiet,-q", args->quiet, "Print only the timing line (stderr)");
  return {app, [args]() -> int {
            namespace fs = std::filesystem;
            using Clock = std::chrono::steady_clock;
            const fs::path root(args->dir);
            std::error_code ec;
            if (!fs::is_directory(root, ec)) {
              fmt::print(stderr, "probity identify: {} is not a directory\n", args->dir);
              return kExitUsage;
            }
            const auto t0 = Clock::now();
            auto sigs = load_signatures(args->signatures.empty() ? default_signature_dir()
                                                                 : fs::path(args->signatures));
            if (!sigs) {
              fmt::print(stderr, "probity identify: {}\n", sigs.error().to_string());
              return kExitUsage;
            }
            const std::size_t n_sigs = sigs->size();
            auto identifier = Identifier::create(std::move(*sigs));
            if (!identifier) {
              fmt::print(stderr, "probity identify: {}\n", identifier.error().to_string());
              return kExitUsage;
            }
            const auto t1 = Clock::now();
            // The directory as an artifact tree: regular files only, never following symlinks.
            ArtifactTree tree;
            for (auto it = fs::recursive_directory_iterator(
                     root, fs::directory_options::skip_permission_denied, ec);
                 !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
              if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
              FileRecord f;
              f.path = fs::relative(it->path(), root, ec).generic_string();
              f.extracted = f.path;
              f.type = EntryType::kFile;
              f.size = it->file_size(ec);
              tree.files.push_back(std::move(f));
            }
            const auto t2 = Clock::now();
            auto found = identify(tree, root, *identifier,
                                  {.threads = args->threads, .plain_directory = true});
            const auto t3 = Clock::now();
            const double compile_s = std::chrono::duration<double>(t1 - t0).count();
            const double scan_s = std::chrono::duration<double>(t3 - t2).count();
            if (args->json) {
              nlohmann::json a = nlohmann::json::array();
              for (const auto& c : found.components) a.push_back(component_json(c));
              std::cout << a.dump(2) << "\n";
            } else if (!args->quiet) {
              std::map<std::pair<std::string, std::string>, int> copies;
              for (const auto& c : found.components) ++copies[{c.name, c.version}];
              for (const auto& [k, n] : copies)
                fmt::print("{:<20} {:<16} {} cop{}\n", k.first, k.second, n, n > 1 ? "ies" : "y");
            }
            fmt::print(stderr,
                       "probity identify: {} signatures compiled in {:.3f} s; scanned {} files, "
                       "{} bytes in {:.3f} s ({:.1f} MB/s, threads {}); {} components\n",
                       n_sigs, compile_s, found.files_scanned, found.bytes_scanned, scan_s,
                       scan_s > 0 ? double(found.bytes_scanned) / 1e6 / scan_s : 0.0,
                       args->threads == 0 ? std::string("all") : std::to_string(args->threads),
                       found.components.size());
            return kExitOk;
          }};
}

}  // namespace probity::cli
