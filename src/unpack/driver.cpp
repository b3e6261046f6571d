// The unpack driver: carve a blob, extract each format through a Sink, recurse into the output,
// and account for every byte. See docs/architecture.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "core/enum_names.hpp"
#include "probity/hash.hpp"
#include "probity/mapped_file.hpp"
#include "probity/task_pool.hpp"
#include "probity/unpack.hpp"
#include "unpack/carve.hpp"
#include "unpack/confined_writer.hpp"
#include "unpack/format.hpp"
#include "unpack/sink.hpp"

namespace probity {

const char* to_string(EntryType t) {
  return enum_name<EntryType::kSocket>(
      t, {"file", "dir", "symlink", "hardlink", "char-device", "block-device", "fifo", "socket"},
      "file");
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

/// kCarveIfFound: a file of a tree whose name says it is a firmware image (nested_image_name):
/// carved in full when a format probes positive anywhere in it, else left a plain file.
enum class Mode { kCarve, kStartOnly, kCarveIfFound };

/// Files of a tree (an archive or filesystem) at least this large whose names end in one of
/// these extensions are carved in full without --deep (issue 10: a vendor .zip holding the .img).
/// Smaller ones (calibration data, tiny blobs) are only probed at offset 0.
constexpr std::uint64_t kNestedImageMinBytes = 64 * 1024;
constexpr std::string_view kNestedImageExtensions[] = {".img", ".bin", ".chk", ".trx", ".ubi"};

bool nested_image_name(std::string_view path) {
  const auto slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (std::string_view ext : kNestedImageExtensions) {
    if (name.size() <= ext.size()) continue;
    const std::string_view tail = name.substr(name.size() - ext.size());
    if (std::equal(tail.begin(), tail.end(), ext.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
      return true;
  }
  return false;
}

class Driver {
 public:
  Driver(RunState& run, ConfinedDir& extracted, const UnpackOptions& opt, TaskGroup& tasks)
      : run_(run), extracted_(extracted), opt_(opt), tasks_(tasks) {}

  void process(Bytes data, const BlobCtx& ctx, Mode mode);

 private:
  /// Records [from, to) of the blob as padding (one repeated byte) or not understood;
  /// `not_looked_into`: a blob not looked into at all (Region::not_looked_into).
  void add_gap(const BlobCtx& ctx, Bytes data, std::uint64_t from, std::uint64_t to,
               bool not_looked_into = false);
  void recurse(const Format& f, std::uint32_t id, const std::string& dir_name,
               const std::vector<std::size_t>& records, std::uint32_t depth,
               const std::string& self_sha);

  RunState& run_;
  ConfinedDir& extracted_;
  const UnpackOptions& opt_;
  /// Every container found becomes a task of the run's pool (independent containers, a kernel
  /// and a root filesystem, unpack at the same time).
  TaskGroup& tasks_;
  /// Ids are handed out as containers are found (in any order across threads); unpack()
  /// renumbers them canonically at the end.
  std::atomic<std::uint32_t> next_id_{1};
};

/// Gaps longer than this are split into dense (>= kEncryptedEntropy) and other runs of windows.
constexpr std::uint64_t kEntropyWindow = 64 * 1024;

void Driver::add_gap(const BlobCtx& ctx, Bytes data, std::uint64_t from, std::uint64_t to,
                     bool not_looked_into) {
  if (to <= from) return;
  Bytes gap = sub(data, from, to - from);
  const bool uniform = !not_looked_into && std::all_of(gap.begin(), gap.end(),
                                                       [&](std::uint8_t c) { return c == gap[0]; });
  auto push = [&](std::uint64_t at, std::uint64_t size, double h) {
    Region r{ctx.container,
             ctx.container ? ctx.source : std::string(),
             at,
             size,
             uniform ? "padding" : "",
             uniform,
             h,
             not_looked_into};
    std::lock_guard lock(run_.mu);
    run_.tree.regions.push_back(std::move(r));
  };
  if (uniform || not_looked_into || gap.size() <= kEntropyWindow) {
    push(from, to - from, uniform ? 0.0 : entropy(gap));
    return;
  }
  // Split by density, a window at a time: an encrypted megabyte between zeros is its own
  // dense region, not averaged away into a gap that looks like plain data.
  std::uint64_t run_from = from;
  bool run_dense = false;
  for (std::uint64_t at = from; at < to; at += kEntropyWindow) {
    const std::uint64_t n = std::min<std::uint64_t>(kEntropyWindow, to - at);
    const bool dense = n >= kMinEncryptedBytes && entropy(sub(data, at, n)) >= kEncryptedEntropy;
    if (at == from) {
      run_dense = dense;
    } else if (dense != run_dense) {
      push(run_from, at - run_from, entropy(sub(data, run_from, at - run_from)));
      run_from = at;
      run_dense = dense;
    }
  }
  push(run_from, to - run_from, entropy(sub(data, run_from, to - run_from)));
}

void Driver::process(Bytes data, const BlobCtx& ctx, Mode mode) {
  if (ctx.depth >= opt_.limits.max_depth) {
    run_.warn({"cap-depth",
               fmt::format("not looked into: nesting deeper than {} (--max-depth); its {} bytes "
                           "count as not understood",
                           opt_.limits.max_depth, data.size()),
               ctx.container, ctx.source, 0});
    // What was not looked into was not seen: the whole blob is a not-understood region, which
    // lowers the coverage of every container above it (and so the image's).
    add_gap(ctx, data, 0, data.size(), /*not_looked_into=*/true);
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
  std::vector<CandidateCap> capped;
  cands = find_candidates(data, opt_.limits.max_carve_candidates, capped);
  for (const auto& c : capped)
    run_.warn(
        {"cap-candidates",
         fmt::format("more than {} candidates for one {} magic: {} from offset 0x{:x} on "
                     "were not tried (other formats' candidates still were; "
                     "--max-candidates)",
                     opt_.limits.max_carve_candidates, c.format->id, c.dropped, c.first_dropped),
         ctx.container, ctx.source, c.first_dropped});

  // Probes are cached per candidate: a checked candidate is probed once, whether it is looked at
  // as the end of a magic-only candidate's bytes or in its own turn.
  std::vector<std::optional<std::optional<Probe>>> probed(cands.size());
  auto probe_at = [&](std::size_t i) -> const std::optional<Probe>& {
    if (!probed[i]) {
      std::optional<Probe> p;
      try {
        p = cands[i].format->probe(sub(data, cands[i].start));
      } catch (const std::exception&) {
        p.reset();
      }
      probed[i] = std::move(p);
    }
    return *probed[i];
  };
  if (mode == Mode::kCarveIfFound) {
    bool found = false;
    for (std::size_t i = 0; i < cands.size() && !found; ++i)
      found = cands[i].format->output != Output::kLeaf && probe_at(i).has_value();
    if (!found) return;  // nothing inside: a plain file, as start-only would leave it
  }
  std::size_t next_checked = 0;  // moves forward only: candidates come in offset order
  std::uint64_t pos = 0;
  for (std::size_t ci = 0; ci < cands.size(); ++ci) {
    const Candidate& c = cands[ci];
    if (c.start < pos) continue;
    if (run_.total_exhausted) break;
    Bytes at = sub(data, c.start);
    const std::optional<Probe>& probe = probe_at(ci);
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
    sink.verify_links();
    // A format that failed after a positive probe still spans what its header claims (the
    // container's length), but only what it understood before failing counts as understood and
    // hides later candidates: a fake header that claims a long span and then fails must not
    // hide a real filesystem behind it.
    std::uint64_t consumed = r ? *r : std::max(r.error().offset, probe->length);
    if (consumed == 0) consumed = probe->length;
    consumed = std::min<std::uint64_t>(consumed, at.size());
    std::uint64_t understood = r ? consumed : std::min<std::uint64_t>(r.error().offset, consumed);
    if (!r && c.format->strength == Strength::kMagicOnly) {
      // A magic-only stream that failed hides nothing past the first checked candidate in what
      // it decoded: an LZMA stream without its end marker decodes on into the squashfs behind it
      // and fails there. (One that decoded to its end keeps its span: a gzip of a tree of .xz
      // files holds their headers verbatim in stored blocks, and its output is carved.)
      while (next_checked < cands.size() &&
             (cands[next_checked].start <= c.start ||
              cands[next_checked].format->strength != Strength::kChecked ||
              !probe_at(next_checked)))
        ++next_checked;
      if (next_checked < cands.size())
        understood = std::min(understood, cands[next_checked].start - c.start);
    }
    const bool produced = !sink.records().empty();
    if (!r) {
      run_.warn({r.error().code.empty() ? "format-error" : r.error().code,
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
    // Bytes the format's header says are encrypted: never understood, reported as encrypted.
    const auto enc = sink.encrypted_span();
    std::uint64_t enc_from = 0, enc_size = 0;
    if (enc && enc->first < consumed) {
      enc_from = enc->first;
      enc_size = std::min<std::uint64_t>(enc->second, consumed - enc->first);
      understood = std::min(understood, enc_from);
    }
    if (understood > 0) {
      add_gap(ctx, data, pos, c.start);
      Region reg{ctx.container,
                 ctx.container ? ctx.source : std::string(),
                 c.start,
                 understood,
                 std::string(c.format->id),
                 true,
                 entropy(sub(at, 0, std::min<std::uint64_t>(understood, 1 << 20)))};
      {
        std::lock_guard lock(run_.mu);
        run_.tree.regions.push_back(std::move(reg));
      }
      pos = c.start + understood;
    }
    if (enc_size > 0 && c.start + enc_from >= pos) {
      add_gap(ctx, data, pos, c.start + enc_from);
      Region reg{ctx.container,
                 ctx.container ? ctx.source : std::string(),
                 c.start + enc_from,
                 enc_size,
                 std::string(c.format->id),
                 false,
                 entropy(sub(at, enc_from, std::min<std::uint64_t>(enc_size, 1 << 20)))};
      reg.encrypted = true;
      {
        std::lock_guard lock(run_.mu);
        run_.tree.regions.push_back(std::move(reg));
      }
      pos = c.start + enc_from + enc_size;
    }
    if (dir) {
      // A format that re-emits its input (fdt writes the dtb it parsed) would find itself again
      // in that output, down to the depth cap: an output identical to the container's own span
      // is not looked into. The span is hashed only when an output has its size.
      auto records = sink.records();
      bool same_size = false;
      {
        std::lock_guard lock(run_.mu);
        for (std::size_t idx : records) same_size |= run_.tree.files[idx].size == consumed;
      }
      std::string self_sha = same_size ? sha256_hex(sub(at, 0, consumed)) : std::string();
      tasks_.submit([this, f = c.format, id, dir_name, records = std::move(records),
                     depth = ctx.depth + 1, self_sha = std::move(self_sha)] {
        recurse(*f, id, dir_name, records, depth, self_sha);
      });
    }
  }
  add_gap(ctx, data, pos, data.size());
}

void Driver::recurse(const Format& f, std::uint32_t id, const std::string& dir_name,
                     const std::vector<std::size_t>& records, std::uint32_t depth,
                     const std::string& self_sha) {
  const Mode mode = (f.output == Output::kStream || opt_.deep) ? Mode::kCarve : Mode::kStartOnly;
  for (std::size_t idx : records) {
    FileRecord rec;
    {
      std::lock_guard lock(run_.mu);
      rec = run_.tree.files[idx];
    }
    if (rec.type != EntryType::kFile || rec.extracted.empty() || rec.size == 0) continue;
    if (!self_sha.empty() && rec.sha256 == self_sha) continue;  // the container's own bytes
    if (opt_.skip_blob && opt_.skip_blob(rec)) continue;
    auto fd = extracted_.open_read(dir_name + "/" + rec.path);
    if (!fd) continue;
    auto m = MappedFile::from_fd(*fd, rec.path);
    if (!m) continue;
    BlobCtx child{id, rec.path, rec.origin, depth};
    const bool image_named =
        mode == Mode::kStartOnly && rec.size >= kNestedImageMinBytes && nested_image_name(rec.path);
    process(m->bytes(), child, image_named ? Mode::kCarveIfFound : mode);
  }
}

}  // namespace

/// The image's understood bytes (see docs/architecture.md, "Coverage").
std::uint64_t understood_bytes(const ArtifactTree& tree);

/// Gives containers canonical ids: depth-first, siblings by (source path, offset), which is the
/// order a sequential run would find them in. Renames the extraction directories to match.
void renumber(ArtifactTree& tree, int extracted_fd) {
  std::map<std::uint32_t, const Container*> by_id;
  for (const auto& c : tree.containers) by_id[c.id] = &c;
  using Key = std::vector<std::pair<std::string, std::uint64_t>>;
  auto key_of = [&](const Container& c) {
    Key k;
    for (const Container* p = &c; p; p = p->parent ? by_id[p->parent] : nullptr)
      k.emplace_back(p->source, p->offset);
    std::reverse(k.begin(), k.end());
    return k;
  };
  std::vector<std::pair<Key, std::uint32_t>> order;
  for (const auto& c : tree.containers) order.emplace_back(key_of(c), c.id);
  std::sort(order.begin(), order.end());
  std::map<std::uint32_t, std::uint32_t> to;
  to[0] = 0;
  for (std::size_t i = 0; i < order.size(); ++i) to[order[i].second] = std::uint32_t(i + 1);
  bool identity = true;
  for (auto& [from, dest] : to) identity &= from == dest;
  if (identity) return;

  auto dir_name = [](std::uint32_t id, const std::string& fmt) {
    return fmt::format("{}-{}", id, fmt);
  };
  // Two passes through temporary names, so no rename lands on a directory not yet moved.
  for (const auto& c : tree.containers)
    if (!c.dir.empty())
      renameat(extracted_fd, dir_name(c.id, c.format).c_str(), extracted_fd,
               (".renumber-" + std::to_string(c.id)).c_str());
  for (const auto& c : tree.containers)
    if (!c.dir.empty())
      renameat(extracted_fd, (".renumber-" + std::to_string(c.id)).c_str(), extracted_fd,
               dir_name(to[c.id], c.format).c_str());
  std::map<std::uint32_t, std::string> old_prefix, new_prefix;
  for (auto& c : tree.containers) {
    old_prefix[c.id] = "extracted/" + dir_name(c.id, c.format) + "/";
    new_prefix[c.id] = "extracted/" + dir_name(to[c.id], c.format) + "/";
  }
  for (auto& f : tree.files) {
    if (!f.extracted.empty() && f.extracted.starts_with(old_prefix[f.container]))
      f.extracted = new_prefix[f.container] + f.extracted.substr(old_prefix[f.container].size());
    f.container = to[f.container];
  }
  for (auto& r : tree.regions) r.container = to[r.container];
  for (auto& w : tree.warnings) w.container = to[w.container];
  for (auto& c : tree.containers) {
    c.id = to[c.id];
    c.parent = to[c.parent];
    if (!c.dir.empty()) c.dir = "extracted/" + dir_name(c.id, c.format);
  }
  std::sort(tree.containers.begin(), tree.containers.end(),
            [](const Container& a, const Container& b) { return a.id < b.id; });
}

std::uint64_t understood_bytes(const ArtifactTree& tree) {
  // A container's region counts as understood only in the share of its output that was
  // understood: not-understood bytes found inside (a blob past the depth cap, garbage between
  // streams) lower every container above them. Deepest containers first.
  std::map<std::tuple<std::uint32_t, std::string, std::uint64_t>, std::uint32_t> child_at;
  std::map<std::uint32_t, std::uint64_t> output_bytes;
  std::map<std::uint32_t, double> share;  // per container id, 0..1
  for (const auto& c : tree.containers) child_at[{c.parent, c.source, c.offset}] = c.id;
  for (const auto& f : tree.files)
    if (f.type == EntryType::kFile) output_bytes[f.container] += f.size;
  std::map<std::uint32_t, std::vector<const Region*>> regions_in;
  for (const auto& r : tree.regions) regions_in[r.container].push_back(&r);
  auto region_understood = [&](const Region& r) -> double {
    if (!r.understood) return 0;
    const auto it = child_at.find({r.container, r.source, r.offset});
    if (it == child_at.end()) return double(r.size);  // padding
    const auto sh = share.find(it->second);
    return double(r.size) * (sh == share.end() ? 1.0 : sh->second);
  };
  std::vector<const Container*> by_depth;
  for (const auto& c : tree.containers) by_depth.push_back(&c);
  std::stable_sort(by_depth.begin(), by_depth.end(),
                   [](const Container* a, const Container* b) { return a->depth > b->depth; });
  // A blob in which no format was found is a plain file (a decompressed text, a leaf), as a file
  // in a filesystem is: it loses nothing. A blob in which something was found (a decompressed
  // kernel holding an initramfs) loses its dense gaps (entropy >= kEncryptedEntropy: encrypted or
  // compressed by something no format decoded) and what its failed containers did not
  // understand; its other gaps are bytes of an extracted file that every check reads, as the
  // kernel's code is. One the depth cap kept probity out of loses everything. (The image itself
  // is stricter: its gaps are in no extracted file, so every one of them counts.)
  std::set<std::pair<std::uint32_t, std::string>> structured, capped;
  // A blob counts as structured when a container was found in it, whether or not that
  // container understood anything: a filesystem recognised but not read (unsupported_fs), or one
  // that failed at its first byte, leaves the blob's bytes not seen, never a plain file's.
  for (const auto& r : tree.regions)
    if (child_at.contains({r.container, r.source, r.offset}))
      structured.insert({r.container, r.source});
  for (const auto& r : tree.regions)
    if (r.not_looked_into) capped.insert({r.container, r.source});
  // The spans failed containers claimed: a gap inside one is what that container did not
  // understand (an unsupported filesystem's blocks between stray magics), never a plain gap.
  std::map<std::pair<std::uint32_t, std::string>,
           std::vector<std::pair<std::uint64_t, std::uint64_t>>>
      failed;
  for (const auto& c : tree.containers)
    if (!c.complete) failed[{c.parent, c.source}].push_back({c.offset, c.offset + c.length});
  auto in_failed = [&](const Region& r) {
    const auto it = failed.find({r.container, r.source});
    if (it == failed.end()) return false;
    for (const auto& [from, to] : it->second)
      if (r.offset < to && r.offset + r.size > from) return true;
    return false;
  };
  for (const Container* c : by_depth) {
    double lost = 0;
    for (const Region* r : regions_in[c->id]) {
      if (capped.contains({r->container, r->source})) {
        lost += double(r->size) - region_understood(*r);
      } else if (structured.contains({r->container, r->source})) {
        const bool plain_gap = !r->understood && !r->not_looked_into && !r->encrypted &&
                               r->entropy < kEncryptedEntropy &&
                               !child_at.contains({r->container, r->source, r->offset}) &&
                               !in_failed(*r);
        if (!plain_gap) lost += double(r->size) - region_understood(*r);
      }
    }
    const double total = double(output_bytes[c->id]);
    share[c->id] = total <= 0 ? (lost > 0 ? 0.0 : 1.0) : std::clamp(1.0 - lost / total, 0.0, 1.0);
  }
  double understood = 0;
  for (const Region* r : regions_in[0]) understood += region_understood(*r);
  return std::min<std::uint64_t>(std::uint64_t(understood), tree.image.size);
}

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
  {
    // Hashed a window at a time, each released behind: a large image is not kept resident.
    Sha256 h;
    constexpr std::uint64_t kWindow = 64ull << 20;
    for (std::uint64_t at = 0; at < m->size(); at += kWindow) {
      const Bytes w = sub(m->bytes(), at, kWindow);
      h.update(w);
      MappedFile::release(w);
    }
    run.tree.image.sha256 = h.hex();
  }

  if (m->size() == 0)
    run.warn({"empty-input", "the image is empty (0 bytes): nothing to unpack", 0,
              run.tree.image.name, 0});
  {
    // The caller's pool bounds everything (--threads); without one, a pool for this run.
    std::optional<TaskPool> own;
    TaskPool& pool = options.pool ? *options.pool : own.emplace(options.threads);
    run.pool = &pool;
    TaskGroup tasks(pool);
    unpacker::Driver driver(run, *extracted, options, tasks);
    unpacker::BlobCtx top{0, run.tree.image.name, {}, 0};
    driver.process(m->bytes(), top, unpacker::Mode::kCarve);
    tasks.wait();
  }

  run.summarise_warnings();
  ArtifactTree tree = std::move(run.tree);
  unpacker::renumber(tree, extracted->fd());
  std::sort(tree.regions.begin(), tree.regions.end(), [](const Region& a, const Region& b) {
    return std::tie(a.container, a.source, a.offset) < std::tie(b.container, b.source, b.offset);
  });
  // Parallel formats append in completion order: sort so that manifests are reproducible. The
  // format's own entry order breaks ties (duplicate paths), so the order is total and an
  // in-place sort does (stable_sort's buffer would be one more copy of a million records).
  std::sort(tree.files.begin(), tree.files.end(), [](const FileRecord& a, const FileRecord& b) {
    return std::tie(a.container, a.path, a.entry) < std::tie(b.container, b.path, b.entry);
  });
  std::stable_sort(tree.warnings.begin(), tree.warnings.end(),
                   [](const Warning& a, const Warning& b) {
                     return std::tie(a.container, a.entry, a.offset, a.code) <
                            std::tie(b.container, b.entry, b.offset, b.code);
                   });
  tree.coverage.bytes = tree.image.size;
  tree.coverage.understood = unpacker::understood_bytes(tree);
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
