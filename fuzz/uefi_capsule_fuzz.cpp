// libFuzzer target for the uefi_capsule format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("uefi_capsule")
