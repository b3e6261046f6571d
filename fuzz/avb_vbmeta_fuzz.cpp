// libFuzzer target for the avb_vbmeta format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("avb_vbmeta")
