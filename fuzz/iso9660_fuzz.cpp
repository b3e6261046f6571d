// libFuzzer target for the iso9660 format (see format_fuzz.hpp).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("iso9660")
