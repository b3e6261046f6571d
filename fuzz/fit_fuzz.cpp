// libFuzzer target for the fit format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("fit")
