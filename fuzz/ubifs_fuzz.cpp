// libFuzzer target for the ubifs format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("ubifs")
