// The one base64 (include/probity/base64.hpp) in its three modes.
#include <gtest/gtest.h>

#include <string>

#include "probity/base64.hpp"

namespace probity {
namespace {

std::string text(const std::optional<std::vector<std::uint8_t>>& b) {
  return b ? std::string(b->begin(), b->end()) : std::string("<none>");
}
std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Base64, RoundTripsEveryLength) {
  std::string s;
  for (int n = 0; n < 40; ++n) {
    const auto e = base64_encode(bytes(s));
    EXPECT_EQ(e.size() % 4, 0u);
    EXPECT_EQ(text(base64_decode(e)), s);
    EXPECT_EQ(text(base64_decode(e, Base64Mode::kLenient)), s);
    const auto bare = base64_encode(bytes(s), /*pad=*/false);
    EXPECT_EQ(bare.find('='), std::string::npos);
    EXPECT_EQ(text(base64_decode(bare, Base64Mode::kLenient)), s);
    s += char('a' + n % 26);
  }
}

TEST(Base64, StrictRefusesWhatLenientReads) {
  EXPECT_EQ(text(base64_decode("aGVs\nbG8=", Base64Mode::kLenient)), "hello");
  EXPECT_FALSE(base64_decode("aGVs\nbG8="));
  EXPECT_EQ(text(base64_decode("aGVsbG8", Base64Mode::kLenient)), "hello");
  EXPECT_FALSE(base64_decode("aGVsbG8"));
  EXPECT_FALSE(base64_decode("aGVsbG8=", Base64Mode::kLenient).value().empty());
  EXPECT_FALSE(base64_decode("aGVsbG8hPx=="));  // stray bits in the padding
  EXPECT_FALSE(base64_decode("a=Vs"));
  EXPECT_FALSE(base64_decode("aGV*", Base64Mode::kLenient));
}

TEST(Base64, UrlSafeOnlyWhereAllowed) {
  EXPECT_FALSE(base64_decode("_-__"));
  EXPECT_TRUE(base64_decode("_-__", Base64Mode::kUrlOk));
  EXPECT_EQ(text(base64_decode("aGVsbG8", Base64Mode::kUrlOk)), "hello");  // padding restored
  EXPECT_FALSE(base64_decode("_-__", Base64Mode::kLenient));
}

}  // namespace
}  // namespace probity
