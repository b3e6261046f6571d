// Never pass what was not seen: the reasons an image's verdict is inconclusive.
#include "policy/evidence.hpp"

#include <cmath>
#include <ctime>
#include <map>
#include <set>

#include <fmt/format.h>

namespace probity {
namespace {

/// Days from an ISO 8601 UTC date-time ("2026-11-23T05:50:00Z") to now; nullopt if unreadable.
std::optional<double> age_days(const std::string& iso) {
  std::tm tm{};
  if (iso.size() < 10 || !strptime(iso.substr(0, 10).c_str(), "%Y-%m-%d", &tm)) return std::nullopt;
  const std::time_t then = timegm(&tm);
  return std::difftime(std::time(nullptr), then) / 86400.0;
}

}  // namespace

Status parse_evidence(const toml::table& e, EvidencePolicy& out, const std::string& origin) {
  for (const auto& [k, v] : e)
    if (k != "min_coverage" && k != "max_unexplained_bytes" && k != "require_root_filesystem" &&
        k != "max_db_age_days" && k != "db_snapshot" && k != "require_db")
      return fail(fmt::format("unknown evidence key '{}'", k.str()), 0, origin);
  if (auto v = e["min_coverage"].value<double>()) {
    if (!std::isfinite(*v) || *v < 0 || *v > 1)
      return fail(fmt::format("evidence.min_coverage must be a share from 0 to 1 (got {})", *v), 0,
                  origin);
    out.min_coverage = *v;
  }
  if (auto v = e["max_unexplained_bytes"].value<std::int64_t>()) {
    if (*v < 0) return fail("evidence.max_unexplained_bytes must be 0 or more", 0, origin);
    out.max_unexplained_bytes = std::uint64_t(*v);
  }
  if (auto v = e["max_db_age_days"].value<std::int64_t>()) {
    if (*v < 0 || *v > 36500)
      return fail("evidence.max_db_age_days must be from 0 (not checked) to 36500", 0, origin);
    out.max_db_age_days = std::uint32_t(*v);
  }
  if (auto v = e["require_root_filesystem"].value<bool>()) out.require_root_filesystem = *v;
  if (auto v = e["require_db"].value<bool>()) out.require_db = *v;
  if (auto v = e["db_snapshot"].value<std::string>()) out.db_snapshot = *v;
  for (const char* k : {"min_coverage", "max_unexplained_bytes", "max_db_age_days",
                        "require_root_filesystem", "require_db", "db_snapshot"})
    if (e.contains(k) && !e[k].is_value())
      return fail(fmt::format("evidence.{} must be a value", k), 0, origin);
  return {};
}

std::vector<InconclusiveReason> inconclusive_reasons(const EvidencePolicy& ev, const Report& r) {
  std::vector<InconclusiveReason> out;
  const ArtifactTree& t = r.tree;
  if (ev.require_root_filesystem && find_root_filesystems(t).empty())
    out.push_back({"no-root-filesystem",
                   "no root filesystem was found (no container holds etc/ and bin/, sbin/, usr/ "
                   "or lib/, or an init): the software the device runs was not seen",
                   fmt::format("{} containers, {} files", t.containers.size(), t.stats.files)});
  if (t.coverage.bytes > 0 && t.coverage.share() < ev.min_coverage)
    out.push_back({"coverage",
                   fmt::format("only {:.1f}% of the image was understood (policy: at least "
                               "{:.1f}%)",
                               t.coverage.share() * 100, ev.min_coverage * 100),
                   fmt::format("{} of {} bytes", t.coverage.understood, t.coverage.bytes)});
  if (t.coverage.bytes == 0)
    out.push_back({"empty-input", "the image is empty: there was nothing to judge", t.image.name});
  std::uint64_t unexplained = 0;
  const Region* largest = nullptr;
  for (const auto& reg : t.regions)
    if (!reg.understood && reg.entropy >= kEncryptedEntropy) {
      unexplained += reg.size;
      if (!largest || reg.size > largest->size) largest = &reg;
    }
  if (largest && unexplained > ev.max_unexplained_bytes)
    out.push_back({"unexplained-bytes",
                   fmt::format("{} bytes look encrypted or compressed and no format decoded them "
                               "(policy: at most {})",
                               unexplained, ev.max_unexplained_bytes),
                   fmt::format("largest: {} bytes at 0x{:x} of {} (entropy {:.2f})", largest->size,
                               largest->offset, largest->container ? largest->source : t.image.name,
                               largest->entropy)});
  std::map<std::string, std::pair<std::size_t, const Warning*>> caps;
  for (const auto& w : t.warnings)
    if (w.code.starts_with("cap-")) {
      auto& [n, first] = caps[w.code];
      if (!first) first = &w;
      ++n;
    }
  for (const auto& [code, hit] : caps)
    out.push_back({"cap",
                   fmt::format("a cap was hit ({}, {} times): what lies past it was not seen", code,
                               hit.first),
                   hit.second->entry + ": " + hit.second->message});
  for (const auto& f : r.findings)
    if (f.rule == "check-cap") {
      out.push_back({"cap", "a check stopped at a parse cap: " + f.message, f.path});
      break;
    }
  for (const auto& c : t.containers)
    if (!c.complete)
      out.push_back({"container-failed",
                     fmt::format("{} at 0x{:x} failed after its header was recognised: part of "
                                 "it was not read",
                                 c.format, c.offset),
                     fmt::format("container {} in {}", c.id, c.parent ? c.source : t.image.name)});
  if (ev.require_db) {
    if (!r.db_vulnerabilities)
      out.push_back({"db-missing", "no vulnerability database was used", ""});
    else if (*r.db_vulnerabilities == 0)
      out.push_back({"db-empty", "the vulnerability database holds no records (a failed import?)",
                     r.db_snapshot});
  }
  if (ev.max_db_age_days > 0 && r.db_vulnerabilities) {
    const auto age = age_days(r.db_imported_at);
    if (!age || *age > ev.max_db_age_days)
      out.push_back({"db-stale",
                     age ? fmt::format("the vulnerability database is {:.0f} days old (policy: "
                                       "at most {})",
                                       *age, ev.max_db_age_days)
                         : std::string("the vulnerability database's import date is unknown"),
                     r.db_imported_at});
  }
  if (!ev.db_snapshot.empty() && r.db_snapshot != ev.db_snapshot)
    out.push_back({"db-mismatch", "the vulnerability database is not the one the policy names",
                   fmt::format("used {}, policy names {}",
                               r.db_snapshot.empty() ? "none" : r.db_snapshot, ev.db_snapshot)});
  for (const auto& d : r.data_missing)
    out.push_back({"data-missing", "a data file could not be read: a check ran without it", d});
  return out;
}

}  // namespace probity
