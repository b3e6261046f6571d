// Line diff for text files and byte-range diff for everything else.
// Why by hand: Debian's one C++ diff library, dtl (libdtl-dev, header-only, Wu's O(NP)), has no
// way to bound its time on hostile input (two unrelated 1 MiB texts), and writes its unified
// format to streams without hunk caps. An LCS over the changed middle, after trimming the common
// prefix and suffix, is short, bounded by kMaxLcsCells (beyond it the middle is one replaced
// hunk) and tested against GNU diff --minimal (tests/unit/equiv_test.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "probity/equiv.hpp"

namespace probity {
namespace {

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto nl = s.find('\n', start);
    if (nl == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// One edit script entry: ' ' keep, '-' delete from a, '+' insert from b.
struct Op {
  char op;
  std::size_t ia, ib;
};

std::vector<Op> edit_script(const std::vector<std::string_view>& a,
                            const std::vector<std::string_view>& b) {
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
    ++suf;
  const std::size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<Op> ops;
  for (std::size_t i = 0; i < pre; ++i) ops.push_back({' ', i, i});
  if (std::uint64_t(n + 1) * (m + 1) <= kMaxLcsCells) {
    // lcs[i][j]: LCS length of a[pre+i..pre+n) and b[pre+j..pre+m).
    std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
    for (std::size_t i = n; i-- > 0;)
      for (std::size_t j = m; j-- > 0;)
        at(i, j) =
            a[pre + i] == b[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        ops.push_back({' ', pre + i++, pre + j++});
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        ops.push_back({'-', pre + i++, pre + j});  // deletions first, as diff -u prints them
      } else {
        ops.push_back({'+', pre + i, pre + j++});
      }
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) ops.push_back({'-', pre + i, pre});
    for (std::size_t j = 0; j < m; ++j) ops.push_back({'+', pre + n, pre + j});
  }
  for (std::size_t k = 0; k < suf; ++k) ops.push_back({' ', pre + n + k, pre + m + k});
  return ops;
}

}  // namespace

std::string unified_line_diff(std::string_view a, std::string_view b, const std::string& name_a,
                              const std::string& name_b, std::size_t max_lines) {
  if (a == b) return {};
  const auto la = split_lines(a), lb = split_lines(b);
  const auto ops = edit_script(la, lb);
  constexpr std::size_t kContext = 3;
  std::vector<std::string> lines{"--- " + name_a, "+++ " + name_b};
  std::size_t k = 0;
  while (k < ops.size()) {
    if (ops[k].op == ' ') {
      ++k;
      continue;
    }
    // A hunk: from kContext before this change to kContext after the last change that is at
    // most 2*kContext unchanged lines from the previous one.
    const std::size_t start = k >= kContext ? k - kContext : 0;
    std::size_t end = k, quiet = 0;
    for (std::size_t q = k; q < ops.size(); ++q) {
      if (ops[q].op == ' ') {
        if (++quiet > 2 * kContext) break;
      } else {
        quiet = 0;
        end = q;
      }
    }
    const std::size_t stop = std::min(ops.size(), end + 1 + kContext);
    std::size_t na = 0, nb = 0;
    for (std::size_t q = start; q < stop; ++q) {
      if (ops[q].op != '+') ++na;
      if (ops[q].op != '-') ++nb;
    }
    const std::size_t sa = ops[start].ia + (na ? 1 : 0), sb = ops[start].ib + (nb ? 1 : 0);
    lines.push_back(fmt::format("@@ -{},{} +{},{} @@", sa, na, sb, nb));
    for (std::size_t q = start; q < stop; ++q) {
      const auto& o = ops[q];
      const auto text = o.op == '+' ? lb[o.ib] : la[o.ia];
      lines.push_back(fmt::format("{}{}", o.op, text));
    }
    k = stop;
  }
  std::string out;
  const std::size_t keep = std::min(lines.size(), max_lines);
  for (std::size_t i = 0; i < keep; ++i) out += lines[i] + "\n";
  if (keep < lines.size()) out += fmt::format("... {} more lines\n", lines.size() - keep);
  return out;
}

std::string hexdump_diff(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                         const std::vector<ByteRange>& ranges, std::uint64_t base) {
  if (a.size() != b.size() || a.empty() || ranges.empty()) return {};
  std::set<std::uint64_t> rows;
  const std::uint64_t last = (a.size() - 1) / 16;
  for (std::size_t i = 0; i < ranges.size() && i < 4; ++i) {
    const auto& r = ranges[i];
    if (r.offset >= a.size()) continue;
    const std::uint64_t first = r.offset / 16 ? r.offset / 16 - 1 : 0;
    const std::uint64_t end =
        std::min(last, (r.offset + std::max<std::uint64_t>(r.length, 1) - 1) / 16 + 1);
    for (std::uint64_t row = first; row <= end && row < first + 8; ++row) rows.insert(row);
  }
  auto dump = [&](std::span<const std::uint8_t> x) {
    std::string out;
    for (const auto row : rows) {
      const std::uint64_t off = row * 16;
      const std::size_t n = std::min<std::size_t>(16, x.size() - off);
      std::string hex, ascii;
      for (std::size_t k = 0; k < 16; ++k) {
        hex += k < n ? fmt::format("{:02x}", x[off + k]) : "  ";
        if (k % 2) hex += ' ';
        if (k < n) ascii += x[off + k] >= 0x20 && x[off + k] < 0x7f ? char(x[off + k]) : '.';
      }
      out += fmt::format("{:08x}: {} {}\n", base + off, hex, ascii);
    }
    return out;
  };
  const auto da = dump(a), db = dump(b);
  auto d = unified_line_diff(da, db, "shipped", "rebuilt");
  // Drop the ---/+++ lines: the difference names the file.
  for (int k = 0; k < 2; ++k) d.erase(0, d.find('\n') + 1);
  return d;
}

std::vector<ByteRange> differing_ranges(std::span<const std::uint8_t> a,
                                        std::span<const std::uint8_t> b, std::size_t cap,
                                        std::uint64_t* total) {
  constexpr std::uint64_t kMergeGap = 8;
  std::vector<ByteRange> out;
  std::uint64_t count = 0;
  const std::size_t common = std::min(a.size(), b.size());
  std::size_t i = 0;
  bool open = false;
  ByteRange cur;
  auto close = [&] {
    if (!open) return;
    ++count;
    if (out.size() < cap) out.push_back(cur);
    open = false;
  };
  while (i < common) {
    // Fast skip over equal 64-byte blocks.
    if (i + 64 <= common && std::memcmp(a.data() + i, b.data() + i, 64) == 0) {
      if (open && i >= cur.offset + cur.length + kMergeGap) close();
      i += 64;
      continue;
    }
    if (a[i] != b[i]) {
      if (open && i <= cur.offset + cur.length + kMergeGap) {
        cur.length = i + 1 - cur.offset;
      } else {
        close();
        cur = {i, 1};
        open = true;
      }
    }
    ++i;
  }
  if (a.size() != b.size()) {
    const std::uint64_t end = std::max(a.size(), b.size());
    if (open && common <= cur.offset + cur.length + kMergeGap) {
      cur.length = end - cur.offset;
    } else {
      close();
      cur = {common, end - common};
      open = true;
    }
  }
  close();
  if (total) *total = count;
  return out;
}

}  // namespace probity
