// inventory() as a visitor of the shared per-file pass (core/file_pass.hpp), so that a scan reads
// each file once for inventory, identification and the checks (internal).
#pragma once

#include "core/file_pass.hpp"
#include "probity/inventory.hpp"

namespace probity {

class InventoryPass final : public FileVisitor {
 public:
  /// Marks every regular file "data" until the pass classifies it (`tree` must outlive the
  /// pass; the pass writes only `kind` and `elf` of the record it visits).
  explicit InventoryPass(ArtifactTree& tree);
  void visit(std::size_t index, Bytes bytes, unsigned slot) override;

 private:
  ArtifactTree& tree_;
};

}  // namespace probity
