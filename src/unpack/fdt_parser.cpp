#include "unpack/fdt_parser.hpp"
#include "probity/limits.hpp"

#include <fmt/format.h>

namespace probity::unpacker::fdt {
namespace {

constexpr std::uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;

std::uint64_t align4(std::uint64_t v) {
  return (v + 3) & ~std::uint64_t(3);
}

/// A NUL-terminated string of at most `max` bytes at `off` of `b`; nullopt when unterminated.
std::optional<std::string_view> terminated(Bytes b, std::uint64_t off, std::size_t max) {
  for (std::uint64_t i = 0; i <= max && off + i < b.size(); ++i)
    if (b[off + i] == 0)
      return std::string_view(reinterpret_cast<const char*>(b.data() + off), std::size_t(i));
  return std::nullopt;
}

}  // namespace

std::optional<Header> parse_header(Bytes d) {
  if (d.size() < kHeaderBytes || read_be<std::uint32_t>(d, 0) != kMagic) return std::nullopt;
  Header h;
  h.totalsize = *read_be<std::uint32_t>(d, 4);
  h.off_struct = *read_be<std::uint32_t>(d, 8);
  h.off_strings = *read_be<std::uint32_t>(d, 12);
  h.off_rsvmap = *read_be<std::uint32_t>(d, 16);
  h.version = *read_be<std::uint32_t>(d, 20);
  h.last_comp_version = *read_be<std::uint32_t>(d, 24);
  h.boot_cpuid = *read_be<std::uint32_t>(d, 28);
  h.size_strings = *read_be<std::uint32_t>(d, 32);
  h.size_struct = *read_be<std::uint32_t>(d, 36);
  const std::uint64_t total = h.totalsize;
  if (total < kHeaderBytes || h.version < 16 || h.version > 32 || h.last_comp_version > 17)
    return std::nullopt;
  if (h.off_rsvmap < kHeaderBytes || h.off_rsvmap % 8 || h.off_rsvmap >= total) return std::nullopt;
  if (h.off_struct < kHeaderBytes || h.off_struct % 4 || h.off_struct >= total) return std::nullopt;
  if (h.version < 17) h.size_struct = std::uint32_t(total - h.off_struct);
  if (std::uint64_t(h.off_struct) + h.size_struct > total) return std::nullopt;
  if (h.off_strings < kHeaderBytes || std::uint64_t(h.off_strings) + h.size_strings > total)
    return std::nullopt;
  return h;
}

const Property* Node::prop(std::string_view n) const {
  for (const Property& p : props)
    if (p.name == n) return &p;
  return nullptr;
}

std::string Node::str(std::string_view n) const {
  const Property* p = prop(n);
  if (!p) return {};
  std::string s;
  for (std::size_t i = 0; i < p->value.size() && i < kMaxFdtStringBytes && p->value[i]; ++i)
    s.push_back(static_cast<char>(p->value[i]));
  return s;
}

std::optional<std::uint32_t> Node::u32(std::string_view n) const {
  const Property* p = prop(n);
  if (!p || p->value.size() != 4) return std::nullopt;
  return read_be<std::uint32_t>(p->value, 0);
}

const Node* Tree::child(const Node& parent, std::string_view name) const {
  for (std::uint32_t c : parent.children)
    if (nodes[c].name == name) return &nodes[c];
  return nullptr;
}

const Node* Tree::find(std::string_view path) const {
  if (nodes.empty()) return nullptr;
  const Node* n = &nodes[0];
  while (!path.empty()) {
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (path.empty()) break;
    const auto slash = path.find('/');
    n = child(*n, path.substr(0, slash));
    if (!n) return nullptr;
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return n;
}

std::optional<Tree> parse(Bytes data) {
  auto h = parse_header(data);
  if (!h) return std::nullopt;
  Tree t;
  t.header = *h;
  auto stop = [&](std::string msg, std::uint64_t off) {
    t.error = std::move(msg);
    t.error_offset = off;
    return std::optional<Tree>(std::move(t));
  };

  for (std::uint64_t off = h->off_rsvmap;; off += 16) {
    auto a = read_be<std::uint64_t>(data, off), s = read_be<std::uint64_t>(data, off + 8);
    if (!a || !s || off + 16 > h->totalsize) return stop("memory reservation map truncated", off);
    if (*a == 0 && *s == 0) break;
    if (t.reservations.size() >= kMaxFdtReservations)
      return stop(fmt::format("more than {} memory reservations", kMaxFdtReservations), off);
    t.reservations.push_back({*a, *s});
  }

  const Bytes block = sub(data, h->off_struct, h->size_struct);
  const Bytes strings = sub(data, h->off_strings, h->size_strings);
  std::vector<std::uint32_t> stack;
  std::uint64_t props = 0;
  bool root_done = false;
  for (std::uint64_t pos = 0;;) {
    const std::uint64_t abs = h->off_struct + pos;
    auto tok = read_be<std::uint32_t>(block, pos);
    if (!tok)
      return stop(block.size() < h->size_struct ? "structure block truncated"
                                                : "structure block ends without FDT_END",
                  abs);
    pos += 4;
    switch (*tok) {
      case kBeginNode: {
        if (root_done) return stop("a second root node", abs);
        auto name = terminated(block, pos, kMaxFdtNameBytes);
        if (!name) return stop("node name unterminated or too long", abs);
        if (t.nodes.size() >= kMaxFdtNodes)
          return stop(fmt::format("more than {} nodes", kMaxFdtNodes), abs);
        if (stack.size() >= kMaxFdtDepth)
          return stop(fmt::format("nodes nested deeper than {}", kMaxFdtDepth), abs);
        Node n;
        n.name = std::string(*name);
        n.depth = std::uint32_t(stack.size());
        const auto idx = std::uint32_t(t.nodes.size());
        if (!stack.empty()) {
          n.parent = stack.back();
          t.nodes[stack.back()].children.push_back(idx);
        }
        t.nodes.push_back(std::move(n));
        stack.push_back(idx);
        pos = align4(pos + name->size() + 1);
        break;
      }
      case kEndNode:
        if (stack.empty()) return stop("FDT_END_NODE without a node", abs);
        stack.pop_back();
        if (stack.empty()) root_done = true;
        break;
      case kProp: {
        if (stack.empty()) return stop("property outside any node", abs);
        auto len = read_be<std::uint32_t>(block, pos);
        auto nameoff = read_be<std::uint32_t>(block, pos + 4);
        if (!len || !nameoff) return stop("property header truncated", abs);
        if (*len > kMaxFdtPropBytes) return stop("property larger than the cap", abs);
        if (pos + 8 + *len > block.size()) return stop("property value truncated", abs);
        auto name = terminated(strings, *nameoff, kMaxFdtNameBytes);
        if (!name) return stop("property name outside the strings block", abs);
        if (++props > kMaxFdtProps)
          return stop(fmt::format("more than {} properties", kMaxFdtProps), abs);
        t.nodes[stack.back()].props.push_back(
            Property{*name, block.subspan(pos + 8, *len), h->off_struct + pos + 8});
        pos = align4(pos + 8 + *len);
        break;
      }
      case kNop:
        break;
      case kEnd:
        if (!stack.empty()) return stop("FDT_END inside a node", abs);
        if (!root_done) return stop("no root node", abs);
        return t;
      default:
        return stop(fmt::format("unknown structure token 0x{:x}", *tok), abs);
    }
  }
}

bool is_printable_strings(Bytes v) {
  if (v.empty() || v.back() != 0) return false;
  bool at_start = true;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto c = v[i];
    if (c == 0) {
      if (at_start) return false;  // empty string (or doubled NUL): binary
      at_start = true;
    } else {
      if (c < 0x20 || c > 0x7e) return false;
      at_start = false;
    }
  }
  return true;
}

namespace {

std::string printable_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u < 0x7f && c != '{' && c != '}' && c != ';')
      out.push_back(c);
    else
      out += fmt::format("\\x{:02x}", u);
  }
  return out;
}

