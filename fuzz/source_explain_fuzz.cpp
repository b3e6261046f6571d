// libFuzzer target for `probity source --image`'s hand-written parts (src/source/explain.cpp):
// the C lexer behind SourceIndex (the input as a source file, then every line of it explained
// against the index) and binary_text over the same bytes as an ELF. Whatever the bytes, both
// must return, bounded.
#include <cstdint>
#include <span>
#include <string_view>

#include "probity/source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  probity::SourceIndex idx;
  idx.add_c(text);
  probity::SourceIndex other;
  other.add_c(text.substr(size / 2));
  idx.merge(std::move(other));
  idx.finish();
  std::size_t start = 0;
  for (int lines = 0; start < text.size() && lines < 64; ++lines) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    (void)idx.explain(text.substr(start, nl - start));
    (void)probity::unexplained_string_severity(text.substr(start, nl - start));
    start = nl + 1;
  }
  (void)probity::binary_text(std::span(data, size));
  return 0;
}
