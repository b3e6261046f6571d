#include "checks_support/literals.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "checks_support/text.hpp"

namespace probity::checks {
namespace {

struct Scratch {
  hs_scratch_t* s = nullptr;
  ~Scratch() {
    if (s) hs_free_scratch(s);
  }
};

struct Ctx {
  const std::function<bool(unsigned, std::uint64_t)>* fn;
};

int on_match(unsigned id, unsigned long long, unsigned long long to, unsigned, void* user) {
  auto* c = static_cast<Ctx*>(user);
  return (*c->fn)(id, to) ? 0 : 1;
}

bool printable(std::uint8_t c) {
  return (c >= 0x20 && c < 0x7f) || c == '\t';
}

}  // namespace

Literals::Literals(const std::vector<std::string>& words, bool single) {
  std::vector<std::string> escaped;
  for (const auto& w : words) {
    std::string e;
    for (char c : w) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      e += buf;
    }
    escaped.push_back(e);
  }
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  for (unsigned i = 0; i < escaped.size(); ++i) {
    exprs.push_back(escaped[i].c_str());
    flags.push_back(HS_FLAG_CASELESS | (single ? HS_FLAG_SINGLEMATCH : 0));
    ids.push_back(i);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), unsigned(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    if (err) hs_free_compile_error(err);
    return;
  }
  db_ = db;
}

Literals::~Literals() {
  if (db_) hs_free_database(static_cast<hs_database_t*>(db_));
}

void Literals::scan(Bytes b, const std::function<bool(unsigned, std::uint64_t)>& fn) const {
  if (!db_ || b.empty()) return;
  auto* db = static_cast<hs_database_t*>(db_);
  thread_local Scratch tls;
  if (hs_alloc_scratch(db, &tls.s) != HS_SUCCESS) return;
  Ctx c{&fn};
  // Files are capped at kMaxCheckFileBytes (256 MiB), well inside hs_scan's 32-bit length.
  hs_scan(db, reinterpret_cast<const char*>(b.data()),
          unsigned(std::min<std::size_t>(b.size(), UINT32_MAX)), 0, tls.s, on_match, &c);
}

std::string_view string_around(Bytes b, std::uint64_t at, std::uint64_t* start) {
  if (at > b.size()) at = b.size();
  std::uint64_t s = at, e = at;
  while (s > 0 && at - s < kMaxStringLength && printable(b[s - 1])) --s;
  while (e < b.size() && e - s < kMaxStringLength && printable(b[e])) ++e;
  if (start) *start = s;
  return {reinterpret_cast<const char*>(b.data() + s), std::size_t(e - s)};
}

}  // namespace probity::checks
