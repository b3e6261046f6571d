// The streaming feed splitter: records cut correctly across read chunks, through strings with
// escaped quotes and brackets, and hostile shapes refused with an offset.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "probity/vulndb.hpp"
#include "vuln/feed.hpp"

namespace {

namespace fs = std::filesystem;
using probity::vuln::FeedShape;
using probity::vuln::split_feed;

fs::path write_temp(const std::string& name, const std::string& text) {
  const auto p = fs::temp_directory_path() / ("probity-feed-" + std::to_string(getpid()) + name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::vector<std::string> items_of(const fs::path& p, FeedShape* shape = nullptr) {
  std::vector<std::string> out;
  auto st = split_feed(p, [&](std::string_view t, std::uint64_t) { out.emplace_back(t); });
  EXPECT_TRUE(st) << st.error().to_string();
  if (st && shape) *shape = st->shape;
  return out;
}

TEST(VulnDbFeed, ShapesAndTrickyStrings) {
  FeedShape shape{};
  const std::string tricky = R"({"id":"A","d":"quote \" brace } bracket ] backslash \\","x":[1]})";
  auto p = write_temp("a.json", R"({"format":"NVD_CVE","vulnerabilities":[)" + tricky + "," +
                                    R"({"id":"B","d":"\\\\\"}"}]})");
  auto items = items_of(p, &shape);
  EXPECT_EQ(shape, FeedShape::kItemsArray);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0], tricky);
  EXPECT_EQ(items[1], R"({"id":"B","d":"\\\\\"}"})");
  fs::remove(p);

  // A key named like the array inside a string value is not the array.
  p = write_temp("b.json", R"({"note":"vulnerabilities","id":"C","affected":[{"x":1}]})");
  items = items_of(p, &shape);
  EXPECT_EQ(shape, FeedShape::kDocument);
  ASSERT_EQ(items.size(), 1u);
  fs::remove(p);

  p = write_temp("c.json", R"( [ {"id":"D"} , {"id":"E"}, "ignored", 3 ] )");
  items = items_of(p, &shape);
  EXPECT_EQ(shape, FeedShape::kTopArray);
  EXPECT_EQ(items, (std::vector<std::string>{R"({"id":"D"})", R"({"id":"E"})"}));
  fs::remove(p);

  p = write_temp("d.json", R"({"CVE_data_type":"CVE","CVE_Items":[{"cve":{}},{"cve":{"a":[]}}]})");
  items = items_of(p, &shape);
  EXPECT_EQ(shape, FeedShape::kItemsArray);
  EXPECT_EQ(items.size(), 2u);
  fs::remove(p);
}

TEST(VulnDbFeed, HostileShapesAreErrorsWithOffsets) {
  auto p = write_temp("e.json", "   nope");
  auto st = split_feed(p, [](std::string_view, std::uint64_t) {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().offset, 3u);
  fs::remove(p);
  p = write_temp("f.json", std::string(100, '[') + std::string(100, ']'));
  st = split_feed(p, [](std::string_view, std::uint64_t) {});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("deeper"), std::string::npos);
  fs::remove(p);
  p = write_temp("g.json", R"({"vulnerabilities":[{"a":"b"}]}]})");
  EXPECT_FALSE(split_feed(p, [](std::string_view, std::uint64_t) {}));
  fs::remove(p);
  p = write_temp("h.json", R"({"vulnerabilities":[{"a":"b)");
  EXPECT_FALSE(split_feed(p, [](std::string_view, std::uint64_t) {}));
  fs::remove(p);
  p = write_temp("i.json", "");
  EXPECT_FALSE(split_feed(p, [](std::string_view, std::uint64_t) {}));
  fs::remove(p);
}

TEST(VulnDbFeed, ManyRecordsAcrossReadChunksPlainAndGzip) {
  // ~25 MB: records straddle several 4 MiB read chunks at arbitrary points.
  const fs::path src = fs::path(PROBITY_SOURCE_DIR) / "data/vulndata/nvd/CVE-2023-48795.json";
  std::ifstream in(src);
  std::string rec((std::istreambuf_iterator<char>(in)), {});
  const auto id_at = rec.find("\"CVE-2023-48795\"");
  ASSERT_NE(id_at, std::string::npos);
  std::string page = R"({"resultsPerPage":300,"vulnerabilities":[)";
  constexpr int kRecords = 300;
  for (int i = 0; i < kRecords; ++i) {
    std::string r = rec;
    r.replace(id_at, 16, "\"CVE-2999-" + std::to_string(100000 + i) + "\"");
    page += (i ? "," : "") + std::string(R"({"cve":)") + r + "}";
  }
  page += "]}";
  ASSERT_GT(page.size(), 3 * (4u << 20));
  const auto plain = write_temp("big.json", page);
  const auto gz = fs::temp_directory_path() / ("probity-feed-" + std::to_string(getpid()) + ".gz");
  gzFile g = gzopen(gz.c_str(), "wb1");
  ASSERT_TRUE(g);
  ASSERT_EQ(gzwrite(g, page.data(), static_cast<unsigned>(page.size())), int(page.size()));
  gzclose(g);

  for (const auto& file : {plain, gz}) {
    const auto db_path =
        fs::temp_directory_path() / ("probity-feed-" + std::to_string(getpid()) + ".db");
    fs::remove(db_path);
    auto db = probity::VulnDb::open(db_path, false);
    ASSERT_TRUE(db);
    auto st = db->import_file(file);
    ASSERT_TRUE(st) << st.error().to_string();
    EXPECT_EQ(st->records, std::uint64_t(kRecords));
    EXPECT_EQ(st->stored, std::uint64_t(kRecords));
    EXPECT_EQ(st->rejected, 0u);
    auto status = db->status();
    ASSERT_TRUE(status);
    EXPECT_EQ(status->vulnerabilities, std::uint64_t(kRecords));
    EXPECT_EQ(status->sources[0].bytes, page.size());
    fs::remove(db_path);
  }
  // A gzip feed cut short (inflated on the read-ahead thread) is an error, never a shorter
  // feed: the records read before the cut are not a whole import.
  {
    std::ifstream in(gz, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const auto cut =
        fs::temp_directory_path() / ("probity-feed-cut-" + std::to_string(getpid()) + ".gz");
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    std::size_t n = 0;
    auto st = split_feed(cut, [&](std::string_view, std::uint64_t) { ++n; });
    EXPECT_FALSE(st);
    EXPECT_GT(n, 0u);
    EXPECT_LT(n, std::size_t(kRecords));
    fs::remove(cut);
  }
  fs::remove(plain);
  fs::remove(gz);
}

}  // namespace
