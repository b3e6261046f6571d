// The log server under load and failure (loopback only): 8 concurrent appenders x 1,000 entries
// with none lost and every proof verified; kill -9 during appends then restart with no
// acknowledged entry lost; 401 and 413 store nothing; the witness cosigns only what it verified;
// 100 slow clients (silent or trickling their header) delay no one and are cut off after the
// total request timeout; the connection caps and the per-address request rate.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "probity/tlog.hpp"
#include "tlog_proc.hpp"

using namespace probity::tlog;
using namespace tlog_test;

namespace {

constexpr const char* kToken = "s3cret-token-for-tests";

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// A TCP connection from `source` (any 127.0.0.0/8 address is loopback) to 127.0.0.1:port.
int connect_from(const char* source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in src{}, dst{};
  src.sin_family = dst.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &src.sin_addr);
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  dst.sin_port = htons(std::uint16_t(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// True while the server keeps `fd` open (nothing to read yet, no end of stream).
bool held(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

struct RawReply {
  int status = 0;
  double seconds = 0;
  std::string text;
};

/// Reads from `fd` until the server closes it, `bound` passes, or `until` has arrived.
std::string read_from(int fd, Ms bound, std::string_view until = {}) {
  std::string got;
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < bound && (until.empty() || got.find(until) == std::string::npos)) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, std::size_t(n));
  }
  return got;
}

/// Sends `bytes` on a new connection from `source` and reads until the server closes it, for at
/// most `bound`.
RawReply exchange(const char* source, int port, const std::string& bytes, Ms bound) {
  const auto t0 = Clock::now();
  RawReply r;
  const int fd = connect_from(source, port);
  if (fd < 0) return r;
  if (::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size()))
    r.text = read_from(fd, bound);
  ::close(fd);
  r.seconds = seconds_since(t0);
  if (r.text.starts_with("HTTP/1.1 ")) r.status = std::atoi(r.text.c_str() + 9);
  return r;
}

/// GET `path` on a new connection from `source`, waiting at most `bound` for the whole reply.
RawReply raw_get(const char* source, int port, const std::string& path, Ms bound) {
  return exchange(source, port,
                  "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                  bound);
}

class TlogServer : public ::testing::Test {
 protected:
  void SetUp() override {
    log_key = *generate_key("test.example/log");
    approver = *generate_key("approver");
    auto log = Log::create(dir(), log_key);
    ASSERT_TRUE(log);
    ASSERT_TRUE((*log)->checkpoint());
    std::ofstream(tmp.path / "token") << kToken << "\n";
  }
  fs::path dir() const { return tmp.path / "L"; }
  std::unique_ptr<ServerProc> start(const std::vector<std::string>& extra = {}) {
    auto s =
        std::make_unique<ServerProc>(dir(), tmp.path / "token", tmp.path / "server.log", extra);
    EXPECT_GT(s->port(), 0) << slurp(tmp.path / "server.log");
    return s;
  }
  static httplib::Headers auth() { return {{"Authorization", std::string("Bearer ") + kToken}}; }

  TempDir tmp{"tlog-server"};
  PrivateKey log_key, approver;
};

}  // namespace

