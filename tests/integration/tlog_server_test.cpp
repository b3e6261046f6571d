// The log server under load and failure (loopback only): 8 concurrent appenders x 1,000 entries
// with none lost and every proof verified; kill -9 during appends then restart with no
// acknowledged entry lost; 401 and 413 store nothing; the witness cosigns only what it verified.
#include <gtest/gtest.h>
#include <httplib.h>

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
  std::unique_ptr<ServerProc> start() {
    auto s = std::make_unique<ServerProc>(dir(), tmp.path / "token", tmp.path / "server.log");
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
  const std::string big(kMaxEntryBytes + 100, ' ');
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
  auto srv = start();
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
  auto srv = start();
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
