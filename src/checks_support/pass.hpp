// run_checks() as a visitor of the shared per-file pass (core/file_pass.hpp): a scan reads each
// file once for inventory, identification and the checks' per-file hooks (internal).
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "core/file_pass.hpp"
#include "probity/checks.hpp"

namespace probity {

class CheckPass final : public FileVisitor {
 public:
  /// Runs every check's `prepare` (`tree` must outlive the pass).
  CheckPass(const ArtifactTree& tree, const std::filesystem::path& out_dir,
            const CheckOptions& opt);
  ~CheckPass() override;
  CheckPass(const CheckPass&) = delete;
  CheckPass& operator=(const CheckPass&) = delete;

  /// The tree's files as the checks open them.
  [[nodiscard]] const TreeFiles& files() const;
  void start(unsigned slots) override;
  /// Every check's per-file hook on file `index` (its first kMaxCheckFileBytes bytes).
  void visit(std::size_t index, Bytes bytes, unsigned slot) override;
  /// After the pass: the tree-level hooks, correlation, the findings (what run_checks returns).
  std::vector<Finding> finish(HardeningStats* stats = nullptr, Facts* facts = nullptr);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace probity