TEST_F(TlogServer, RejectsUnauthenticatedAndOversizedStoresNothing) {
  auto srv = start();
  httplib::Client cli(srv->url());
  cli.set_connection_timeout(5, 0);
  const std::string env = make_envelope(0, 0, approver);
  auto r = cli.Post("/add", env, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = cli.Post("/add", {{"Authorization", "Bearer wrong"}}, env, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = cli.Post("/add", {{"Authorization", std::string("Bearer ") + kToken + "x"}}, env,
               "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  const std::string big(probity::kMaxEntryBytes + 100, ' ');
  r = cli.Post("/add", auth(), big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  r = cli.Post("/add", auth(), "not an envelope", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = cli.Post("/add-cosignature", "x", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  auto log = Log::open(dir());
  ASSERT_TRUE(log);
  EXPECT_EQ(*(*log)->size(), 0u);
  // Tiles beyond the tree are 404; the checkpoint is served.
  EXPECT_EQ(cli.Get("/tile/0/000.p/1")->status, 404);
  EXPECT_EQ(cli.Get("/tile/0/../x")->status, 404);
  auto ck = cli.Get("/checkpoint");
  ASSERT_TRUE(ck);
  ASSERT_EQ(ck->status, 200);
  auto ck_note = parse_note(ck->body);
  ASSERT_TRUE(ck_note);
  EXPECT_TRUE(note_verified_by(*ck_note, log_key.pub));
  // Authorized append works.
  r = cli.Post("/add", auth(), env, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "0\n");
  EXPECT_EQ(srv->terminate(), 0);
  EXPECT_EQ(*(*log)->size(), 1u);
}

TEST_F(TlogServer, EightConcurrentAppendersNoneLostEveryProofVerifies) {
  // Every client shares one address: no per-address request rate here.
  auto srv = start({"--rate-per-address", "0"});
  constexpr int kClients = 8, kEach = 1000;
  std::mutex mu;
  std::map<std::uint64_t, std::string> acked;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client cli(srv->url());
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(60, 0);
      for (int i = 0; i < kEach; ++i) {
        const std::string env = make_envelope(c, i, approver);
        auto r = cli.Post("/add", auth(), env, "application/json");
        if (!r || r->status != 200) {
          ++errors;
          continue;
        }
        std::lock_guard lock(mu);
        const auto [it, fresh] = acked.emplace(std::stoull(r->body), env);
        if (!fresh) ++errors;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_EQ(acked.size(), std::size_t(kClients * kEach));
  EXPECT_EQ(acked.rbegin()->first, std::uint64_t(kClients * kEach - 1));

  // A witness polls over HTTP and verifies consistency from tiles across two polls.
  const auto wkey = *generate_key("witness.example/w1", KeyType::kCosignatureV1);
  std::ofstream(tmp.path / "w.key") << wkey.to_string() << "\n";
  std::ofstream(tmp.path / "log.pub") << log_key.pub.to_string() << "\n";
  auto wr = run_probity(
      {"log", "witness", "--url", srv->url(), "--log-key", (tmp.path / "log.pub").string(), "--key",
       (tmp.path / "w.key").string(), "--state", (tmp.path / "w.state").string(), "--token-file",
       (tmp.path / "token").string(), "--count", "2", "--interval-ms", "300"},
      tmp.path);
  EXPECT_EQ(wr.code, 0) << wr.err;
  EXPECT_EQ(srv->terminate(), 0);

  auto log = Log::open(dir());
  ASSERT_TRUE(log);
  const std::uint64_t n = *(*log)->size();
  ASSERT_EQ(n, std::uint64_t(kClients * kEach));
  auto note = parse_note(*(*log)->latest_checkpoint());
  ASSERT_TRUE(note && note_verified_by(*note, log_key.pub));
  auto cp = parse_checkpoint(note->text);
  ASSERT_EQ(cp->size, n);
  for (const auto& [idx, env] : acked) {
    auto stored = (*log)->entry(idx);
    ASSERT_TRUE(stored);
    ASSERT_EQ(std::string(stored->begin(), stored->end()), env);
    auto proof = inclusion_proof(idx, n, (*log)->getter());
    ASSERT_TRUE(proof);
    ASSERT_TRUE(verify_inclusion(idx, n, leaf_hash(*stored), *proof, cp->root)) << idx;
  }
  {
    auto audit = (*log)->check();
    ASSERT_TRUE(audit);
    EXPECT_TRUE(audit->ok()) << (audit->problems.empty() ? "" : audit->problems.front());
  }
  // The witness's cosignature was posted back and stored with a checkpoint.
  auto cosigned = (*log)->checkpoint_covering(0, 1);
  ASSERT_TRUE(cosigned) << cosigned.error().message;
  EXPECT_TRUE(cosignature_time(*parse_note(*cosigned), wkey.pub));
}

TEST_F(TlogServer, KillNineDuringAppendsLosesNoAcknowledgedEntry) {
  auto srv = start({"--rate-per-address", "0"});
  std::mutex mu;
  std::map<std::uint64_t, std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < 4; ++c)
    threads.emplace_back([&, c] {
      httplib::Client cli(srv->url());
      cli.set_read_timeout(10, 0);
      for (int i = 0; i < 100000 && !stop; ++i) {
        const std::string env = make_envelope(c, i, approver);
        auto r = cli.Post("/add", auth(), env, "application/json");
        if (!r) break;  // the server is gone
        if (r->status != 200) continue;
        std::lock_guard lock(mu);
        acked.emplace(std::stoull(r->body), env);
      }
    });
  // Bounded wait for some acknowledged appends, then kill -9 mid-stream.
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(mu);
      if (acked.size() >= 1500) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  srv->kill9();
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_GT(acked.size(), 100u);

  // Restart: the log is consistent and holds every acknowledged entry at its index.
  auto chk = run_probity({"log", "check", "--dir", dir().string()}, tmp.path);
  EXPECT_EQ(chk.code, 0) << chk.err;
  auto srv2 = start();
  {
    auto log = Log::open(dir());
    ASSERT_TRUE(log);
    const std::uint64_t n = *(*log)->size();
    EXPECT_GE(n, acked.size());
    for (const auto& [idx, env] : acked) {
      auto stored = (*log)->entry(idx);
      ASSERT_TRUE(stored) << "acknowledged entry " << idx << " lost";
      ASSERT_EQ(std::string(stored->begin(), stored->end()), env);
    }
    // Appends continue after the crash at the next index.
    httplib::Client cli(srv2->url());
    auto r = cli.Post("/add", auth(), make_envelope(9, 9, approver), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(std::stoull(r->body), n);
  }
  EXPECT_EQ(srv2->terminate(), 0);
  auto log = Log::open(dir());
  {
    auto audit = (*log)->check();
    ASSERT_TRUE(audit);
    EXPECT_TRUE(audit->ok()) << (audit->problems.empty() ? "" : audit->problems.front());
  }
}

TEST_F(TlogServer, RateLimitAnswers429) {
  auto srv = std::make_unique<ServerProc>(dir(), tmp.path / "token", tmp.path / "server.log",
                                          std::vector<std::string>{"--rate", "1"});
  ASSERT_GT(srv->port(), 0);
  httplib::Client cli(srv->url());
  int ok = 0, limited = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = cli.Post("/add", auth(), make_envelope(1, i, approver), "application/json");
    ASSERT_TRUE(r);
    ok += r->status == 200;
    limited += r->status == 429;
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(limited, 3);
  EXPECT_EQ(srv->terminate(), 0);
  EXPECT_EQ(std::uint64_t(ok), *(*Log::open(dir()))->size());
}

TEST_F(TlogServer, WitnessRefusesForkAndRollback) {
  // The real log L has 3 entries; F is a fork signed with the same key with 5 other entries.
  {
    auto log = Log::open(dir());
    std::vector<Bytes> e;
    for (int i = 0; i < 3; ++i) {
      const auto s = make_envelope(2, i, approver);
      e.emplace_back(s.begin(), s.end());
    }
    ASSERT_TRUE((*log)->append(e));
    ASSERT_TRUE((*log)->checkpoint());
    std::ofstream(tmp.path / "L.state") << *(*log)->latest_checkpoint();
  }
  const fs::path fork_dir = tmp.path / "F";
  {
    auto fork = Log::create(fork_dir, log_key);
    ASSERT_TRUE(fork);
    std::vector<Bytes> e;
    for (int i = 0; i < 5; ++i) {
      const auto s = make_envelope(3, i, approver);
      e.emplace_back(s.begin(), s.end());
    }
    ASSERT_TRUE((*fork)->append(e));
    ASSERT_TRUE((*fork)->checkpoint());
    std::ofstream(tmp.path / "F.state") << *(*fork)->latest_checkpoint();
  }
  const auto wkey = *generate_key("witness.example/w1", KeyType::kCosignatureV1);
  std::ofstream(tmp.path / "w.key") << wkey.to_string() << "\n";
  std::ofstream(tmp.path / "log.pub") << log_key.pub.to_string() << "\n";
  auto witness = [&](const std::string& url, const std::string& state) {
    return run_probity({"log", "witness", "--url", url, "--log-key",
                        (tmp.path / "log.pub").string(), "--key", (tmp.path / "w.key").string(),
                        "--state", state, "--token-file", (tmp.path / "token").string()},
                       tmp.path);
  };
  {  // Serving the fork to a witness that saw L at size 3: inconsistent, not cosigned.
    ServerProc srv(fork_dir, tmp.path / "token", tmp.path / "server.log");
    ASSERT_GT(srv.port(), 0);
    const auto before = slurp(tmp.path / "L.state");
    auto r = witness(srv.url(), (tmp.path / "L.state").string());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("inconsistent"), std::string::npos) << r.err;
    EXPECT_EQ(slurp(tmp.path / "L.state"), before);
    EXPECT_EQ(srv.terminate(), 0);
    EXPECT_FALSE((*Log::open(fork_dir))->checkpoint_covering(0, 1));
  }
  {  // Serving L (size 3) to a witness that saw size 5: rolled back, not cosigned.
    ServerProc srv(dir(), tmp.path / "token", tmp.path / "server.log");
    ASSERT_GT(srv.port(), 0);
    auto r = witness(srv.url(), (tmp.path / "F.state").string());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("rolled back"), std::string::npos) << r.err;
    // The honest witness state for L is accepted and cosigned.
    r = witness(srv.url(), (tmp.path / "L.state").string());
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(srv.terminate(), 0);
    EXPECT_TRUE((*Log::open(dir()))->checkpoint_covering(0, 1));
  }
}

TEST_F(TlogServer, HundredSlowClientsDelayNoOneAndAreCutOff) {
  // 50 clients connect and stay silent, from the address of the client that matters; 50 send a
  // request line and then one header byte every 200 ms, never ending the head, from four other
  // addresses. With a per-read timeout the tricklers would be held forever; the request timeout
  // is total, so they are all cut off after it.
  constexpr int kSlow = 100;
  constexpr Ms kTimeout{2000};
  auto srv = start({"--request-timeout-ms", std::to_string(kTimeout.count())});
  const char* sources[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"};
  std::vector<int> silent, trickle;
  const auto opened = Clock::now();
  for (int i = 0; i < kSlow; ++i) {
    const int fd = connect_from(i % 2 ? sources[i / 2 % 4] : "127.0.0.1", srv->port());
    ASSERT_GE(fd, 0) << std::strerror(errno);
    (i % 2 ? trickle : silent).push_back(fd);
  }
  // Seconds after `opened` at which the server had closed each trickler (-1: still open).
  std::vector<std::atomic<double>> cut(trickle.size());
  for (auto& c : cut) c = -1;
  auto still_open = [&] {
    return std::count_if(cut.begin(), cut.end(), [](const auto& c) { return c < 0; });
  };
  std::thread trickler([&] {
    const std::string start = "GET /checkpoint HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    for (auto fd : trickle) ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
    // Bounded: 30 rounds of 200 ms, or until every trickler is cut off.
    for (int round = 0; round < 30; ++round) {
      std::this_thread::sleep_for(Ms(200));
      std::size_t open = 0;
      for (std::size_t i = 0; i < trickle.size(); ++i) {
        if (cut[i] >= 0) continue;
        if (!held(trickle[i]) || ::send(trickle[i], "a", 1, MSG_NOSIGNAL) != 1) {
          cut[i] = seconds_since(opened);
          continue;
        }
        ++open;
      }
      if (open == 0) return;
    }
  });
  struct Join {  // also when an assertion below returns early
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join{trickler};

  // Meanwhile: legitimate GET /checkpoint, each on a new connection, then on a kept-alive one.
  std::this_thread::sleep_for(Ms(300));
  std::vector<double> latency;
  for (int i = 0; i < 5; ++i) {
    auto r = raw_get("127.0.0.1", srv->port(), "/checkpoint", Ms(5000));
    EXPECT_EQ(r.status, 200) << r.text;
    EXPECT_NE(r.text.find("test.example/log\n"), std::string::npos) << r.text;
    latency.push_back(r.seconds);
  }
  {
    httplib::Client cli(srv->url());
    cli.set_keep_alive(true);
    for (int i = 0; i < 5; ++i) {
      const auto t = Clock::now();
      auto r = cli.Get("/checkpoint");
      latency.push_back(seconds_since(t));
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
    }
  }
  const double worst = *std::max_element(latency.begin(), latency.end());
  EXPECT_LT(worst, 1.0);
  std::printf("legitimate GET /checkpoint with %d slow clients: worst %.1f ms over %zu\n", kSlow,
              worst * 1000, latency.size());
  // The slow clients really were holding their connections meanwhile.
  const double during = seconds_since(opened);
  const auto held_silent = std::count_if(silent.begin(), silent.end(), held);
  if (during < 0.8 * std::chrono::duration<double>(kTimeout).count()) {
    EXPECT_EQ(held_silent, std::ptrdiff_t(silent.size()));
    EXPECT_EQ(still_open(), std::ptrdiff_t(trickle.size()));
  }

  // Every trickler is cut off once the total request timeout has passed, not before.
  trickler.join();
  const double limit = std::chrono::duration<double>(kTimeout).count();
  EXPECT_EQ(still_open(), 0);
  for (const auto& c : cut) {
    const double at = c;
    EXPECT_GE(at, limit - 0.25);
    EXPECT_LT(at, limit + 1.0);
  }
  // So is every silent one.
  for (int fd : silent) {
    for (int i = 0; i < 50 && held(fd); ++i) std::this_thread::sleep_for(Ms(20));
    EXPECT_FALSE(held(fd));
  }
  EXPECT_LT(seconds_since(opened), limit + 2.0);
  for (int fd : silent) ::close(fd);
  for (int fd : trickle) ::close(fd);
  EXPECT_EQ(raw_get("127.0.0.1", srv->port(), "/checkpoint", Ms(5000)).status, 200);
  EXPECT_EQ(srv->terminate(), 0);
}

TEST_F(TlogServer, SlowClientsPastTheCapsGiveWayToNewOnes) {
  // At most 20 connections without a completed request: of 40 silent ones, the oldest 20 are
  // closed as the newer arrive, and a legitimate client takes the place of the oldest left.
  auto srv = start({"--max-pending-connections", "20", "--max-connections-per-address", "30"});
  const char* sources[] = {"127.0.0.2", "127.0.0.3"};
  std::vector<int> silent;
  for (int i = 0; i < 40; ++i) {
    const int fd = connect_from(sources[i % 2], srv->port());
    ASSERT_GE(fd, 0);
    silent.push_back(fd);
  }
  auto count_held = [&] {
    std::this_thread::sleep_for(Ms(300));  // the server accepts (and closes) in its own time
    return std::count_if(silent.begin(), silent.end(), held);
  };
  EXPECT_EQ(count_held(), 20);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_FALSE(held(silent[i])) << i;
  auto r = raw_get("127.0.0.1", srv->port(), "/checkpoint", Ms(5000));
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(r.seconds, 1.0);
  EXPECT_EQ(count_held(), 19);

  // 40 more from one address: that address holds at most 30.
  std::vector<int> same;
  for (int i = 0; i < 40; ++i) {
    const int fd = connect_from("127.0.0.4", srv->port());
    ASSERT_GE(fd, 0);
    same.push_back(fd);
  }
  std::this_thread::sleep_for(Ms(300));
  EXPECT_LE(std::count_if(same.begin(), same.end(), held), 20);  // and the pending cap still holds
  r = raw_get("127.0.0.1", srv->port(), "/checkpoint", Ms(5000));
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(r.seconds, 1.0);
  for (int fd : silent) ::close(fd);
  for (int fd : same) ::close(fd);
  EXPECT_EQ(srv->terminate(), 0);
}

TEST_F(TlogServer, PerAddressRateLimit) {
  auto srv = start({"--rate-per-address", "5"});  // a bucket of 10, 5 more per second
  httplib::Client cli(srv->url());
  cli.set_keep_alive(true);
  int ok = 0, limited = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < 30; ++i) {
    auto r = cli.Get("/checkpoint");
    ASSERT_TRUE(r);
    ok += r->status == 200;
    if (r->status == 429) {
      ++limited;
      EXPECT_EQ(r->get_header_value("Retry-After"), "1");
    }
  }
  const double secs = seconds_since(t0);
  EXPECT_EQ(ok + limited, 30);
  EXPECT_GE(ok, 10);
  EXPECT_LE(ok, 10 + int(5 * secs) + 1);
  // Authenticated appends count too, and are refused before they reach the log.
  auto post = cli.Post("/add", auth(), make_envelope(0, 0, approver), "application/json");
  ASSERT_TRUE(post);
  if (post->status == 429) {
    EXPECT_EQ(*(*Log::open(dir()))->size(), 0u);
  }
  // Another address has its own bucket.
  EXPECT_EQ(raw_get("127.0.0.2", srv->port(), "/checkpoint", Ms(5000)).status, 200);
  // The bucket refills at the stated rate.
  std::this_thread::sleep_for(Ms(450));
  EXPECT_EQ(raw_get("127.0.0.1", srv->port(), "/checkpoint", Ms(5000)).status, 200);
  EXPECT_EQ(srv->terminate(), 0);
}

TEST_F(TlogServer, OversizedAndMalformedRequestsAreRefused) {
  auto srv = start();
  auto send_raw = [&](const std::string& bytes) {
    return exchange("127.0.0.1", srv->port(), bytes, Ms(3000)).text;
  };
  // A head past the cap (16 KiB) is refused without waiting for its end.
  auto got = send_raw("GET /checkpoint HTTP/1.1\r\nX: " + std::string(20000, 'a'));
  EXPECT_TRUE(got.starts_with("HTTP/1.1 431 ")) << got.substr(0, 100);
  got = send_raw("POST /add HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 501 ")) << got.substr(0, 100);
  got = send_raw("POST /add HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 400 ")) << got.substr(0, 100);
  got = send_raw("POST /add HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 413 ")) << got.substr(0, 100);
  // Expect: 100-continue is answered by the front once the head is in and the body is not; the
  // handler sees the request without it.
  for (int i = 0; i < 2; ++i) {
    const std::string env = make_envelope(0, i, approver);
    const std::string head =
        "POST /add HTTP/1.1\r\nAuthorization: Bearer " + std::string(kToken) +
        "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(env.size()) +
        "\r\nConnection: close\r\n\r\n";
    if (i == 1) {  // the body sent with the head: nothing to wait for, no interim response
      got = send_raw(head + env);
      EXPECT_TRUE(got.starts_with("HTTP/1.1 200 ")) << got;
      EXPECT_TRUE(got.ends_with("\r\n\r\n1\n")) << got;
      continue;
    }
    const int fd = connect_from("127.0.0.1", srv->port());
    ASSERT_GE(fd, 0);
    ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    EXPECT_EQ(read_from(fd, Ms(3000), "\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
    ::send(fd, env.data(), env.size(), MSG_NOSIGNAL);
    got = read_from(fd, Ms(3000));
    ::close(fd);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 200 ")) << got;
    EXPECT_TRUE(got.ends_with("\r\n\r\n0\n")) << got;
  }
  // Two pipelined requests on one connection are both answered, in order.
  got = send_raw(
      "GET /tile/0/000.p/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /checkpoint HTTP/1.1\r\n"
      "Host: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 ")) << got;
  EXPECT_NE(got.find("HTTP/1.1 200 ", 1), std::string::npos) << got;
  EXPECT_EQ(srv->terminate(), 0);
  EXPECT_EQ(*(*Log::open(dir()))->size(), 2u);
}
