// The unpack driver: carve a blob, extract each format through a Sink, recurse into the output,
// and account for every byte. See docs/architecture.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>

#include <fmt/format.h>

#include "probity/hash.hpp"
#include "probity/mapped_file.hpp"
#include "probity/unpack.hpp"
#include "unpack/carve.hpp"
#include "unpack/confined_writer.hpp"
#include "unpack/format.hpp"
#include "unpack/sink.hpp"

namespace probity {

const char* to_string(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDir:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kHardlink:
      return "hardlink";
    case EntryType::kCharDev:
      return "char-device";
    case EntryType::kBlockDev:
      return "block-device";
    case EntryType::kFifo:
      return "fifo";
    case EntryType::kSocket:
      return "socket";
  }
  return "file";
}

std::vector<std::string> format_ids() {
  std::vector<std::string> ids;
  for (const auto* f : unpacker::all_formats()) ids.emplace_back(f->id);
  return ids;
}

namespace unpacker {
namespace {

/// Where a blob came from.
struct BlobCtx {
  std::uint32_t container = 0;     ///< container holding the blob (0: the image)
  std::string source;              ///< blob path inside that container (image name at top)
  std::vector<OriginStep> origin;  ///< chain up to (not including) formats found in the blob
  std::uint32_t depth = 0;
};

enum class Mode { kCarve, kStartOnly };

class Driver {
 public:
  Driver(RunState& run, ConfinedDir& extracted, const UnpackOptions& opt)
      : run_(run), extracted_(extracted), opt_(opt) {}

  void process(Bytes data, const BlobCtx& ctx, Mode mode);

 private:
  void add_gap(const BlobCtx& ctx, Bytes data, std::uint64_t from, std::uint64_t to);
  void recurse(const Format& f, std::uint32_t id, const std::string& dir_name, Sink& sink,
               std::uint32_t depth, Bytes input, std::uint64_t consumed);

  RunState& run_;
  ConfinedDir& extracted_;
  const UnpackOptions& opt_;
  std::uint32_t next_id_ = 1;
};

void Driver::add_gap(const BlobCtx& ctx, Bytes data, std::uint64_t from, std::uint64_t to) {
  if (to <= from) return;
  Bytes gap = sub(data, from, to - from);
  const bool uniform =
      std::all_of(gap.begin(), gap.end(), [&](std::uint8_t c) { return c == gap[0]; });
  Region r{ctx.container,
           ctx.container ? ctx.source : std::string(),
           from,
           to - from,
           uniform ? "padding" : "",
           uniform,
           uniform ? 0.0 : entropy(gap)};
  std::lock_guard lock(run_.mu);
  run_.tree.regions.push_back(std::move(r));
}

void Driver::process(Bytes data, const BlobCtx& ctx, Mode mode) {
  if (ctx.depth >= opt_.limits.max_depth) {
    run_.warn({"cap-depth",
               fmt::format("not looked into: nesting deeper than {} (--max-depth)",
                           opt_.limits.max_depth),
               ctx.container, ctx.source, 0});
    return;
  }
  std::vector<Candidate> cands;
  if (mode == Mode::kStartOnly) {
    cands = start_candidates(data);
    bool any = false;
    // A leaf format at offset 0 (an ELF binary) says nothing new: the file is already a file.
    for (auto& c : cands)
      if (c.format->output != Output::kLeaf && c.format->probe(data)) any = true;
    if (!any) return;     // a plain file: a leaf
    mode = Mode::kCarve;  // something is at offset 0: account for the whole file
  }
  bool capped = false;
  cands = find_candidates(data, opt_.limits.max_carve_candidates, capped);
  if (capped)
    run_.warn({"cap-candidates",
               fmt::format("more than {} format candidates; the rest of the blob is not carved",
                           opt_.limits.max_carve_candidates),
               ctx.container, ctx.source, cands.empty() ? 0 : cands.back().start});

  std::uint64_t pos = 0;
  for (const Candidate& c : cands) {
    if (c.start < pos) continue;
    if (run_.total_exhausted) break;
    Bytes at = sub(data, c.start);
    std::optional<Probe> probe;
    try {
      probe = c.format->probe(at);
    } catch (const std::exception&) {
      probe.reset();
    }
    if (!probe) continue;

    const std::uint32_t id = next_id_++;
    const std::string dir_name = fmt::format("{}-{}", id, c.format->id);
    std::vector<OriginStep> origin = ctx.origin;
    origin.push_back({ctx.source, c.start, std::string(c.format->id)});

    std::optional<ConfinedDir> dir;
    if (c.format->output != Output::kLeaf) {
      auto d = ConfinedDir::create(extracted_.fd(), dir_name);
      if (!d) {
        run_.warn({"write-refused", d.error().message, ctx.container, ctx.source, c.start});
        continue;
      }
      dir.emplace(std::move(*d));
    }
    Sink sink(run_, id, dir ? &*dir : nullptr, "extracted/" + dir_name, origin);
    Result<std::uint64_t> r = fail("not run");
    try {
      r = c.format->extract(at, sink);
    } catch (const std::bad_alloc&) {
      r = fail("out of memory while extracting (hostile sizes?)");
    } catch (const std::exception& e) {
      r = fail(std::string("internal error: ") + e.what());
    }
    std::uint64_t consumed = r ? *r : r.error().offset;
    if (consumed == 0) consumed = probe->length;
    consumed = std::min<std::uint64_t>(consumed, at.size());
    const bool produced = !sink.records().empty();
    if (!r) {
      run_.warn({"format-error",
                 fmt::format("{} at 0x{:x}: {}", c.format->id, c.start, r.error().message),
                 ctx.container, ctx.source, c.start + r.error().offset});
    }
    if (consumed == 0 && !produced) {
      // A magic that did not pan out: not a container; leave no empty directory behind.
      if (dir) unlinkat(extracted_.fd(), dir_name.c_str(), AT_REMOVEDIR);
      continue;
    }
    Container cont;
    cont.id = id;
    cont.parent = ctx.container;
    cont.source = ctx.container ? ctx.source : std::string();
    cont.offset = c.start;
    cont.length = consumed;
    cont.format = std::string(c.format->id);
    cont.description = sink.description().empty() ? probe->description : sink.description();
    cont.dir = dir ? "extracted/" + dir_name : std::string();
    cont.depth = ctx.depth + 1;
    cont.complete = bool(r);
    {
      std::lock_guard lock(run_.mu);
      run_.tree.containers.push_back(cont);
    }
    if (consumed > 0) {
      add_gap(ctx, data, pos, c.start);
      Region reg{ctx.container,
                 ctx.container ? ctx.source : std::string(),
                 c.start,
                 consumed,
                 std::string(c.format->id),
                 true,
                 entropy(sub(at, 0, std::min<std::uint64_t>(consumed, 1 << 20)))};
      {
        std::lock_guard lock(run_.mu);
        run_.tree.regions.push_back(std::move(reg));
      }
      pos = c.start + consumed;
    }
    if (dir) recurse(*c.format, id, dir_name, sink, ctx.depth + 1, at, consumed);
  }
  add_gap(ctx, data, pos, data.size());
}

void Driver::recurse(const Format& f, std::uint32_t id, const std::string& dir_name, Sink& sink,
                     std::uint32_t depth, Bytes input, std::uint64_t consumed) {
  const Mode mode = (f.output == Output::kStream || opt_.deep) ? Mode::kCarve : Mode::kStartOnly;
  for (std::size_t idx : sink.records()) {
    FileRecord rec;
    {
      std::lock_guard lock(run_.mu);
      rec = run_.tree.files[idx];
    }
    if (rec.type != EntryType::kFile || rec.extracted.empty() || rec.size == 0) continue;
    auto fd = extracted_.open_read(dir_name + "/" + rec.path);
    if (!fd) continue;
    auto m = MappedFile::from_fd(*fd, rec.path);
    if (!m) continue;
    // A format that re-emits its input (fdt writes the dtb it parsed) would find itself again in
    // that output, down to the depth cap: an output that repeats the bytes the container starts
    // with (at least the span it claimed) is not looked into. memcmp stops at the first difference.
    if (m->size() >= consumed && m->size() <= input.size() &&
        std::memcmp(m->bytes().data(), input.data(), m->size()) == 0)
      continue;
    BlobCtx child{id, rec.path, rec.origin, depth};
    process(m->bytes(), child, mode);
  }
}

}  // namespace
}  // namespace unpacker

