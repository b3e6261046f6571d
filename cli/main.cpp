// probity: test network-equipment firmware for back doors, offline.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "commands.hpp"

namespace probity::cli {

std::uint64_t parse_size(const std::string& text) {
  if (text.empty()) throw CLI::ValidationError("size", "empty size");
  std::size_t used = 0;
  const unsigned long long n = std::stoull(text, &used);
  std::uint64_t mult = 1;
  if (used < text.size()) {
    switch (std::toupper(static_cast<unsigned char>(text[used]))) {
      case 'K':
        mult = 1ull << 10;
        break;
      case 'M':
        mult = 1ull << 20;
        break;
      case 'G':
        mult = 1ull << 30;
        break;
      case 'T':
        mult = 1ull << 40;
        break;
      default:
        throw CLI::ValidationError("size", "bad size suffix in '" + text + "' (use K, M, G)");
    }
  }
  return n * mult;
}

struct ProgressPrinter::Impl {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread thread;
};

ProgressPrinter::ProgressPrinter(const char* what, const std::atomic<std::uint64_t>& bytes,
                                 const std::atomic<std::uint64_t>& files, bool quiet)
    : impl_(std::make_unique<Impl>()) {
  if (quiet) return;
  impl_->thread = std::thread([this, what, &bytes, &files] {
    const bool tty = isatty(STDERR_FILENO);
    const auto start = std::chrono::steady_clock::now();
    bool printed = false;
    std::unique_lock lock(impl_->mu);
    while (!impl_->cv.wait_for(lock, std::chrono::milliseconds(tty ? 500 : 2000),
                               [this] { return impl_->done; })) {
      if (std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) continue;
      fmt::print(stderr, "{}{}: {:.1f} MiB, {} files{}", tty ? "\r" : "", what,
                 double(bytes.load()) / (1 << 20), files.load(), tty ? "   " : "\n");
      printed = true;
    }
    if (printed && tty) fmt::print(stderr, "\n");
  });
}

ProgressPrinter::~ProgressPrinter() {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->done = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

}  // namespace probity::cli

int main(int argc, char** argv) {
  using namespace probity::cli;
  CLI::App app{
      R"(probity: test network-equipment firmware for back doors, offline.

Exit codes: 0 done (or verdict pass), 1 verdict fail, 2 bad usage or unreadable input,
3 inconclusive (an image was not fully seen).)"};
  app.name("probity");
  // Every option's default shows in --help (flags and empty strings show none).
  app.option_defaults()->always_capture_default();
  app.set_version_flag("-V,--version", std::function<std::string()>(version_text),
                       "Print the version, commit, build date and default database snapshot");
  app.require_subcommand(1);
  // Build-time generation of the man page and completions (cmake); hidden from --help.
  std::string generate, generate_out;
  app.add_option("--generate", generate)->group("")->check(CLI::IsMember({"man", "bash", "zsh"}));
  app.add_option("--generate-out", generate_out)->group("");
  std::vector<Command> commands = {
#define PROBITY_COMMAND(name) add_##name(app),
#include "commands.def"
#undef PROBITY_COMMAND
  };
  if (argc >= 2 && std::string_view(argv[1]) == "--generate") {
    try {
      app.require_subcommand(0);
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }
    const std::string text = generate == "man"    ? generate_man(app)
                             : generate == "bash" ? generate_bash_completion(app)
                                                  : generate_zsh_completion(app);
    if (generate_out.empty()) {
      fmt::print("{}", text);
      return kExitOk;
    }
    std::ofstream f(generate_out, std::ios::binary);
    f << text;
    f.close();
    if (!f) {
      fmt::print(stderr, "probity: cannot write {}\n", generate_out);
      return kExitUsage;
    }
    return kExitOk;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version are "errors" with exit code 0; a usage error names the closest match
    // when it is an unknown subcommand or flag.
    if (e.get_exit_code() == 0) return app.exit(e) == 0 ? kExitOk : kExitUsage;
    if (explain_parse_error(app, argc, argv)) return kExitUsage;
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  try {
    for (auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "probity: internal error: {}\n", e.what());
    return kExitUsage;
  }
  return kExitUsage;
}
