// The signature engine: every version regex of every product in one vectorscan database, so each
// file's bytes are scanned once whatever the number of products. Vectorscan has no capture
// groups, so a match only gives where it ends; the version is then extracted by std::regex from
// the short window (kMaxMatchSpan bytes) before that end, taking the match that ends exactly
// there. Start-of-match tracking (HS_FLAG_SOM_LEFTMOST) was tried first: vectorscan rejects
// bounded repeats under it ("Pattern is too large", e.g. glibc's "\([^)]{1,60}\)") and it slows
// the scan, while the window search costs only at real matches.
#include <fmt/format.h>
#include <fnmatch.h>
#include <hs/hs.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "probity/hash.hpp"
#include "probity/identify.hpp"

namespace probity {
namespace {

struct PatternRef {
  std::size_t signature = 0;
  std::regex re;
  bool hinted = false;
  bool context = false;  ///< a context literal: only marks the signature as seen in the file
};

/// A literal as a vectorscan regex.
std::string escape_literal(const std::string& lit) {
  std::string out;
  for (unsigned char c : lit) out += fmt::format("\\x{:02x}", c);
  return out;
}

struct Database {
  hs_database_t* db = nullptr;
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() {
    if (db) hs_free_database(db);
  }
};

/// Where compiled databases are cached: $PROBITY_CACHE_DIR, else $XDG_CACHE_HOME/probity, else
/// ~/.cache/probity; "" (PROBITY_CACHE_DIR set but empty) disables the cache.
std::filesystem::path cache_dir() {
  if (const char* d = std::getenv("PROBITY_CACHE_DIR")) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::filesystem::path(x) / "probity";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::filesystem::path(h) / ".cache" / "probity";
  return {};
}

/// Compiling the signatures takes ~0.3 s; a serialized database loads in milliseconds. The cache
/// key is a digest of the vectorscan version and every expression with its flags, so any change
/// to the signatures or the library makes a new entry. A cache entry that does not deserialize
/// is ignored and rewritten.
hs_database_t* load_cached(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return nullptr;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  hs_database_t* db = nullptr;
  if (hs_deserialize_database(bytes.data(), bytes.size(), &db) != HS_SUCCESS) return nullptr;
  return db;
}

void store_cached(const std::filesystem::path& file, const hs_database_t* db) {
  char* bytes = nullptr;
  std::size_t len = 0;
  if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS) return;
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  const auto tmp = file.string() + fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes, std::streamsize(len));
  }
  std::free(bytes);
  std::filesystem::rename(tmp, file, ec);  // atomic: concurrent runs never see half a file
  if (ec) std::filesystem::remove(tmp, ec);
}

Result<hs_database_t*> compile(const std::vector<std::string>& exprs,
                               const std::vector<unsigned>& fl,
                               const std::vector<std::string>& names,
                               std::vector<unsigned> ids = {}) {
  if (ids.empty())
    for (std::size_t i = 0; i < exprs.size(); ++i) ids.push_back(unsigned(i));
  std::filesystem::path cached;
  if (const auto dir = cache_dir(); !dir.empty()) {
    Sha256 key;
    const auto add = [&](std::string_view s) {
      key.update({reinterpret_cast<const std::uint8_t*>(s.data()), s.size() + 1});
    };
    add(hs_version());
    for (std::size_t i = 0; i < exprs.size(); ++i) {
      add(exprs[i]);
      add(std::to_string(fl[i]));
      add(std::to_string(ids[i]));
    }
    cached = dir / ("signatures-" + key.hex() + ".hsdb");
    if (auto* db = load_cached(cached)) return db;
  }
  std::vector<const char*> ptrs;
  for (const auto& e : exprs) ptrs.push_back(e.c_str());
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(ptrs.data(), fl.data(), ids.data(), unsigned(exprs.size()), HS_MODE_BLOCK,
                       nullptr, &db, &err) != HS_SUCCESS) {
    std::string msg = err && err->message ? err->message : "unknown error";
    const int at = err ? err->expression : -1;
    if (err) hs_free_compile_error(err);
    if (at >= 0 && std::size_t(at) < exprs.size())
      return fail(fmt::format("vectorscan rejects the regex '{}' of signature '{}': {}", exprs[at],
                              names[at], msg));
    return fail(fmt::format("vectorscan cannot compile the signatures: {}", msg));
  }
  if (!cached.empty()) store_cached(cached, db);
  return db;
}

