// libFuzzer target for the vulnerability-feed record parsers (src/vuln/records.cpp): one JSON
// item as a feed would yield it, through the NVD 2.0, NVD 1.1 and OSV parsers and the CPE parser.
#include <simdjson.h>

#include <cstdint>
#include <string>

#include "probity/vulndb.hpp"
#include "vuln/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)probity::parse_cpe23(text);
  simdjson::dom::parser parser;
  simdjson::dom::element item;
  if (parser.parse(text).get(item)) return 0;
  (void)probity::vuln::detect_item(item);
  (void)probity::vuln::nvd20_record(item);
  (void)probity::vuln::nvd11_record(item);
  (void)probity::vuln::osv_record(item);
  return 0;
}
