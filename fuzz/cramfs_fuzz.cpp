// libFuzzer target for the cramfs format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("cramfs")
