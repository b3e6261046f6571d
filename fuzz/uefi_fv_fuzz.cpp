// libFuzzer target for the uefi_fv format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("uefi_fv")
