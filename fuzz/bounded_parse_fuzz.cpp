// libFuzzer target for the bounded readers of user-supplied structured text (issue 17): the JSON
// size/depth pre-scan (check_json_bounds) against an independent depth count, parse_json_bounded,
// the report.json reader (read_report, simdjson) on the same bytes, the TOML pre-scan against
// the depth of the tree toml++ builds, and the policy and suppressions readers. The first byte
// picks the reader.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/toml_bounded.hpp"
#include "probity/diff.hpp"
#include "probity/json.hpp"
#include "probity/limits.hpp"
#include "probity/policy.hpp"

namespace {

/// The deepest nesting of a JSON text by nlohmann's SAX parser (iterative: no DOM is built), or
/// -1 when it is not valid JSON. Independent of the pre-scan, so each checks the other.
struct DepthSax : nlohmann::json_sax<nlohmann::json> {
  std::size_t depth = 0, max = 0;
  bool open() {
    max = std::max(max, ++depth);
    return true;
  }
  bool close() {
    --depth;
    return true;
  }
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return open(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

long json_depth(std::string_view text) {
  DepthSax sax;
  const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &sax,
                                            nlohmann::json::input_format_t::json, /*strict=*/true);
  return ok ? static_cast<long>(sax.max) : -1;
}

/// Depth of the deepest node toml++ built (the root table is 0). Recursive on purpose: if the
/// pre-scan let a deep document through, this is where the stack would show it.
std::size_t toml_depth(const toml::node& n) {
  std::size_t d = 0;
  if (const auto* t = n.as_table())
    for (const auto& [k, v] : *t) d = std::max(d, 1 + toml_depth(v));
  if (const auto* a = n.as_array())
    for (const auto& v : *a) d = std::max(d, 1 + toml_depth(v));
  return d;
}

void json_case(std::string_view text) {
  const std::uint64_t cap = 1 << 20;
  // nlohmann's lexer takes a NUL byte for the end of the input; the oracle compares the two on
  // the same bytes.
  const std::string_view until_nul = text.substr(0, text.find('\0'));
  const auto bounds = probity::check_json_bounds(until_nul, "fuzz.json", cap);
  const long depth = json_depth(until_nul);
  // Valid JSON: the pre-scan refuses it exactly when it is too deep (the size never is, here).
  if (depth >= 0 && bool(bounds) != (depth <= long(probity::kMaxJsonDepth))) std::abort();
  if (!bounds && bounds.error().offset > until_nul.size()) std::abort();
  if (auto j = probity::parse_json_bounded(text, "fuzz.json", cap)) {
    // What passed is shallow enough to copy and print (both recurse per level).
    const nlohmann::json copy = *j;
    (void)copy.dump();
  }
}

void report_case(std::string_view text) {
  namespace fs = std::filesystem;
  static const fs::path file =
      fs::temp_directory_path() / ("probity-bounded-fuzz-" + std::to_string(getpid()) + ".json");
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(text.data(), std::streamsize(text.size()));
  const auto r = probity::read_report(file);
  // The pre-scan runs first: a report it refuses is never handed to simdjson.
  if (r && !probity::check_json_bounds(text, file.string(), probity::kMaxReportBytes)) std::abort();
}

void toml_case(std::string_view text, bool policy) {
  const auto bounds = probity::check_toml_bounds(text, "fuzz.toml");
  if (bounds) {
    try {
      const auto t = toml::parse(text, std::string_view("fuzz.toml"));
      // The pre-scan's count is never below the tree's depth (+1: a scalar in the deepest array).
      if (toml_depth(t) > probity::kMaxTomlDepth + 1) std::abort();
    } catch (const toml::parse_error&) {
    }
  } else if (bounds.error().offset > text.size()) {
    std::abort();
  }
  if (policy)
    (void)probity::parse_policy(text, "fuzz.toml");
  else
    (void)probity::parse_suppressions(text, "fuzz.toml");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      json_case(text);
      break;
    case 1:
      report_case(text);
      break;
    case 2:
      toml_case(text, true);
      break;
    default:
      toml_case(text, false);
      break;
  }
  return 0;
}
