// Every file in src/unpack/formats/ is registered in formats.def, and ids are unique.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

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
    // A magic carved on is never empty: a string_view made from a literal that starts with a
    // NUL byte ("\x00\xd5...") is, and would stop the magic database for every format.
    if (f->carve != Carve::kAnyOffset) continue;
    for (const Magic& m : f->magics) {
      EXPECT_FALSE(m.bytes.empty())
          << f->id << ": spell a magic with NUL bytes as a sized string_view (\"...\"sv)";
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

// Header fields (issue 14 item 5): equiv compares a container's own header through the fields
// its format file states. Every rule a field names is one of docs/equiv.md's, every field lies
// inside the data it was read from (random and truncated data included), and the formats whose
// headers carry build times state them (equiv would report their times as differences else).
TEST(FormatRegistry, HeaderFieldsNameDocumentedRulesAndStayInside) {
  std::ifstream doc(PROBITY_SOURCE_DIR "/docs/equiv.md");
  std::stringstream text;
  text << doc.rdbuf();
  ASSERT_FALSE(text.str().empty());
  std::mt19937 rng(7);
  std::vector<std::uint8_t> noise(4096);
  for (auto& b : noise) b = std::uint8_t(rng());
  std::set<std::string> with_fields;
  for (const Format* f : all_formats()) {
    if (!f->header_fields) continue;
    with_fields.insert(std::string(f->id));
    EXPECT_FALSE(f->header_label.empty()) << f->id;
    for (std::size_t n : {0, 1, 9, 10, 63, 64, 95, 96, 4096}) {
      std::vector<std::uint8_t> d(noise.begin(), noise.begin() + n);
      // The format's magic at 0, so the reader gets past its first check.
      for (std::size_t k = 0; k < f->magics[0].bytes.size() && f->magics[0].at + k < n; ++k)
        d[f->magics[0].at + k] = std::uint8_t(f->magics[0].bytes[k]);
      for (const auto& h : f->header_fields(Bytes(d))) {
        EXPECT_LE(h.offset + h.length, n) << f->id << " " << h.name;
        if (h.role != HeaderField::Role::kIdentity) {
          EXPECT_NE(text.str().find("`" + std::string(h.rule) + "`"), std::string::npos)
              << f->id << " " << h.name << ": rule " << h.rule << " is not in docs/equiv.md";
        }
      }
    }
  }
  for (const char* id : {"uimage", "gzip", "squashfs", "fit"})
    EXPECT_TRUE(with_fields.contains(id)) << id << " states no header fields";
  // A uImage header: ih_time is a timestamp, the load address must match.
  std::vector<std::uint8_t> u(64, 0);
  u[0] = 0x27, u[1] = 0x05, u[2] = 0x19, u[3] = 0x56, u[11] = 1;
  const auto fields = find_format("uimage")->header_fields(Bytes(u));
  ASSERT_EQ(fields.size(), 11u);
  EXPECT_EQ(fields[1].name, "ih_time");
  EXPECT_EQ(fields[1].role, HeaderField::Role::kTimestamp);
  EXPECT_EQ(fields[1].value, "1");
  EXPECT_EQ(fields[3].role, HeaderField::Role::kIdentity);
}

TEST(FormatRegistry, FindFormat) {
  ASSERT_NE(find_format("squashfs"), nullptr);
  EXPECT_EQ(find_format("no-such-format"), nullptr);
}

}  // namespace probity::unpacker
