// Every cap is defined once, in include/probity/limits.hpp (issue 14 item 4): a `kMax...` or
// `kMin...` constant anywhere else in src/, cli/ or include/ must say in the comment right above
// it that it is not a cap (a heuristic, a threshold of a finding, a format's own range), and no
// name is defined twice.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(Limits, EveryCapIsInLimitsHpp) {
  const fs::path root = PROBITY_SOURCE_DIR;
  const fs::path limits = root / "include" / "probity" / "limits.hpp";
  const std::regex def(R"(constexpr\s+[\w:]+\s+(k(?:Max|Min)\w*))");
  std::map<std::string, std::string> defined;  // name -> where
  std::vector<std::string> stray;
  std::size_t in_limits = 0, elsewhere = 0;
  for (const char* dir : {"src", "cli", "include"}) {
    for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
      const auto lines = lines_of(e.path());
      const bool is_limits = fs::equivalent(e.path(), limits);
      for (std::size_t i = 0; i < lines.size(); ++i) {
        std::smatch m;
        if (!std::regex_search(lines[i], m, def)) continue;
        const std::string name = m[1];
        const std::string where =
            fs::relative(e.path(), root).string() + ":" + std::to_string(i + 1);
        auto [it, fresh] = defined.emplace(name, where);
        EXPECT_TRUE(fresh) << name << " defined at " << it->second << " and " << where;
        if (is_limits) {
          ++in_limits;
          continue;
        }
        ++elsewhere;
        bool said = false;
        for (std::size_t k = i >= 3 ? i - 3 : 0; k < i; ++k)
          said = said || lines[k].find("not a cap") != std::string::npos;
        if (!said) stray.push_back(where + " " + name);
      }
    }
  }
  std::string list;
  for (const auto& s : stray) list += "\n  " + s;
  EXPECT_TRUE(stray.empty()) << "caps outside include/probity/limits.hpp (move them there, or say "
                                "\"not a cap\" above a heuristic):"
                             << list;
  // The scan saw the header's caps (a broken regex would pass everything).
  EXPECT_GT(in_limits, 150u);
  EXPECT_LT(elsewhere, 40u);
}

}  // namespace
