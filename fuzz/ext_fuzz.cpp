// libFuzzer target for the ext format (libext2fs through our in-memory io_manager).
#include "format_fuzz.hpp"

PROBITY_FORMAT_FUZZER("ext")
