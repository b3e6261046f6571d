// A bounds-checked parser for flattened device trees (the "dtb" format, also the container of
// U-Boot FIT images), shared by the fdt and fit formats. Property values stay spans into the
// input: nothing is copied, so an embedded kernel costs nothing to parse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "probity/limits.hpp"

namespace probity::unpacker::fdt {

inline constexpr std::uint32_t kMagic = 0xd00dfeed;
inline constexpr std::uint32_t kHeaderBytes = 40;

struct Header {
  std::uint32_t totalsize = 0;
  std::uint32_t off_struct = 0;
  std::uint32_t off_strings = 0;
  std::uint32_t off_rsvmap = 0;
  std::uint32_t version = 0;
  std::uint32_t last_comp_version = 0;
  std::uint32_t boot_cpuid = 0;
  std::uint32_t size_strings = 0;
  std::uint32_t size_struct = 0;
};

/// Validates the 40-byte header without trusting `totalsize` against the data length: offsets
/// and sizes must be consistent with `totalsize` itself.
std::optional<Header> parse_header(Bytes d);

struct Property {
  std::string_view name;     ///< points into the strings block
  Bytes value;               ///< points into the structure block
  std::uint64_t offset = 0;  ///< of the value, from the start of the blob
};

struct Node {
  std::string name;  ///< "" for the root
  std::uint32_t parent = 0;
  std::uint32_t depth = 0;
  std::vector<Property> props;
  std::vector<std::uint32_t> children;

  [[nodiscard]] const Property* prop(std::string_view n) const;
  /// The first string of a string property, or "" (also when not NUL-terminated).
  [[nodiscard]] std::string str(std::string_view n) const;
  [[nodiscard]] std::optional<std::uint32_t> u32(std::string_view n) const;
};

struct Reservation {
  std::uint64_t address = 0, size = 0;
};

struct Tree {
  Header header;
  std::vector<Node> nodes;  ///< nodes[0] is the root once anything parsed
  std::vector<Reservation> reservations;
  std::string error;  ///< non-empty when parsing stopped early; `nodes` keeps what was read
  std::uint64_t error_offset = 0;

  /// A child of `parent` by name ("images"), or nullptr.
  [[nodiscard]] const Node* child(const Node& parent, std::string_view name) const;
  /// A node by absolute path ("/images"), or nullptr.
  [[nodiscard]] const Node* find(std::string_view path) const;
};

/// Parses header, reservation map and structure block. nullopt when the header is invalid;
/// otherwise a tree, possibly partial (see Tree::error). `data` may be shorter than totalsize.
std::optional<Tree> parse(Bytes data);

/// True when the value is one or more printable NUL-terminated strings.
bool is_printable_strings(Bytes v);

/// Decompiles to .dts source text. Values larger than `max_value` bytes are elided (a comment
/// gives their size and offset).
std::string to_dts(const Tree& t, std::uint64_t max_value);

}  // namespace probity::unpacker::fdt
