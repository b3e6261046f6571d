// Fix-first triage: which known vulnerabilities can be reached in the image (reachability with
// its evidence chain) and which to fix first (docs/vulndb.md, "Triage").
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "probity/report.hpp"

namespace probity {

/// Fills Vulnerability::reachability for every vulnerability of `report` from its tree, its
/// components' evidence and the boot services in its facts; `out_dir` holds the extracted files
/// (ELF DT_NEEDED entries are read from them):
/// - exposed: the component's file is, or is linked through DT_NEEDED by, an executable started
///   at boot that listens on the network (an inetd/xinetd service, a network server, or
///   arguments that name a port or listening);
/// - loaded: the same for an executable started at boot that does not listen, or a CGI program
///   of a web server started at boot;
/// - present: the file is on disk but nothing started at boot runs or links it;
/// - unknown: the component was seen only in package metadata, or its file could not be read.
void assess_reachability(Report& report, const std::filesystem::path& out_dir);

/// One entry of the "fix first" list.
struct FixFirst {
  std::size_t index = 0;  ///< into Report::vulnerabilities
  int tier = 0;           ///< 1 exposed and KEV, 2 exposed, 3 KEV (loaded, present or unknown)
  std::string reason;     ///< "exposed, in KEV (due 2024-01-01)", "exposed, EPSS 0.97"
};

/// The vulnerabilities to fix first, in order: exposed and in KEV; then exposed by EPSS, then
/// CVSS; then in KEV but not exposed. Not-affected and suppressed ones are left out.
std::vector<FixFirst> fix_first(const std::vector<Vulnerability>& vulnerabilities);

}  // namespace probity
