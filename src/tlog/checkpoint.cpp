// C2SP tlog-checkpoint bodies and C2SP tlog-tiles resource paths.
#include <charconv>

#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity::tlog {
namespace {

std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string Checkpoint::text() const {
  std::string t = origin + "\n" + std::to_string(size) + "\n" + base64_encode(root) + "\n";
  for (const auto& e : extensions) t += e + "\n";
  return t;
}

Result<Checkpoint> parse_checkpoint(std::string_view text) {
  if (text.size() > kMaxNoteBytes) return fail("checkpoint is larger than the cap");
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) return fail("checkpoint line without newline", pos);
    lines.push_back(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  if (lines.size() < 3) return fail("checkpoint needs origin, size and root hash lines");
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) return fail("checkpoint origin is empty");
  auto size = parse_decimal(lines[1]);
  if (!size) return fail("checkpoint size is not a canonical decimal", lines[0].size() + 1);
  c.size = *size;
  auto root = base64_decode(lines[2]);
  if (!root || root->size() != 32) return fail("checkpoint root is not a base64 SHA-256 hash");
  std::copy(root->begin(), root->end(), c.root.begin());
  if (lines.size() - 3 > kMaxExtensionLines) return fail("checkpoint has too many extension lines");
  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return fail("checkpoint has an empty extension line");
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

std::string tile_path(bool entries, unsigned level, std::uint64_t index, unsigned width) {
  std::string p = entries ? "tile/entries/" : "tile/" + std::to_string(level) + "/";
  // Zero-padded 3-digit elements, all but the last prefixed with 'x'.
  std::vector<unsigned> groups;
  do {
    groups.push_back(unsigned(index % 1000));
    index /= 1000;
  } while (index > 0);
  for (std::size_t i = groups.size(); i-- > 0;) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%s%03u", i > 0 ? "x" : "", groups[i]);
    p += buf;
    if (i > 0) p += '/';
  }
  if (width < 256) p += ".p/" + std::to_string(width);
  return p;
}

std::optional<TileRef> parse_tile_path(std::string_view path) {
  const std::string_view orig = path;
  if (!path.starts_with("tile/") || path.size() > 128) return std::nullopt;
  path.remove_prefix(5);
  TileRef ref;
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto first = path.substr(0, slash);
  if (first == "entries") {
    ref.entries = true;
  } else {
    auto l = parse_decimal(first);
    if (!l || *l > 63) return std::nullopt;
    ref.level = unsigned(*l);
  }
  path.remove_prefix(slash + 1);
  // Split off ".p/W".
  if (const auto p = path.find(".p/"); p != std::string_view::npos) {
    auto w = parse_decimal(path.substr(p + 3));
    if (!w || *w < 1 || *w > 255) return std::nullopt;
    ref.width = unsigned(*w);
    path = path.substr(0, p);
  }
  std::uint64_t index = 0;
  std::size_t groups = 0;
  while (true) {
    const auto s = path.find('/');
    std::string_view g = path.substr(0, s);
    const bool last = s == std::string_view::npos;
    if (!last) {
      if (!g.starts_with('x')) return std::nullopt;
      g.remove_prefix(1);
    }
    if (g.size() != 3) return std::nullopt;
    unsigned v = 0;
    for (char c : g) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + unsigned(c - '0');
    }
    if (++groups > 7) return std::nullopt;
    if (index > (UINT64_MAX - v) / 1000) return std::nullopt;
    index = index * 1000 + v;
    if (last) break;
    path.remove_prefix(s + 1);
  }
  ref.index = index;
  // One path per tile: only the canonical form is accepted.
  if (tile_path(ref.entries, ref.level, ref.index, ref.width) != orig) return std::nullopt;
  return ref;
}

}  // namespace probity::tlog