void value_text(std::string& out, const Property& p, std::uint64_t max_value) {
  const Bytes v = p.value;
  if (v.empty()) return;
  if (v.size() > max_value) {
    out += fmt::format(" = /* {} bytes at offset 0x{:x} elided */ [ ]", v.size(), p.offset);
    return;
  }
  if (is_printable_strings(v)) {
    out += " = \"";
    for (std::size_t i = 0; i + 1 < v.size(); ++i) {
      const char c = static_cast<char>(v[i]);
      if (c == 0)
        out += "\", \"";
      else if (c == '"' || c == '\\')
        out += std::string("\\") + c;
      else
        out.push_back(c);
    }
    out += "\"";
  } else if (v.size() % 4 == 0) {
    out += " = <";
    for (std::size_t i = 0; i < v.size(); i += 4)
      out += fmt::format("{}0x{:x}", i ? " " : "", *read_be<std::uint32_t>(v, i));
    out += ">";
  } else {
    out += " = [";
    for (std::size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{:02x}", i ? " " : "", v[i]);
    out += "]";
  }
}

void node_text(std::string& out, const Tree& t, std::uint32_t idx, std::uint64_t max_value) {
  const Node& n = t.nodes[idx];
  const std::string indent(n.depth, '\t');
  out += indent + (idx == 0 ? std::string("/") : printable_name(n.name)) + " {\n";
  for (const Property& p : n.props) {
    out += indent + "\t" + printable_name(p.name);
    value_text(out, p, max_value);
    out += ";\n";
  }
  for (std::uint32_t c : n.children) {
    out += "\n";
    node_text(out, t, c, max_value);
  }
  out += indent + "};\n";
}

}  // namespace

std::string to_dts(const Tree& t, std::uint64_t max_value) {
  std::string out = "/dts-v1/;\n\n";
  for (const Reservation& r : t.reservations)
    out += fmt::format("/memreserve/ 0x{:x} 0x{:x};\n", r.address, r.size);
  if (!t.reservations.empty()) out += "\n";
  if (!t.nodes.empty()) node_text(out, t, 0, max_value);
  if (!t.error.empty())
    out += fmt::format("\n/* parsing stopped at offset 0x{:x}: {} */\n", t.error_offset, t.error);
  return out;
}

}  // namespace probity::unpacker::fdt
