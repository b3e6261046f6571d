// Keys, signed notes, cosignatures, checkpoints, tile paths and DSSE envelopes.
#include <gtest/gtest.h>

#include "probity/tlog.hpp"

using namespace probity::tlog;

namespace {
std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

TEST(TlogNote, KeyRoundTripAndIds) {
  auto k = generate_key("example.com/log");
  ASSERT_TRUE(k);
  auto sk = parse_private_key(k->to_string());
  ASSERT_TRUE(sk);
  EXPECT_EQ(sk->pub.to_string(), k->pub.to_string());
  auto pk = parse_public_key(k->pub.to_string());
  ASSERT_TRUE(pk);
  EXPECT_EQ(pk->key, k->pub.key);
  // A wrong key id, a '+' in the name or a short key is rejected.
  std::string s = k->pub.to_string();
  s[s.find('+') + 1] = s[s.find('+') + 1] == '0' ? '1' : '0';
  EXPECT_FALSE(parse_public_key(s));
  EXPECT_FALSE(generate_key("a+b"));
  EXPECT_FALSE(parse_public_key("name+01234567+AQ=="));
  // Witness keys use signature type 0x04 and so have another id for the same name.
  auto w = generate_key("example.com/log", KeyType::kCosignatureV1);
  ASSERT_TRUE(w);
  EXPECT_EQ(parse_public_key(w->pub.to_string())->type, KeyType::kCosignatureV1);
  EXPECT_NE(key_id("n", KeyType::kEd25519, k->pub.key),
            key_id("n", KeyType::kCosignatureV1, k->pub.key));
}

TEST(TlogNote, ParseRejectsMalformed) {
  EXPECT_FALSE(parse_note("text\n"));
  EXPECT_FALSE(parse_note("text\n\n"));
  EXPECT_FALSE(parse_note("text\n\n- name AAAAAAA=\n"));
  EXPECT_FALSE(parse_note("text\n\n\xE2\x80\x94 name !!!!\n"));
  EXPECT_FALSE(parse_note("text\n\n\xE2\x80\x94 name AAAA\n"));  // shorter than id + 1
  EXPECT_FALSE(parse_note("te\x01xt\n\n\xE2\x80\x94 name AAAAAAA=\n"));
  EXPECT_TRUE(parse_note("text\n\n\xE2\x80\x94 name AAAAAAA=\n"));
}

TEST(TlogNote, CheckpointAndCosignature) {
  auto log = generate_key("example.com/log");
  auto wit = generate_key("witness.example/w1", KeyType::kCosignatureV1);
  ASSERT_TRUE(log && wit);
  Checkpoint c{"example.com/log", 20852163, {}, {"ext line"}};
  c.root[0] = 9;
  auto parsed = parse_checkpoint(c.text());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->size, 20852163u);
  EXPECT_EQ(parsed->root, c.root);
  EXPECT_EQ(parsed->extensions.size(), 1u);
  EXPECT_FALSE(parse_checkpoint("o\n012\nAAAA\n"));
  EXPECT_FALSE(parse_checkpoint("o\n12\n"));
  EXPECT_FALSE(parse_checkpoint("o\n12\nAAAA\n"));  // root is not 32 bytes

  auto sig = sign_note_text(c.text(), *log);
  ASSERT_TRUE(sig);
  // Signing with a witness key is refused; cosigning with a log key is refused.
  EXPECT_FALSE(sign_note_text(c.text(), *wit));
  EXPECT_FALSE(cosign(c.text(), *log, 1));
  auto co = cosign(c.text(), *wit, 1679315147);
  ASSERT_TRUE(co);
  EXPECT_EQ(co->sig.size(), 72u);
  auto note = parse_note(Note{c.text(), {*sig, *co}}.to_string());
  ASSERT_TRUE(note);
  EXPECT_TRUE(note_verified_by(*note, log->pub));
  EXPECT_EQ(cosignature_time(*note, wit->pub), 1679315147u);
  // The cosignature covers the timestamp: changing it breaks the signature.
  Note bad = *note;
  bad.sigs[1].sig[7] ^= 1;
  EXPECT_FALSE(cosignature_time(bad, wit->pub));
  // A cosignature is not a log signature and the other way round.
  EXPECT_FALSE(cosignature_time(*note, log->pub));
  EXPECT_FALSE(note_verified_by(*note, wit->pub));
}

TEST(TlogNote, TilePaths) {
  EXPECT_EQ(tile_path(false, 0, 1234067, 256), "tile/0/x001/x234/067");
  EXPECT_EQ(tile_path(false, 1, 0, 17), "tile/1/000.p/17");
  EXPECT_EQ(tile_path(true, 0, 5, 256), "tile/entries/005");
  auto r = parse_tile_path("tile/2/x001/x234/067.p/112");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->entries);
  EXPECT_EQ(r->level, 2u);
  EXPECT_EQ(r->index, 1234067u);
  EXPECT_EQ(r->width, 112u);
  auto e = parse_tile_path("tile/entries/x001/000");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->entries);
  EXPECT_EQ(e->index, 1000u);
  for (const char* bad :
       {"tile/0/1", "tile/0/x001", "tile/0/000.p/0", "tile/0/000.p/256", "tile/64/000",
        "tile/0/001/002", "tile/0/x000/001", "tile/0/../000", "tile/00/000"})
    EXPECT_FALSE(parse_tile_path(bad)) << bad;
}

TEST(TlogDsse, SignVerifyThreshold) {
  auto a = generate_key("alice");
  auto b = generate_key("bob");
  auto c = generate_key("carol");
  ASSERT_TRUE(a && b && c);
  Envelope env;
  env.payload_type = std::string(kInTotoPayloadType);
  const std::string st =
      R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"fw.bin","digest":{"sha256":"abcd"}}]})";
  env.payload.assign(st.begin(), st.end());
  ASSERT_TRUE(dsse_sign(env, *a));
  ASSERT_TRUE(dsse_sign(env, *b));
  const std::string wire = env.serialize();
  auto parsed = parse_envelope(bytes(wire));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->serialize(), wire);
  const std::vector<PublicKey> all{a->pub, b->pub, c->pub};
  EXPECT_EQ(dsse_valid_signers(*parsed, all), 2u);
  const std::vector<PublicKey> dup{a->pub, a->pub};
  EXPECT_EQ(dsse_valid_signers(*parsed, dup), 1u);
  EXPECT_EQ(statement_subject_digests(*parsed), std::vector<std::string>{"abcd"});
  // The signature covers the payload type (PAE) and the payload.
  Envelope t = *parsed;
  t.payload_type = "application/json";
  EXPECT_EQ(dsse_valid_signers(t, all), 0u);
  t = *parsed;
  t.payload.back() = ' ';
  EXPECT_EQ(dsse_valid_signers(t, all), 0u);
  EXPECT_FALSE(parse_envelope(bytes("{}")));
  EXPECT_FALSE(parse_envelope(bytes("[1]")));
  EXPECT_FALSE(parse_envelope(bytes(R"({"payloadType":"x","payload":"!!","signatures":[]})")));
}
