// identify() as a visitor of the shared per-file pass (core/file_pass.hpp), so that a scan reads
// each file once for inventory, identification and the checks (internal).
#pragma once

#include <filesystem>
#include <memory>

#include "core/file_pass.hpp"
#include "probity/identify.hpp"

namespace probity {

class IdentifyPass final : public FileVisitor {
 public:
  /// Reads the package metadata and picks the files to scan (`tree`, `identifier` must outlive
  /// the pass; options.pool and options.threads are the caller's business).
  IdentifyPass(const ArtifactTree& tree, const std::filesystem::path& out_dir,
               const Identifier& identifier, const IdentifyOptions& options);
  ~IdentifyPass() override;
  IdentifyPass(const IdentifyPass&) = delete;
  IdentifyPass& operator=(const IdentifyPass&) = delete;

  void start(unsigned slots) override;
  void visit(std::size_t index, Bytes bytes, unsigned slot) override;
  /// After the pass: the components (what identify() returns). Call once.
  Identification finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace probity
