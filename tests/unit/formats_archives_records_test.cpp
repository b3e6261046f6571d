// The archive, stream and record formats of issue 10 items 5 and 6: cab and lha (libarchive),
// lzip (liblzma), lzop (liblzo2), compress .Z (libarchive's LZW filter), Intel HEX, S-records and
// Tektronix hex, on fixtures made by the Debian tools (tests/fixtures/make-formats-fs.sh) and
// their hostile variants; RAR and xar, which no Debian tool writes, on the public vectors when
// ../shared/vectors/formats is present.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <vector>

#include "formats_fixture.hpp"
#include "unpack/format.hpp"

namespace probity::test {
namespace {

std::filesystem::path fs_fixture(const std::string& name) {
  return generated("formats-fs", "make-formats-fs.sh", name);
}

/// The one file container `format` wrote, which must be complete.
const FileRecord* stream_output(const Unpacked& u, const std::string& format) {
  const Container& c = u.only(format);
  EXPECT_TRUE(c.complete) << format;
  auto files = u.files_of(c.id);
  EXPECT_EQ(files.size(), 1u) << format;
  return files.empty() ? nullptr : files.front();
}

TEST(FormatLzip, OneMemberAndTwoMembers) {
  const std::string want = file_sha(fs_fixture("numbers.txt"));
  auto one = unpack_file(fs_fixture("numbers.txt.lz"));
  ASSERT_NE(stream_output(one, "lzip"), nullptr);
  EXPECT_EQ(stream_output(one, "lzip")->sha256, want);
  // Two members decode into one output, as `lzip -d` writes it.
  auto two = unpack_file(fs_fixture("numbers.txt.twice.lz"));
  ASSERT_EQ(two.containers("lzip").size(), 1u);
  const FileRecord* r = stream_output(two, "lzip");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->size, 2 * std::filesystem::file_size(fs_fixture("numbers.txt")));
}

TEST(FormatLzop, FromLzopAndCorrupted) {
  auto u = unpack_file(fs_fixture("numbers.txt.lzo"));
  const FileRecord* r = stream_output(u, "lzop");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->path, "numbers.txt");  // the name in the header
  EXPECT_EQ(r->sha256, file_sha(fs_fixture("numbers.txt")));
  auto bad = unpack_file(fs_fixture("numbers-corrupt.lzo"));
  const Container& c = bad.only("lzop");
  EXPECT_FALSE(c.complete);
  EXPECT_FALSE(bad.warnings("format-error").empty());
  auto files = bad.files_of(c.id);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files.front()->truncated);
}

TEST(FormatLzop, TruncatedStreamsWarn) {
  TempDir scratch;
  for (std::size_t keep : {40u, 60u, 1000u, 40000u}) {
    auto u = unpack_prefix(fs_fixture("numbers.txt.lzo"), keep, scratch);
    for (const Container* c : u.containers("lzop")) EXPECT_FALSE(c->complete) << keep;
  }
}

TEST(FormatCompress, FromNcompress) {
  auto u = unpack_file(fs_fixture("numbers.txt.Z"));
  const FileRecord* r = stream_output(u, "compress");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->sha256, file_sha(fs_fixture("numbers.txt")));
}

// The .Z header is two magic bytes and a flags byte: the probe checks the first LZW codes.
// 20,000 random bodies behind every valid flags byte are refused (a random blob.bin in a fixture
// tree was once carved as a compress stream and failed, a format-error on nothing); every prefix
// of ncompress's output from 4 bytes on that holds a code is accepted.
TEST(FormatCompress, TheProbeChecksTheFirstCodes) {
  const unpacker::Format* f = unpacker::find_format("compress");
  ASSERT_NE(f, nullptr);
  std::mt19937 rng(1985);
  std::size_t accepted = 0;
  std::vector<std::uint8_t> buf(3 + 96);
  for (int i = 0; i < 20'000; ++i) {
    buf[0] = 0x1f;
    buf[1] = 0x9d;
    buf[2] = std::uint8_t((i % 2 ? 0x80 : 0) | (9 + i % 8));
    for (std::size_t k = 3; k < buf.size(); ++k) buf[k] = std::uint8_t(rng());
    accepted += f->probe(Bytes(buf.data(), buf.size())).has_value();
  }
  EXPECT_EQ(accepted, 0u);
  const std::string z = read_text(fs_fixture("numbers.txt.Z"));
  for (std::size_t n : {std::size_t(5), std::size_t(16), std::size_t(100), z.size()})
    EXPECT_TRUE(f->probe(Bytes(reinterpret_cast<const std::uint8_t*>(z.data()), n))) << n;
}

/// Each named file of the flat tree is a regular file of the one `format` container.
void expect_members(const Unpacked& u, const std::string& format) {
  const Container& c = u.only(format);
  EXPECT_TRUE(c.complete) << format;
  for (const char* rel :
       {"etc/passwd", "bin/hello.sh", "usr/share/doc/numbers.txt", "usr/share/doc/blob.bin"}) {
    std::string path = rel;
    const FileRecord* r = u.file(c.id, path);
    if (!r && format == "cab") {  // cab stores DOS separators
      for (char& ch : path)
        if (ch == '/') ch = '\\';
      r = u.file(c.id, path);
    }
    ASSERT_NE(r, nullptr) << format << " " << rel;
    EXPECT_EQ(r->sha256, file_sha(fs_fixture(std::string("flat/") + rel))) << format << " " << rel;
  }
}

