// Helpers for integration tests that run the probity CLI.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace probity::testing {

struct RunResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs a shell command and captures its exit code and output.
inline RunResult run_command(const std::string& command) {
  RunResult r;
  const std::string cmd = command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

/// Runs `probity ARGS` and captures its exit code and output.
inline RunResult run_probity(const std::string& args) {
  return run_command(std::string(PROBITY_BINARY) + " " + args);
}

/// Runs a command; returns its exit code (output discarded unless it fails, then printed).
inline int run_status(const std::string& command) {
  RunResult r = run_command(command);
  if (r.exit_code != 0) std::fprintf(stderr, "%s\n", r.output.c_str());
  return r.exit_code;
}

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

/// A fresh scratch directory, removed at the end of the test.
class Scratch {
 public:
  explicit Scratch(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() /
             ("probity-test-" + std::to_string(getpid()) + "-" + name)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~Scratch() { std::filesystem::remove_all(dir_); }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

inline std::filesystem::path fixture(const std::string& rel) {
  return std::filesystem::path(PROBITY_FIXTURES_DIR) / rel;
}

}  // namespace probity::testing
