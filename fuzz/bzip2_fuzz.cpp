// libFuzzer target for the bzip2 format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("bzip2")
