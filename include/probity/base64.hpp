// The one base64 (RFC 4648 section 4, standard alphabet) of the project: the transparency log
// (strict: one value, one text), DSSE envelopes (URL-safe alphabet and missing padding
// accepted) and the key checks (PEM bodies and authorized_keys fields, whitespace ignored).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace probity {

enum class Base64Mode {
  /// Standard alphabet, padding required, no whitespace, no stray bits in the padding.
  kStrict,
  /// kStrict, also accepting the URL-safe alphabet (-_) and, in it, missing padding (DSSE).
  kUrlOk,
  /// Whitespace ignored, padding optional, decoding stops at the first '=' (PEM bodies,
  /// authorized_keys): what a tolerant reader of a device's key files needs.
  kLenient,
};

/// Standard alphabet; with `pad` the output is a multiple of 4 characters.
std::string base64_encode(std::span<const std::uint8_t> bytes, bool pad = true);
/// The bytes of `text`, or nullopt when it is not base64 in that mode.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text,
                                                       Base64Mode mode = Base64Mode::kStrict);

}  // namespace probity
