// libFuzzer target for the cbfs format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("cbfs")
