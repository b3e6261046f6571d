// Fleet-wide keys: the same private key (or authorized vendor SSH key) found in several images.
// A scan records the key fingerprints of its findings in a fleet index (a SQLite file the
// evaluator keeps across scans, `probity scan --fleet-index FILE`); a key the index already holds
// from another image becomes a `fleet-wide-key` finding (docs/findings.md).
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "probity/error.hpp"
#include "probity/report.hpp"

namespace probity {

/// Other images listed per fleet-wide-key finding (the message says how many more there are).
inline constexpr std::size_t kMaxFleetSightings = 20;

class FleetIndex {
 public:
  /// Opens (creating when absent) the index at `file`. Several scans may share it at once.
  static Result<FleetIndex> open(const std::filesystem::path& file);
  FleetIndex(FleetIndex&&) noexcept;
  FleetIndex& operator=(FleetIndex&&) noexcept;
  ~FleetIndex();

  /// Records every key finding of `report` (findings whose evidence has a fingerprint) under
  /// the report's image and returns one `fleet-wide-key` finding (critical; the category of
  /// the key finding it extends: private-key or remote-access) per key finding whose fingerprint
  /// the index already holds from another image (another SHA-256). Rescanning the same image adds
  /// nothing and raises nothing new.
  Result<std::vector<Finding>> join(const Report& report);

 private:
  struct Impl;
  explicit FleetIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace probity
