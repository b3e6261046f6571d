// endpoint: URLs, host names, IPv4/IPv6 literals and e-mail addresses in binaries, scripts and
// configs (one vectorscan pass per file), classified private / reserved / public and judged
// against the allowlist (domains, CIDR networks) and, optionally, a MaxMind GeoIP database.
#include <hs/hs.h>
#include <maxminddb.h>

#include <map>

#include "checks_support/check.hpp"
#include "checks_support/endpoint_class.hpp"
#include "checks_support/text.hpp"
#include "probity/limits.hpp"

namespace probity::checks {
namespace {

constexpr std::string_view kCat = "endpoint";

enum Kind : unsigned { kUrl = 0, kIpv4 = 1, kIpv6 = 2, kEmail = 3, kHost = 4 };

constexpr const char* kTlds =
    "com|net|org|info|biz|io|cn|ru|de|uk|jp|kr|tw|hk|us|eu|fr|it|nl|br|in|xyz|top|cloud|site|"
    "online|tech|app|dev|co|me|tv|vn|id|th|my|sg|ir|tr|pl|ua|ca|au|mx|es|ch|se|no|fi|dk|at|be|"
    "cz|il|za|ar|cl|pk|bd";

struct State {
  hs_database_t* db = nullptr;
  MMDB_s mmdb{};
  bool geoip = false;
  std::string geoip_error;
  std::string error;
  Allowlist allow{{}, {}};
  std::vector<std::string> countries;
  ~State() {
    if (db) hs_free_database(db);
    if (geoip) MMDB_close(&mmdb);
  }
};

std::shared_ptr<void> prepare(Context& ctx) {
  auto st = std::make_shared<State>();
  std::string host = std::string("(?:[a-z0-9\\-]+\\.)+(?:") + kTlds + ")\\b";
  std::string pats[] = {
      "\\b(?:https?|ftps?|tftp|wss?|mqtts?|rtsp|telnet|ssh|sftp)://[a-z0-9._~%!$&'*+,;=:@/?#\\-]+",
      "\\b(?:\\d{1,3}\\.){3}\\d{1,3}\\b",
      "[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}",
      "\\b[a-z0-9._%+\\-]+@(?:[a-z0-9\\-]+\\.)+[a-z]{2,24}\\b",
      "\\b" + host,
  };
  const char* exprs[5];
  unsigned flags[5], ids[5];
  for (unsigned i = 0; i < 5; ++i) {
    exprs[i] = pats[i].c_str();
    flags[i] = HS_FLAG_CASELESS | HS_FLAG_SOM_LEFTMOST;
    ids[i] = i;
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs, flags, ids, 5, HS_MODE_BLOCK, nullptr, &st->db, &err) != HS_SUCCESS) {
    st->error = std::string("pattern ") + std::to_string(err ? err->expression : -1) + ": " +
                (err && err->message ? err->message : "?");
    if (err) hs_free_compile_error(err);
    st->db = nullptr;
  }
  st->allow = Allowlist(ctx.opt.allowed_domains, ctx.opt.allowed_networks);
  for (const auto& c : ctx.opt.allowed_countries) st->countries.push_back(c);
  if (!ctx.opt.geoip_db.empty()) {
    int rc = MMDB_open(ctx.opt.geoip_db.c_str(), MMDB_MODE_MMAP, &st->mmdb);
    if (rc == MMDB_SUCCESS)
      st->geoip = true;
    else
      st->geoip_error = ctx.opt.geoip_db.string() + ": " + MMDB_strerror(rc);
  }
  return st;
}

struct Span {
  unsigned long long from, to;
  unsigned kind;
};

int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void* user) {
  auto* v = static_cast<std::vector<Span>*>(user);
  if (v->size() >= kMaxEndpointRawMatches) return 1;  // stop scanning this file
  v->push_back({from, to, id});
  return 0;
}

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/// Host names in binaries are lower case with a real second-level label; "U4.de" or "5.cN" are
/// bytes of code or tables that happen to spell a TLD.
bool plausible_host(std::string_view h) {
  for (char c : h)
    if (c >= 'A' && c <= 'Z') return false;
  auto last = h.rfind('.');
  if (last == std::string_view::npos || last == 0) return false;
  auto prev = h.rfind('.', last - 1);
  auto sld = h.substr(prev == std::string_view::npos ? 0 : prev + 1,
                      last - (prev == std::string_view::npos ? 0 : prev + 1));
  if (sld.size() < 3 || sld.front() == '-' || sld.back() == '-') return false;
  return sld.find_first_not_of("0123456789") != std::string_view::npos;
}

