// libFuzzer target for every transparency-log parser that reads untrusted text: signed notes,
// checkpoints, proof bundles, DSSE envelopes, tile paths, keys, base64, and Merkle proof
// verification with hostile sizes and hashes. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probity/tlog.hpp"

using namespace probity::tlog;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t which = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::span<const std::uint8_t> bytes(data + 1, size - 1);
  switch (which % 8) {
    case 0:
      if (auto n = parse_note(text)) (void)parse_checkpoint(n->text);
      break;
    case 1:
      (void)parse_checkpoint(text);
      break;
    case 2:
      if (auto b = parse_bundle(text)) (void)b->to_string();
      break;
    case 3:
      if (auto e = parse_envelope(bytes)) (void)statement_subject_digests(*e);
      break;
    case 4:
      if (auto t = parse_tile_path(text)) (void)tile_path(t->entries, t->level, t->index, t->width);
      break;
    case 5:
      (void)parse_public_key(text);
      (void)parse_private_key(text);
      break;
    case 6:
      (void)base64_decode(text, which & 8);
      break;
    case 7: {
      // 16 bytes of sizes, then 32-byte hashes: leaf/root1, root2, proof...
      if (bytes.size() < 16 + 64) break;
      std::uint64_t a = 0, b = 0;
      for (int i = 0; i < 8; ++i) {
        a = (a << 8) | bytes[std::size_t(i)];
        b = (b << 8) | bytes[std::size_t(8 + i)];
      }
      Hash h1, h2;
      std::copy_n(bytes.begin() + 16, 32, h1.begin());
      std::copy_n(bytes.begin() + 48, 32, h2.begin());
      std::vector<Hash> proof;
      for (std::size_t off = 80; off + 32 <= bytes.size() && proof.size() < 70; off += 32) {
        Hash p;
        std::copy_n(bytes.begin() + long(off), 32, p.begin());
        proof.push_back(p);
      }
      (void)verify_inclusion(a, b, h1, proof, h2);
      (void)verify_consistency(a, b, proof, h1, h2);
      break;
    }
  }
  return 0;
}
