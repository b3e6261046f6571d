// report.json, read and written from one list of fields (issue 14): each type of the report
// names its fields once, below, in a FieldList (the key, how the value is written, how it is
// read back), and report_json/read_report both walk those lists. A field cannot be written and
// forgotten by the reader. tests/integration/report_roundtrip_test.cpp checks that write → read
// → write is identical, on scans and on a report with every field set. The shared parts
// (image, coverage, file records, warnings) are manifest.json's too.
//
// Reading uses simdjson: a 10k-file report parses in a few milliseconds, nlohmann's DOM takes
// ten times longer (docs/benchmarks.md, "diff"). Each object is read in one pass over its keys.
#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <type_traits>

#include "probity/diff.hpp"
#include "probity/hash.hpp"
#include "probity/json.hpp"
#include "probity/mapped_file.hpp"
#include "probity/triage.hpp"

namespace probity {
namespace {

using nlohmann::json;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

/// Where a value sits, for error messages: "components[2].evidence[0]".
std::string join(std::string_view where, std::string_view key) {
  if (where.empty()) return std::string(key);
  return std::string(where) + "." + std::string(key);
}

/// Remembers the first value of the wrong type (absent and null values keep their defaults:
/// older reports lack newer fields).
struct Reader {
  std::string error;
  void bad(std::string_view where, std::string_view key, std::string_view expected) {
    if (error.empty()) error = join(where, key) + ": expected " + std::string(expected);
  }
};

struct WriteOptions {
  bool with_files = true;
};

/// One field of a type T: its key, its value as written (nullopt: left out), and how a value
/// found under the key is read back (empty for values derived from other fields).
template <class T>
struct Field {
  std::string_view key;
  std::function<std::optional<json>(const T&, const WriteOptions&)> write;
  std::function<void(Reader&, element, T&, const std::string& where)> read;
};

/// The fields of each type, defined further down.
template <class T>
struct FieldList;
#define PROBITY_FIELD_LIST(T)                         \
  template <>                                         \
  struct FieldList<T> {                               \
    static const std::vector<Field<T>>& get();        \
    static void check(Reader&, T&, std::string_view); \
  }
using FindingEvidence = decltype(Finding::evidence);
PROBITY_FIELD_LIST(ImageInfo);
PROBITY_FIELD_LIST(Coverage);
PROBITY_FIELD_LIST(OriginStep);
PROBITY_FIELD_LIST(FileRecord);
PROBITY_FIELD_LIST(Warning);
PROBITY_FIELD_LIST(Evidence);
PROBITY_FIELD_LIST(Eol);
PROBITY_FIELD_LIST(Component);
PROBITY_FIELD_LIST(Suppression);
PROBITY_FIELD_LIST(KevEntry);
PROBITY_FIELD_LIST(EpssScore);
PROBITY_FIELD_LIST(Reachability);
PROBITY_FIELD_LIST(Vulnerability);
PROBITY_FIELD_LIST(FindingEvidence);
PROBITY_FIELD_LIST(Finding);
PROBITY_FIELD_LIST(ClauseResult);
PROBITY_FIELD_LIST(InconclusiveReason);
PROBITY_FIELD_LIST(Verdict);
PROBITY_FIELD_LIST(AccountFact);
PROBITY_FIELD_LIST(ServiceFact);
PROBITY_FIELD_LIST(EndpointFact);
PROBITY_FIELD_LIST(KeyFact);
PROBITY_FIELD_LIST(HardeningFact);
PROBITY_FIELD_LIST(Facts);
PROBITY_FIELD_LIST(Report);
#undef PROBITY_FIELD_LIST

template <class T>
concept Described = requires {
  FieldList<T>::get();
};
template <class V>
struct VectorOf : std::false_type {};
template <class U>
struct VectorOf<std::vector<U>> : std::true_type {};
template <class V>
struct OptionalOf : std::false_type {};
template <class U>
struct OptionalOf<std::optional<U>> : std::true_type {};

EntryType entry_type(std::string_view s) {
  static constexpr EntryType kAll[] = {
      EntryType::kFile,    EntryType::kDir,      EntryType::kSymlink, EntryType::kHardlink,
      EntryType::kCharDev, EntryType::kBlockDev, EntryType::kFifo,    EntryType::kSocket};
  for (auto t : kAll)
    if (s == to_string(t)) return t;
  return EntryType::kFile;
}

Severity severity(std::string_view s) {
  static constexpr Severity kAll[] = {Severity::kInfo, Severity::kLow, Severity::kMedium,
                                      Severity::kHigh, Severity::kCritical};
  for (auto v : kAll)
    if (s == to_string(v)) return v;
  return Severity::kInfo;
}

template <class T>
json object_json(const T& x, const WriteOptions& o) {
  json j = json::object();
  for (const auto& f : FieldList<T>::get())
    if (auto v = f.write(x, o)) j[std::string(f.key)] = std::move(*v);
  return j;
}

template <class V>
json value_json(const V& v, const WriteOptions& o) {
  if constexpr (Described<V>) {
    return object_json(v, o);
  } else if constexpr (VectorOf<V>::value) {
    json a = json::array();
    for (const auto& x : v) a.push_back(value_json(x, o));
    return a;
  } else if constexpr (OptionalOf<V>::value) {
    return v ? value_json(*v, o) : json(nullptr);
  } else if constexpr (std::is_enum_v<V>) {
    return to_string(v);
  } else {
    return json(v);
  }
}

template <class T>
void read_object(Reader& r, object o, T& out, const std::string& where) {
  const auto& fields = FieldList<T>::get();
  for (auto kv : o) {
    if (kv.value.is_null()) continue;
    for (const auto& f : fields)
      if (f.key == kv.key) {
        if (f.read) f.read(r, kv.value, out, where);
        break;
      }
    if (!r.error.empty()) return;
  }
  FieldList<T>::check(r, out, where);
}

/// Reads the value `v` (not null) found under `key` of the object at `where` into `out`.
template <class V>
void read_value(Reader& r, element v, V& out, const std::string& where, std::string_view key) {
  if constexpr (Described<V>) {
    object o;
    if (v.get_object().get(o)) return r.bad(where, key, "an object");
    read_object(r, o, out, join(where, key));
  } else if constexpr (VectorOf<V>::value) {
    array a;
    if (v.get_array().get(a)) return r.bad(where, key, "an array");
    out.reserve(out.size() + a.size());
    std::size_t i = 0;
    for (element x : a) {
      const std::string at = std::string(key) + "[" + std::to_string(i++) + "]";
      typename V::value_type item{};
      if (x.is_null()) return r.bad(where, at, "a value, not null");
      read_value(r, x, item, where, at);
      if (!r.error.empty()) return;
      out.push_back(std::move(item));
    }
  } else if constexpr (OptionalOf<V>::value) {
    read_value(r, v, out.emplace(), where, key);
  } else if constexpr (std::is_same_v<V, std::string>) {
    std::string_view s;
    if (v.get_string().get(s)) return r.bad(where, key, "a string");
    out.assign(s);
  } else if constexpr (std::is_same_v<V, bool>) {
    if (v.get_bool().get(out)) r.bad(where, key, "true or false");
  } else if constexpr (std::is_enum_v<V>) {
    std::string_view s;
    if (v.get_string().get(s)) return r.bad(where, key, "a string");
    if constexpr (std::is_same_v<V, Severity>)
      out = severity(s);
    else
      out = entry_type(s);
  } else if constexpr (std::is_floating_point_v<V>) {
    double d;
    if (v.get_double().get(d)) return r.bad(where, key, "a number");
    out = V(d);
  } else if constexpr (std::is_signed_v<V>) {
    std::int64_t i;
    if (v.get_int64().get(i)) return r.bad(where, key, "an integer");
    if (i < std::int64_t(std::numeric_limits<V>::min()) ||
        i > std::int64_t(std::numeric_limits<V>::max()))
      return r.bad(where, key, "an integer in range");
    out = V(i);
  } else {
    std::uint64_t u;
    if (v.get_uint64().get(u)) return r.bad(where, key, "a non-negative integer");
    if (u > std::uint64_t(std::numeric_limits<V>::max()))
      return r.bad(where, key, "a non-negative integer in range");
    out = V(u);
  }
}

/// When a field is written.
enum class When {
  kAlways,      ///< always (an empty optional as null)
  kNotEmpty,    ///< left out when empty ("", [], nullopt, false)
  kNullIfEmpty  ///< null when empty
};

template <class V>
bool is_empty(const V& v) {
  if constexpr (std::is_same_v<V, bool>)
    return !v;
  else if constexpr (OptionalOf<V>::value)
    return !v.has_value();
  else if constexpr (requires { v.empty(); })
    return v.empty();
  else
    return false;  // numbers and records are never left out
}

/// A field stored in `get(x)` (a member, or a member of a member).
template <class T, class Get>
Field<T> field(std::string_view key, Get get, When when = When::kAlways) {
  return {key,
          [get, when](const T& x, const WriteOptions& o) -> std::optional<json> {
            const auto& v = get(x);
            if (when != When::kAlways && is_empty(v))
              return when == When::kNullIfEmpty ? std::optional<json>(json(nullptr)) : std::nullopt;
            return value_json(v, o);
          },
          [get, key](Reader& r, element v, T& x, const std::string& where) {
            read_value(r, v, get(x), where, key);
          }};
}

template <class T, class M>
Field<T> member(std::string_view key, M T::*m, When when = When::kAlways) {
  return field<T>(
      key, [m](auto& x) -> auto& { return x.*m; }, when);
}

/// A field derived from others: written, never read back.
template <class T, class Write>
Field<T> derived(std::string_view key, Write write) {
  return {key, [write](const T& x, const WriteOptions&) -> std::optional<json> { return write(x); },
          nullptr};
}

template <class T, class Write, class Read>
Field<T> custom(std::string_view key, Write write, Read read) {
  return {key, [write](const T& x, const WriteOptions&) -> std::optional<json> { return write(x); },
          [read, key](Reader& r, element v, T& x, const std::string& where) {
            read(r, v, x, where, key);
          }};
}

/// The string `v`; `ok` false (and the reader told) when it is not one.
std::string_view string_of(Reader& r, element v, const std::string& where, std::string_view key,
                           bool& ok) {
  std::string_view s;
  ok = !v.get_string().get(s);
  if (!ok) r.bad(where, key, "a string");
  return s;
}

#define PROBITY_NO_CHECK(T) \
  void FieldList<T>::check(Reader&, T&, std::string_view) {}

// ----- the shared parts: image, coverage, origin, file records, warnings -----

const std::vector<Field<ImageInfo>>& FieldList<ImageInfo>::get() {
  static const std::vector<Field<ImageInfo>> f = {
      member("path", &ImageInfo::path), member("name", &ImageInfo::name),
      member("sha256", &ImageInfo::sha256), member("size", &ImageInfo::size)};
  return f;
}
PROBITY_NO_CHECK(ImageInfo)

const std::vector<Field<Coverage>>& FieldList<Coverage>::get() {
  static const std::vector<Field<Coverage>> f = {
      member("bytes", &Coverage::bytes), member("understood", &Coverage::understood),
      derived<Coverage>(
          "share", [](const Coverage& c) { return json(std::round(c.share() * 10000) / 10000); })};
  return f;
}
PROBITY_NO_CHECK(Coverage)

const std::vector<Field<OriginStep>>& FieldList<OriginStep>::get() {
  static const std::vector<Field<OriginStep>> f = {member("source", &OriginStep::source),
                                                   member("offset", &OriginStep::offset),
                                                   member("format", &OriginStep::format)};
  return f;
}
PROBITY_NO_CHECK(OriginStep)

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = std::uint8_t(s[i]);
    const std::size_t n = c < 0x80         ? 1
                          : (c >> 5) == 6  ? 2
                          : (c >> 4) == 14 ? 3
                          : (c >> 3) == 30 ? 4
                                           : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = std::uint8_t(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = cp << 6 | (b & 0x3f);
    }
    /// UTF-8's shortest encodings, not a cap.
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
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

const std::vector<Field<FileRecord>>& FieldList<FileRecord>::get() {
  using F = FileRecord;
  auto only = [](bool (*when)(const F&), auto value) {
    return [when, value](const F& f) -> std::optional<json> {
      if (!when(f)) return std::nullopt;
      return value(f);
    };
  };
  auto is_file = [](const F& f) { return f.type == EntryType::kFile; };
  auto is_link = [](const F& f) {
    return f.type == EntryType::kSymlink || f.type == EntryType::kHardlink;
  };
  auto is_elf = [](const F& f) { return f.elf.has_value(); };
  auto plain_string = [](std::string F::*m) {
    return [m](Reader& r, element v, F& f, const std::string& where, std::string_view key) {
      bool ok;
      auto s = string_of(r, v, where, key, ok);
      if (ok) f.*m = s;
    };
  };
  static const std::vector<Field<F>> f = {
      member("path", &F::path), member("container", &F::container), member("origin", &F::origin),
      member("type", &F::type), member("size", &F::size),
      custom<F>(
          "mode", [](const F& f) { return json(fmt::format("{:04o}", f.mode & 07777)); },
          [](Reader& r, element v, F& f, const std::string& where, std::string_view key) {
            bool ok;
            auto s = string_of(r, v, where, key, ok);
            std::uint32_t m = 0;
            for (char c : s) {
              if (c < '0' || c > '7' || m > 07777) return r.bad(where, key, "octal digits");
              m = m * 8 + std::uint32_t(c - '0');
            }
            if (ok) f.mode = m & 07777;
          }),
      member("uid", &F::uid), member("gid", &F::gid), member("mtime", &F::mtime),
      custom<F>("sha256", only(is_file, [](const F& f) { return json(f.sha256); }),
                plain_string(&F::sha256)),
      custom<F>("kind",
                only(is_file, [](const F& f) { return json(f.kind.empty() ? "data" : f.kind); }),
                plain_string(&F::kind)),
      custom<F>("link", only(is_link, [](const F& f) { return json(f.link); }),
                plain_string(&F::link)),
      // The mode has these bits: written for people and tools that read the JSON.
      derived<F>(
          "setuid",
          [](const F& f) { return f.mode & 04000 ? std::optional(json(true)) : std::nullopt; }),
      derived<F>(
          "setgid",
          [](const F& f) { return f.mode & 02000 ? std::optional(json(true)) : std::nullopt; }),
      custom<F>("arch", only(is_elf, [](const F& f) { return json(f.elf->arch); }),
                [](Reader& r, element v, F& f, const std::string& where, std::string_view key) {
                  read_value(r, v, (f.elf ? *f.elf : f.elf.emplace()).arch, where, key);
                }),
      custom<F>("bits", only(is_elf, [](const F& f) { return json(f.elf->bits); }),
                [](Reader& r, element v, F& f, const std::string& where, std::string_view key) {
                  read_value(r, v, (f.elf ? *f.elf : f.elf.emplace()).bits, where, key);
                }),
      custom<F>("endian", only(is_elf, [](const F& f) { return json(f.elf->endian); }),
                [](Reader& r, element v, F& f, const std::string& where, std::string_view key) {
                  read_value(r, v, (f.elf ? *f.elf : f.elf.emplace()).endian, where, key);
                }),
      custom<F>("elf_type", only(is_elf, [](const F& f) { return json(f.elf->type); }),
                [](Reader& r, element v, F& f, const std::string& where, std::string_view key) {
                  read_value(r, v, (f.elf ? *f.elf : f.elf.emplace()).type, where, key);
                }),
      // Only a path below the output directory is taken from a report: a hostile report must
      // not make diff read /etc/shadow.
      custom<F>(
          "extracted",
          [](const F& f) {
            return f.extracted.empty() ? std::nullopt : std::optional(json(f.extracted));
          },
          [](Reader& r, element v, F& f, const std::string& where, std::string_view key) {
            bool ok;
            auto s = string_of(r, v, where, key, ok);
            if (ok && confined(s) && f.extracted.empty()) f.extracted.assign(s);
          }),
      // A name that is not UTF-8 is shown with U+FFFD, so two such names can print alike: the
      // raw bytes keep them apart (and let a reader open the extracted file).
      custom<F>(
          "path_hex",
          [](const F& f) {
            return is_utf8(f.path) ? std::nullopt : std::optional(json(to_hex(as_bytes(f.path))));
          },
          [](Reader& r, element v, F& f, const std::string& where, std::string_view key) {
            std::string_view x;
            std::optional<std::string> raw;
            if (v.get_string().get(x) || !(raw = from_hex(x))) return r.bad(where, key, "hex");
            f.path = std::move(*raw);
          }),
      custom<F>(
          "extracted_hex",
          [](const F& f) {
            return f.extracted.empty() || is_utf8(f.extracted)
                       ? std::nullopt
                       : std::optional(json(to_hex(as_bytes(f.extracted))));
          },
          [](Reader& r, element v, F& f, const std::string& where, std::string_view key) {
            std::string_view x;
            std::optional<std::string> raw;
            if (v.get_string().get(x) || !(raw = from_hex(x))) return r.bad(where, key, "hex");
            if (confined(*raw)) f.extracted = std::move(*raw);
          }),
      member("truncated", &F::truncated, When::kNotEmpty)};
  return f;
}
PROBITY_NO_CHECK(FileRecord)

const std::vector<Field<Warning>>& FieldList<Warning>::get() {
  static const std::vector<Field<Warning>> f = {
      member("code", &Warning::code), member("message", &Warning::message),
      member("container", &Warning::container), member("entry", &Warning::entry),
      member("offset", &Warning::offset)};
  return f;
}
PROBITY_NO_CHECK(Warning)

// ----- components and vulnerabilities -----

const std::vector<Field<Evidence>>& FieldList<Evidence>::get() {
  static const std::vector<Field<Evidence>> f = {member("path", &Evidence::path),
                                                 member("container", &Evidence::container),
                                                 member("offset", &Evidence::offset),
                                                 member("excerpt", &Evidence::excerpt),
                                                 member("method", &Evidence::method),
                                                 member("kind", &Evidence::kind),
                                                 member("confidence", &Evidence::confidence)};
  return f;
}
PROBITY_NO_CHECK(Evidence)

const std::vector<Field<Eol>>& FieldList<Eol>::get() {
  static const std::vector<Field<Eol>> f = {
      member("cycle", &Eol::cycle), member("date", &Eol::date), member("reached", &Eol::reached)};
  return f;
}
PROBITY_NO_CHECK(Eol)

const std::vector<Field<Component>>& FieldList<Component>::get() {
  using C = Component;
  static const std::vector<Field<C>> f = {
      member("name", &C::name),
      derived<C>("confidence", [](const C& c) { return json(combined_confidence(c.evidence)); }),
      member("version", &C::version), member("vendor", &C::vendor), member("purl", &C::purl),
      member("cpe", &C::cpe), member("source", &C::source), member("evidence", &C::evidence),
      member("cpe_aliases", &C::cpe_aliases, When::kNotEmpty),
      member("eol", &C::eol, When::kNotEmpty),
      // The distribution's package version backports are judged against (docs/vulndb.md).
      custom<C>(
          "distro",
          [](const C& c) {
            return c.distro_version.empty() ? std::nullopt : std::optional(json(c.distro));
          },
          [](Reader& r, element v, C& c, const std::string& where, std::string_view key) {
            read_value(r, v, c.distro, where, key);
          }),
      member("distro_version", &C::distro_version, When::kNotEmpty)};
  return f;
}
PROBITY_NO_CHECK(Component)

const std::vector<Field<Suppression>>& FieldList<Suppression>::get() {
  using S = Suppression;
  static const std::vector<Field<S>> f = {
      member("state", &S::state), member("justification", &S::justification), member("by", &S::by),
      member("detail", &S::detail), member("date", &S::date)};
  return f;
}
PROBITY_NO_CHECK(Suppression)

const std::vector<Field<KevEntry>>& FieldList<KevEntry>::get() {
  static const std::vector<Field<KevEntry>> f = {
      member("date_added", &KevEntry::date_added),
      member("due_date", &KevEntry::due_date, When::kNullIfEmpty)};
  return f;
}
PROBITY_NO_CHECK(KevEntry)

const std::vector<Field<EpssScore>>& FieldList<EpssScore>::get() {
  static const std::vector<Field<EpssScore>> f = {member("score", &EpssScore::score),
                                                  member("percentile", &EpssScore::percentile)};
  return f;
}
PROBITY_NO_CHECK(EpssScore)

const std::vector<Field<Reachability>>& FieldList<Reachability>::get() {
  static const std::vector<Field<Reachability>> f = {member("state", &Reachability::state),
                                                     member("chain", &Reachability::chain)};
  return f;
}
PROBITY_NO_CHECK(Reachability)

const std::vector<Field<Vulnerability>>& FieldList<Vulnerability>::get() {
  using V = Vulnerability;
  static const std::vector<Field<V>> f = {
      member("id", &V::id), member("component", &V::component), member("version", &V::version),
      member("severity", &V::severity),
      custom<V>(
          "cvss", [](const V& v) { return json(std::round(v.cvss * 10) / 10); },
          [](Reader& r, element x, V& v, const std::string& where, std::string_view key) {
            read_value(r, x, v.cvss, where, key);
          }),
      member("cvss_vector", &V::cvss_vector), member("fixed_in", &V::fixed_in),
      member("cwe", &V::cwe), member("description", &V::description),
      member("published", &V::published), member("suppression", &V::suppression, When::kNotEmpty),
      // Triage (docs/vulndb.md): KEV, EPSS, reachability with its chain, and the judgement
      // against a backport or stable branch; absent in older reports.
      member("kev", &V::kev), member("epss", &V::epss), member("reachability", &V::reachability),
      member("status", &V::status),
      member("status_evidence", &V::status_evidence, When::kNotEmpty)};
  return f;
}
PROBITY_NO_CHECK(Vulnerability)

// ----- findings, verdict, facts -----

const std::vector<Field<FindingEvidence>>& FieldList<FindingEvidence>::get() {
  using E = FindingEvidence;
  static const std::vector<Field<E>> f = {
      member("excerpt", &E::excerpt), member("offset", &E::offset), member("related", &E::related),
      member("fingerprint", &E::fingerprint, When::kNotEmpty)};
  return f;
}
PROBITY_NO_CHECK(FindingEvidence)

const std::vector<Field<Finding>>& FieldList<Finding>::get() {
  static const std::vector<Field<Finding>> f = {
      member("id", &Finding::id),
      member("rule", &Finding::rule),
      member("category", &Finding::category),
      member("severity", &Finding::severity),
      member("path", &Finding::path),
      member("container", &Finding::container),
      member("message", &Finding::message),
      member("evidence", &Finding::evidence),
      member("suppression", &Finding::suppression, When::kNotEmpty)};
  return f;
}
void FieldList<Finding>::check(Reader& r, Finding& f, std::string_view where) {
  if (f.id.empty()) r.bad(where, "id", "a finding id");
}

const std::vector<Field<ClauseResult>>& FieldList<ClauseResult>::get() {
  using C = ClauseResult;
  static const std::vector<Field<C>> f = {
      member("id", &C::id), member("text", &C::text),
      custom<C>(
          "result", [](const C& c) { return json(c.pass ? "pass" : "fail"); },
          [](Reader& r, element v, C& c, const std::string& where, std::string_view key) {
            bool ok;
            auto s = string_of(r, v, where, key, ok);
            c.pass = ok && s == "pass";
          }),
      member("findings", &C::findings), member("vulnerabilities", &C::vulnerabilities)};
  return f;
}
PROBITY_NO_CHECK(ClauseResult)

const std::vector<Field<InconclusiveReason>>& FieldList<InconclusiveReason>::get() {
  using I = InconclusiveReason;
  static const std::vector<Field<I>> f = {member("code", &I::code), member("text", &I::text),
                                          member("evidence", &I::evidence)};
  return f;
}
PROBITY_NO_CHECK(InconclusiveReason)

const std::vector<Field<Verdict>>& FieldList<Verdict>::get() {
  static const std::vector<Field<Verdict>> f = {
      member("policy", &Verdict::policy), member("policy_digest", &Verdict::policy_sha256),
      member("result", &Verdict::result), member("reasons", &Verdict::reasons),
      member("clauses", &Verdict::clauses)};
  return f;
}
void FieldList<Verdict>::check(Reader& r, Verdict& v, std::string_view where) {
  if (v.result != "pass" && v.result != "fail" && v.result != "inconclusive")
    return r.bad(where, "result", "pass, fail or inconclusive");
  v.pass = v.result == "pass";
}

const std::vector<Field<AccountFact>>& FieldList<AccountFact>::get() {
  using A = AccountFact;
  static const std::vector<Field<A>> f = {member("name", &A::name),
                                          member("uid", &A::uid),
                                          member("gid", &A::gid),
                                          member("shell", &A::shell),
                                          member("home", &A::home),
                                          member("path", &A::path),
                                          member("location", &A::location),
                                          member("password", &A::password),
                                          member("password_digest", &A::password_digest)};
  return f;
}
PROBITY_NO_CHECK(AccountFact)

const std::vector<Field<ServiceFact>>& FieldList<ServiceFact>::get() {
  using S = ServiceFact;
  static const std::vector<Field<S>> f = {member("name", &S::name), member("command", &S::command),
                                          member("path", &S::path),
                                          member("location", &S::location), member("how", &S::how)};
  return f;
}
PROBITY_NO_CHECK(ServiceFact)

const std::vector<Field<EndpointFact>>& FieldList<EndpointFact>::get() {
  using E = EndpointFact;
  static const std::vector<Field<E>> f = {member("value", &E::value), member("kind", &E::kind),
                                          member("class", &E::cls), member("path", &E::path),
                                          member("location", &E::location)};
  return f;
}
PROBITY_NO_CHECK(EndpointFact)

const std::vector<Field<KeyFact>>& FieldList<KeyFact>::get() {
  using K = KeyFact;
  static const std::vector<Field<K>> f = {
      member("role", &K::role), member("type", &K::type),
      member("bits", &K::bits), member("fingerprint", &K::fingerprint),
      member("path", &K::path), member("location", &K::location)};
  return f;
}
PROBITY_NO_CHECK(KeyFact)

const std::vector<Field<HardeningFact>>& FieldList<HardeningFact>::get() {
  using H = HardeningFact;
  static const std::vector<Field<H>> f = {member("path", &H::path),
                                          member("location", &H::location),
                                          member("executable", &H::executable),
                                          member("nx", &H::nx),
                                          member("pie", &H::pie),
                                          member("relro", &H::relro),
                                          member("canary", &H::canary),
                                          member("fortify", &H::fortify),
                                          member("rpath", &H::rpath),
                                          member("stripped", &H::stripped)};
  return f;
}
PROBITY_NO_CHECK(HardeningFact)

const std::vector<Field<Facts>>& FieldList<Facts>::get() {
  static const std::vector<Field<Facts>> f = {
      member("accounts", &Facts::accounts), member("services", &Facts::services),
      member("endpoints", &Facts::endpoints), member("keys", &Facts::keys),
      member("hardening", &Facts::hardening)};
  return f;
}
PROBITY_NO_CHECK(Facts)

// ----- the report -----

// Not in report.json: db_vulnerabilities, db_imported_at and data_missing (what the verdict
// was judged on; the verdict and its reasons are written), and the tree's containers, regions,
// limits and stats (manifest.json has them).
const std::vector<Field<Report>>& FieldList<Report>::get() {
  using R = Report;
  static const std::vector<Field<R>> f = {
      // Checked before anything else is read (read_report).
      derived<R>("schema", [](const R&) { return json("probity-report"); }),
      derived<R>("schema_version", [](const R&) { return json(kReportSchemaVersion); }),
      derived<R>("tool",
                 [](const R&) {
                   return json{{"name", "probity"}, {"version", PROBITY_VERSION}};
                 }),
      field<R>(
          "image", [](auto& r) -> auto& { return r.tree.image; }),
      field<R>(
          "coverage", [](auto& r) -> auto& { return r.tree.coverage; }),
      Field<R>{"files",
               [](const R& r, const WriteOptions& o) -> std::optional<json> {
                 return o.with_files ? value_json(r.tree.files, o) : json::array();
               },
               [](Reader& rd, element v, R& r, const std::string& where) {
                 read_value(rd, v, r.tree.files, where, "files");
               }},
      member("components", &R::components),
      member("vulnerabilities", &R::vulnerabilities),
      derived<R>("fix_first",
                 [](const R& r) {
                   json fix = json::array();
                   for (const auto& f : fix_first(r.vulnerabilities)) {
                     const auto& v = r.vulnerabilities[f.index];
                     fix.push_back({{"id", v.id},
                                    {"component", v.component},
                                    {"version", v.version},
                                    {"tier", f.tier},
                                    {"reason", f.reason}});
                   }
                   return fix;
                 }),
      member("db_snapshot", &R::db_snapshot, When::kNullIfEmpty),
      member("db_snapshot_date", &R::db_snapshot_date, When::kNullIfEmpty),
      member("db_age_days", &R::db_age_days),
      member("findings", &R::findings),
      member("verdict", &R::verdict),
      derived<R>("policy",
                 [](const R& r) {
                   return r.verdict ? json{{"name", r.verdict->policy},
                                           {"sha256", r.verdict->policy_sha256}}
                                    : json(nullptr);
                 }),
      field<R>(
          "warnings", [](auto& r) -> auto& { return r.tree.warnings; }),
      member("facts", &R::facts, When::kNotEmpty)};
  return f;
}
PROBITY_NO_CHECK(Report)

#undef PROBITY_NO_CHECK

}  // namespace

json image_json(const ImageInfo& i) {
  return object_json(i, {});
}
json coverage_json(const Coverage& c) {
  return object_json(c, {});
}
json warning_json(const Warning& w) {
  return object_json(w, {});
}
json file_json(const FileRecord& f) {
  return object_json(f, {});
}
json component_json(const Component& c) {
  return object_json(c, {});
}
json finding_json(const Finding& f) {
  return object_json(f, {});
}
json facts_json(const Facts& x) {
  return object_json(x, {});
}
json verdict_json(const Verdict& v) {
  return object_json(v, {});
}
json report_json(const Report& r, bool with_files) {
  return object_json(r, WriteOptions{.with_files = with_files});
}

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
  // Size and depth before simdjson: the reading walk recurses once per nested type, and nothing
  // deeper than kMaxJsonDepth is ever handed on (the parser is told the same cap).
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
  object top;
  if (root.get_object().get(top))
    return fail("not a probity report (the top level is not an object)", 0, name);
  std::string_view schema;
  if (top["schema"].get_string().get(schema) || schema != "probity-report")
    return fail("not a probity report (\"schema\" is not \"probity-report\")", 0, name);
  std::int64_t version = 0;
  if (top["schema_version"].get_int64().get(version) || version < 1 ||
      version > kReportSchemaVersion)
    return fail("unsupported report schema_version (this probity reads 1 to " +
                    std::to_string(kReportSchemaVersion) + ")",
                0, name);
  array files;
  if (top["files"].get_array().get(files))
    return fail("not a probity report (no \"files\" array)", 0, name);
  Report out;
  Reader r;
  read_object(r, top, out, "");
  if (!r.error.empty()) return fail(r.error, 0, name);
  return out;
}

}  // namespace probity
