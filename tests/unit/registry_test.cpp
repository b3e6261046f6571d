// Every file in src/unpack/formats/ is registered in formats.def, and ids are unique.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

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

TEST(FormatRegistry, FindFormat) {
  ASSERT_NE(find_format("squashfs"), nullptr);
  EXPECT_EQ(find_format("no-such-format"), nullptr);
}

}  // namespace probity::unpacker
