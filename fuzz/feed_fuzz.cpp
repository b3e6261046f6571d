// libFuzzer target for the streaming feed splitter (src/vuln/feed.cpp, hand-written): the input is
// written to a file and split both in one loop (split_feed) and a chunk at a time through
// FeedReader::next, as the import pipeline reads it; both must hand on the same records.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "vuln/feed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = [] {
    const auto p =
        std::filesystem::temp_directory_path() / ("probity-feed-fuzz-" + std::to_string(getpid()));
    return p.string();
  }();
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size) std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  std::vector<std::string> whole, pieces;
  auto a = probity::vuln::split_feed(
      path, [&](std::string_view t, std::uint64_t) { whole.emplace_back(t); });
  auto reader = probity::vuln::open_feed(path);
  if (!reader) std::abort();  // the file exists: opening cannot fail
  bool ok = true;
  for (;;) {
    auto more = (*reader)->next([&](std::string_view t, std::uint64_t) { pieces.emplace_back(t); });
    if (!more) {
      ok = false;
      break;
    }
    if (!*more) break;
  }
  if (ok != bool(a) || whole != pieces) std::abort();
  return 0;
}
