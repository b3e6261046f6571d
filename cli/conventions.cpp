// The conventions every subcommand shares: one rule for output directories (--force), --format
// printing to stdout, "unknown subcommand/flag" with the closest match.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.hpp"

namespace probity::cli {

namespace fs = std::filesystem;

namespace {

/// Files only probity writes at the top of an output directory: --force empties a directory
/// only when it holds one of them, so a mistyped --out never wipes someone's home directory.
constexpr const char* kOutputMarkers[] = {"manifest.json", "report.json", "diff.json",
                                          "equiv.json"};

}  // namespace

bool prepare_out_dir(const char* who, const std::string& out, bool force) {
  std::error_code ec;
  const fs::path dir(out);
  const auto st = fs::symlink_status(dir, ec);
  if (fs::exists(st) && !fs::is_directory(st)) {
    fmt::print(stderr, "probity {}: --out {}: exists and is not a directory\n", who, out);
    return false;
  }
  if (fs::exists(st) && !fs::is_empty(dir, ec)) {
    if (!force) {
      fmt::print(stderr,
                 "probity {}: --out {}: output directory is not empty (choose a new directory, "
                 "or --force to replace an earlier probity output there)\n",
                 who, out);
      return false;
    }
    const bool ours = std::any_of(std::begin(kOutputMarkers), std::end(kOutputMarkers),
                                  [&](const char* m) { return fs::exists(dir / m, ec); });
    if (!ours) {
      fmt::print(stderr,
                 "probity {}: --out {}: --force replaces only an earlier probity output (this "
                 "directory has no manifest.json, report.json, diff.json or equiv.json); remove it "
                 "yourself\n",
                 who, out);
      return false;
    }
    // remove_all never follows a symlink: a link in the directory is removed, not its target.
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      fs::remove_all(entry.path(), ec);
      if (ec) {
        fmt::print(stderr, "probity {}: --force: cannot remove {}: {}\n", who,
                   entry.path().string(), ec.message());
        return false;
      }
    }
  }
  fs::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "probity {}: --out {}: {}\n", who, out, ec.message());
    return false;
  }
  return true;
}

void add_out_flags(CLI::App& app, std::string& out, bool& force) {
  app.add_option("--out,-o", out,
                 "Output directory (created; refused when not empty unless --force)")
      ->required();
  app.add_flag("--force", force,
               "Replace an earlier probity output in a non-empty --out directory");
}

void add_format_flag(CLI::App& app, std::string& format, const std::vector<std::string>& allowed) {
  std::string names;
  for (const auto& a : allowed) names += (names.empty() ? "" : "|") + a;
  app.add_option("--format", format,
                 fmt::format("What to print on stdout ({}): table is the summary; the others print "
                             "the file of that format that is also written to --out (the summary "
                             "then goes to stderr)",
                             names))
      ->check(CLI::IsMember(allowed))
      ->capture_default_str();
}

bool print_file(const char* who, const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "probity {}: cannot read {}\n", who, path.string());
    return false;
  }
  std::cout << in.rdbuf();
  std::cout.flush();
  return bool(std::cout);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::string_view::npos;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  // Close enough to be a typo: "scna" -> "scan" (2), "--quite" -> "--quiet" (2), or a prefix.
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  if (best_d <= limit) return best;
  for (const auto& c : candidates)
    if (word.size() >= 2 && c.starts_with(word)) return c;
  return {};
}

namespace {

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a; a = a->get_parent())
    for (const CLI::Option* o : a->get_options()) {
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
      for (const auto& s : o->get_snames()) names.push_back("-" + s);
    }
  return names;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* s :
       app.get_subcommands([](const CLI::App* a) { return !a->get_group().empty(); }))
    names.push_back(s->get_name());
  return names;
}

/// The full command name of `app` ("probity db").
std::string command_path(const CLI::App& app) {
  std::string path;
  for (const CLI::App* a = &app; a; a = a->get_parent())
    path = a->get_name() + (path.empty() ? "" : " ") + path;
  return path;
}

}  // namespace

bool explain_parse_error(CLI::App& top, int argc, char** argv) {
  // The deepest subcommand the arguments reached, and where its own arguments start.
  CLI::App* app = &top;
  int start = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") break;
    if (a.starts_with("-")) continue;
    CLI::App* sub = nullptr;
    try {
      sub = app->get_subcommand(std::string(a));
    } catch (const CLI::OptionNotFound&) {
      sub = nullptr;
    }
    if (!sub) continue;
    app = sub;
    start = i + 1;
  }
  const std::string who = command_path(*app);
  // A command that needs a subcommand and got an unknown word.
  const auto subs = subcommand_names(*app);
  if (!subs.empty() && app->get_subcommands().empty()) {
    for (int i = start; i < argc; ++i) {
      const std::string a = argv[i];
      if (a.starts_with("-")) {
        // Skip the value of an option that takes one.
        const CLI::Option* o = nullptr;
        try {
          o = app->get_option_no_throw(a.substr(0, a.find('=')));
        } catch (...) {
          o = nullptr;
        }
        if (o && o->get_type_size() > 0 && a.find('=') == std::string::npos) ++i;
        continue;
      }
      const std::string near = closest(a, subs);
      fmt::print(stderr, "{}: unknown subcommand '{}'{}\nRun '{} --help' for the subcommands.\n",
                 who, a, near.empty() ? "" : fmt::format("; did you mean '{}'?", near), who);
      return true;
    }
  }
  // An unknown flag.
  const auto names = option_names(*app);
  for (int i = start; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    if (!a.starts_with("-") || a == "-") continue;
    std::string name = a.substr(0, a.find('='));
    if (!name.starts_with("--") && name.size() > 2) name = name.substr(0, 2);  // -ofoo
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    const std::string near = closest(name, names);
    fmt::print(stderr, "{}: unknown flag '{}'{}\nRun '{} --help' for the flags.\n", who, name,
               near.empty() ? "" : fmt::format("; did you mean '{}'?", near), who);
    return true;
  }
  return false;
}

}  // namespace probity::cli
