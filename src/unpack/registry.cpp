#include "unpack/format.hpp"

namespace probity::unpacker {

const std::vector<const Format*>& all_formats() {
  static const std::vector<const Format*> kAll = {
#define PROBITY_FORMAT(id) &kFormat_##id,
#include "unpack/formats/formats.def"
#undef PROBITY_FORMAT
  };
  return kAll;
}

const Format* find_format(std::string_view id) {
  for (const Format* f : all_formats())
    if (f->id == id) return f;
  return nullptr;
}

}  // namespace probity::unpacker