TEST(FormatCab, FromGcab) {
  expect_members(unpack_file(fs_fixture("tree.cab")), "cab");
}

TEST(FormatLha, FromJlha) {
  expect_members(unpack_file(fs_fixture("tree.lzh")), "lha");
}

TEST(FormatCab, TruncatedCabinetWarns) {
  TempDir scratch;
  auto u = unpack_prefix(fs_fixture("tree.cab"), 50000, scratch);
  ASSERT_EQ(u.containers("cab").size(), 1u);
  EXPECT_FALSE(u.warnings("truncated").empty());
}

class FormatRecords : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(FormatRecords, DecodeToTheBinaryAtItsAddress) {
  const auto& [name, format] = GetParam();
  auto u = unpack_file(fs_fixture(name));
  const FileRecord* r = stream_output(u, format);
  ASSERT_NE(r, nullptr);
  // srec_cat wrote the binary at 0x8000: the image starts at the lowest address.
  EXPECT_EQ(r->sha256, file_sha(fs_fixture("records.bin")));
  EXPECT_NE(u.only(format).description.find("0x8000"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Tools, FormatRecords,
                         ::testing::Values(std::pair{"records.hex", "ihex"},
                                           std::pair{"records.srec", "srec"},
                                           std::pair{"records.s37", "srec"},
                                           std::pair{"records.tek", "tekhex"},
                                           std::pair{"records.xtek", "tekhex"}),
                         [](const auto& info) {
                           std::string n = info.param.first;
                           for (char& ch : n)
                             if (ch == '.') ch = '_';
                           return n;
                         });

TEST(FormatRecordsHostile, BadChecksumTruncatesAndShortRecordIsRefused) {
  auto u = unpack_file(fs_fixture("records-badsum.hex"));
  const Container& c = u.only("ihex");
  EXPECT_FALSE(c.complete);
  auto files = u.files_of(c.id);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files.front()->truncated);
  EXPECT_LT(files.front()->size, std::filesystem::file_size(fs_fixture("records.bin")));
  auto s = unpack_file(fs_fixture("records-short.srec"));
  EXPECT_TRUE(s.containers("srec").empty());
}

TEST(FormatRecords, PlainTextIsNotARecordFile) {
  TempDir scratch;
  write_bytes(scratch.path / "notes.txt", ":-) a smiley\nS1 is a label\n/usr/bin\n%PDF-1.4\n");
  auto u = unpack_file(scratch.path / "notes.txt");
  EXPECT_TRUE(u.tree.containers.empty());
}

/// The vectors of `families` with kind POS whose path contains `needle`.
std::vector<std::filesystem::path> vectors(const std::set<std::string>& families,
                                           const std::string& needle) {
  std::vector<std::filesystem::path> out;
  const auto dir = shared_vectors_dir();
  if (dir.empty()) return out;
  for (const auto& row : vector_rows(dir, families))
    if (row.kind == "POS" && row.path.find(needle) != std::string::npos &&
        std::filesystem::exists(dir / row.path))
      out.push_back(dir / row.path);
  return out;
}

TEST(FormatRar, PublicVectorsRar4AndRar5) {
  auto rars = vectors({"rar"}, ".rar");
  if (rars.empty()) GTEST_SKIP() << "../shared/vectors/formats absent (no Debian tool writes RAR)";
  for (const auto& p : rars) {
    auto u = unpack_file(p);
    const Container& c = u.only("rar");
    std::size_t regular = 0;
    for (const FileRecord* r : u.files_of(c.id)) regular += r->type == EntryType::kFile;
    EXPECT_GT(regular, 0u) << p;
  }
}

TEST(FormatXar, TwoTypesInOneFileAreRefusedBeforeLibarchiveLoops) {
  const auto t0 = std::chrono::steady_clock::now();
  auto u = unpack_file(fs_fixture("xar-doublelink.xar"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  const Container& c = u.only("xar");
  EXPECT_FALSE(c.complete);
  ASSERT_FALSE(u.warnings("format-error").empty());
  EXPECT_NE(u.warnings("format-error")[0]->message.find("<type>"), std::string::npos);
}

TEST(FormatXar, PublicVector) {
  auto xars = vectors({"cab/lha/arj/xar"}, ".xar");
  if (xars.empty()) GTEST_SKIP() << "../shared/vectors/formats absent (no Debian tool writes xar)";
  for (const auto& p : xars) {
    auto u = unpack_file(p);
    const Container& c = u.only("xar");
    // fact_extractor's three reference files, under get_files_test/ in the archive.
    const auto ref = shared_vectors_dir() / "fact_extractor" / "expected" / "get_files_test";
    for (const char* rel : {"testfile1", "testfile2", "generic folder/test file 3_.txt"}) {
      const FileRecord* r = u.file(c.id, std::string("get_files_test/") + rel);
      ASSERT_NE(r, nullptr) << rel;
      EXPECT_EQ(r->sha256, file_sha(ref / rel)) << rel;
    }
  }
}

}  // namespace
}  // namespace probity::test
