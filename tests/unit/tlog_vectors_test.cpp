// Every external test vector in tests/vectors gives its stated result: RFC 6962/9162 Merkle
// inclusion and consistency (transparency-dev/merkle testdata), the C2SP signed-note Ed25519
// example byte for byte, and the DSSE v1 PAE example.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "probity/tlog.hpp"

namespace fs = std::filesystem;
using namespace probity::tlog;

namespace {

const fs::path kVectors = fs::path(PROBITY_SOURCE_DIR) / "tests" / "vectors";

nlohmann::json load(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return nlohmann::json::parse(ss.str());
}

Bytes b64(const nlohmann::json& j) {
  auto d = base64_decode(j.get<std::string>());
  EXPECT_TRUE(d.has_value()) << j;
  return d.value_or(Bytes{});
}

// A proof whose hashes are not all 32 bytes cannot be a valid proof.
std::optional<std::vector<Hash>> hashes(const nlohmann::json& arr) {
  std::vector<Hash> out;
  for (const auto& e : arr) {
    auto b = b64(e);
    if (b.size() != 32) return std::nullopt;
    Hash h;
    std::copy(b.begin(), b.end(), h.begin());
    out.push_back(h);
  }
  return out;
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(TlogVectors, MerkleInclusion) {
  const auto files = files_under(kVectors / "merkle" / "inclusion");
  ASSERT_GT(files.size(), 50u);
  int happy = 0;
  for (const auto& p : files) {
    const auto v = load(p);
    const bool want_err = v["wantErr"].get<bool>();
    const auto leaf = b64(v["leafHash"]);
    const auto root = b64(v["root"]);
    auto proof = hashes(v["proof"]);
    bool ok = false;
    if (leaf.size() == 32 && proof) {
      Hash lh;
      std::copy(leaf.begin(), leaf.end(), lh.begin());
      ok = bool(verify_inclusion(v["leafIdx"].get<std::uint64_t>(),
                                 v["treeSize"].get<std::uint64_t>(), lh, *proof, root));
    }
    EXPECT_EQ(ok, !want_err) << p << ": " << v["desc"];
    happy += !want_err;
  }
  EXPECT_GT(happy, 3);
}

TEST(TlogVectors, MerkleConsistency) {
  const auto files = files_under(kVectors / "merkle" / "consistency");
  ASSERT_GT(files.size(), 50u);
  int happy = 0;
  for (const auto& p : files) {
    const auto v = load(p);
    const bool want_err = v["wantErr"].get<bool>();
    auto proof = hashes(v["proof"]);
    bool ok = proof && bool(verify_consistency(v["size1"].get<std::uint64_t>(),
                                               v["size2"].get<std::uint64_t>(), *proof,
                                               b64(v["root1"]), b64(v["root2"])));
    EXPECT_EQ(ok, !want_err) << p << ": " << v["desc"];
    happy += !want_err;
  }
  EXPECT_GT(happy, 3);
}

TEST(TlogVectors, SignedNoteByteForByte) {
  const auto v = load(kVectors / "signed-note" / "go-sumdb-note.json");
  auto sk = parse_private_key(v["signer_key"].get<std::string>());
  ASSERT_TRUE(sk) << sk.error().message;
  auto vk = parse_public_key(v["verifier_key"].get<std::string>());
  ASSERT_TRUE(vk) << vk.error().message;
  // The key material, names and ids round-trip to the exact strings.
  EXPECT_EQ(sk->pub.to_string(), v["verifier_key"].get<std::string>());
  EXPECT_EQ(sk->to_string(), v["signer_key"].get<std::string>());
  const std::string text = v["text"];
  auto sig = sign_note_text(text, *sk);
  ASSERT_TRUE(sig);
  const Note note{text, {*sig}};
  EXPECT_EQ(note.to_string(), v["signed_note"].get<std::string>());

  auto parsed = parse_note(v["signed_note"].get<std::string>());
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(note_verified_by(*parsed, *vk));
  // Any changed byte of the text breaks the signature.
  for (std::size_t i = 0; i < text.size(); i += 7) {
    Note bad = *parsed;
    bad.text[i] ^= 0x01;
    EXPECT_FALSE(note_verified_by(bad, *vk)) << i;
  }
  // A key with the same material but another name has another id and does not match.
  auto other = *vk;
  other.name = "Someone";
  other.id = key_id(other.name, other.type, other.key);
  EXPECT_FALSE(note_verified_by(*parsed, other));
}

TEST(TlogVectors, DssePae) {
  const auto v = load(kVectors / "dsse" / "pae.json");
  const std::string payload = v["payload"];
  const Bytes got = pae(v["payloadType"].get<std::string>(),
                        {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
  EXPECT_EQ(std::string(got.begin(), got.end()), v["pae"].get<std::string>());
}
