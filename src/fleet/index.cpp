// `probity scan --fleet-index STORE`: the fleet-wide key finding reads the fleet store's keys
// table (src/fleet/store.cpp, FleetStore::join_keys).
#include "probity/fleet.hpp"

namespace probity {

Result<FleetIndex> FleetIndex::open(const std::filesystem::path& store) {
  auto s = FleetStore::open(store.string());
  if (!s) return std::unexpected(s.error());
  return FleetIndex(std::move(*s));
}

}  // namespace probity
