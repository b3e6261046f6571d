// The outputs of `probity equiv`: equiv.json, equiv.html, diffoscope's JSON format and an
// in-toto Statement carrying an SLSA verification summary (VSA v1).
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <map>

#include "probity/equiv.hpp"
#include "probity/hash.hpp"
#include "probity/json.hpp"

namespace probity {
namespace {

using nlohmann::json;

json ranges_json(const std::vector<ByteRange>& rs) {
  json a = json::array();
  for (const auto& r : rs) a.push_back({{"offset", r.offset}, {"length", r.length}});
  return a;
}

json difference_json(const Difference& d) {
  json j = {{"path", d.path}, {"kind", d.kind}, {"explanation", d.explanation}};
  if (!d.container.empty()) j["container"] = d.container;
  if (!d.section.empty()) j["section"] = d.section;
  if (d.kind == "elf-section") {
    j["symbols"] = d.symbols;
    j["symbol_table"] = d.symbol_table;
  }
  if (!d.ranges.empty()) {
    j["ranges"] = ranges_json(d.ranges);
    j["ranges_total"] = d.ranges_total;
  }
  if (!d.unified_diff.empty()) j["unified_diff"] = d.unified_diff;
  if (!d.hexdump_diff.empty()) j["hexdump_diff"] = d.hexdump_diff;
  if (!d.shipped.empty() || !d.rebuilt.empty()) {
    j["shipped"] = d.shipped;
    j["rebuilt"] = d.rebuilt;
  }
  return j;
}

std::string now_rfc3339() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The rule set the verdict was reached under (docs/equiv.md); its digest is the VSA policy
// digest, so a change of rules changes the digest.
constexpr const char* kRuleSet =
    "probity equiv rules v1: fs-timestamps compression-layout inode-order uimage-header-time "
    "uimage-header-crc uimage-data-crc gzip-header-time gzip-header-crc fit-timestamp "
    "elf-build-id elf-debuglink-crc vendor-signature; nothing else is masked";

}  // namespace

json equiv_json(const Equivalence& e) {
  json norms = json::array();
  std::uint64_t total = 0;
  for (const auto& n : e.normalisations) {
    json j = {{"rule", n.rule}, {"path", n.path}, {"bytes", n.bytes}, {"detail", n.detail}};
    if (n.verified) j["verified"] = *n.verified;
    norms.push_back(std::move(j));
    total += n.bytes;
  }
  json diffs = json::array();
  for (const auto& d : e.differences) diffs.push_back(difference_json(d));
  return {{"schema", "probity-equiv"},
          {"schema_version", kEquivSchemaVersion},
          {"tool", {{"name", "probity"}, {"version", PROBITY_VERSION}}},
          {"shipped", image_json(e.shipped)},
          {"rebuilt", image_json(e.rebuilt)},
          {"verdict", to_string(e.verdict)},
          {"normalisations", std::move(norms)},
          {"normalised_bytes", total},
          {"differences", std::move(diffs)},
          {"differences_total", e.differences_total},
          {"files_compared", e.files_compared},
          {"warnings", e.warnings},
          {"elapsed_ms", e.elapsed_ms}};
}

json equiv_diffoscope_json(const Equivalence& e) {
  // diffoscope-json-version 1: {source1, source2, comments?, unified_diff, details?}, nested.
  json root = {
      {"diffoscope-json-version", 1}, {"source1", e.shipped.name}, {"source2", e.rebuilt.name}};
  json comments = json::array();
  comments.push_back(fmt::format("probity equiv verdict: {}", to_string(e.verdict)));
  for (const auto& n : e.normalisations)
    comments.push_back(
        fmt::format("normalised ({}, {} bytes): {}: {}", n.rule, n.bytes, n.path, n.detail));
  if (e.differences_total > e.differences.size())
    comments.push_back(
        fmt::format("{} more differences not listed", e.differences_total - e.differences.size()));
  root["comments"] = comments;
  root["unified_diff"] = nullptr;
  // One node per path, its differences as comments (and unified diffs for text).
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Difference*>> by_path;
  for (const auto& d : e.differences) {
    if (!by_path.contains(d.path)) order.push_back(d.path);
    by_path[d.path].push_back(&d);
  }
  json details = json::array();
  for (const auto& p : order) {
    json node = {{"source1", p}, {"source2", p}};
    json c = json::array();
    std::string diff;
    for (const auto* d : by_path[p]) {
      std::string line = fmt::format("[{}] {}", d->kind, d->explanation);
      if (!d->ranges.empty()) {
        std::string rs;
        for (const auto& r : d->ranges)
          rs += fmt::format("{}0x{:x}+{}", rs.empty() ? "" : ", ", r.offset, r.length);
        line += " — ranges: " + rs;
      }
      c.push_back(line);
      if (!d->unified_diff.empty()) {
        // diffoscope's unified_diff carries hunks only (no ---/+++ header lines).
        auto u = d->unified_diff;
        for (int k = 0; k < 2 && (u.starts_with("--- ") || u.starts_with("+++ "));) {
          u.erase(0, u.find('\n') == std::string::npos ? u.size() : u.find('\n') + 1);
          ++k;
        }
        diff += u;
      }
      diff += d->hexdump_diff;  // hunks only already
    }
    node["comments"] = c;
    node["unified_diff"] = diff.empty() ? json(nullptr) : json(diff);
    details.push_back(std::move(node));
  }
  if (!details.empty()) root["details"] = std::move(details);
  return root;
}

json equiv_slsa_vsa(const Equivalence& e, const std::string& time_verified) {
  const bool passed = e.verdict != EquivVerdict::kDifferent;
  const std::string rules(kRuleSet);
  const auto digest =
      sha256_hex({reinterpret_cast<const std::uint8_t*>(rules.data()), rules.size()});
  json levels = json::array();
  levels.push_back(!passed                                 ? "FAILED"
                   : e.verdict == EquivVerdict::kIdentical ? "PROBITY_REBUILD_IDENTICAL"
                                                           : "PROBITY_REBUILD_EQUIVALENT");
  return {
      {"_type", "https://in-toto.io/Statement/v1"},
      {"subject",
       json::array({{{"name", e.shipped.name}, {"digest", {{"sha256", e.shipped.sha256}}}}})},
      {"predicateType", "https://slsa.dev/verification_summary/v1"},
      {"predicate",
       {{"verifier", {{"id", "urn:probity:equiv"}, {"version", {{"probity", PROBITY_VERSION}}}}},
        {"timeVerified", time_verified.empty() ? now_rfc3339() : time_verified},
        {"resourceUri", e.shipped.name},
        {"policy", {{"uri", "probity:equiv-rules/v1"}, {"digest", {{"sha256", digest}}}}},
        {"inputAttestations", json::array()},
        {"verificationResult", passed ? "PASSED" : "FAILED"},
        {"verifiedLevels", levels},
        {"slsaVersion", "1.0"},
        // Extension (in-toto parsers ignore unknown fields): what the shipped image was
        // compared with, and the verdict.
        {"rebuiltImage", {{"name", e.rebuilt.name}, {"digest", {{"sha256", e.rebuilt.sha256}}}}},
        {"equivVerdict", to_string(e.verdict)},
        {"normalisations", e.normalisations.size()},
        {"differences", e.differences_total}}}};
}

}  // namespace probity
