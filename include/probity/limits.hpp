// The named caps that bound every unpacking run. Each is overridable by a CLI flag; hitting one is
// recorded as a warning in the manifest, never silent. Also the caps `probity log serve` puts on
// its clients (docs/tlog.md, "Slow and hostile clients").
#pragma once

#include <cstddef>
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
/// Wall-clock seconds one format instance may spend extracting (--format-timeout).
inline constexpr std::uint32_t kFormatSeconds = 120;
/// Candidate offsets tried per carved blob; more means a blob full of fake magics.
inline constexpr std::uint64_t kMaxCarveCandidates = 20'000;
/// Longest path accepted from an archive entry.
inline constexpr std::uint64_t kMaxPathBytes = 4096;
/// Longest symlink target recorded.
inline constexpr std::uint64_t kMaxLinkBytes = 4096;

/// The caps in force for one run.
struct Limits {
  std::uint64_t max_total_bytes = kMaxTotalBytes;
  std::uint64_t max_file_bytes = kMaxFileBytes;
  std::uint32_t max_ratio = kMaxRatio;
  std::uint64_t ratio_floor_bytes = kRatioFloorBytes;
  std::uint32_t max_depth = kMaxDepth;
  std::uint64_t max_entries = kMaxEntries;
  std::uint32_t format_seconds = kFormatSeconds;
  std::uint64_t max_carve_candidates = kMaxCarveCandidates;
};

// ---- probity log serve: what clients may hold (each overridable by a `log serve` flag) ----------

/// Open client connections, all states (--max-connections). At the cap a new connection replaces
/// the one that has waited longest for its request; when every connection is busy it is refused.
/// Also kept below the process's open-file limit.
inline constexpr std::size_t kServeMaxConnections = 1024;
/// Connections that have not completed a request yet: unauthenticated, possibly silent or
/// trickling (--max-pending-connections). At the cap the oldest of them is closed.
inline constexpr std::size_t kServeMaxPendingConnections = 512;
/// Open connections from one source address (--max-connections-per-address); at the cap that
/// address's connection waiting longest for a request is closed.
inline constexpr std::size_t kServeMaxConnectionsPerAddress = 128;
/// A whole request (line, headers, body) must arrive within this time of its connection opening,
/// or of its first byte on a kept-alive connection, however the bytes trickle
/// (--request-timeout-ms). Then the connection is closed.
inline constexpr std::uint32_t kServeRequestTimeoutMs = 5000;
/// How long a kept-alive connection may wait for its next request.
inline constexpr std::uint32_t kServeIdleTimeoutMs = 5000;
/// How long a client may take to read a whole response.
inline constexpr std::uint32_t kServeWriteTimeoutMs = 10000;
/// Request line plus headers; larger is refused with 431.
inline constexpr std::size_t kServeMaxHeadBytes = 16 * 1024;
/// Requests per second one source address may make (token bucket; --rate-per-address, 0: no
/// limit); past it 429. The bucket holds kServeBurstSeconds of requests.
inline constexpr double kServeRequestsPerSecondPerAddress = 1000;
inline constexpr double kServeBurstSeconds = 2;

}  // namespace probity