/// A dotted quad that is an ASN.1 object identifier, not an address: crypto libraries' OID
/// tables hold identified-organization(1.3) and joint-iso-itu-t ds(2.5), country(2.16) and
/// international-organizations(2.23) arcs (1.3.101.112 is Ed25519, 2.5.4.3 commonName, 2.5.29.17
/// subjectAltName). 1.2.x.x is left alone: its OIDs (1.2.840...) never fit a dotted quad, and
/// 1.2.3.4 is an address people write.
bool looks_like_oid(std::string_view v) {
  return v.starts_with("1.3.") || v.starts_with("2.5.") || v.starts_with("2.16.") ||
         v.starts_with("2.23.");
}

/// A dotted quad that is a version number: preceded by a version word ("version 2.6.36.4",
/// "ver. 1.0.0.1", "Release 3.4.1.2", "firmware 1.0.3.12") on the same line, or glued to a name
/// ("pkg-1.2.3.4").
bool looks_like_version(std::string_view text, std::size_t from) {
  // Glued to a name: "pkg-1.2.3.4", "lib_1.2.3.4" (a letter before the dash; "ip=1.2.3.4" and
  // the range "10.0.0.1-10.0.0.9" are addresses).
  const char before = from > 0 ? text[from - 1] : ' ';
  const char name = from > 1 ? text[from - 2] : ' ';
  const bool letter = (name >= 'a' && name <= 'z') || (name >= 'A' && name <= 'Z');
  if ((before == '-' || before == '_' || before == '~') && letter) return true;
  const std::size_t start = from > 24 ? from - 24 : 0;
  std::string head = lower(text.substr(start, from - start));
  if (auto nl = head.find_last_of(std::string_view("\n\r\0", 3)); nl != std::string::npos)
    head = head.substr(nl + 1);
  while (!head.empty() && (head.back() == ' ' || head.back() == ':' || head.back() == '.' ||
                           head.back() == '\t' || head.back() == '"' || head.back() == '\''))
    head.pop_back();
  for (std::string_view w :
       {"version", "ver", "release", "firmware", "build", "revision", "rev", "fw", "sw", "hw"})
    if (head.ends_with(w) && (head.size() == w.size() || !alnum(head[head.size() - w.size() - 1])))
      return true;
  return false;
}

/// Extensions of scripts and files that are also top-level domains: "tsget.pl", "Makefile.in",
/// "foo.info" are file names, not hosts, when the name has only one label before the "TLD".
bool looks_like_file_name(std::string_view host) {
  const auto dot = host.rfind('.');
  if (dot == std::string_view::npos || host.find('.') != dot) return false;  // a.b.pl is a host
  const std::string_view ext = host.substr(dot + 1);
  for (std::string_view e : {"pl", "in", "info", "sh", "py", "so", "md", "am", "ac", "mk"})
    if (ext == e) return true;
  return false;
}

std::string country_of(const State& st, const IpAddr& ip, std::string_view text) {
  if (!st.geoip) return "";
  int gai = 0, mmerr = 0;
  std::string s(text);
  (void)ip;
  MMDB_lookup_result_s r =
      MMDB_lookup_string(const_cast<MMDB_s*>(&st.mmdb), s.c_str(), &gai, &mmerr);
  if (gai != 0 || mmerr != MMDB_SUCCESS || !r.found_entry) return "";
  MMDB_entry_data_s d;
  if (MMDB_get_value(&r.entry, &d, "country", "iso_code", nullptr) != MMDB_SUCCESS || !d.has_data ||
      d.type != MMDB_DATA_TYPE_UTF8_STRING)
    return "";
  return std::string(d.utf8_string, d.data_size);
}

