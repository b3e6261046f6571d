#include "core/enum_names.hpp"
#include "probity/report.hpp"

namespace probity {

const char* to_string(Severity s) {
  return enum_name<Severity::kCritical>(s, {"info", "low", "medium", "high", "critical"}, "info");
}

}  // namespace probity
