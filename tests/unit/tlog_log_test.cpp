// The SQLite log (appends, proofs, tiles, crash-consistency check) and the offline bundle
// verification, including every failure the flashing station must name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "probity/hash.hpp"
#include "probity/tlog.hpp"

namespace fs = std::filesystem;
using namespace probity::tlog;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("probity-tlog-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

Bytes envelope_for(std::string_view sha256, const std::vector<const PrivateKey*>& keys,
                   const std::string& name = "fw.bin", const std::string& verdict = "pass") {
  nlohmann::ordered_json st;
  st["_type"] = kStatementType;
  st["subject"] = {{{"name", name}, {"digest", {{"sha256", sha256}}}}};
  st["predicateType"] = kScanPredicateType;
  st["predicate"] = {{"verdict", {{"result", verdict}}}};
  const std::string payload = st.dump();
  Envelope env;
  env.payload_type = std::string(kInTotoPayloadType);
  env.payload.assign(payload.begin(), payload.end());
  for (const auto* k : keys) EXPECT_TRUE(dsse_sign(env, *k));
  const std::string s = env.serialize();
  return Bytes(s.begin(), s.end());
}

std::string filler_digest(std::size_t i) {
  const std::string s = "filler " + std::to_string(i);
  return probity::sha256_hex({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

bool failed(const VerifyReport& r, const std::string& check) {
  for (const auto& c : r.checks)
    if (c.name == check && !c.ok) return true;
  return false;
}

std::string describe(const VerifyReport& r) {
  std::string s;
  for (const auto& c : r.checks) s += (c.ok ? "ok " : "FAIL ") + c.name + ": " + c.detail + "\n";
  return s;
}

}  // namespace

TEST(TlogLog, AppendProofsTilesAndReopen) {
  TempDir tmp;
  auto key = generate_key("test.example/log");
  auto approver = generate_key("approver");
  ASSERT_TRUE(key && approver);
  auto log = Log::create(tmp.path / "L", *key);
  ASSERT_TRUE(log) << log.error().message;
  std::vector<Bytes> all;
  std::uint64_t expect = 0;
  for (std::size_t batch : {1u, 2u, 5u, 250u, 1u, 341u}) {
    std::vector<Bytes> b;
    for (std::size_t i = 0; i < batch; ++i)
      b.push_back(envelope_for(filler_digest(all.size() + i), {&*approver}));
    auto idx = (*log)->append(b);
    ASSERT_TRUE(idx) << idx.error().message;
    for (auto i : *idx) EXPECT_EQ(i, expect++);
    all.insert(all.end(), b.begin(), b.end());
    ASSERT_TRUE((*log)->checkpoint());
  }
  const std::uint64_t n = all.size();  // 600
  ASSERT_EQ(*(*log)->size(), n);
  // A bad entry rejects the whole batch; nothing is stored.
  const std::string junk = "not json";
  std::vector<Bytes> bad{all[0], Bytes(junk.begin(), junk.end())};
  EXPECT_FALSE((*log)->append(bad));
  EXPECT_FALSE((*log)->append(std::vector<Bytes>{Bytes(probity::kMaxEntryBytes + 1, '{')}));
  EXPECT_EQ(*(*log)->size(), n);

  auto root = (*log)->root(n);
  ASSERT_TRUE(root);
  for (std::uint64_t i = 0; i < n; i += 37) {
    auto p = inclusion_proof(i, n, (*log)->getter());
    ASSERT_TRUE(p);
    EXPECT_TRUE(verify_inclusion(i, n, leaf_hash(all[i]), *p, *root));
    auto e = (*log)->entry(i);
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, all[i]);
  }
  auto sizes = (*log)->checkpoint_sizes(100);
  ASSERT_TRUE(sizes);
  EXPECT_EQ(sizes->size(), 6u);  // one per batch
  for (auto m : *sizes) {
    if (m == 0) continue;
    auto p = consistency_proof(m, n, (*log)->getter());
    ASSERT_TRUE(p);
    EXPECT_TRUE(verify_consistency(m, n, *p, *(*log)->root(m), *root));
  }
  // tlog-tiles: full and partial level-0 tiles are the leaf hashes; the level-1 tile holds the
  // roots of full level-0 tiles; entry bundles are uint16-length-prefixed entries.
  auto t0 = (*log)->tile({false, 0, 0, 256});
  ASSERT_TRUE(t0);
  ASSERT_EQ(t0->size(), 256u * 32);
  for (int i = 0; i < 256; i += 51) {
    const Hash h = leaf_hash(all[std::size_t(i)]);
    EXPECT_TRUE(std::equal(h.begin(), h.end(), t0->begin() + i * 32));
  }
  auto t0p = (*log)->tile({false, 0, 2, 88});
  ASSERT_TRUE(t0p);
  EXPECT_EQ(t0p->size(), 88u * 32);
  EXPECT_FALSE((*log)->tile({false, 0, 2, 89}));
  EXPECT_FALSE((*log)->tile({false, 0, 2, 256}));
  auto t1 = (*log)->tile({false, 1, 0, 2});
  ASSERT_TRUE(t1);
  auto n8 = (*log)->node(8, 1);
  ASSERT_TRUE(n8);
  EXPECT_TRUE(std::equal(n8->begin(), n8->end(), t1->begin() + 32));
  auto eb = (*log)->tile({true, 0, 1, 256});
  ASSERT_TRUE(eb);
  const std::size_t len0 = (std::size_t((*eb)[0]) << 8) | (*eb)[1];
  EXPECT_EQ(Bytes(eb->begin() + 2, eb->begin() + 2 + long(len0)), all[256]);
  {
    auto audit = (*log)->check();
    ASSERT_TRUE(audit);
    EXPECT_TRUE(audit->ok()) << (audit->problems.empty() ? "" : audit->problems.front());
  }

  auto found = (*log)->find_subject(filler_digest(123));
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(**found, 123u);
  log->reset();
  auto again = Log::open(tmp.path / "L");
  ASSERT_TRUE(again);
  EXPECT_EQ(*(*again)->size(), n);
  EXPECT_EQ(*(*again)->root(n), *root);
  EXPECT_FALSE(Log::create(tmp.path / "L", *key));
}

class TlogBundle : public ::testing::Test {
 protected:
  void SetUp() override {
    log_key = *generate_key("release.example/log");
    a1 = *generate_key("approver-1");
    a2 = *generate_key("approver-2");
    a3 = *generate_key("approver-3");
    w1 = *generate_key("witness-1", KeyType::kCosignatureV1);
    w2 = *generate_key("witness-2", KeyType::kCosignatureV1);
    image = tmp.path / "fw.bin";
    std::ofstream(image) << "firmware image bytes";
    digest = *probity::sha256_file(image);
    log = std::move(*Log::create(tmp.path / "L", log_key));
    std::vector<Bytes> fill;
    for (int i = 0; i < 10; ++i) fill.push_back(envelope_for(filler_digest(std::size_t(i)), {&a1}));
    ASSERT_TRUE(log->append(fill));
    ASSERT_TRUE(log->checkpoint());
    envelope = envelope_for(digest, {&a1, &a2});
    ASSERT_TRUE(log->append(std::vector<Bytes>{envelope}));
    for (int i = 10; i < 13; ++i)
      ASSERT_TRUE(
          log->append(std::vector<Bytes>{envelope_for(filler_digest(std::size_t(i)), {&a1})}));
    cosign_latest(w1);
  }

  void cosign_latest(const PrivateKey& w) {
    auto note = log->checkpoint();
    ASSERT_TRUE(note);
    auto parsed = parse_note(*note);
    auto co = cosign(parsed->text, w, 1700000000);
    ASSERT_TRUE(co);
    ASSERT_TRUE(log->add_cosignatures(Note{parsed->text, {*co}}.to_string()));
  }

  VerifyOptions options() const {
    VerifyOptions o;
    o.log_key = log_key.pub;
    o.approver_keys = {a1.pub, a2.pub, a3.pub};
    o.approver_threshold = 2;
    o.witness_keys = {w1.pub, w2.pub};
    o.witness_threshold = 1;
    return o;
  }

  std::string bundle_text(std::size_t min_cos = 1) {
    auto b = make_bundle(*log, digest, min_cos, {});
    EXPECT_TRUE(b) << (b ? "" : b.error().message);
    return b ? b->to_string() : "";
  }

  TempDir tmp;
  PrivateKey log_key, a1, a2, a3, w1, w2;
  fs::path image;
  std::string digest;
  std::unique_ptr<Log> log;
  Bytes envelope;
};

TEST_F(TlogBundle, VerifiesAndRoundTrips) {
  const std::string text = bundle_text();
  auto b = parse_bundle(text);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->to_string(), text);
  EXPECT_EQ(b->envelope, envelope);
  EXPECT_EQ(b->index, 10u);
  EXPECT_TRUE(b->tlog_proof().starts_with("c2sp.org/tlog-proof@v1\nindex 10\n"));
  const auto r = verify_offline(image, text, options());
  EXPECT_TRUE(r.ok) << describe(r);
  for (const char* c : {"bundle", "envelope", "subject", "approvers", "checkpoint-signature",
                        "inclusion", "witnesses"})
    EXPECT_TRUE(std::any_of(r.checks.begin(), r.checks.end(), [&](const VerifyCheck& k) {
      return k.name == c && k.ok;
    })) << c;
}

TEST_F(TlogBundle, EachFailureNamesItsCheck) {
  const std::string text = bundle_text();
  auto b = *parse_bundle(text);
  auto opt = options();

  {  // The image in hand is not the attested one.
    const auto other = tmp.path / "other.bin";
    std::ofstream(other) << "evil image";
    const auto r = verify_offline(other, text, opt);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(failed(r, "subject")) << describe(r);
    EXPECT_FALSE(failed(r, "inclusion"));
  }
  {  // Tampered entry: a changed byte of the envelope (here its payload's subject).
    Bundle t = b;
    auto env = *parse_envelope(t.envelope);
    env.payload.back() = ' ';  // "}" -> " ": signatures and leaf hash break
    const std::string s = env.serialize();
    t.envelope.assign(s.begin(), s.end());
    const auto r = verify_offline(image, t.to_string(), opt);
    EXPECT_TRUE(failed(r, "inclusion")) << describe(r);
    EXPECT_TRUE(failed(r, "approvers"));
  }
  {  // Tampered proof.
    Bundle t = b;
    ASSERT_FALSE(t.inclusion.empty());
    t.inclusion[0][5] ^= 4;
    const auto r = verify_offline(image, t.to_string(), opt);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(failed(r, "inclusion")) << describe(r);
    EXPECT_FALSE(failed(r, "checkpoint-signature"));
  }
  {  // Tampered checkpoint: another root hash under the old signature.
    Bundle t = b;
    auto note = *parse_note(t.checkpoint);
    auto cp = *parse_checkpoint(note.text);
    cp.root[0] ^= 1;
    note.text = cp.text();
    t.checkpoint = note.to_string();
    const auto r = verify_offline(image, t.to_string(), opt);
    EXPECT_TRUE(failed(r, "checkpoint-signature")) << describe(r);
    EXPECT_TRUE(failed(r, "witnesses"));
  }
  {  // Wrong log key.
    auto o = opt;
    o.log_key = generate_key("release.example/log")->pub;
    const auto r = verify_offline(image, text, o);
    EXPECT_TRUE(failed(r, "checkpoint-signature")) << describe(r);
    EXPECT_FALSE(failed(r, "inclusion"));
  }
  {  // Too few approvers (2 of 3 signed; 3 required) and wrong approver keys.
    auto o = opt;
    o.approver_threshold = 3;
    EXPECT_TRUE(failed(verify_offline(image, text, o), "approvers"));
    o = opt;
    o.approver_keys = {a3.pub, generate_key("x")->pub};
    o.approver_threshold = 1;
    EXPECT_TRUE(failed(verify_offline(image, text, o), "approvers"));
  }
  {  // Not enough witnesses.
    auto o = opt;
    o.witness_threshold = 2;
    const auto r = verify_offline(image, text, o);
    EXPECT_TRUE(failed(r, "witnesses")) << describe(r);
  }
  {  // An attested failure, logged anyway: refused unless the station accepts that verdict.
    auto failed_env = envelope_for(digest, {&a1, &a2}, "fw.bin", "fail");
    ASSERT_TRUE(log->append(std::vector<Bytes>{failed_env}));
    cosign_latest(w1);
    auto fb = make_bundle(*log, digest, 1, {});
    ASSERT_TRUE(fb);
    // The bundle is for the newest entry with this subject: the failed one.
    ASSERT_EQ(fb->envelope, failed_env);
    auto r = verify_offline(image, fb->to_string(), opt);
    EXPECT_TRUE(failed(r, "verdict")) << describe(r);
    EXPECT_FALSE(failed(r, "approvers"));
    auto o = opt;
    o.accept_verdicts.push_back("fail");
    r = verify_offline(image, fb->to_string(), o);
    EXPECT_TRUE(r.ok) << describe(r);
  }
  {  // Garbage bundle.
    const auto r = verify_offline(image, "probity.dev/bundle/v1\nenvelope !!\n\n", opt);
    EXPECT_TRUE(failed(r, "bundle"));
  }
}

TEST_F(TlogBundle, StateCatchesRollbackAndFork) {
  auto opt = options();
  opt.witness_threshold = 0;
  opt.witness_keys.clear();
  opt.state = tmp.path / "station.state";
  const std::string old_bundle = bundle_text(0);  // size 14
  // Grow the log; the new bundle carries consistency from every stored checkpoint size.
  for (int i = 20; i < 40; ++i)
    ASSERT_TRUE(
        log->append(std::vector<Bytes>{envelope_for(filler_digest(std::size_t(i)), {&a1})}));
  ASSERT_TRUE(log->checkpoint());
  const std::string new_bundle = bundle_text(0);  // size 34

  auto r = verify_offline(image, old_bundle, opt);  // first use: stores size 14
  ASSERT_TRUE(r.ok) << describe(r);
  r = verify_offline(image, new_bundle, opt);  // 14 -> 34 with a consistency proof
  ASSERT_TRUE(r.ok) << describe(r);
  auto st = parse_checkpoint(parse_note(*probity::read_file_capped(*opt.state, 1 << 20))->text);
  EXPECT_EQ(st->size, 34u);
  r = verify_offline(image, old_bundle, opt);  // back to 14: rolled back
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(failed(r, "consistency")) << describe(r);
  EXPECT_NE(describe(r).find("rolled back"), std::string::npos);

  // A fork: the same log key signs a different history; the station that saw the real log
  // rejects it at the same and at a larger size.
  TempDir other;
  auto forked = std::move(*Log::create(other.path / "F", log_key));
  std::vector<Bytes> fill;
  for (int i = 0; i < 33; ++i)
    fill.push_back(envelope_for(filler_digest(std::size_t(i) + 1000), {&a1}));
  fill.push_back(envelope);
  ASSERT_TRUE(forked->append(fill));
  ASSERT_TRUE(forked->checkpoint());
  auto fb = make_bundle(*forked, digest, 0, {});
  ASSERT_TRUE(fb);
  r = verify_offline(image, fb->to_string(), opt);
  EXPECT_TRUE(failed(r, "consistency")) << describe(r);
  EXPECT_NE(describe(r).find("fork"), std::string::npos);
  ASSERT_TRUE(forked->append(std::vector<Bytes>{envelope_for(filler_digest(5000), {&a1})}));
  ASSERT_TRUE(forked->checkpoint());
  auto fb2 = make_bundle(*forked, digest, 0, std::vector<std::uint64_t>{34});
  ASSERT_TRUE(fb2);
  r = verify_offline(image, fb2->to_string(), opt);
  EXPECT_TRUE(failed(r, "consistency")) << describe(r);
  // The state is unchanged by failed verifications.
  st = parse_checkpoint(parse_note(*probity::read_file_capped(*opt.state, 1 << 20))->text);
  EXPECT_EQ(st->size, 34u);
}
