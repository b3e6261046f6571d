// libFuzzer target for the v7 tar probe and reader (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("tar_v7")
