// libFuzzer target for the squashfs_legacy format (SquashFS 1.x-3.x; see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("squashfs_legacy")
