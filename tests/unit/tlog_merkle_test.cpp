// Merkle proofs generated from complete-subtree hashes verify, for every index and size pair
// up to a bound, and agree with a naive RFC 6962 MTH; every altered proof is rejected.
#include <gtest/gtest.h>

#include "probity/tlog.hpp"

using namespace probity::tlog;

namespace {

Hash naive_mth(const std::vector<Hash>& leaves, std::size_t lo, std::size_t hi) {
  if (hi == lo) return empty_root();
  if (hi - lo == 1) return leaves[lo];
  std::size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  return node_hash(naive_mth(leaves, lo, lo + k), naive_mth(leaves, lo + k, hi));
}

struct Tree {
  std::vector<Hash> leaves;
  explicit Tree(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::string e = "entry " + std::to_string(i);
      leaves.push_back(leaf_hash({reinterpret_cast<const std::uint8_t*>(e.data()), e.size()}));
    }
  }
  NodeGetter getter(std::size_t size) const {
    return [this, size](unsigned level, std::uint64_t index) -> probity::Result<Hash> {
      const std::uint64_t lo = index << level, hi = (index + 1) << level;
      if (hi > size) return probity::fail("incomplete subtree requested");
      return naive_mth(leaves, lo, hi);
    };
  }
};

}  // namespace

TEST(TlogMerkle, RootMatchesNaive) {
  Tree t(70);
  for (std::size_t n = 0; n <= 70; ++n) {
    auto r = tree_root(n, t.getter(n));
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, naive_mth(t.leaves, 0, n)) << n;
  }
}

TEST(TlogMerkle, InclusionRoundTripAndTamper) {
  Tree t(40);
  for (std::uint64_t n = 1; n <= 40; ++n) {
    const Hash root = naive_mth(t.leaves, 0, n);
    for (std::uint64_t i = 0; i < n; ++i) {
      auto p = inclusion_proof(i, n, t.getter(n));
      ASSERT_TRUE(p) << p.error().message;
      EXPECT_TRUE(verify_inclusion(i, n, t.leaves[i], *p, root)) << i << "/" << n;
      if (n > 1) {
        EXPECT_FALSE(verify_inclusion((i + 1) % n, n, t.leaves[i], *p, root));
      }
      for (std::size_t k = 0; k < p->size(); ++k) {
        auto bad = *p;
        bad[k][k % 32] ^= 0x80;
        EXPECT_FALSE(verify_inclusion(i, n, t.leaves[i], bad, root));
      }
      auto longer = *p;
      longer.push_back(root);
      EXPECT_FALSE(verify_inclusion(i, n, t.leaves[i], longer, root));
    }
  }
  EXPECT_FALSE(inclusion_proof(5, 5, t.getter(5)));
}

TEST(TlogMerkle, ConsistencyRoundTripAndTamper) {
  Tree t(40);
  for (std::uint64_t n = 1; n <= 40; ++n) {
    const Hash r2 = naive_mth(t.leaves, 0, n);
    for (std::uint64_t m = 1; m <= n; ++m) {
      const Hash r1 = naive_mth(t.leaves, 0, m);
      auto p = consistency_proof(m, n, t.getter(n));
      ASSERT_TRUE(p);
      EXPECT_TRUE(verify_consistency(m, n, *p, r1, r2)) << m << "->" << n;
      for (std::size_t k = 0; k < p->size(); ++k) {
        auto bad = *p;
        bad[k][0] ^= 1;
        EXPECT_FALSE(verify_consistency(m, n, bad, r1, r2));
      }
      if (m < n) {
        EXPECT_FALSE(verify_consistency(m, n, *p, r2, r1));
        // A forked history (one changed leaf before m) is caught.
        Tree forked = t;
        forked.leaves[m - 1][3] ^= 1;
        EXPECT_FALSE(verify_consistency(m, n, *p, naive_mth(forked.leaves, 0, m), r2));
      }
    }
  }
}

TEST(TlogMerkle, Base64Strict) {
  const std::string s = "hello!?";
  const auto e = base64_encode({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
  EXPECT_EQ(e, "aGVsbG8hPw==");
  auto d = base64_decode(e);
  ASSERT_TRUE(d);
  EXPECT_EQ(std::string(d->begin(), d->end()), s);
  EXPECT_FALSE(base64_decode("aGVsbG8hPw="));   // bad length
  EXPECT_FALSE(base64_decode("aGVsbG8hPx=="));  // non-canonical stray bits
  EXPECT_FALSE(base64_decode("aGVs bG8="));
  EXPECT_FALSE(base64_decode("a=Vs"));
  EXPECT_TRUE(base64_decode("_-__", true));
  EXPECT_FALSE(base64_decode("_-__"));
}