std::string printable(std::span<const std::uint8_t> b) {
  std::string s;
  for (auto c : b) s += (c >= 0x20 && c < 0x7f) ? char(c) : '.';
  return s;
}

bool matches_hint(const Signature& s, std::string_view base) {
  const std::string name(base);
  return std::ranges::any_of(
      s.files, [&](const std::string& g) { return fnmatch(g.c_str(), name.c_str(), 0) == 0; });
}

}  // namespace

struct Identifier::Impl {
  std::vector<Signature> signatures;
  std::vector<PatternRef> content;  // id = index
  std::vector<PatternRef> names;
  // Patterns only trusted in hinted files (a bare "\\x00(1\\.2\\.\\d+)\\x00" for musl) have few
  // literal bytes and slow a scan by a third; they live only in `hinted_db` (every pattern), which
  // scans the files whose name matches a hint. `content_db` (the rest) scans all other files.
  // Either way a file's bytes are scanned once.
  Database content_db, hinted_db, names_db;
};

Identifier::Identifier() : impl_(std::make_unique<Impl>()) {}
Identifier::Identifier(Identifier&&) noexcept = default;
Identifier& Identifier::operator=(Identifier&&) noexcept = default;
Identifier::~Identifier() = default;

const std::vector<Signature>& Identifier::signatures() const {
  return impl_->signatures;
}

long Identifier::find(std::string_view id) const {
  for (std::size_t i = 0; i < impl_->signatures.size(); ++i)
    if (impl_->signatures[i].id == id) return long(i);
  return -1;
}

Result<Identifier> Identifier::create(std::vector<Signature> signatures) {
  Identifier id;
  auto& im = *id.impl_;
  im.signatures = std::move(signatures);
  std::vector<std::string> content_exprs, content_names, name_exprs, name_names;
  std::vector<unsigned> content_flags;
  for (std::size_t i = 0; i < im.signatures.size(); ++i) {
    const auto& s = im.signatures[i];
    try {
      for (const auto& v : s.versions) {
        im.content.push_back({i, std::regex(v.regex, std::regex::ECMAScript), v.hinted, false});
        content_exprs.push_back(v.regex);
        content_names.push_back(s.id);
        content_flags.push_back(0);
      }
      for (const auto& lit : s.context) {
        im.content.push_back({i, std::regex(), false, true});
        content_exprs.push_back(escape_literal(lit));
        content_names.push_back(s.id);
        content_flags.push_back(HS_FLAG_SINGLEMATCH);
      }
      for (const auto& r : s.filenames) {
        im.names.push_back({i, std::regex(r, std::regex::ECMAScript), false});
        name_exprs.push_back(r);
        name_names.push_back(s.id);
      }
    } catch (const std::regex_error& e) {
      return fail(
          fmt::format("signature '{}': a regex is not ECMAScript-compatible: {}", s.id, e.what()),
          0, s.source);
    }
  }
  if (!content_exprs.empty()) {
    std::vector<std::string> exprs, names;
    std::vector<unsigned> flags, ids;
    for (std::size_t k = 0; k < content_exprs.size(); ++k) {
      if (im.content[k].hinted) continue;
      exprs.push_back(content_exprs[k]);
      names.push_back(content_names[k]);
      flags.push_back(content_flags[k]);
      ids.push_back(unsigned(k));
    }
    auto db = compile(exprs, flags, names, ids);
    if (!db) return std::unexpected(db.error());
    im.content_db.db = *db;
    auto all = compile(content_exprs, content_flags, content_names);
    if (!all) return std::unexpected(all.error());
    im.hinted_db.db = *all;
  }
  if (!name_exprs.empty()) {
    auto db = compile(name_exprs, std::vector<unsigned>(name_exprs.size(), HS_FLAG_SINGLEMATCH),
                      name_names);
    if (!db) return std::unexpected(db.error());
    im.names_db.db = *db;
  }
  return id;
}