Result<ArtifactTree> unpack(const std::filesystem::path& image,
                            const std::filesystem::path& out_dir, const UnpackOptions& options) {
  namespace fs = std::filesystem;
  const auto t0 = std::chrono::steady_clock::now();
  auto m = MappedFile::open(image);
  if (!m) return std::unexpected(m.error());

  std::error_code ec;
  if (fs::exists(out_dir, ec) && !fs::is_empty(out_dir, ec))
    return fail("output directory is not empty (choose a new --out directory)", 0,
                out_dir.string());
  fs::create_directories(out_dir, ec);
  if (ec) return fail("cannot create output directory: " + ec.message(), 0, out_dir.string());
  auto root = unpacker::ConfinedDir::open(out_dir.string());
  if (!root) return std::unexpected(root.error());
  auto extracted = unpacker::ConfinedDir::create(root->fd(), "extracted");
  if (!extracted) return std::unexpected(extracted.error());

  unpacker::RunState run(options.limits, options.progress);
  run.tree.limits = options.limits;
  run.tree.image.path = image.string();
  run.tree.image.name = image.filename().string();
  run.tree.image.size = m->size();
  run.tree.image.sha256 = sha256_hex(m->bytes());

  if (m->size() == 0)
    run.warn({"empty-input", "the image is empty (0 bytes): nothing to unpack", 0,
              run.tree.image.name, 0});
  unpacker::Driver driver(run, *extracted, options);
  unpacker::BlobCtx top{0, run.tree.image.name, {}, 0};
  driver.process(m->bytes(), top, unpacker::Mode::kCarve);

  ArtifactTree tree = std::move(run.tree);
  std::sort(tree.regions.begin(), tree.regions.end(), [](const Region& a, const Region& b) {
    return std::tie(a.container, a.source, a.offset) < std::tie(b.container, b.source, b.offset);
  });
  tree.coverage.bytes = tree.image.size;
  for (const Region& r : tree.regions)
    if (r.container == 0 && r.understood) tree.coverage.understood += r.size;
  for (const FileRecord& f : tree.files) {
    if (f.type == EntryType::kFile) ++tree.stats.files;
    ++tree.stats.entries;
  }
  tree.stats.bytes_written = run.total_bytes.load();
  tree.stats.elapsed_ms = std::uint64_t(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  return tree;
}

}  // namespace probity
