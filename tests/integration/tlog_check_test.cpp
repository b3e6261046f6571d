// `probity log check` against tampered logs: checkpoints deleted, history rewritten with the
// tree recomputed (but the checkpoints not re-signable without the log key), rewritten below
// deleted checkpoints (caught with --state), a replaced log key (caught with --log-key), and the
// exit codes 0 / 1 / 2.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "probity/tlog.hpp"
#include "tlog_proc.hpp"

using namespace probity::tlog;
using namespace tlog_test;

namespace {

class TlogCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    log_key = *generate_key("check.example/log");
    approver = *generate_key("approver");
    // As `log init` then two `log append` runs: checkpoints at sizes 0, 5 and 10.
    auto log = Log::create(dir(), log_key);
    ASSERT_TRUE(log);
    ASSERT_TRUE((*log)->checkpoint());
    for (int batch = 0; batch < 2; ++batch) {
      ASSERT_TRUE((*log)->append(entries(0, batch * 5, 5)));
      auto note = (*log)->checkpoint();
      ASSERT_TRUE(note);
      last_note = *note;
    }
  }

  std::vector<Bytes> entries(int client, int first, int count) const {
    std::vector<Bytes> out;
    for (int i = first; i < first + count; ++i) {
      const std::string e = make_envelope(client, i, approver);
      out.emplace_back(e.begin(), e.end());
    }
    return out;
  }

  fs::path dir() const { return tmp.path / "L"; }
  RunResult check(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"log", "check", "--dir", dir().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_probity(args, tmp.path);
  }

  /// Runs SQL on L/log.db, as someone with write access to the log's files but not its key.
  void tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir() / "log.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << msg;
  }

  /// Rewrites entry 3 and recomputes the whole tree: entries and node hashes come from a log
  /// built elsewhere (under another key) with the altered history; L's checkpoints stay.
  void rewrite_history() {
    const fs::path other = tmp.path / "R";
    {
      auto r = Log::create(other, *generate_key("attacker"));
      ASSERT_TRUE(r);
      auto e = entries(0, 0, 10);
      e[3] = entries(7, 3, 1).front();
      ASSERT_TRUE((*r)->append(e));
    }
    tamper("ATTACH '" + (other / "log.db").string() +
           "' AS r; BEGIN; DELETE FROM entries; INSERT INTO entries SELECT * FROM r.entries; "
           "DELETE FROM nodes; INSERT INTO nodes SELECT * FROM r.nodes; COMMIT;");
  }

  TempDir tmp{"tlog-check"};
  PrivateKey log_key, approver;
  std::string last_note;
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_F(TlogCheck, ConsistentLogPasses) {
  auto r = check();
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "10 entries, 3 signed checkpoints, newest at size 10")) << r.out;
  std::ofstream(tmp.path / "log.pub") << log_key.pub.to_string() << "\n";
  std::ofstream(tmp.path / "seen.ckpt") << last_note;
  r = check(
      {"--log-key", (tmp.path / "log.pub").string(), "--state", (tmp.path / "seen.ckpt").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  // Entries appended after the newest checkpoint (a crash before signing) are named, not failed.
  {
    auto log = Log::open(dir());
    ASSERT_TRUE((*log)->append(entries(1, 0, 2)));
  }
  r = check();
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "entries 10..11 are not covered by a signed checkpoint")) << r.out;
}

TEST_F(TlogCheck, AllCheckpointsDeletedFails) {
  tamper("DELETE FROM checkpoints; DELETE FROM cosignatures;");
  auto r = check();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r.err, "INCONSISTENT: log.db holds no checkpoint")) << r.err;
}

TEST_F(TlogCheck, ConsistentlyRewrittenHistoryFails) {
  rewrite_history();
  // The node hashes agree with the rewritten entries: only the signed checkpoints tell.
  auto log = Log::open(dir());
  ASSERT_TRUE(log);
  auto audit = (*log)->check();
  ASSERT_TRUE(audit);
  ASSERT_FALSE(audit->ok());
  for (const auto& p : audit->problems) EXPECT_FALSE(has(p, "node at level")) << p;
  auto r = check();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r.err, "checkpoint of size 5 does not match the entries")) << r.err;
  EXPECT_TRUE(has(r.err, "checkpoint of size 10 does not match the entries")) << r.err;
  EXPECT_TRUE(has(r.err, "history was rewritten")) << r.err;
  // The size-0 checkpoint still holds (the empty tree), so it is not listed.
  EXPECT_FALSE(has(r.err, "checkpoint of size 0")) << r.err;
}

TEST_F(TlogCheck, RewriteBelowDeletedCheckpointsIsCaughtByState) {
  std::ofstream(tmp.path / "seen.ckpt") << last_note;  // e.g. a witness's state
  rewrite_history();
  tamper("DELETE FROM checkpoints WHERE size > 0;");
  // Alone, the log cannot tell this from a crash before its first checkpoint was signed...
  auto r = check();
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "entries 0..9 are not covered")) << r.out;
  // ...but a checkpoint seen earlier must still be in it.
  r = check({"--state", (tmp.path / "seen.ckpt").string()});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r.err, "the checkpoint in " + (tmp.path / "seen.ckpt").string() +
                             " does not match the entries"))
      << r.err;
  // Truncation (rollback) is caught the same way.
  tamper("DELETE FROM entries WHERE idx >= 4; DELETE FROM nodes;");
  r = check({"--state", (tmp.path / "seen.ckpt").string()});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r.err, "is beyond the log's 4 entries")) << r.err;
}

TEST_F(TlogCheck, ReplacedLogKeyIsCaught) {
  // Someone swaps in their own key of the same name (they cannot sign as the real one).
  const auto fake = *generate_key(log_key.name);
  std::ofstream(tmp.path / "real.pub") << log_key.pub.to_string() << "\n";
  ASSERT_TRUE(write_file_atomic(dir() / "log.key", fake.to_string() + "\n", true));
  auto r = check({"--log-key", (tmp.path / "real.pub").string()});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r.err, "log.key is not the expected log key")) << r.err;
  EXPECT_TRUE(has(r.err, "log.pub (" + log_key.pub.to_string() + ") does not match log.key"))
      << r.err;
  // Without --log-key the directory's key is used: the stored checkpoints are not its.
  r = check();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r.err, "checkpoint of size 10 is not signed by the log key")) << r.err;
}

TEST_F(TlogCheck, UnreadableInputIsUsageError) {
  auto r = run_probity({"log", "check", "--dir", (tmp.path / "missing").string()}, tmp.path);
  EXPECT_EQ(r.code, 2);
  r = check({"--state", (tmp.path / "no-such-file").string()});
  EXPECT_EQ(r.code, 2);
  r = check({"--log-key", "not a key"});
  EXPECT_EQ(r.code, 2);
}

TEST_F(TlogCheck, ShortNodeHashIsCorruptionNotAnOverread) {
  // A hostile log.db with a 1-byte node hash: tiles and proofs refuse it, never read past it
  // (this test runs under ASan in `make sanitize`).
  tamper("UPDATE nodes SET hash = x'01' WHERE id = 0;");
  auto log = Log::open(dir());
  ASSERT_TRUE(log);
  auto tile = (*log)->tile(TileRef{false, 0, 0, 10});
  ASSERT_FALSE(tile);
  EXPECT_TRUE(has(tile.error().message, "corrupt node hash")) << tile.error().message;
  EXPECT_FALSE((*log)->node(0, 0));
  auto r = check();
  EXPECT_EQ(r.code, 1) << r.out;
}
