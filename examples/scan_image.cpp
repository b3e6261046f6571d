// Embedding probity: scan a firmware image through the library and print what a flashing
// station or a fleet worker would act on. Built with the tests (examples/CMakeLists.txt) and run
// by ctest on a fixture image; see docs/architecture.md, "Embedding probity".
//
//   scan_image IMAGE OUT_DIR [POLICY]
#include <cstdio>

#include "probity/scan.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s IMAGE OUT_DIR [POLICY]\n", argv[0]);
    return 2;
  }
  probity::ScanOptions opt;
  opt.image = argv[1];
  opt.out = argv[2];
  if (argc > 3) opt.policy = argv[3];
  opt.unpack.threads = 2;
  opt.write_outputs = false;  // keep the result in memory only (the extracted tree stays in OUT)
  auto result = probity::scan(opt);
  if (!result) {
    std::fprintf(stderr, "scan_image: %s\n", result.error().to_string().c_str());
    return 2;
  }
  const probity::Report& r = result->report;
  std::printf("image %s sha256 %s\n", r.tree.image.name.c_str(), r.tree.image.sha256.c_str());
  std::printf("coverage %.3f\n", r.tree.coverage.share());
  std::printf("components %zu\n", r.components.size());
  for (const auto& c : r.components)
    std::printf("component %s %s\n", c.name.c_str(), c.version.empty() ? "?" : c.version.c_str());
  std::printf("findings %zu\n", r.findings.size());
  std::printf("verdict %s\n", r.verdict->result.c_str());
  for (const auto& why : r.verdict->reasons)
    std::printf("not-seen %s: %s\n", why.code.c_str(), why.text.c_str());
  return probity::verdict_exit_code(*r.verdict);
}