void on_file(const Context& ctx, void* state, const FileView& f, Emitter& em) {
  auto* st = static_cast<State*>(state);
  if (!st->db || !(f.is_elf() || f.is_text())) return;
  // One scratch per worker thread, freed when the thread ends.
  struct Scratch {
    hs_scratch_t* s = nullptr;
    ~Scratch() {
      if (s) hs_free_scratch(s);
    }
  };
  thread_local Scratch tls;
  if (hs_alloc_scratch(st->db, &tls.s) != HS_SUCCESS) return;
  hs_scratch_t* scratch = tls.s;
  std::vector<Span> raw;
  Bytes b = f.bytes();
  hs_scan(st->db, reinterpret_cast<const char*>(b.data()),
          unsigned(std::min<std::size_t>(b.size(), UINT32_MAX)), 0, scratch, on_match, &raw);
  if (raw.size() >= kMaxEndpointRawMatches)
    em.cap_hit(f, kCat, "kMaxEndpointRawMatches", kMaxEndpointRawMatches);
  // Longest match per (kind, start); then drop matches inside a URL or e-mail.
  std::map<std::pair<unsigned, unsigned long long>, unsigned long long> longest;
  for (const auto& s : raw) {
    auto& e = longest[{s.kind, s.from}];
    e = std::max(e, s.to);
  }
  std::vector<Span> spans;
  for (const auto& [k, to] : longest) spans.push_back({k.second, to, k.first});
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return std::tie(a.kind, a.from) < std::tie(b.kind, b.from);
  });
  std::vector<std::pair<unsigned long long, unsigned long long>> covers;
  std::string_view text = f.text();
  std::map<std::string, bool> seen;
  std::size_t n = 0;
  std::vector<EndpointFact> facts;
  for (const auto& s : spans) {
    if (n >= kMaxEndpointsPerFile) {
      em.cap_hit(f, kCat, "kMaxEndpointsPerFile", kMaxEndpointsPerFile);
      break;
    }
    bool inside = false;
    for (const auto& c : covers)
      if (s.from >= c.first && s.to <= c.second && !(s.from == c.first && s.to == c.second))
        inside = true;
    if (s.kind >= kIpv4 && s.kind != kEmail && inside) continue;
    if (s.kind == kHost && inside) continue;
    std::string v(text.substr(s.from, s.to - s.from));
    char before = s.from > 0 ? text[s.from - 1] : ' ';
    char after = s.to < text.size() ? text[s.to] : ' ';
    std::string host = v;
    std::optional<IpAddr> ip;
    std::string kind_name;
    if (s.kind == kUrl) {
      while (!v.empty() && (v.back() == '.' || v.back() == ',' || v.back() == ';' ||
                            v.back() == '\'' || v.back() == ')'))
        v.pop_back();
      auto hs = v.find("://") + 3;
      auto he = v.find_first_of("/?#", hs);
      host = v.substr(hs, he == std::string::npos ? std::string::npos : he - hs);
      if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
      if (!host.empty() && host[0] == '[') {
        host = host.substr(1, host.find(']') - 1);
      } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
        host = host.substr(0, colon);
      }
      if (host.empty() || host.find('%') != std::string::npos) continue;  // format strings
      ip = parse_ip(host);
      kind_name = "url";
      covers.push_back({s.from, s.to});
    } else if (s.kind == kIpv4) {
      if (before == '.' || after == '.' || before == 'v' || before == 'V' || alnum(before))
        continue;
      if (looks_like_oid(v) || looks_like_version(text, s.from)) continue;
      ip = parse_ip(v);
      if (!ip) continue;
      kind_name = "ipv4";
    } else if (s.kind == kIpv6) {
      if (alnum(before) || before == ':' || alnum(after) || after == ':' || v.size() < 6) continue;
      std::size_t hex = 0;
      for (char c : v) hex += c != ':';
      if (hex < 4) continue;
      ip = parse_ip(v);
      if (!ip || ip->v4) continue;
      kind_name = "ipv6";
    } else if (s.kind == kEmail) {
      host = v.substr(v.find('@') + 1);
      // SSH algorithm and extension names (RFC 4251 section 6: name@domain) are not addresses.
      if (host == "openssh.com" || host == "libssh.org" || !plausible_host(host)) continue;
      kind_name = "email";
      covers.push_back({s.from, s.to});
    } else {
      if (before == '@' || before == '.' || before == '-' || before == '/' || before == '_')
        continue;
      if (!plausible_host(host) || looks_like_file_name(host)) continue;
      kind_name = "host";
    }
    if (seen.contains(kind_name + ":" + v)) continue;
    seen[kind_name + ":" + v] = true;
    ++n;
    EndpointClass cls = ip ? classify_ip(*ip) : classify_host(host);
    facts.push_back({.value = v,
                     .kind = kind_name,
                     .cls = to_string(cls),
                     .path = f.path(),
                     .location = f.location()});
    std::string country;
    bool judged = !st->allow.empty() || !st->countries.empty();
    bool allowed = true;
    if (cls == EndpointClass::kPublic && judged) {
      allowed = ip ? st->allow.allows_ip(*ip) : st->allow.allows_host(host);
      if (!allowed && ip && !st->countries.empty()) {
        country = country_of(*st, *ip, host);
        allowed = !country.empty() && std::find(st->countries.begin(), st->countries.end(),
                                                country) != st->countries.end();
      }
    }
    std::string what =
        kind_name + " " + v + " (" + to_string(cls) + (country.empty() ? "" : ", " + country) + ")";
    if (!allowed)
      em.add("endpoint-not-allowlisted", kCat, Severity::kMedium, f.rec(), f.location(),
             what + " is outside the allowlist", kind_name + ":" + v, excerpt(v), s.from);
    else
      em.add(
          std::string("endpoint-") + to_string(cls), kCat,
          cls == EndpointClass::kPublic && kind_name != "email" ? Severity::kLow : Severity::kInfo,
          f.rec(), f.location(), what, kind_name + ":" + v, excerpt(v), s.from);
  }
  if (!facts.empty()) {
    std::lock_guard lock(ctx.facts_mutex);
    std::move(facts.begin(), facts.end(), std::back_inserter(ctx.facts.endpoints));
  }
}

