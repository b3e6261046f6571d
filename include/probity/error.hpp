// Result and Error: how every parser of untrusted bytes reports failure.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <utility>

namespace probity {

/// What went wrong, where: every user-facing error names the file and the byte offset.
struct Error {
  std::string message;       ///< what was wrong, and what to do about it where that is known
  std::string file;          ///< the file or entry the error is about ("" when not known)
  std::uint64_t offset = 0;  ///< byte offset in `file` (or in the blob being parsed)
  std::string code;          ///< stable machine code when one applies (cap-ratio, cap-total, ...)

  /// "file@0x1234: message" (or just the message when no file is known).
  [[nodiscard]] std::string to_string() const;
};

/// `std::expected<T, Error>`: parsing untrusted bytes never throws.
template <class T>
using Result = std::expected<T, Error>;

/// Result of an operation that yields nothing on success.
using Status = std::expected<void, Error>;

/// An Error with a stable code (the caps use these so the manifest can name which cap was hit).
inline std::unexpected<Error> fail_code(std::string code, std::string message,
                                        std::uint64_t offset = 0) {
  return std::unexpected<Error>(Error{std::move(message), {}, offset, std::move(code)});
}

/// Re-raises `e` with a new offset (keeps its message and code).
inline std::unexpected<Error> fail_at(Error e, std::uint64_t offset) {
  e.offset = offset;
  return std::unexpected<Error>(std::move(e));
}

/// Builds the unexpected value: `return fail("bad magic", off);`.
inline std::unexpected<Error> fail(std::string message, std::uint64_t offset = 0,
                                   std::string file = {}) {
  return std::unexpected<Error>(Error{std::move(message), std::move(file), offset});
}

}  // namespace probity
