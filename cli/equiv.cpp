// probity equiv SHIPPED REBUILT --out DIR [--quiet] [--diffoscope-json FILE] [--slsa FILE]: flags
// into EquivRunOptions, probity::equiv (src/equiv/run.cpp), the summary.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "commands.hpp"
#include "probity/equiv.hpp"
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
      R"(named normalisations of docs/equiv.md, and writes DIR/equiv.json and DIR/equiv.html.
Exit codes: 0 identical or equivalent, 1 different, 2 bad usage or unreadable input,
3 inconclusive (a cap left content of either image unextracted: not proven equivalent).)");
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
                  R"(usign public key (as in OpenWrt's etc/opkg/keys/); repeatable. Each image's
fwtool signature must then verify with one of them)");
  add_unpack_flags(*app, args->flags);
  return {app, [args]() -> int {
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
            std::error_code ec;
            for (const auto& image : {args->shipped, args->rebuilt})
              if (!fs::is_regular_file(image, ec)) {
                fmt::print(stderr, "probity equiv: {}: not a readable regular file\n", image);
                return kExitUsage;
              }
            if (!prepare_out_dir("equiv", args->out, args->force)) return kExitUsage;
            opt.max_differences = args->max_differences;
            try {
              opt.max_text_bytes = parse_size(args->max_text);
            } catch (const std::exception& e) {
              fmt::print(stderr, "probity equiv: --max-diff-bytes: {}\n", e.what());
              return kExitUsage;
            }
            auto unpack = unpack_options("equiv", args->flags);
            if (!unpack) return kExitUsage;
            EquivRunOptions run_opt{.shipped = args->shipped,
                                    .rebuilt = args->rebuilt,
                                    .out = args->out,
                                    .unpack = std::move(*unpack),
                                    .compare = std::move(opt),
                                    .diffoscope_json = args->diffoscope_json,
                                    .slsa = args->slsa};
            auto run = probity::equiv(run_opt);
            if (!run) {
              fmt::print(stderr, "probity equiv: {}\n", run.error().to_string());
              return kExitUsage;
            }
            const Equivalence& e = run->equivalence;
            const fs::path out(args->out);
            const bool table = args->format == "table";
            if (!args->quiet) print_summary(table ? stdout : stderr, e, args->out);
            if (!table && !print_file("equiv", out / "equiv.json")) return kExitUsage;
            const int code = equiv_exit_code(*run);
            if (code == kExitInconclusive)
              fmt::print(stderr, "probity equiv: INCONCLUSIVE: {} (see {}/equiv.json)\n",
                         e.warnings.back(), args->out);
            return code;
          }};
}

}  // namespace probity::cli
