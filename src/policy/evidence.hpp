// The [evidence] table of a policy (internal to src/policy).
#pragma once

#include <toml++/toml.h>

#include <string>

#include "probity/policy.hpp"

namespace probity {

/// Parses `[evidence]` into `out`; unknown keys and values out of range are errors.
Status parse_evidence(const toml::table& evidence, EvidencePolicy& out, const std::string& origin);

}  // namespace probity
