// RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof verification.
#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

#include "probity/tlog.hpp"

namespace probity::tlog {
namespace {

// One fetched digest and one reusable context per thread: proofs hash ~2 log2(n) times and
// appends twice per leaf, so per-call fetches would dominate.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!md) throw std::runtime_error("OpenSSL: SHA256 unavailable");
  return md;
}

struct Ctx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(ctx); }
};

Hash digest3(std::uint8_t prefix, std::span<const std::uint8_t> a,
             std::span<const std::uint8_t> b) {
  thread_local Ctx c;
  Hash out;
  unsigned len = 0;
  if (!c.ctx || EVP_DigestInit_ex(c.ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx, &prefix, 1) != 1 ||
      (!a.empty() && EVP_DigestUpdate(c.ctx, a.data(), a.size()) != 1) ||
      (!b.empty() && EVP_DigestUpdate(c.ctx, b.data(), b.size()) != 1) ||
      EVP_DigestFinal_ex(c.ctx, out.data(), &len) != 1)
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  return out;
}

std::uint64_t largest_pow2_below(std::uint64_t n) {  // n > 1
  return std::bit_floor(n - 1);
}

// MTH(D[lo:hi]) for lo aligned as in the RFC recursion: a complete subtree is one lookup; the
// right edge decomposes into at most log2 complete subtrees.
Result<Hash> subtree(std::uint64_t lo, std::uint64_t hi, const NodeGetter& get) {
  const std::uint64_t n = hi - lo;
  if (n == 0) return empty_root();
  if (std::has_single_bit(n) && lo % n == 0)
    return get(unsigned(std::countr_zero(n)), lo >> std::countr_zero(n));
  const std::uint64_t k = largest_pow2_below(n);
  auto left = subtree(lo, lo + k, get);
  if (!left) return left;
  auto right = subtree(lo + k, hi, get);
  if (!right) return right;
  return node_hash(*left, *right);
}

Status path(std::uint64_t m, std::uint64_t lo, std::uint64_t hi, const NodeGetter& get,
            std::vector<Hash>& out) {
  if (hi - lo <= 1) return {};
  const std::uint64_t k = largest_pow2_below(hi - lo);
  if (m < lo + k) {
    if (auto s = path(m, lo, lo + k, get, out); !s) return s;
    auto h = subtree(lo + k, hi, get);
    if (!h) return std::unexpected(h.error());
    out.push_back(*h);
  } else {
    if (auto s = path(m, lo + k, hi, get, out); !s) return s;
    auto h = subtree(lo, lo + k, get);
    if (!h) return std::unexpected(h.error());
    out.push_back(*h);
  }
  return {};
}

Status subproof(std::uint64_t m, std::uint64_t lo, std::uint64_t hi, bool b, const NodeGetter& get,
                std::vector<Hash>& out) {
  const std::uint64_t n = hi - lo;
  if (m == n) {
    if (!b) {
      auto h = subtree(lo, hi, get);
      if (!h) return std::unexpected(h.error());
      out.push_back(*h);
    }
    return {};
  }
  const std::uint64_t k = largest_pow2_below(n);
  if (m <= k) {
    if (auto s = subproof(m, lo, lo + k, b, get, out); !s) return s;
    auto h = subtree(lo + k, hi, get);
    if (!h) return std::unexpected(h.error());
    out.push_back(*h);
  } else {
    if (auto s = subproof(m - k, lo + k, hi, false, get, out); !s) return s;
    auto h = subtree(lo, lo + k, get);
    if (!h) return std::unexpected(h.error());
    out.push_back(*h);
  }
  return {};
}

}  // namespace

Hash leaf_hash(std::span<const std::uint8_t> entry) {
  return digest3(0x00, entry, {});
}

Hash node_hash(const Hash& left, const Hash& right) {
  return digest3(0x01, left, right);
}

Hash empty_root() {
  thread_local Ctx c;
  Hash out;
  unsigned len = 0;
  if (!c.ctx || EVP_DigestInit_ex(c.ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestFinal_ex(c.ctx, out.data(), &len) != 1)
    throw std::runtime_error("OpenSSL: SHA-256 failed");
  return out;
}

Result<Hash> tree_root(std::uint64_t size, const NodeGetter& get) {
  return subtree(0, size, get);
}

Result<std::vector<Hash>> inclusion_proof(std::uint64_t index, std::uint64_t size,
                                          const NodeGetter& get) {
  if (index >= size)
    return fail("inclusion proof: index " + std::to_string(index) + " is not below tree size " +
                std::to_string(size));
  std::vector<Hash> out;
  if (auto s = path(index, 0, size, get, out); !s) return std::unexpected(s.error());
  return out;
}

Result<std::vector<Hash>> consistency_proof(std::uint64_t size1, std::uint64_t size2,
                                            const NodeGetter& get) {
  if (size1 > size2)
    return fail("consistency proof: size " + std::to_string(size1) + " is beyond size " +
                std::to_string(size2));
  std::vector<Hash> out;
  if (size1 == 0 || size1 == size2) return out;
  if (auto s = subproof(size1, 0, size2, true, get, out); !s) return std::unexpected(s.error());
  return out;
}

Result<Hash> root_from_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                                 std::span<const Hash> proof) {
  if (index >= size)
    return fail("index " + std::to_string(index) + " is not below tree size " +
                std::to_string(size));
  if (proof.size() > kMaxProofHashes) return fail("inclusion proof is too long");
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return fail("inclusion proof is too long for the tree size");
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);
      if (!(fn & 1))
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return fail("inclusion proof is too short for the tree size");
  return r;
}

Status verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                        std::span<const Hash> proof, std::span<const std::uint8_t> root) {
  auto r = root_from_inclusion(index, size, leaf, proof);
  if (!r) return std::unexpected(r.error());
  if (!std::equal(r->begin(), r->end(), root.begin(), root.end()))
    return fail("inclusion proof does not lead to the root hash");
  return {};
}

Status verify_consistency(std::uint64_t size1, std::uint64_t size2, std::span<const Hash> proof,
                          std::span<const std::uint8_t> root1,
                          std::span<const std::uint8_t> root2) {
  auto same = [](std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  };
  if (size2 < size1)
    return fail("consistency: size " + std::to_string(size2) + " is below size " +
                std::to_string(size1) + " (the log went backwards)");
  if (size1 == 0) return fail("consistency: a proof from the empty tree proves nothing");
  if (size1 == size2) {
    if (!proof.empty()) return fail("consistency: equal sizes need an empty proof");
    if (!same(root1, root2))
      return fail("consistency: equal sizes but different root hashes (fork)");
    return {};
  }
  if (proof.empty()) return fail("consistency: empty proof");
  if (proof.size() > kMaxProofHashes) return fail("consistency: proof is too long");
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (root1.size() != 32 || root2.size() != 32)
    return fail("consistency: a root hash is not 32 bytes");
  if (std::has_single_bit(size1)) {
    Hash r1;
    std::copy(root1.begin(), root1.end(), r1.begin());
    path.push_back(r1);
  }
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = size1 - 1, sn = size2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return fail("consistency: proof is too long");
    if ((fn & 1) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if (!(fn & 1))
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return fail("consistency: proof is too short");
  if (!same(fr, root1)) return fail("consistency: proof does not lead to the old root hash");
  if (!same(sr, root2)) return fail("consistency: proof does not lead to the new root hash");
  return {};
}

}  // namespace probity::tlog