struct Identifier::Scanner::Impl {
  const Identifier::Impl* id = nullptr;
  hs_scratch_t* scratch = nullptr;
  struct Raw {
    unsigned pattern;
    unsigned long long from, to;
  };
  std::vector<Raw> ends;
  std::vector<char> context_seen;  // per signature, for the file being scanned
  std::vector<Raw> raw;
  ~Impl() {
    if (scratch) hs_free_scratch(scratch);
  }
};

Identifier::Scanner::Scanner(const Identifier& id) : impl_(std::make_unique<Impl>()) {
  impl_->id = id.impl_.get();
  for (const hs_database_t* db :
       {id.impl_->content_db.db, id.impl_->hinted_db.db, id.impl_->names_db.db})
    if (db && hs_alloc_scratch(db, &impl_->scratch) != HS_SUCCESS)
      throw std::runtime_error("vectorscan: cannot allocate scratch space");
}
Identifier::Scanner::Scanner(Scanner&&) noexcept = default;
Identifier::Scanner::~Scanner() = default;

std::vector<Hit> Identifier::Scanner::scan(std::span<const std::uint8_t> bytes,
                                           std::optional<std::string_view> base_name,
                                           bool* truncated) {
  auto& im = *impl_;
  std::vector<Hit> hits;
  if (truncated) *truncated = false;
  if (!im.id->content_db.db || bytes.empty()) return hits;
  im.raw.clear();
  im.ends.clear();
  im.context_seen.assign(im.id->signatures.size(), 0);
  const hs_database_t* db = im.id->hinted_db.db;
  if (base_name) {
    const bool hinted = std::ranges::any_of(im.id->content, [&](const PatternRef& r) {
      return r.hinted && matches_hint(im.id->signatures[r.signature], *base_name);
    });
    if (!hinted) db = im.id->content_db.db;
  }
  // hs_scan takes an unsigned length: larger inputs are scanned in overlapping windows.
  constexpr std::size_t kWindow = 1u << 30;
  bool stopped = false;
  for (std::size_t base = 0; base < bytes.size() && !stopped; base += kWindow - kMaxMatchSpan) {
    const std::size_t len = std::min(kWindow, bytes.size() - base);
    struct Ctx {
      Impl* im;
      std::size_t base;
    } ctx{&im, base};
    const hs_error_t rc = hs_scan(
        db, reinterpret_cast<const char*>(bytes.data() + base), unsigned(len), 0, im.scratch,
        [](unsigned id, unsigned long long, unsigned long long to, unsigned, void* p) -> int {
          auto* c = static_cast<Ctx*>(p);
          const auto& ref = c->im->id->content[id];
          if (ref.context) {
            c->im->context_seen[ref.signature] = 1;
            return 0;
          }
          c->im->ends.push_back({id, 0, to + c->base});
          return c->im->ends.size() >= kMaxMatchesPerFile ? 1 : 0;
        },
        &ctx);
    if (rc == HS_SCAN_TERMINATED) stopped = true;
    if (base + len >= bytes.size()) break;
  }
  if (stopped && truncated) *truncated = true;
  // Where each match starts: the leftmost match of the regex in the window before the end that
  // ends exactly at the reported end.
  const auto* text = reinterpret_cast<const char*>(bytes.data());
  for (const auto& e : im.ends) {
    const auto& ref = im.id->content[e.pattern];
    const std::size_t lo = e.to > kMaxMatchSpan ? e.to - kMaxMatchSpan : 0;
    for (std::size_t start = lo; start < e.to;) {
      std::cmatch m;
      if (!std::regex_search(text + start, text + e.to, m, ref.re)) break;
      const std::size_t from = start + std::size_t(m.position(0));
      if (from + std::size_t(m.length(0)) == e.to) {
        im.raw.push_back({e.pattern, from, e.to});
        break;
      }
      start = from + 1;
    }
  }
  // Vectorscan reports every end offset a regex can match at; keep the longest match for each
  // (pattern, start): that is the whole version, not a prefix of it.
  std::ranges::sort(im.raw, [](const Impl::Raw& a, const Impl::Raw& b) {
    if (a.pattern != b.pattern) return a.pattern < b.pattern;
    if (a.from != b.from) return a.from < b.from;
    return a.to > b.to;
  });
  std::set<std::pair<std::size_t, std::string>> seen;
  const Impl::Raw* prev = nullptr;
  for (const auto& r : im.raw) {
    if (prev && prev->pattern == r.pattern && prev->from == r.from) continue;
    prev = &r;
    const auto& ref = im.id->content[r.pattern];
    const auto* b = reinterpret_cast<const char*>(bytes.data());
    std::cmatch m;
    if (!std::regex_match(b + r.from, b + r.to, m, ref.re) &&
        !std::regex_search(b + r.from, b + r.to, m, ref.re))
      continue;
    std::string text;
    for (std::size_t g = 1; g < m.size(); ++g)
      if (m[g].matched) {
        text = m[g].str();
        break;
      }
    if (m.size() == 1) text = m[0].str();
    const auto& sig = im.id->signatures[ref.signature];
    if (ref.hinted && base_name && !matches_hint(sig, *base_name)) continue;
    if (!sig.context.empty() && base_name && !im.context_seen[ref.signature] &&
        !matches_hint(sig, *base_name))
      continue;
    if (!sig.version_map.empty()) {
      auto it = sig.version_map.find(text);
      if (it == sig.version_map.end()) continue;
      text = it->second;
    }
    if (text.empty() || text.size() > kMaxVersionLength) continue;
    if (!seen.insert({ref.signature, text}).second) continue;
    hits.push_back({ref.signature, text, r.from, r.to - r.from,
                    printable(bytes.subspan(r.from, r.to - r.from)), ref.hinted});
  }
  // In one file, a version that another hit of the same product refines is the same release
  // named less precisely (sshd has both "OpenSSH_9.2" and "OpenSSH_9.2p1"): keep the precise one.
  // "3.0.1" is not refined by "3.0.11" (a digit follows), nor "2.9" by "2.9.1" (a dot).
  // Two hits of one product over overlapping bytes read the same text; the longer match read
  // more of it and wins (Debian's kernel banner "Linux version 6.1.0-50-armmp (...) #1 SMP
  // Debian 6.1.176-1": the ABI name 6.1.0 is not the upstream release 6.1.176).
  std::erase_if(hits, [&](const Hit& h) {
    return std::ranges::any_of(hits, [&](const Hit& o) {
      if (o.signature != h.signature) return false;
      if (o.length > h.length && o.version != h.version && o.offset < h.offset + h.length &&
          h.offset < o.offset + o.length)
        return true;
      if (o.version.size() <= h.version.size() || !o.version.starts_with(h.version)) return false;
      const char next = o.version[h.version.size()];
      return !std::isdigit(static_cast<unsigned char>(next)) && next != '.';
    });
  });
  return hits;
}

std::vector<Hit> Identifier::Scanner::scan_name(std::string_view base_name) {
  auto& im = *impl_;
  std::vector<Hit> hits;
  if (!im.id->names_db.db || base_name.empty()) return hits;
  std::vector<unsigned> ids;
  hs_scan(
      im.id->names_db.db, base_name.data(), unsigned(base_name.size()), 0, im.scratch,
      [](unsigned id, unsigned long long, unsigned long long, unsigned, void* p) -> int {
        static_cast<std::vector<unsigned>*>(p)->push_back(id);
        return 0;
      },
      &ids);
  const std::string name(base_name);
  for (unsigned id : ids) {
    const auto& ref = im.id->names[id];
    std::smatch m;
    if (!std::regex_search(name, m, ref.re)) continue;
    std::string text = m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
    const auto& sig = im.id->signatures[ref.signature];
    if (!sig.version_map.empty()) {
      auto it = sig.version_map.find(text);
      if (it == sig.version_map.end()) continue;
      text = it->second;
    }
    if (text.empty() || text.size() > kMaxVersionLength) continue;
    hits.push_back({ref.signature, text, 0, 0, name});
  }
  return hits;
}

}  // namespace probity
