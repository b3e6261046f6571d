// Every file in src/unpack/formats/ is registered in formats.def, and ids are unique.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "probity/inventory.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {

TEST(FormatRegistry, EveryFormatFileIsRegisteredOnce) {
  std::set<std::string> ids;
  for (const Format* f : all_formats()) {
    EXPECT_TRUE(ids.insert(std::string(f->id)).second) << "duplicate id " << f->id;
    EXPECT_FALSE(f->magics.empty()) << f->id;
    EXPECT_NE(f->probe, nullptr) << f->id;
    EXPECT_NE(f->extract, nullptr) << f->id;
  }
  for (const auto& e :
       std::filesystem::directory_iterator(PROBITY_SOURCE_DIR "/src/unpack/formats")) {
    if (e.path().extension() != ".cpp") continue;
    EXPECT_TRUE(ids.contains(e.path().stem().string()))
        << e.path().filename()
        << " is not listed in formats.def (or its id differs from the file name)";
  }
}

// The facts later stages take from the registry (issue 14 item 5): every format states its
// family, and formats that store per-file times say how wide they are; inventory and equiv
// read them, so a new format cannot silently miss either.
TEST(FormatRegistry, EveryFormatStatesTheFactsOtherStagesUse) {
  for (const Format* f : all_formats()) {
    EXPECT_NE(f->family, Family::kUnset) << f->id << ": set .family in its format file";
    if (f->family == Family::kStream || f->family == Family::kLeaf) {
      EXPECT_EQ(f->timestamp_bytes, 0) << f->id << ": a stream stores no per-file times";
    }
  }
  EXPECT_EQ(find_format("squashfs")->timestamp_bytes, 4);
  EXPECT_EQ(find_format("tar")->timestamp_bytes, 12);
  // inventory classifies by the registered magics.
  auto head = [](std::string_view magic, std::size_t at) {
    std::vector<std::uint8_t> b(at + magic.size() + 64, 0);
    std::copy(magic.begin(), magic.end(), b.begin() + long(at));
    return b;
  };
  EXPECT_EQ(classify(head("hsqs", 0)), "filesystem");
  EXPECT_EQ(classify(head("-rom1fs-", 0)), "filesystem");  // not in the old hand list
  EXPECT_EQ(classify(head("\x1f\x8b\x08", 0)), "archive");
  EXPECT_EQ(classify(head("\x27\x05\x19\x56", 0)), "archive");
  EXPECT_EQ(classify(head("ustar", 257)), "archive");
  // Start-only one- and two-byte magics (Intel HEX ':', S-records "S0") do not make text an
  // archive.
  const std::string text = ":this is a line of text\nS0 and another\n";
  EXPECT_EQ(classify(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())),
            "text");
}

TEST(FormatRegistry, FindFormat) {
  ASSERT_NE(find_format("squashfs"), nullptr);
  EXPECT_EQ(find_format("no-such-format"), nullptr);
}

}  // namespace probity::unpacker
