// Finding format candidates at any offset of a blob: every format's magic is compiled into one
// vectorscan literal database and the blob is scanned once.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.hpp"
#include "unpack/format.hpp"

namespace probity::unpacker {

struct Candidate {
  std::uint64_t start = 0;  ///< where the format would begin
  const Format* format = nullptr;
  std::uint32_t rank = 0;  ///< registry position (lower wins at equal start)
};

/// Candidates for every kAnyOffset format, plus kStartOnly formats at offset 0; sorted by start
/// then rank, de-duplicated. Stops at `cap` candidates and sets `capped`.
std::vector<Candidate> find_candidates(Bytes blob, std::uint64_t cap, bool& capped);

/// Candidates at offset 0 only (for files inside filesystems and archives).
std::vector<Candidate> start_candidates(Bytes blob);

}  // namespace probity::unpacker
