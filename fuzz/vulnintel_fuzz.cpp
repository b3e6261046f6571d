// libFuzzer target for the vulnerability-intelligence parsers (src/vuln/intel.cpp and the JSON
// item converters of src/vuln/records.cpp): EPSS CSV, endoflife.date front matter, the CPE alias
// table, and CVE 5 / KEV / curl-table / kernel-branch items. The first byte picks the parser.
#include <simdjson.h>

#include <cstdint>
#include <string>

#include "vuln/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  namespace v = probity::vuln;
  switch (data[0] % 3) {
    case 0:
      (void)v::parse_epss_csv(text, [](std::string_view, double, double) {});
      (void)v::parse_alias_tsv(text, [](std::string_view, std::string_view, std::string_view) {});
      break;
    case 1: {
      std::vector<std::string> names;
      (void)v::parse_endoflife_md(
          text, "fuzz", [](const v::EolRow&) {}, names);
      break;
    }
    default: {
      simdjson::dom::parser parser;
      simdjson::dom::element item;
      if (parser.parse(text).get(item)) return 0;
      (void)v::detect_item(item);
      (void)v::cve5_record(item);
      (void)v::kev_row(item);
      (void)v::curl_table_record(item);
      (void)v::kernel_branch_rows(item);
      break;
    }
  }
  return 0;
}
