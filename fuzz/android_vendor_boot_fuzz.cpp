// libFuzzer target for the android_vendor_boot format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("android_vendor_boot")
