// Following a cluster chain through a file allocation table, as FAT12/16/32 and exFAT store one.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "unpack/sink.hpp"

namespace probity::unpacker {

struct ClusterChain {
  enum class End {
    kMark,    ///< an entry `is_end` names (end of chain, bad cluster)
    kMax,     ///< `max` clusters taken
    kBroken,  ///< a cluster outside the volume or a FAT entry that cannot be read
    kLoop,    ///< the chain came back to a cluster it had taken (warned)
  };
  std::vector<std::uint64_t> clusters;
  std::uint64_t stop = 0;  ///< the cluster the walk stopped at
  End end = End::kBroken;
};

/// The clusters of the chain starting at `first`, at most `max`. `v` has valid(c) (a data
/// cluster of the volume), next(c) (its FAT entry, nullopt when unreadable) and
/// cluster_offset(c); `is_end(entry)` says an entry ends the chain. A loop is warned about here
/// (a hostile image's chain must not run forever); the caller words the other ends.
template <class Volume, class IsEnd>
ClusterChain follow_chain(const Volume& v, Sink& sink, std::uint64_t first, std::uint64_t max,
                          const std::string& path, IsEnd is_end) {
  ClusterChain out;
  std::unordered_set<std::uint64_t> seen;
  std::uint64_t c = first;
  while (out.clusters.size() < max) {
    out.stop = c;
    if (!v.valid(c)) return out;
    if (!seen.insert(c).second) {
      sink.warn("format-error", fmt::format("cluster chain loops back to cluster {}", c), path,
                v.cluster_offset(c));
      out.end = ClusterChain::End::kLoop;
      return out;
    }
    out.clusters.push_back(c);
    const auto n = v.next(c);
    if (!n) return out;
    if (is_end(*n)) {
      out.end = ClusterChain::End::kMark;
      return out;
    }
    c = *n;
  }
  out.stop = c;
  out.end = ClusterChain::End::kMax;
  return out;
}

}  // namespace probity::unpacker
