// NVD CVE API 2.0, NVD 1.1 feed and OSV records → vuln::Record.
#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "core/text.hpp"
#include "probity/hash.hpp"
#include "vuln/record.hpp"

namespace probity::vuln {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string_view str(element e, std::string_view key) {
  std::string_view s;
  if (e[key].get_string().get(s)) return {};
  return s;
}

bool has(element e, std::string_view key) {
  element v;
  return !e[key].get(v);
}

// An empty dom::array cannot be default-iterated safely; iterate through this.
template <class F>
void each(element e, std::string_view key, F&& f) {
  array a;
  if (e[key].get_array().get(a)) return;
  for (element v : a) f(v);
}

double num(element e, std::string_view key, double def = -1) {
  double d;
  if (e[key].get_double().get(d)) return def;
  return d;
}

bool boolean(element e, std::string_view key, bool def) {
  bool b;
  if (e[key].get_bool().get(b)) return def;
  return b;
}

MatchEntry entry_from_cpe(std::string_view criteria, bool vulnerable) {
  MatchEntry m;
  m.vulnerable = vulnerable;
  m.criteria = std::string(criteria);
  if (auto c = parse_cpe23(criteria)) m.cpe = std::move(*c);
  return m;
}

void bounds(element e, MatchEntry& m) {
  m.vsi = unescape_cpe_value(str(e, "versionStartIncluding"));
  m.vse = unescape_cpe_value(str(e, "versionStartExcluding"));
  m.vei = unescape_cpe_value(str(e, "versionEndIncluding"));
  m.vee = unescape_cpe_value(str(e, "versionEndExcluding"));
}

void add_cwe(Record& r, std::string_view v) {
  if (!v.starts_with("CWE-") && !v.starts_with("NVD-CWE-")) return;
  std::string s(v);
  if (std::find(r.cwe.begin(), r.cwe.end(), s) == r.cwe.end()) r.cwe.push_back(std::move(s));
}

// Primary (NVD) metric first, otherwise the first one listed.
element pick_metric(array metrics) {
  element first;
  bool have = false;
  for (element m : metrics) {
    if (!have) first = m, have = true;
    if (str(m, "type") == "Primary") return m;
  }
  return first;
}

Cvss cvss_from(element metric, bool v2) {
  Cvss c;
  element data;
  if (metric["cvssData"].get(data)) return c;
  c.score = num(data, "baseScore");
  c.vector = std::string(str(data, "vectorString"));
  c.severity = lower(v2 ? str(metric, "baseSeverity") : str(data, "baseSeverity"));
  return c;
}

std::string_view english(element e, std::string_view list_key) {
  std::string_view first, en;
  each(e, list_key, [&](element d) {
    if (first.empty()) first = str(d, "value");
    if (en.empty() && str(d, "lang") == "en") en = str(d, "value");
  });
  return en.empty() ? first : en;
}

// One CVE 5 `affected` product that names CPEs: a configuration ORing its affected versions
// (`version` alone: that version; with `lessThan`/`lessThanOrEqual`: a range from `version`).
// Git "versions" are commit ids, not orderable versions; "n/a" names no version.
void configuration_from_affected(element prod, Record& r) {
  std::vector<std::string_view> cpes;
  each(prod, "cpes", [&](element c) {
    std::string_view s;
    if (!c.get_string().get(s) && s.starts_with("cpe:2.3:")) cpes.push_back(s);
  });
  if (cpes.empty()) return;
  Node node;
  for (auto cpe : cpes) {
    each(prod, "versions", [&](element v) {
      if (str(v, "status") != "affected" || str(v, "versionType") == "git") return;
      MatchEntry m = entry_from_cpe(cpe, true);
      const auto from = str(v, "version");
      const auto lt = str(v, "lessThan"), le = str(v, "lessThanOrEqual");
      if (lt.empty() && le.empty()) {
        if (from.empty() || from == "n/a" || from == "*") return;
        m.cpe.version = lower(from);
      } else {
        if (from != "0" && from != "*" && from != "n/a") m.vsi = std::string(from);
        if (!lt.empty() && lt != "*") m.vee = std::string(lt);
        if (!le.empty() && le != "*") m.vei = std::string(le);
      }
      node.entries.push_back(std::move(m));
    });
  }
  if (node.entries.empty()) return;
  Configuration cfg;
  cfg.nodes.push_back(std::move(node));
  r.configurations.push_back(std::move(cfg));
}

// CISA ADP and CNA "affected" blocks with CPEs in an NVD record: used only when NVD has not
// analysed the record (no configurations), so Deferred/awaiting-analysis records still match.
void configurations_from_affected(element cve, Record& r) {
  each(cve, "affected", [&](element block) {
    each(block, "affectedData", [&](element prod) { configuration_from_affected(prod, r); });
  });
}

void hash_field(Sha256& h, std::string_view s) {
  const std::uint32_t n = static_cast<std::uint32_t>(s.size());
  h.update({reinterpret_cast<const std::uint8_t*>(&n), sizeof n});
  h.update({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

}  // namespace

std::string Record::digest() const {
  // Fields in a fixed order, each prefixed by its length (4 bytes, little-endian); doubles as
  // fixed-point text.
  std::string buf;
  buf.reserve(4096);
  auto put = [&](std::string_view s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    const char len[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
                         static_cast<char>((n >> 16) & 0xff), static_cast<char>(n >> 24)};
    buf.append(len, 4);
    buf += s;
  };
  put(id);
  put(kind);
  put(published);
  put(modified);
  put(status);
  put(description);
  for (const Cvss* c : {&cvss31, &cvss30, &cvss40, &cvss2}) {
    put(c->score < 0 ? "" : fmt::format("{:.1f}", c->score));
    put(c->vector);
    put(c->severity);
  }
  put(fmt::format("cwe{}", cwe.size()));
  for (const auto& c : cwe) put(c);
  put(fmt::format("alias{}", aliases.size()));
  for (const auto& a : aliases) put(a);
  put(fmt::format("cfg{}", configurations.size()));
  for (const auto& cfg : configurations) {
    put(fmt::format("{}{}{}", cfg.is_and ? 'A' : 'O', cfg.negate ? '!' : '=', cfg.nodes.size()));
    for (const auto& n : cfg.nodes) {
      put(fmt::format("{}{}{}", n.is_and ? 'A' : 'O', n.negate ? '!' : '=', n.entries.size()));
      for (const auto& m : n.entries) {
        put(m.vulnerable ? "v" : "-");
        put(m.criteria);
        put(m.cpe.version);
        put(m.vsi);
        put(m.vse);
        put(m.vei);
        put(m.vee);
      }
    }
  }
  Sha256 h;
  hash_field(h, buf);
  return h.hex();
}

ItemFormat detect_item(element item) {
  if (has(item, "cveMetadata") && has(item, "containers")) return ItemFormat::kCve5;
  if (has(item, "cveID") && has(item, "dateAdded")) return ItemFormat::kKev;
  if (has(item, "cve") && has(item, "first_vulnerable") && has(item, "last_vulnerable"))
    return ItemFormat::kCurlTable;
  element cve;
  if (!item["cve"].get(cve)) {
    if (has(cve, "CVE_data_meta")) return ItemFormat::kNvd11;
    if (has(cve, "id")) return ItemFormat::kNvd20;
    return ItemFormat::kUnknown;
  }
  if (has(item, "sourceIdentifier") || has(item, "descriptions") || has(item, "vulnStatus"))
    return ItemFormat::kNvd20;
  if (object o; !item.get_object().get(o)) {
    // A kernel stable-branch document: CVE ids mapping branches to their fixed versions.
    for (auto [k, v] : o) {
      object branches;
      if (k.starts_with("CVE-") && !v.get_object().get(branches))
        for (auto [branch, f] : branches) {
          element fix;
          if (!f["fixed_version"].get(fix)) return ItemFormat::kKernelBranches;
          break;
        }
      break;
    }
  }
  if (has(item, "id") && (has(item, "affected") || has(item, "modified") ||
                          has(item, "schema_version") || has(item, "aliases")))
    return ItemFormat::kOsv;
  return ItemFormat::kUnknown;
}

Result<Record> nvd20_record(element item) {
  element cve = item;
  if (element inner; !item["cve"].get(inner)) cve = inner;
  Record r;
  r.kind = "nvd";
  r.id = std::string(str(cve, "id"));
  if (r.id.empty()) return fail("NVD record without cve.id");
  r.published = std::string(str(cve, "published"));
  r.modified = std::string(str(cve, "lastModified"));
  r.status = std::string(str(cve, "vulnStatus"));
  r.description = std::string(english(cve, "descriptions"));

  element metrics;
  if (!cve["metrics"].get(metrics)) {
    array a;
    if (!metrics["cvssMetricV31"].get_array().get(a) && a.size() > 0)
      r.cvss31 = cvss_from(pick_metric(a), false);
    if (!metrics["cvssMetricV30"].get_array().get(a) && a.size() > 0)
      r.cvss30 = cvss_from(pick_metric(a), false);
    if (!metrics["cvssMetricV40"].get_array().get(a) && a.size() > 0)
      r.cvss40 = cvss_from(pick_metric(a), false);
    if (!metrics["cvssMetricV2"].get_array().get(a) && a.size() > 0)
      r.cvss2 = cvss_from(pick_metric(a), true);
  }
  each(cve, "weaknesses",
       [&](element w) { each(w, "description", [&](element d) { add_cwe(r, str(d, "value")); }); });

  each(cve, "configurations", [&](element c) {
    Configuration cfg;
    cfg.is_and = str(c, "operator") == "AND";
    cfg.negate = boolean(c, "negate", false);
    each(c, "nodes", [&](element n) {
      Node node;
      node.is_and = str(n, "operator") == "AND";
      node.negate = boolean(n, "negate", false);
      if (array a; !n["cpeMatch"].get_array().get(a)) node.entries.reserve(a.size());
      each(n, "cpeMatch", [&](element m) {
        MatchEntry e = entry_from_cpe(str(m, "criteria"), boolean(m, "vulnerable", true));
        bounds(m, e);
        node.entries.push_back(std::move(e));
      });
      cfg.nodes.push_back(std::move(node));
    });
    r.configurations.push_back(std::move(cfg));
  });
  if (r.configurations.empty()) configurations_from_affected(cve, r);
  return r;
}

Result<Record> nvd11_record(element item) {
  element cve;
  if (item["cve"].get(cve)) return fail("NVD 1.1 item without cve");
  Record r;
  r.kind = "nvd";
  element meta;
  if (!cve["CVE_data_meta"].get(meta)) r.id = std::string(str(meta, "ID"));
  if (r.id.empty()) return fail("NVD 1.1 item without cve.CVE_data_meta.ID");
  r.published = std::string(str(item, "publishedDate"));
  r.modified = std::string(str(item, "lastModifiedDate"));
  element desc;
  if (!cve["description"].get(desc)) r.description = std::string(english(desc, "description_data"));
  element pt;
  if (!cve["problemtype"].get(pt)) {
    each(pt, "problemtype_data", [&](element p) {
      each(p, "description", [&](element d) { add_cwe(r, str(d, "value")); });
    });
  }
  element impact;
  if (!item["impact"].get(impact)) {
    element m, data;
    if (!impact["baseMetricV3"].get(m) && !m["cvssV3"].get(data)) {
      Cvss c;
      c.score = num(data, "baseScore");
      c.vector = std::string(str(data, "vectorString"));
      c.severity = lower(str(data, "baseSeverity"));
      (str(data, "version") == "3.0" ? r.cvss30 : r.cvss31) = std::move(c);
    }
    if (!impact["baseMetricV2"].get(m) && !m["cvssV2"].get(data)) {
      r.cvss2.score = num(data, "baseScore");
      r.cvss2.vector = std::string(str(data, "vectorString"));
      r.cvss2.severity = lower(str(m, "severity"));
    }
  }
  auto node_of = [](element n) {
    Node node;
    node.is_and = str(n, "operator") == "AND";
    node.negate = boolean(n, "negate", false);
    each(n, "cpe_match", [&](element m) {
      MatchEntry e = entry_from_cpe(str(m, "cpe23Uri"), boolean(m, "vulnerable", true));
      bounds(m, e);
      node.entries.push_back(std::move(e));
    });
    return node;
  };
  element confs;
  if (!item["configurations"].get(confs)) {
    // In 1.1 each top-level node is a configuration; an AND node holds its parts as children.
    each(confs, "nodes", [&](element n) {
      Configuration cfg;
      array children;
      if (!n["children"].get_array().get(children) && children.size() > 0) {
        cfg.is_and = str(n, "operator") == "AND";
        cfg.negate = boolean(n, "negate", false);
        for (element ch : children) cfg.nodes.push_back(node_of(ch));
      } else {
        cfg.nodes.push_back(node_of(n));
      }
      r.configurations.push_back(std::move(cfg));
    });
  }
  return r;
}

Result<Record> osv_record(element item) {
  Record r;
  r.kind = "osv";
  r.id = std::string(str(item, "id"));
  if (r.id.empty()) return fail("OSV record without id");
  r.published = std::string(str(item, "published"));
  r.modified = std::string(str(item, "modified"));
  r.status = has(item, "withdrawn") ? "Withdrawn" : "";
  auto summary = str(item, "summary"), details = str(item, "details");
  r.description = std::string(details.empty() ? summary : details);
  each(item, "aliases", [&](element a) {
    std::string_view s;
    if (!a.get_string().get(s)) r.aliases.emplace_back(s);
  });
  each(item, "severity", [&](element s) {
    const auto type = str(s, "type");
    const auto score = str(s, "score");
    if (type == "CVSS_V3") {
      Cvss& c = score.starts_with("CVSS:3.0") ? r.cvss30 : r.cvss31;
      c.vector = std::string(score);
      if (auto b = cvss3_base_score(score)) {
        c.score = *b;
        c.severity = cvss_severity(*b);
      }
    } else if (type == "CVSS_V4") {
      r.cvss40.vector = std::string(score);
    } else if (type == "CVSS_V2") {
      r.cvss2.vector = std::string(score);
    }
  });
  element dbs;
  if (!item["database_specific"].get(dbs)) {
    each(dbs, "cwe_ids", [&](element c) {
      std::string_view s;
      if (!c.get_string().get(s)) add_cwe(r, s);
    });
    // A severity word without a vector (GHSA) still says something.
    if (!r.cvss31.present() && !r.cvss30.present() && !r.cvss40.present()) {
      auto sev = lower(str(dbs, "severity"));
      if (sev == "moderate") sev = "medium";
      if (sev == "low" || sev == "medium" || sev == "high" || sev == "critical")
        r.cvss31.severity = sev;
    }
  }
  each(item, "affected", [&](element a) {
    element pkg;
    if (a["package"].get(pkg)) return;
    const auto name = str(pkg, "name");
    if (name.empty()) return;
    const auto eco = str(pkg, "ecosystem");
    const auto purl = str(pkg, "purl");
    MatchEntry base;
    base.criteria = purl.empty() ? fmt::format("osv:{}/{}", eco, name) : std::string(purl);
    // OSV names packages, not CPE vendors: the vendor is ANY, the ecosystem kept in target_sw.
    base.cpe = CpeName{"a", "*", lower(name), "*", "*", "*", "*", "*", lower(eco), "*", "*"};
    Node node;
    each(a, "ranges", [&](element range) {
      const auto type = str(range, "type");
      if (type != "ECOSYSTEM" && type != "SEMVER") return;  // GIT ranges name commits
      std::string start;
      bool open = false;
      each(range, "events", [&](element ev) {
        if (auto v = str(ev, "introduced"); !v.empty()) {
          start = v == "0" ? "" : std::string(v);
          open = true;
        } else if (auto f = str(ev, "fixed"); !f.empty()) {
          MatchEntry m = base;
          m.vsi = start;
          m.vee = std::string(f);
          node.entries.push_back(std::move(m));
          open = false;
        } else if (auto l = str(ev, "last_affected"); !l.empty()) {
          MatchEntry m = base;
          m.vsi = start;
          m.vei = std::string(l);
          node.entries.push_back(std::move(m));
          open = false;
        }
      });
      if (open) {
        MatchEntry m = base;
        m.vsi = start;
        if (m.vsi.empty()) m.cpe.version = "*";  // introduced 0, never fixed: every version
        node.entries.push_back(std::move(m));
      }
    });
    each(a, "versions", [&](element v) {
      std::string_view s;
      if (v.get_string().get(s)) return;
      MatchEntry m = base;
      m.cpe.version = lower(s);
      node.entries.push_back(std::move(m));
    });
    if (node.entries.empty()) return;
    Configuration cfg;
    cfg.nodes.push_back(std::move(node));
    r.configurations.push_back(std::move(cfg));
    // OSS-Fuzz records give only a severity word, per affected package.
    element es;
    if (!r.cvss31.present() && !r.cvss30.present() && !r.cvss40.present() &&
        !a["ecosystem_specific"].get(es)) {
      auto sev = lower(str(es, "severity"));
      if (sev == "moderate") sev = "medium";
      if (sev == "low" || sev == "medium" || sev == "high" || sev == "critical")
        r.cvss31.severity = sev;
    }
  });
  return r;
}

namespace {

// CVSS of a CVE 5 `metrics` list: cvssV3_1 / cvssV3_0 / cvssV4_0 / cvssV2_0 objects. Fills only
// versions not already present (the CNA's own score wins over an ADP's).
void cve5_metrics(element container, Record& r) {
  each(container, "metrics", [&](element m) {
    struct {
      const char* key;
      Cvss* out;
    } kinds[] = {{"cvssV3_1", &r.cvss31},
                 {"cvssV3_0", &r.cvss30},
                 {"cvssV4_0", &r.cvss40},
                 {"cvssV2_0", &r.cvss2}};
    for (auto& [key, out] : kinds) {
      element d;
      if (m[key].get(d) || out->present()) continue;
      out->score = num(d, "baseScore");
      out->vector = std::string(str(d, "vectorString"));
      out->severity = lower(str(d, "baseSeverity"));
      if (out->severity.empty() && out->score >= 0 && out != &r.cvss2)
        out->severity = cvss_severity(out->score);
    }
  });
}

// `affected` blocks that name CPEs: one configuration each (OR of its ranges).
void cve5_affected(element container, Record& r) {
  each(container, "affected", [&](element prod) { configuration_from_affected(prod, r); });
}

}  // namespace

Result<Record> cve5_record(element item) {
  Record r;
  r.kind = "cve5";
  element meta, containers, cna;
  if (item["cveMetadata"].get(meta) || item["containers"].get(containers))
    return fail("CVE 5 record without cveMetadata/containers");
  r.id = std::string(str(meta, "cveId"));
  if (r.id.empty()) return fail("CVE 5 record without cveMetadata.cveId");
  r.published = std::string(str(meta, "datePublished"));
  r.modified = std::string(str(meta, "dateUpdated"));
  if (str(meta, "state") == "REJECTED") r.status = "Rejected";
  if (!containers["cna"].get(cna)) {
    r.description = std::string(english(cna, "descriptions"));
    cve5_metrics(cna, r);
    each(cna, "problemTypes", [&](element p) {
      each(p, "descriptions", [&](element d) { add_cwe(r, str(d, "cweId")); });
    });
    cve5_affected(cna, r);
  }
  each(containers, "adp", [&](element adp) {
    cve5_metrics(adp, r);
    each(adp, "problemTypes", [&](element p) {
      each(p, "descriptions", [&](element d) { add_cwe(r, str(d, "cweId")); });
    });
    cve5_affected(adp, r);
  });
  return r;
}

Result<KevRow> kev_row(element item) {
  KevRow k;
  k.cve = std::string(str(item, "cveID"));
  k.date_added = std::string(str(item, "dateAdded"));
  if (!k.cve.starts_with("CVE-") || k.date_added.empty())
    return fail("KEV entry without cveID/dateAdded");
  k.due_date = std::string(str(item, "dueDate"));
  k.vendor = std::string(str(item, "vendorProject"));
  k.product = std::string(str(item, "product"));
  k.name = std::string(str(item, "vulnerabilityName"));
  k.ransomware = std::string(str(item, "knownRansomwareCampaignUse"));
  return k;
}

Result<Record> curl_table_record(element item) {
  const auto cve = str(item, "cve");
  const auto first = str(item, "first_vulnerable"), last = str(item, "last_vulnerable");
  if (!cve.starts_with("CVE-") || first.empty() || last.empty())
    return fail("curl table row without cve/first_vulnerable/last_vulnerable");
  Record r;
  r.kind = "vendor";
  r.id = fmt::format("CURL-{}", cve);
  r.aliases.emplace_back(cve);
  r.description = std::string(str(item, "name"));
  // "announced": "20231011" → 2023-10-11
  if (const auto a = str(item, "announced"); a.size() == 8)
    r.published = r.modified = fmt::format("{}-{}-{}", a.substr(0, 4), a.substr(4, 2), a.substr(6));
  if (const auto cwe = str(item, "cwe"); !cwe.empty()) add_cwe(r, cwe.substr(0, cwe.find(':')));
  if (const auto sev = lower(str(item, "severity"));
      sev == "low" || sev == "medium" || sev == "high" || sev == "critical")
    r.cvss31.severity = sev;
  // scope: "lib" (libcurl), "tool" (the curl command) or "both".
  const auto scope = str(item, "scope");
  Node node;
  for (const char* product : {"curl", "libcurl"}) {
    if ((scope == "lib" && product == std::string_view("curl")) ||
        (scope == "tool" && product == std::string_view("libcurl")))
      continue;
    MatchEntry m = entry_from_cpe(fmt::format("cpe:2.3:a:haxx:{}:*:*:*:*:*:*:*:*", product), true);
    m.vsi = std::string(first);
    m.vei = std::string(last);
    node.entries.push_back(std::move(m));
  }
  Configuration cfg;
  cfg.nodes.push_back(std::move(node));
  r.configurations.push_back(std::move(cfg));
  return r;
}

Result<std::vector<BranchFixRow>> kernel_branch_rows(element doc) {
  object o;
  if (doc.get_object().get(o)) return fail("kernel branch document is not an object");
  std::vector<BranchFixRow> out;
  for (auto [cve, branches] : o) {
    object b;
    if (!cve.starts_with("CVE-") || branches.get_object().get(b)) continue;
    for (auto [branch, fix] : b) {
      const auto fixed = str(fix, "fixed_version");
      if (fixed.empty() || branch.empty()) continue;
      out.push_back({std::string(cve), "linux_kernel", std::string(branch), std::string(fixed)});
    }
  }
  return out;
}

}  // namespace probity::vuln
