// report.json → Report: every field report_json writes (tests/integration/report_roundtrip_test.cpp
// checks write → read → write is identical), for diff, attest and fleet workers (simdjson: a
// 10k-file report parses in a few milliseconds, nlohmann's DOM takes ten times longer;
// docs/benchmarks.md, "diff").
#include <simdjson.h>

#include "probity/diff.hpp"
#include "probity/hash.hpp"
#include "probity/json.hpp"
#include "probity/mapped_file.hpp"

namespace probity {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

/// Reads fields of one report, remembering the first field of the wrong type (absent fields
/// keep their defaults: older reports lack newer fields).
class Reader {
 public:
  std::string error;

  void str(element e, std::string_view key, std::string& out, std::string_view where) {
    element v;
    if (!e[key].get(v)) str_of(v, key, out, where);
  }
  template <class T>
  void num(element e, std::string_view key, T& out, std::string_view where) {
    element v;
    if (!e[key].get(v)) num_of(v, key, out, where);
  }
  /// The value itself (already found by key).
  void str_of(element v, std::string_view key, std::string& out, std::string_view where) {
    if (v.is_null()) return;
    std::string_view s;
    if (v.get_string().get(s)) return bad(where, key, "a string");
    out.assign(s);
  }
  template <class T>
  void num_of(element v, std::string_view key, T& out, std::string_view where) {
    if (v.is_null()) return;
    if constexpr (std::is_same_v<T, double>) {
      double d;
      if (v.get_double().get(d)) return bad(where, key, "a number");
      out = d;
    } else if constexpr (std::is_signed_v<T>) {
      std::int64_t i;
      if (v.get_int64().get(i)) return bad(where, key, "an integer");
      out = T(i);
    } else {
      std::uint64_t u;
      if (v.get_uint64().get(u)) return bad(where, key, "a non-negative integer");
      out = T(u);
    }
  }
  void boolean(element e, std::string_view key, bool& out, std::string_view where) {
    element v;
    if (e[key].get(v) || v.is_null()) return;
    if (v.get_bool().get(out)) bad(where, key, "true or false");
  }
  /// Calls f(element, "key[i]") for each object of the array `key` (absent: nothing).
  template <class F>
  void each(element e, std::string_view key, std::string_view where, F&& f) {
    element v;
    if (e[key].get(v) || v.is_null()) return;
    array a;
    if (v.get_array().get(a)) return bad(where, key, "an array");
    std::size_t i = 0;
    for (element x : a) {
      std::string at = std::string(key) + "[" + std::to_string(i++) + "]";
      if (!x.is_object()) return bad(where, at, "an object");
      f(x, at);
      if (!error.empty()) return;
    }
  }
  void strings(element e, std::string_view key, std::vector<std::string>& out,
               std::string_view where) {
    element v;
    if (e[key].get(v) || v.is_null()) return;
    array a;
    if (v.get_array().get(a)) return bad(where, key, "an array of strings");
    for (element x : a) {
      std::string_view s;
      if (x.get_string().get(s)) return bad(where, key, "an array of strings");
      out.emplace_back(s);
    }
  }
  void bad(std::string_view where, std::string_view key, std::string_view expected) {
    if (error.empty())
      error = std::string(where) + (where.empty() ? "" : ".") + std::string(key) + ": expected " +
              std::string(expected);
  }
};

EntryType entry_type(std::string_view s) {
  static constexpr EntryType kAll[] = {
      EntryType::kFile,    EntryType::kDir,      EntryType::kSymlink, EntryType::kHardlink,
      EntryType::kCharDev, EntryType::kBlockDev, EntryType::kFifo,    EntryType::kSocket};
  for (auto t : kAll)
    if (s == to_string(t)) return t;
  return EntryType::kFile;
}

/// A relative path that stays below its root (no "..", not absolute).
bool confined(std::string_view p) {
  if (p.empty() || p.front() == '/') return false;
  std::size_t at = 0;
  while (at <= p.size()) {
    auto slash = p.find('/', at);
    auto part = p.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    if (part == "..") return false;
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  return true;
}

Suppression suppression(Reader& r, element e, const std::string& where) {
  Suppression s;
  r.str(e, "state", s.state, where);
  r.str(e, "justification", s.justification, where);
  r.str(e, "by", s.by, where);
  r.str(e, "detail", s.detail, where);
  r.str(e, "date", s.date, where);
  return s;
}

/// File records are most of a report: their fields are read in one pass over each object
/// (simdjson's element[key] searches the keys linearly, once per lookup).
void read_files(Reader& r, element root, Report& out) {
  array files;
  if (root["files"].get_array().get(files)) return;
  out.tree.files.reserve(files.size());
  std::size_t i = 0;
  for (element e : files) {
    const std::string at = "files[" + std::to_string(i++) + "]";
    object o;
    if (e.get_object().get(o)) return r.bad("", at, "an object");
    FileRecord f;
    std::string mode;
    // ELF facts (arch, bits, endian, elf_type) are written only for ELF files.
    auto elf = [&f]() -> ElfFacts& { return f.elf ? *f.elf : f.elf.emplace(); };
    for (auto field : o) {
      const std::string_view k = field.key;
      element v = field.value;
      if (k == "path") {
        r.str_of(v, k, f.path, at);
      } else if (k == "container") {
        r.num_of(v, k, f.container, at);
      } else if (k == "origin") {
        r.each(e, "origin", at, [&](element x, const std::string& oat) {
          OriginStep st;
          r.str(x, "source", st.source, oat);
          r.num(x, "offset", st.offset, oat);
          r.str(x, "format", st.format, oat);
          f.origin.push_back(std::move(st));
        });
      } else if (k == "type") {
        std::string type;
        r.str_of(v, k, type, at);
        f.type = entry_type(type);
      } else if (k == "size") {
        r.num_of(v, k, f.size, at);
      } else if (k == "sha256") {
        r.str_of(v, k, f.sha256, at);
      } else if (k == "mode") {
        r.str_of(v, k, mode, at);
      } else if (k == "uid") {
        r.num_of(v, k, f.uid, at);
      } else if (k == "gid") {
        r.num_of(v, k, f.gid, at);
      } else if (k == "mtime") {
        r.num_of(v, k, f.mtime, at);
      } else if (k == "link") {
        r.str_of(v, k, f.link, at);
      } else if (k == "kind") {
        r.str_of(v, k, f.kind, at);
      } else if (k == "arch") {
        r.str_of(v, k, elf().arch, at);
      } else if (k == "bits") {
        r.num_of(v, k, elf().bits, at);
      } else if (k == "endian") {
        r.str_of(v, k, elf().endian, at);
      } else if (k == "elf_type") {
        r.str_of(v, k, elf().type, at);
      } else if (k == "truncated") {
        if (!v.is_null() && v.get_bool().get(f.truncated)) r.bad(at, k, "true or false");
      } else if (k == "extracted") {
        std::string_view x;
        if (!v.get_string().get(x) && confined(x) && f.extracted.empty()) f.extracted.assign(x);
      } else if (k == "path_hex" || k == "extracted_hex") {
        // The raw bytes of a name that is not UTF-8 (the "path" shows it with U+FFFD).
        std::string_view x;
        std::optional<std::string> raw;
        if (v.get_string().get(x) || !(raw = from_hex(x))) return r.bad(at, k, "hex");
        if (k == "path_hex")
          f.path = std::move(*raw);
        else if (confined(*raw))
          f.extracted = std::move(*raw);
      }
      if (!r.error.empty()) return;
    }
    std::uint32_t m = 0;
    for (char c : mode) {
      if (c < '0' || c > '7') return r.bad(at, "mode", "octal digits");
      m = m * 8 + std::uint32_t(c - '0');
    }
    f.mode = m & 07777;
    out.tree.files.push_back(std::move(f));
  }
}

void read_components(Reader& r, element root, Report& out) {
  r.each(root, "components", "", [&](element e, const std::string& at) {
    Component c;
    r.str(e, "name", c.name, at);
    r.str(e, "version", c.version, at);
    r.str(e, "vendor", c.vendor, at);
    r.str(e, "purl", c.purl, at);
    r.str(e, "cpe", c.cpe, at);
    r.strings(e, "cpe_aliases", c.cpe_aliases, at);
    r.str(e, "source", c.source, at);
    r.str(e, "distro", c.distro, at);
    r.str(e, "distro_version", c.distro_version, at);
    r.each(e, "evidence", at, [&](element x, const std::string& xat) {
      Evidence ev;
      r.str(x, "path", ev.path, xat);
      r.num(x, "container", ev.container, xat);
      r.num(x, "offset", ev.offset, xat);
      r.str(x, "excerpt", ev.excerpt, xat);
      r.str(x, "method", ev.method, xat);
      r.str(x, "kind", ev.kind, xat);
      r.num(x, "confidence", ev.confidence, xat);
      c.evidence.push_back(std::move(ev));
    });
    element eol;
    if (!e["eol"].get(eol) && eol.is_object()) {
      Eol x;
      r.str(eol, "cycle", x.cycle, at + ".eol");
      r.str(eol, "date", x.date, at + ".eol");
      r.boolean(eol, "reached", x.reached, at + ".eol");
      c.eol = std::move(x);
    }
    out.components.push_back(std::move(c));
  });
  r.each(root, "vulnerabilities", "", [&](element e, const std::string& at) {
    Vulnerability v;
    r.str(e, "id", v.id, at);
    r.str(e, "component", v.component, at);
    r.str(e, "version", v.version, at);
    r.str(e, "severity", v.severity, at);
    r.num(e, "cvss", v.cvss, at);
    r.str(e, "cvss_vector", v.cvss_vector, at);
    r.str(e, "fixed_in", v.fixed_in, at);
    r.strings(e, "cwe", v.cwe, at);
    r.str(e, "description", v.description, at);
    r.str(e, "published", v.published, at);
    element s;
    if (!e["suppression"].get(s) && s.is_object()) v.suppression = suppression(r, s, at);
    // Triage (docs/vulndb.md); absent in older reports.
    if (element k; !e["kev"].get(k) && k.is_object()) {
      KevEntry kev;
      r.str(k, "date_added", kev.date_added, at + ".kev");
      r.str(k, "due_date", kev.due_date, at + ".kev");
      v.kev = std::move(kev);
    }
    if (element x; !e["epss"].get(x) && x.is_object()) {
      EpssScore es;
      r.num(x, "score", es.score, at + ".epss");
      r.num(x, "percentile", es.percentile, at + ".epss");
      v.epss = es;
    }
    if (element x; !e["reachability"].get(x) && x.is_object()) {
      r.str(x, "state", v.reachability.state, at + ".reachability");
      r.strings(x, "chain", v.reachability.chain, at + ".reachability");
    }
    r.str(e, "status", v.status, at);
    r.str(e, "status_evidence", v.status_evidence, at);
    out.vulnerabilities.push_back(std::move(v));
  });
}

Severity severity(std::string_view s) {
  static constexpr Severity kAll[] = {Severity::kInfo, Severity::kLow, Severity::kMedium,
                                      Severity::kHigh, Severity::kCritical};
  for (auto v : kAll)
    if (s == to_string(v)) return v;
  return Severity::kInfo;
}

void read_findings(Reader& r, element root, Report& out) {
  r.each(root, "findings", "", [&](element e, const std::string& at) {
    Finding f;
    std::string sev;
    r.str(e, "id", f.id, at);
    r.str(e, "rule", f.rule, at);
    r.str(e, "category", f.category, at);
    r.str(e, "severity", sev, at);
    f.severity = severity(sev);
    r.str(e, "path", f.path, at);
    r.num(e, "container", f.container, at);
    r.str(e, "message", f.message, at);
    element ev;
    if (!e["evidence"].get(ev) && ev.is_object()) {
      r.str(ev, "excerpt", f.evidence.excerpt, at + ".evidence");
      r.num(ev, "offset", f.evidence.offset, at + ".evidence");
      r.strings(ev, "related", f.evidence.related, at + ".evidence");
      r.str(ev, "fingerprint", f.evidence.fingerprint, at + ".evidence");
    }
    element s;
    if (!e["suppression"].get(s) && s.is_object()) f.suppression = suppression(r, s, at);
    if (f.id.empty()) r.bad(at, "id", "a finding id");
    out.findings.push_back(std::move(f));
  });
}

void read_facts(Reader& r, element root, Report& out) {
  element facts;
  if (root["facts"].get(facts) || facts.is_null()) return;
  if (!facts.is_object()) return r.bad("", "facts", "an object");
  Facts x;
  r.each(facts, "accounts", "facts", [&](element e, const std::string& at) {
    AccountFact a;
    r.str(e, "name", a.name, at);
    r.num(e, "uid", a.uid, at);
    r.num(e, "gid", a.gid, at);
    r.str(e, "shell", a.shell, at);
    r.str(e, "home", a.home, at);
    r.str(e, "path", a.path, at);
    r.str(e, "location", a.location, at);
    r.str(e, "password", a.password, at);
    r.str(e, "password_digest", a.password_digest, at);
    x.accounts.push_back(std::move(a));
  });
  r.each(facts, "services", "facts", [&](element e, const std::string& at) {
    ServiceFact s;
    r.str(e, "name", s.name, at);
    r.str(e, "command", s.command, at);
    r.str(e, "path", s.path, at);
    r.str(e, "location", s.location, at);
    r.str(e, "how", s.how, at);
    x.services.push_back(std::move(s));
  });
  r.each(facts, "endpoints", "facts", [&](element e, const std::string& at) {
    EndpointFact p;
    r.str(e, "value", p.value, at);
    r.str(e, "kind", p.kind, at);
    r.str(e, "class", p.cls, at);
    r.str(e, "path", p.path, at);
    r.str(e, "location", p.location, at);
    x.endpoints.push_back(std::move(p));
  });
  r.each(facts, "keys", "facts", [&](element e, const std::string& at) {
    KeyFact k;
    r.str(e, "role", k.role, at);
    r.str(e, "type", k.type, at);
    r.num(e, "bits", k.bits, at);
    r.str(e, "fingerprint", k.fingerprint, at);
    r.str(e, "path", k.path, at);
    r.str(e, "location", k.location, at);
    x.keys.push_back(std::move(k));
  });
  r.each(facts, "hardening", "facts", [&](element e, const std::string& at) {
    HardeningFact h;
    r.str(e, "path", h.path, at);
    r.str(e, "location", h.location, at);
    r.boolean(e, "executable", h.executable, at);
    r.boolean(e, "nx", h.nx, at);
    r.boolean(e, "pie", h.pie, at);
    r.str(e, "relro", h.relro, at);
    r.boolean(e, "canary", h.canary, at);
    r.boolean(e, "fortify", h.fortify, at);
    r.str(e, "rpath", h.rpath, at);
    r.boolean(e, "stripped", h.stripped, at);
    x.hardening.push_back(std::move(h));
  });
  out.facts = std::move(x);
}

void read_verdict(Reader& r, element root, Report& out) {
  element v;
  if (root["verdict"].get(v) || v.is_null()) return;
  if (!v.is_object()) return r.bad("", "verdict", "an object");
  Verdict x;
  r.str(v, "policy", x.policy, "verdict");
  r.str(v, "policy_digest", x.policy_sha256, "verdict");
  r.str(v, "result", x.result, "verdict");
  if (x.result != "pass" && x.result != "fail" && x.result != "inconclusive")
    return r.bad("verdict", "result", "pass, fail or inconclusive");
  x.pass = x.result == "pass";
  r.each(v, "reasons", "verdict", [&](element e, const std::string& at) {
    InconclusiveReason why;
    r.str(e, "code", why.code, at);
    r.str(e, "text", why.text, at);
    r.str(e, "evidence", why.evidence, at);
    x.reasons.push_back(std::move(why));
  });
  r.each(v, "clauses", "verdict", [&](element e, const std::string& at) {
    ClauseResult c;
    std::string result;
    r.str(e, "id", c.id, at);
    r.str(e, "text", c.text, at);
    r.str(e, "result", result, at);
    c.pass = result == "pass";
    r.strings(e, "findings", c.findings, at);
    r.strings(e, "vulnerabilities", c.vulnerabilities, at);
    x.clauses.push_back(std::move(c));
  });
  out.verdict = std::move(x);
}

}  // namespace

bool is_report_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  // Cheap probe: a JSON object that names the report schema somewhere (keys are written sorted,
  // so "schema" comes after "files" and may be megabytes in). read_report then checks properly.
  auto m = MappedFile::open(path);
  if (!m || m->size() > kMaxReportBytes) return false;
  std::string_view h(reinterpret_cast<const char*>(m->bytes().data()), m->size());
  auto first = h.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || h[first] != '{') return false;
  return h.find("\"probity-report\"") != std::string_view::npos;
}