void on_tree(Context&, void* state, Emitter& em) {
  auto* st = static_cast<State*>(state);
  if (!st->db)
    em.add_image("endpoint-check-error", kCat, Severity::kMedium,
                 "the endpoint patterns did not compile (vectorscan: " + st->error +
                     "); endpoints were not checked",
                 "hs");
  if (!st->geoip_error.empty())
    em.add_image("geoip-error", kCat, Severity::kMedium,
                 "GeoIP database not usable: " + st->geoip_error, "geoip");
  for (const auto& bad : st->allow.invalid)
    em.add_image("allowlist-invalid", kCat, Severity::kMedium,
                 "allowlist entry '" + bad + "' is not a domain or CIDR network", bad);
}

}  // namespace

const Check kCheck_endpoints{.id = "endpoints",
                             .category = kCat,
                             .description = "URLs, host names, IP literals, e-mail addresses",
                             .prepare = prepare,
                             .on_file = on_file,
                             .on_tree = on_tree};

}  // namespace probity::checks

namespace probity {

Status validate_geoip(const std::filesystem::path& geoip_db) {
  MMDB_s mmdb;
  const int rc = MMDB_open(geoip_db.c_str(), MMDB_MODE_MMAP, &mmdb);
  if (rc != MMDB_SUCCESS)
    return fail(std::string("not a MaxMind DB: ") + MMDB_strerror(rc), 0, geoip_db.string());
  MMDB_close(&mmdb);
  return {};
}

}  // namespace probity
