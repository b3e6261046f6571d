// libFuzzer target for the unsupported-filesystem recognition (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("unsupported_fs")
