// The fdt format on a device tree compiled by dtc; the decompiled .dts must compile back (dtc) to
// the same blob.
#include <gtest/gtest.h>

#include <cstdlib>

#include "formats_fixture.hpp"
#include "unpack/fdt_parser.hpp"

namespace probity::test {
namespace {

TEST(FormatFdt, BlobAndDecompiledSource) {
  auto u = unpack_file(fixture("board.dtb"));
  const Container& c = u.only("fdt");
  EXPECT_EQ(c.length, u.tree.image.size);
  EXPECT_NE(c.description.find("Probity Test Board"), std::string::npos) << c.description;
  std::set<std::string> names;
  for (const FileRecord* f : u.files_of(c.id)) names.insert(f->path);
  EXPECT_EQ(names, (std::set<std::string>{"devicetree.dtb", "devicetree.dts"}));
  EXPECT_EQ(u.file(c.id, "devicetree.dtb")->sha256, file_sha(fixture("board.dtb")));
  EXPECT_EQ(u.containers("fdt").size(), 1u);  // the written dtb is not unpacked again
  const auto dts_path = u.out() / u.file(c.id, "devicetree.dts")->extracted;
  const std::string dts = read_text(dts_path);
  for (const char* line :
       {"/memreserve/ 0x10000000 0x4000;", "model = \"Probity Test Board\";",
        "compatible = \"probity,test\", \"probity,generic\";", "reg = <0x80000000 0x4000000>;",
        "mac = [00 11 22 33 44 55];", "\t\tempty;", "\tmemory@80000000 {"})
    EXPECT_NE(dts.find(line), std::string::npos) << line << "\n" << dts;
  EXPECT_TRUE(u.warnings("format-error").empty());

  // Round trip through the real compiler.
  TempDir tmp;
  const auto back = tmp.path / "back.dtb";
  const std::string cmd =
      "dtc -q -I dts -O dtb -o '" + back.string() + "' '" + dts_path.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(file_sha(back), file_sha(fixture("board.dtb")));
}

TEST(FormatFdt, TruncatedAndCorruptBlobsWarn) {
  TempDir scratch;
  const auto img = fixture("board.dtb");
  const std::string full = read_text(img);
  for (std::size_t keep : {40u, 100u, 200u, 400u}) {
    auto u = unpack_prefix(img, keep, scratch);
    ASSERT_EQ(u.containers("fdt").size(), 1u) << keep;
    EXPECT_FALSE(u.warnings("format-error").empty()) << keep;
  }
  // An unknown structure token in the middle: parsed up to there, reported, no crash.
  auto t = unpacker::fdt::parse_header(
      Bytes(reinterpret_cast<const std::uint8_t*>(full.data()), full.size()));
  ASSERT_TRUE(t.has_value());
  std::string bad = full;
  // Root: FDT_BEGIN_NODE, empty name (4 bytes), then the first property token: replace it.
  bad.replace(t->off_struct + 8, 4, std::string("\0\0\0\x7f", 4));
  const auto p = scratch.path / "bad.dtb";
  write_bytes(p, bad);
  auto u = unpack_file(p);
  ASSERT_EQ(u.containers("fdt").size(), 1u);
  EXPECT_FALSE(u.only("fdt").complete);
  EXPECT_FALSE(u.warnings("format-error").empty());
}

TEST(FdtParser, CapsAndStrings) {
  using unpacker::fdt::is_printable_strings;
  auto b = [](std::string_view s) {
    return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  EXPECT_TRUE(is_printable_strings(b(std::string_view("ab\0c\0", 5))));
  EXPECT_FALSE(is_printable_strings(b(std::string_view("ab\0\0", 4))));
  EXPECT_FALSE(is_printable_strings(b(std::string_view("a\x01\0", 3))));
  EXPECT_FALSE(is_printable_strings(b("abc")));
  EXPECT_FALSE(unpacker::fdt::parse(b("\xd0\x0d\xfe\xed")).has_value());
}

}  // namespace
}  // namespace probity::test
