// libFuzzer target for the sevenzip format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("sevenzip")
