// libFuzzer target for the zlib format: its probe (header checks and a bounded trial decode)
// and its extraction (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("zlib")
