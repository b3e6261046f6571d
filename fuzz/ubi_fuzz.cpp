// libFuzzer target for the ubi format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("ubi")
