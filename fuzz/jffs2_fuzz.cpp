// libFuzzer target for the jffs2 format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("jffs2")
