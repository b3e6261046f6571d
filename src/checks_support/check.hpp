// The check plugin interface (internal). A check is one file in src/checks/ defining
// `const Check kCheck_<id>` and one line PROBITY_CHECK(<id>) in src/checks/checks.def.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "checks_support/elf_info.hpp"
#include "core/bytes.hpp"
#include "probity/checks.hpp"
#include "probity/tree_files.hpp"

namespace probity::checks {

/// One regular file, read once (mapped) and shared by every check's `on_file`.
class FileView {
 public:
  /// `kind` is the inventory's kind (classified here when the tree was not inventoried).
  FileView(const FileRecord& rec, std::string location, Bytes bytes, std::string kind)
      : rec_(rec), location_(std::move(location)), bytes_(bytes), kind_(std::move(kind)) {}
  ~FileView();
  FileView(const FileView&) = delete;
  FileView& operator=(const FileView&) = delete;

  [[nodiscard]] const FileRecord& rec() const { return rec_; }
  [[nodiscard]] const std::string& path() const { return rec_.path; }
  [[nodiscard]] const std::string& location() const { return location_; }
  [[nodiscard]] Bytes bytes() const { return bytes_; }
  [[nodiscard]] std::string_view text() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  /// kind is "text" or "script" (line-oriented configuration and code).
  /// elf, script, text, certificate, private-key, archive, filesystem, data (inventory.hpp).
  [[nodiscard]] const std::string& kind() const { return kind_; }
  [[nodiscard]] bool is_text() const { return kind_ == "text" || kind_ == "script"; }
  [[nodiscard]] bool is_elf() const { return kind_ == "elf"; }
  /// ELF facts parsed on first use and shared by the checks (nullptr when not a valid ELF).
  const ElfInfo* elf() const;

 private:
  const FileRecord& rec_;
  std::string location_;
  Bytes bytes_;
  std::string kind_;
  mutable bool elf_done_ = false;
  mutable std::unique_ptr<ElfInfo> elf_;
};

/// Shared, read-only state of one run plus the few accumulators the checks share.
struct Context {
  const ArtifactTree& tree;
  const std::filesystem::path& out_dir;
  const CheckOptions& opt;
  std::filesystem::path data_dir;
  TreeFiles files;  ///< out_dir, opened once: every read resolves inside the file's container

  /// Filled by the hardening check's per-file hook (hence mutable: hooks get a const Context).
  mutable std::mutex stats_mutex;
  mutable HardeningStats stats;
  /// Facts for report.json (accounts, services, endpoints, keys, hardening), also filled from
  /// concurrent hooks: add them under facts_mutex.
  mutable std::mutex facts_mutex;
  mutable Facts facts;

  /// Normalised location of tree.files[i] (see normalised_location).
  std::vector<std::string> locations;

  /// Regular files whose path is `suffix` or ends with "/" + suffix (e.g. "etc/passwd").
  [[nodiscard]] std::vector<const FileRecord*> find(std::string_view suffix) const;
  /// Reads a (small) regular file of the tree: at most `cap` bytes, O_NOFOLLOW.
  [[nodiscard]] std::optional<std::string> read(const FileRecord& f,
                                                std::uint64_t cap = kMaxConfigBytes) const;
  [[nodiscard]] const std::string& location(const FileRecord& f) const;
};

/// Where a check puts its findings (one per worker thread; merged at the end).
class Emitter {
 public:
  /// Adds a finding; `evidence_key` feeds the stable id together with rule and location.
  Finding& add(std::string_view rule, std::string_view category, Severity severity,
               const FileRecord& file, const std::string& location, std::string message,
               std::string_view evidence_key, std::string excerpt = {}, std::uint64_t offset = 0);
  /// An info finding that a per-file cap was reached (hostile input: caps are never silent).
  void cap_hit(const FileView& f, std::string_view category, std::string_view cap,
               std::uint64_t value);
  void cap_hit(const FileRecord& file, const std::string& location, std::string_view category,
               std::string_view cap, std::uint64_t value);
  /// A finding about the image as a whole (no file).
  Finding& add_image(std::string_view rule, std::string_view category, Severity severity,
                     std::string message, std::string_view evidence_key);
  std::vector<Finding> findings;
};

/// A registered check. Hooks left null are skipped.
struct Check {
  std::string_view id;           ///< = file name in src/checks/
  std::string_view category;     ///< main category of its findings
  std::string_view description;  ///< one line, for docs and --list
  /// Once per run before any file: builds state shared by all threads (e.g. compiled rules).
  std::shared_ptr<void> (*prepare)(Context&) = nullptr;
  /// Per regular file, called concurrently from several threads.
  void (*on_file)(const Context&, void* state, const FileView&, Emitter&) = nullptr;
  /// After all files, once, for checks that look at several files together.
  void (*on_tree)(Context&, void* state, Emitter&) = nullptr;
  /// Last, with every finding of the run (correlation may merge or rewrite findings).
  void (*on_findings)(const Context&, std::vector<Finding>&) = nullptr;
};

#define PROBITY_CHECK(id) extern const Check kCheck_##id;
#include "checks/checks.def"
#undef PROBITY_CHECK

/// Every registered check, in checks.def order.
const std::vector<const Check*>& all_checks();

}  // namespace probity::checks
