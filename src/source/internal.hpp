// Internal parts of `probity source` shared by src/source/*.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "probity/report.hpp"
#include "probity/source.hpp"

namespace probity {
class TaskPool;
class TreeFiles;
}  // namespace probity

namespace probity::source_detail {

/// A finding of the AST checks, before it becomes a Finding.
struct CodeHit {
  std::string rule;
  std::string category;
  Severity severity = Severity::kMedium;
  std::uint32_t line = 0;
  std::string excerpt;
  std::string message;
};

struct ParseOutcome {
  bool parsed = false;  ///< libclang produced a translation unit
  unsigned errors = 0;  ///< error and fatal diagnostics (missing headers of an unconfigured tree)
  std::string first_error;  ///< the first of them, "line: text"
  std::vector<CodeHit> hits;
};

/// C/C++ by file name (.c, .h, .cc, .cpp, .cxx, .hpp, .hh).
bool is_c_file(std::string_view rel_path);
/// Whether the text holds a token every AST check needs (a comparison function, bind/listen,
/// exec or an access-granting name); files without one are not parsed by policy.
bool worth_parsing(std::string_view text);

/// One libclang index per thread (an index is not shared between threads).
class ClangParser {
 public:
  ClangParser();
  ~ClangParser();
  ClangParser(const ClangParser&) = delete;
  ClangParser& operator=(const ClangParser&) = delete;
  /// Parses `file` (inside the tree `root`, whose top and include/ directories are searched for
  /// headers) and runs the AST checks on the code of that file.
  ParseOutcome parse(const std::filesystem::path& root, const std::filesystem::path& file);

 private:
  void* index_ = nullptr;
};

/// `probity source --image/--scan`: maps every ELF of the image to the tree `tree_files`
/// (read through `tree`) and returns the findings (unexplained strings, symbols, compile units;
/// binaries without source origin); fills result.binaries, result.skipped and the stats. An
/// image whose understood share is below `min_coverage` makes the run inconclusive.
std::vector<Finding> explain_binaries(const SourceOptions& opt, const std::filesystem::path& root,
                                      const std::vector<FileRecord>& tree_files,
                                      const TreeFiles& tree, TaskPool& pool, double min_coverage,
                                      SourceResult& result);

/// What text `b` has that `a` does not, from a line diff: the first differing line of `b`
/// (1-based, 0 when equal), the lines only `b` has (their text, capped) and the count of lines
/// only `a` has.
struct LineDelta {
  std::uint32_t first = 0;
  std::uint32_t added = 0, removed = 0;
  std::string added_text;
};
LineDelta line_delta(std::string_view a, std::string_view b, const std::string& name_a,
                     const std::string& name_b);

/// Regenerates the tree's configure (Autoconf) and Makefile.in files (Automake) in a sandbox
/// on a copy in `scratch` when this machine has the releases their headers name, and compares
/// them with the shipped ones: a `generated-file-differs` hit per differing file (line: the
/// first differing line of the shipped file). `compared` lists the files checked; `skipped`
/// what could not be (generator-unavailable does not count, regenerate-failed does).
std::vector<CodeHit> regenerate_and_compare(
    const std::filesystem::path& root, const std::vector<FileRecord>& files, const TreeFiles& tree,
    const std::filesystem::path& scratch, std::vector<std::string>& compared,
    std::vector<SourceSkip>& skipped, std::vector<std::string>& hit_paths);

}  // namespace probity::source_detail
