// The named caps that bound every unpacking run. Each is overridable by a CLI flag; hitting one is
// recorded as a warning in the manifest, never silent.
#pragma once

#include <cstdint>

namespace probity {

inline constexpr std::uint64_t kMiB = 1024ull * 1024;
inline constexpr std::uint64_t kGiB = 1024ull * kMiB;

/// Total bytes written under the output directory, all formats together (--max-total).
inline constexpr std::uint64_t kMaxTotalBytes = 4 * kGiB;
/// Largest single extracted file (--max-file).
inline constexpr std::uint64_t kMaxFileBytes = 2 * kGiB;
/// Decompressed:compressed ratio above which a stream is treated as a bomb (--max-ratio).
inline constexpr std::uint32_t kMaxRatio = 250;
/// Ratio is only enforced once a stream has produced this much (small text compresses well).
inline constexpr std::uint64_t kRatioFloorBytes = 64 * kMiB;
/// Nesting depth of containers inside containers (--max-depth).
inline constexpr std::uint32_t kMaxDepth = 16;
/// Entries (files, dirs, links) across the whole run (--max-files).
inline constexpr std::uint64_t kMaxEntries = 500'000;
/// Memory the unpacker's records of entries may take, all containers together (--max-memory).
/// With the per-code warning cap and the streamed manifest, this bounds the unpacker's working
/// memory: peak RSS stays under 512 MiB on the hostile fixtures (docs/architecture.md).
inline constexpr std::uint64_t kMaxRecordBytes = 192 * kMiB;
/// Wall-clock seconds one format instance may spend extracting (--format-timeout).
inline constexpr std::uint32_t kFormatSeconds = 120;
/// Candidate offsets kept per magic in one carved blob (--max-candidates); more means a flood of
/// fake magics. Per magic, so that a flood of one never crowds out another format.
inline constexpr std::uint64_t kMaxCarveCandidates = 20'000;
/// Longest path accepted from an archive entry.
inline constexpr std::uint64_t kMaxPathBytes = 4096;
/// Longest symlink target recorded.
inline constexpr std::uint64_t kMaxLinkBytes = 4096;
/// Symlinks followed while resolving one path inside an extracted tree (the kernel's MAXSYMLINKS;
/// no flag: a longer chain is a loop or an attack).
inline constexpr std::uint32_t kMaxLinkHops = 40;

/// Warnings of one code listed per container; the rest are counted in one summary warning (no
/// flag: bounds the manifest and the unpacker's memory when a hostile archive repeats an error).
inline constexpr std::uint64_t kMaxWarningsPerCode = 1000;

/// The caps in force for one run.
struct Limits {
  std::uint64_t max_total_bytes = kMaxTotalBytes;
  std::uint64_t max_file_bytes = kMaxFileBytes;
  std::uint32_t max_ratio = kMaxRatio;
  std::uint64_t ratio_floor_bytes = kRatioFloorBytes;
  std::uint32_t max_depth = kMaxDepth;
  std::uint64_t max_entries = kMaxEntries;
  std::uint64_t max_record_bytes = kMaxRecordBytes;
  std::uint32_t format_seconds = kFormatSeconds;
  std::uint64_t max_carve_candidates = kMaxCarveCandidates;
};

}  // namespace probity
