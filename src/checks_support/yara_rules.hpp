// Compiled YARA rules (libyara) for the known-backdoor check (internal; the unit tests use it to
// prove every bundled rule fires on its own sample).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "probity/error.hpp"

struct YR_RULES;

namespace probity::checks {

/// Seconds one file may take to scan.
inline constexpr int kYaraTimeoutSeconds = 60;

struct YaraMatch {
  std::string rule;
  std::map<std::string, std::string> meta;  ///< string and integer metas
  std::string matched;                      ///< first matched string, printable
  std::uint64_t offset = 0;
};

class YaraRules {
 public:
  /// Compiles every *.yar / *.yara file in `dirs` (missing or empty paths are skipped).
  static Result<std::shared_ptr<YaraRules>> compile(const std::vector<std::filesystem::path>& dirs);
  ~YaraRules();
  YaraRules(const YaraRules&) = delete;
  YaraRules& operator=(const YaraRules&) = delete;

  /// Thread-safe (libyara allows up to YR_MAX_THREADS concurrent scans of one YR_RULES).
  [[nodiscard]] std::vector<YaraMatch> scan(Bytes b) const;
  /// Every rule with its metas (for tests and documentation).
  [[nodiscard]] std::vector<YaraMatch> rules() const;

 private:
  YaraRules() = default;
  YR_RULES* rules_ = nullptr;
};

}  // namespace probity::checks
