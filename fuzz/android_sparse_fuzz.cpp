// libFuzzer target for the android_sparse format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("android_sparse")
