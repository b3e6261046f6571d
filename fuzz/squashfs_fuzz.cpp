// libFuzzer target for the squashfs format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("squashfs")
