// libFuzzer target for the tekhex format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("tekhex")
