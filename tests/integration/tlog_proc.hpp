// Helpers for the tlog integration tests: temp dirs, running the probity CLI, and a server
// process whose port is read from its first stdout line. Loopback only; every wait is bounded.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "probity/tlog.hpp"

namespace tlog_test {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("probity-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct RunResult {
  int code = -1;
  std::string out, err;
};

/// Runs the probity CLI with arguments (no shell), capturing stdout and stderr.
inline RunResult run_probity(const std::vector<std::string>& args, const fs::path& scratch) {
  const auto out = scratch / "run.out", err = scratch / "run.err";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv{const_cast<char*>(PROBITY_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(PROBITY_BINARY, argv.data());
    ::_exit(127);
  }
  RunResult r;
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

/// A DSSE envelope of an in-toto statement signed by `key`; distinct per (client, i).
inline std::string make_envelope(int client, int i, const probity::tlog::PrivateKey& key) {
  using namespace probity::tlog;
  nlohmann::ordered_json st;
  st["_type"] = kStatementType;
  st["subject"] = {{{"name", "fw-" + std::to_string(client) + "-" + std::to_string(i)},
                    {"digest", {{"sha256", std::string(64, char('a' + client))}}}}};
  st["predicateType"] = kScanPredicateType;
  st["predicate"] = {{"n", i}};
  const std::string payload = st.dump();
  Envelope env;
  env.payload_type = std::string(kInTotoPayloadType);
  env.payload.assign(payload.begin(), payload.end());
  EXPECT_TRUE(dsse_sign(env, key));
  return env.serialize();
}

/// `probity log serve` in a child process.
class ServerProc {
 public:
  ServerProc(const fs::path& dir, const fs::path& token, const fs::path& log_file,
             const std::vector<std::string>& extra = {}) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      const int e = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(e, 2);
      ::close(fds[0]);
      std::vector<std::string> args{"log",          "serve",        "--dir",
                                    dir.string(),   "--listen",     "127.0.0.1:0",
                                    "--token-file", token.string(), "--checkpoint-interval-ms",
                                    "100"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv{const_cast<char*>(PROBITY_BINARY)};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(PROBITY_BINARY, argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    // First line: "listening on 127.0.0.1:PORT" (bounded wait).
    std::string line;
    pollfd p{fds[0], POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, std::size_t(n));
    }
    ::close(fds[0]);
    const auto colon = line.rfind(':');
    if (line.starts_with("listening on ") && colon != std::string::npos)
      port_ = std::atoi(line.c_str() + colon + 1);
  }
  ~ServerProc() {
    if (pid_ > 0 && !reaped_) kill9();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// SIGTERM, then the exit code (or -1 if it did not exit within the bound).
  int terminate() {
    ::kill(pid_, SIGTERM);
    return wait_exit(std::chrono::seconds(30));
  }
  void kill9() {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(30));
  }

 private:
  int wait_exit(std::chrono::seconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    reaped_ = true;
    return -1;
  }
  pid_t pid_ = -1;
  int port_ = 0;
  bool reaped_ = false;
};

}  // namespace tlog_test
