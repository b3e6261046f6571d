#include "probity/inventory.hpp"
#include "core/elf_memory.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "inventory/pass.hpp"
#include "probity/mapped_file.hpp"
#include "probity/task_pool.hpp"
#include "probity/tree_files.hpp"
#include "unpack/format.hpp"

namespace probity {
namespace {

/// Bytes read from the start of each file to classify it.
constexpr std::size_t kHeadBytes = 64 * 1024;

bool contains(Bytes b, std::string_view s) {
  return std::search(b.begin(), b.end(), s.begin(), s.end()) != b.end();
}

bool looks_like_text(Bytes b) {
  if (b.empty()) return false;
  std::size_t printable = 0;
  for (auto c : b) {
    if (c == 0) return false;
    if (c >= 0x20 || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0x1b) ++printable;
  }
  return printable * 100 >= b.size() * 95;
}

bool has_magic(Bytes b, std::string_view m, std::size_t at = 0) {
  return starts_with(b, m, at);
}

}  // namespace

std::string classify(std::span<const std::uint8_t> head) {
  Bytes b = head;
  if (has_magic(b,
                "\x7f"
                "ELF"))
    return "elf";
  if (has_magic(b, "#!")) return "script";
  if (contains(b, "PRIVATE KEY-----") || contains(b, "-----BEGIN OPENSSH PRIVATE KEY") ||
      contains(b, "-----BEGIN PGP PRIVATE KEY"))
    return "private-key";
  if (contains(b, "-----BEGIN CERTIFICATE-----") || contains(b, "-----BEGIN X509 CERTIFICATE"))
    return "certificate";
  // Filesystems, then archives, streams and firmware containers, by the magics their format
  // files register (unpack/formats/*.cpp, Format::family): a magic strong enough to carve on
  // (any offset), four bytes or more, or at a fixed offset past the first sector.
  for (const auto want : {unpacker::Family::kFilesystem, unpacker::Family::kArchive}) {
    for (const unpacker::Format* fmt : unpacker::all_formats()) {
      const bool filesystem = fmt->family == unpacker::Family::kFilesystem;
      if (fmt->family == unpacker::Family::kUnset || fmt->family == unpacker::Family::kLeaf ||
          filesystem != (want == unpacker::Family::kFilesystem))
        continue;
      for (const auto& m : fmt->magics) {
        const bool strong =
            fmt->carve == unpacker::Carve::kAnyOffset || m.bytes.size() >= 4 || m.at >= 512;
        if (m.weak || m.bytes.size() < 2 || !strong) continue;
        if (has_magic(b, m.bytes, m.at)) return filesystem ? "filesystem" : "archive";
      }
    }
  }
  // DER: a SEQUENCE with a long-form length. Certificates start SEQUENCE { SEQUENCE { [0] ...
  if (b.size() > 16 && b[0] == 0x30 && b[1] == 0x82) {
    if (b[4] == 0x30 && b[5] == 0x82 && b[8] == 0xa0) return "certificate";
    if (b[4] == 0x02 && b[5] == 0x01 && (b[6] == 0x00 || b[6] == 0x01)) return "private-key";
  }
  if (looks_like_text(b)) return "text";
  return "data";
}

std::optional<ElfFacts> elf_facts(std::span<const std::uint8_t> bytes) {
  const ElfPtr elf = open_elf(bytes);
  if (!elf) return std::nullopt;
  Elf* e = elf.get();
  GElf_Ehdr eh;
  std::optional<ElfFacts> out;
  if (gelf_getehdr(e, &eh)) {
    ElfFacts f;
    f.bits = eh.e_ident[EI_CLASS] == ELFCLASS64 ? 64 : 32;
    f.endian = eh.e_ident[EI_DATA] == ELFDATA2MSB ? "big" : "little";
    switch (eh.e_machine) {
      case EM_ARM:
        f.arch = "arm";
        break;
      case EM_AARCH64:
        f.arch = "aarch64";
        break;
      case EM_MIPS:
        f.arch = "mips";
        break;
      case EM_386:
        f.arch = "x86";
        break;
      case EM_X86_64:
        f.arch = "x86_64";
        break;
      case EM_PPC:
        f.arch = "powerpc";
        break;
      case EM_PPC64:
        f.arch = "powerpc64";
        break;
      case EM_RISCV:
        f.arch = "riscv";
        break;
      case EM_SPARC:
        f.arch = "sparc";
        break;
      case EM_SH:
        f.arch = "sh";
        break;
      case EM_68K:
        f.arch = "m68k";
        break;
      default:
        f.arch = "machine-" + std::to_string(eh.e_machine);
        break;
    }
    switch (eh.e_type) {
      case ET_EXEC:
        f.type = "exec";
        break;
      case ET_DYN:
        f.type = "dyn";
        break;
      case ET_REL:
        f.type = "rel";
        break;
      case ET_CORE:
        f.type = "core";
        break;
      default:
        f.type = "other";
        break;
    }
    out = f;
  }
  return out;
}

namespace {

/// Kind and ELF facts of one regular file from its first bytes; `whole` maps all of it when
/// libelf needs it (section headers sit at the end).
template <class Whole>
void inventory_one(FileRecord& f, Bytes head, Whole&& whole) {
  f.kind = classify(head);
  if (f.kind == "elf")
    if (auto all = whole()) f.elf = elf_facts(*all);
}

void inventory_files(ArtifactTree& tree, const TreeFiles* files, TaskPool& pool) {
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    std::vector<std::uint8_t> head(kHeadBytes);
    for (std::size_t i; (i = next.fetch_add(1)) < tree.files.size();) {
      FileRecord& f = tree.files[i];
      if (f.type != EntryType::kFile) continue;
      if (f.extracted.empty() || f.size == 0) {
        f.kind = "data";
        continue;
      }
      // Resolved inside the file's container; a link in its place is refused.
      auto opened = files->open(f);
      if (!opened) {
        f.kind = "data";
        continue;
      }
      const int fd = *opened;
      ssize_t n = pread(fd, head.data(), head.size(), 0);
      std::optional<MappedFile> mapped;
      bool taken = false;
      inventory_one(f, Bytes(head.data(), n > 0 ? std::size_t(n) : 0),
                    [&]() -> std::optional<Bytes> {
                      taken = true;
                      auto m = MappedFile::from_fd(fd, f.path);  // takes the descriptor over
                      if (!m) return std::nullopt;
                      return mapped.emplace(std::move(*m)).bytes();
                    });
      if (!taken) ::close(fd);
    }
  };
  // One worker loop per thread of the pool; a loop that starts late finds the files taken.
  pool.for_each(pool.concurrency(), [&](unsigned, std::size_t) { work(); });
}

}  // namespace