Result<Report> read_report(const std::filesystem::path& path) {
  auto file = MappedFile::open(path);
  if (!file) return std::unexpected(file.error());
  const std::string name = path.string();
  auto bytes = file->bytes();
  // Size and depth before simdjson: the Reader's walk is shallow, but nothing deeper than
  // kMaxJsonDepth is ever handed on (the parser is told the same cap, belt and braces).
  if (auto ok = check_json_bounds({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, name,
                                  kMaxReportBytes);
      !ok)
    return std::unexpected(ok.error());
  // Empty: not JSON (and simdjson would copy from a null pointer: found by fuzz/diff_fuzz.cpp).
  if (file->size() == 0) return fail("not valid JSON: the file is empty", 0, name);
  simdjson::dom::parser parser;
  if (auto err = parser.allocate(std::max<std::size_t>(bytes.size(), 64), kMaxJsonDepth))
    return fail(std::string("cannot parse: ") + simdjson::error_message(err), 0, name);
  element root;
  if (auto err = parser
                     .parse(reinterpret_cast<const char*>(bytes.data()), bytes.size(),
                            /*realloc_if_needed=*/true)
                     .get(root))
    return fail(std::string("not valid JSON: ") + simdjson::error_message(err), 0, name);
  if (!root.is_object())
    return fail("not a probity report (the top level is not an object)", 0, name);
  std::string_view schema;
  if (root["schema"].get_string().get(schema) || schema != "probity-report")
    return fail("not a probity report (\"schema\" is not \"probity-report\")", 0, name);
  std::int64_t version = 0;
  if (root["schema_version"].get_int64().get(version) || version < 1 ||
      version > kReportSchemaVersion)
    return fail("unsupported report schema_version (this probity reads 1 to " +
                    std::to_string(kReportSchemaVersion) + ")",
                0, name);
  Report out;
  Reader r;
  element image;
  if (!root["image"].get(image) && image.is_object()) {
    r.str(image, "path", out.tree.image.path, "image");
    r.str(image, "name", out.tree.image.name, "image");
    r.str(image, "sha256", out.tree.image.sha256, "image");
    r.num(image, "size", out.tree.image.size, "image");
  }
  element coverage;
  if (!root["coverage"].get(coverage) && coverage.is_object()) {
    r.num(coverage, "bytes", out.tree.coverage.bytes, "coverage");
    r.num(coverage, "understood", out.tree.coverage.understood, "coverage");
  }
  array files;
  if (root["files"].get_array().get(files))
    return fail("not a probity report (no \"files\" array)", 0, name);
  read_files(r, root, out);
  if (r.error.empty()) read_components(r, root, out);
  if (r.error.empty()) read_findings(r, root, out);
  if (r.error.empty()) read_facts(r, root, out);
  if (r.error.empty()) read_verdict(r, root, out);
  if (r.error.empty()) r.str(root, "db_snapshot", out.db_snapshot, "");
  if (r.error.empty()) r.str(root, "db_snapshot_date", out.db_snapshot_date, "");
  if (element age; r.error.empty() && !root["db_age_days"].get(age) && !age.is_null()) {
    std::int64_t days = 0;
    r.num(root, "db_age_days", days, "");
    out.db_age_days = days;
  }
  if (r.error.empty())
    r.each(root, "warnings", "", [&](element e, const std::string& at) {
      Warning w;
      r.str(e, "code", w.code, at);
      r.str(e, "message", w.message, at);
      r.num(e, "container", w.container, at);
      r.str(e, "entry", w.entry, at);
      r.num(e, "offset", w.offset, at);
      out.tree.warnings.push_back(std::move(w));
    });
  if (!r.error.empty()) return fail(r.error, 0, name);
  return out;
}

}  // namespace probity
