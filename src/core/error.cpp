#include "probity/error.hpp"

#include <fmt/format.h>

namespace probity {

std::string Error::to_string() const {
  if (file.empty()) return offset ? fmt::format("@0x{:x}: {}", offset, message) : message;
  return fmt::format("{}@0x{:x}: {}", file, offset, message);
}

}  // namespace probity
