// libFuzzer target for the yaffs2 format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("yaffs2")
