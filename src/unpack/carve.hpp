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

/// A magic whose candidates were cut at the cap.
struct CandidateCap {
  const Format* format = nullptr;
  std::uint64_t first_dropped = 0;  ///< offset of the first candidate not kept
  std::uint64_t dropped = 0;        ///< how many were not kept
};

/// Candidates for every kAnyOffset format, plus kStartOnly formats at offset 0; sorted by start
/// then rank, de-duplicated. The cap is per magic: a flood of one magic (fake gzip headers)
/// never crowds out another format's candidates; each magic cut at the cap is listed in `capped`.
std::vector<Candidate> find_candidates(Bytes blob, std::uint64_t cap_per_magic,
                                       std::vector<CandidateCap>& capped);

/// Candidates at offset 0 only (for files inside filesystems and archives).
std::vector<Candidate> start_candidates(Bytes blob);

}  // namespace probity::unpacker