InventoryPass::InventoryPass(ArtifactTree& tree) : tree_(tree) {
  // What the pass does not hand over (no content, empty, unreadable) is data.
  for (auto& f : tree_.files)
    if (f.type == EntryType::kFile) f.kind = "data";
}

void InventoryPass::visit(std::size_t index, Bytes bytes, unsigned) {
  FileRecord& f = tree_.files[index];
  if (f.size == 0 || bytes.empty()) return;
  inventory_one(f, bytes.first(std::min<std::size_t>(bytes.size(), kHeadBytes)),
                [bytes] { return std::optional<Bytes>(bytes); });
}

void inventory(ArtifactTree& tree, const std::filesystem::path& out_dir, TaskPool& pool) {
  // A plain directory (a source tree, `probity source`) rather than an unpack output: its
  // records' `extracted` paths are inside it, not under extracted/<id>-<format>/.
  const bool plain = std::any_of(tree.files.begin(), tree.files.end(), [](const FileRecord& f) {
    return !f.extracted.empty() && !f.extracted.starts_with("extracted/");
  });
  auto files = plain ? TreeFiles::open_directory(out_dir) : TreeFiles::open(out_dir);
  if (!files) return;
  inventory_files(tree, &*files, pool);
}

void inventory(ArtifactTree& tree, const std::filesystem::path& out_dir, unsigned threads) {
  TaskPool pool(threads);
  inventory(tree, out_dir, pool);
}

}  // namespace probity
