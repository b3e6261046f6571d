#include "unpack/carve.hpp"

#include "probity/mapped_file.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

namespace probity::unpacker {
namespace {

struct Pattern {
  const Format* format;
  std::uint32_t rank;
  std::uint32_t at;
  std::uint32_t len;
  bool weak;  ///< probed before it counts (Magic::weak)
  /// Leading NUL bytes of the magic left out of the vectorscan literal (its literal API takes a
  /// literal that starts with NUL for an empty one) and checked on each match; `at` and `len`
  /// describe the literal that is searched.
  std::string_view nuls;
};

/// The compiled literal database, built once per process.
class MagicDb {
 public:
  MagicDb() {
    std::vector<const char*> exprs;
    std::vector<std::size_t> lens;
    std::vector<unsigned> ids, flags;
    const auto& formats = all_formats();
    for (std::uint32_t rank = 0; rank < formats.size(); ++rank) {
      const Format* f = formats[rank];
      if (f->carve != Carve::kAnyOffset) continue;
      for (const Magic& m : f->magics) {
        const std::size_t skip = std::min(m.bytes.find_first_not_of('\0'), m.bytes.size() - 1);
        const std::string_view lit = m.bytes.substr(skip);
        ids.push_back(static_cast<unsigned>(patterns_.size()));
        patterns_.push_back({f, rank, static_cast<std::uint32_t>(m.at + skip),
                             static_cast<std::uint32_t>(lit.size()), m.weak,
                             m.bytes.substr(0, skip)});
        exprs.push_back(lit.data());
        lens.push_back(lit.size());
        flags.push_back(0);
        max_len_ = std::max<std::uint64_t>(max_len_, m.bytes.size());
      }
    }
    hs_compile_error_t* err = nullptr;
    if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(),
                             static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &db_,
                             &err) != HS_SUCCESS) {
      std::string msg = err ? err->message : "unknown";
      hs_free_compile_error(err);
      throw std::logic_error("vectorscan: cannot compile format magics: " + msg);
    }
  }
  ~MagicDb() { hs_free_database(db_); }

  const hs_database_t* db() const { return db_; }
  const Pattern& pattern(unsigned id) const { return patterns_[id]; }
  std::uint64_t max_len() const { return max_len_; }
  std::size_t size() const { return patterns_.size(); }

 private:
  hs_database_t* db_ = nullptr;
  std::vector<Pattern> patterns_;
  std::uint64_t max_len_ = 1;
};

const MagicDb& magic_db() {
  static const MagicDb kDb;
  return kDb;
}

struct ScanState {
  const MagicDb* db;
  Bytes blob;
  std::uint64_t base;
  std::vector<Candidate>* out;
  std::uint64_t cap;
  std::vector<std::uint64_t> kept;    ///< per pattern
  std::vector<CandidateCap> dropped;  ///< per pattern (format null while none dropped)
};

int on_match(unsigned id, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/,
             void* ctx) {
  auto* s = static_cast<ScanState*>(ctx);
  const Pattern& p = s->db->pattern(id);
  const std::uint64_t end = s->base + to;
  if (end < std::uint64_t(p.len) + p.at) return 0;  // the format would start before the blob
  const std::uint64_t start = end - p.len - p.at;
  if (!p.nuls.empty() && !starts_with(s->blob, p.nuls, p.at - p.nuls.size() + start)) return 0;
  if (p.weak && (start == 0 || !p.format->probe || !p.format->probe(sub(s->blob, start))))
    return 0;  // offset 0 is start_candidates' (probed by the driver); elsewhere, probe first
  if (s->kept[id] >= s->cap) {
    auto& d = s->dropped[id];
    if (!d.format) {
      d.format = p.format;
      d.first_dropped = start;
    }
    ++d.dropped;
    return 0;  // this magic is flooded; every other magic is still looked for
  }
  ++s->kept[id];
  s->out->push_back({start, p.format, p.rank});
  return 0;
}

void sort_unique(std::vector<Candidate>& v) {
  std::sort(v.begin(), v.end(), [](const Candidate& a, const Candidate& b) {
    return a.start != b.start ? a.start < b.start : a.rank < b.rank;
  });
  v.erase(std::unique(v.begin(), v.end(),
                      [](const Candidate& a, const Candidate& b) {
                        return a.start == b.start && a.format == b.format;
                      }),
          v.end());
}

}  // namespace

std::vector<Candidate> start_candidates(Bytes blob) {
  std::vector<Candidate> out;
  const auto& formats = all_formats();
  for (std::uint32_t rank = 0; rank < formats.size(); ++rank)
    for (const Magic& m : formats[rank]->magics)
      if (starts_with(blob, m.bytes, m.at)) {
        out.push_back({0, formats[rank], rank});
        break;
      }
  return out;
}

std::vector<Candidate> find_candidates(Bytes blob, std::uint64_t cap_per_magic,
                                       std::vector<CandidateCap>& capped) {
  capped.clear();
  const MagicDb& db = magic_db();
  std::vector<Candidate> out = start_candidates(blob);
  thread_local struct ScratchHolder {
    hs_scratch_t* s = nullptr;
    ~ScratchHolder() { hs_free_scratch(s); }
  } scratch;
  if (hs_alloc_scratch(db.db(), &scratch.s) != HS_SUCCESS)
    throw std::runtime_error("vectorscan: cannot allocate scratch");
  ScanState st{&db, blob, 0, &out, cap_per_magic};
  st.kept.assign(db.size(), 0);
  st.dropped.assign(db.size(), {});
  // hs_scan takes an unsigned length: scan in windows that overlap by the longest magic, each
  // released from the page tables once scanned (a 1 GB blob does not stay resident).
  constexpr std::uint64_t kWindow = 64ull << 20;
  for (std::uint64_t base = 0; base < blob.size();) {
    const std::uint64_t len = std::min<std::uint64_t>(kWindow, blob.size() - base);
    st.base = base;
    hs_scan(db.db(), reinterpret_cast<const char*>(blob.data() + base), unsigned(len), 0, scratch.s,
            on_match, &st);
    if (base + len >= blob.size()) break;
    MappedFile::release(sub(blob, base, len - (db.max_len() - 1)));
    base += len - (db.max_len() - 1);
  }
  for (const auto& d : st.dropped)
    if (d.format) capped.push_back(d);
  sort_unique(out);
  return out;
}

}  // namespace probity::unpacker
