// libFuzzer target for the log server front's request framing (parse_request_head): it must not
// crash, must refuse or give a length within the cap, and an Expect range it returns must be a
// whole line inside the head.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tlog/http_front.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t max_body = data[0] * 257u;
  const std::string_view head(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto h = probity::tlog::http::parse_request_head(head, max_body);
  if (h.status != 0) return 0;
  if (h.content_length > max_body) std::abort();
  if (h.drop_end < h.drop_begin || h.drop_end > head.size()) std::abort();
  if (h.expect_continue &&
      (h.drop_begin < 2 || h.drop_end < h.drop_begin + 2 ||
       head.substr(h.drop_end - 2, 2) != "\r\n" || head.substr(h.drop_begin - 2, 2) != "\r\n"))
    std::abort();
  return 0;
}
