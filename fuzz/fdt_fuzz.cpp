// libFuzzer target for the fdt format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("fdt")
