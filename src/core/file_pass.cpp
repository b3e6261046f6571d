#include "core/file_pass.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "probity/mapped_file.hpp"

namespace probity {
namespace {

// Files up to this size are read, larger ones mapped (not a cap: every size is read).
constexpr std::uint64_t kReadBufferBytes = 16ull << 20;

struct FileBytes {
  std::vector<std::uint8_t> buffer;
  MappedFile mapped;
};

std::optional<Bytes> read_file(const TreeFiles& files, const FileRecord& f, FileBytes& fb) {
  auto opened = files.open(f);  // resolved inside the container, never a link
  if (!opened) return std::nullopt;
  const int fd = *opened;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  const auto size = std::uint64_t(st.st_size);
  if (size > kReadBufferBytes) {
    auto mf = MappedFile::from_fd(fd, f.path);  // takes the descriptor over
    if (!mf) return std::nullopt;
    fb.mapped = std::move(*mf);
    return fb.mapped.bytes();
  }
  fb.buffer.resize(size);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, fb.buffer.data() + got, size - got);
    if (n <= 0) break;
    got += std::size_t(n);
  }
  ::close(fd);
  return Bytes(fb.buffer.data(), got);
}

}  // namespace

FilePassStats run_file_pass(const ArtifactTree& tree, const TreeFiles& files, TaskPool& pool,
                            std::span<FileVisitor* const> visitors) {
  std::vector<std::size_t> order;
  order.reserve(tree.files.size());
  for (std::size_t i = 0; i < tree.files.size(); ++i)
    if (tree.files[i].type == EntryType::kFile && !tree.files[i].extracted.empty())
      order.push_back(i);
  // The recorded size only orders the work; reads use the real size from fstat.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return tree.files[a].size > tree.files[b].size;
  });
  const unsigned slots = std::max(
      1u,
      unsigned(std::min<std::size_t>(pool.concurrency(), std::max<std::size_t>(1, order.size()))));
  for (auto* v : visitors) v->start(slots);
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> read{0}, bytes{0};
  // One worker loop per slot; a loop that starts late finds the files taken.
  pool.for_each(slots, [&](unsigned, std::size_t slot) {
    FileBytes buffer;
    for (std::size_t k; (k = next.fetch_add(1)) < order.size();) {
      const std::size_t i = order[k];
      auto content = read_file(files, tree.files[i], buffer);
      if (!content) continue;
      for (auto* v : visitors) v->visit(i, *content, unsigned(slot));
      ++read;
      bytes += content->size();
    }
  });
  return {read, bytes};
}

}  // namespace probity
