// A polling witness: verifies a log's checkpoint signature and its consistency with the last
// checkpoint it cosigned (computing the proof from the log's static tiles), and only then
// cosigns (C2SP tlog-cosignature/v1).
#include <httplib.h>

#include <ctime>
#include <map>

#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity::tlog {
namespace {

class TileReader {
 public:
  TileReader(httplib::Client& cli, std::uint64_t size) : cli_(cli), size_(size) {}

  Result<Hash> get(unsigned level, std::uint64_t index) {
    const unsigned tl = level / 8, sub = level % 8;
    const std::uint64_t first = index << sub, count = std::uint64_t(1) << sub;
    const std::uint64_t row = 8 * tl >= 64 ? 0 : size_ >> (8 * tl);
    if (first + count > row) return fail("node beyond the checkpointed tree");
    const std::uint64_t n = first / 256;
    const unsigned width = (n + 1) * 256 <= row ? 256 : unsigned(row - n * 256);
    const std::string path = "/" + tile_path(false, tl, n, width);
    auto it = cache_.find(path);
    if (it == cache_.end()) {
      if (++fetches_ > kMaxTileFetches) return fail("too many tile fetches");
      auto res = cli_.Get(path);
      if (!res || res->status != 200)
        return fail("cannot fetch " + path +
                    (res ? " (HTTP " + std::to_string(res->status) + ")" : ""));
      if (res->body.size() != std::size_t(width) * 32 || res->body.size() > kMaxTileBytes)
        return fail("tile " + path + " has the wrong size");
      it = cache_.emplace(path, std::move(res->body)).first;
    }
    std::vector<Hash> level_hashes(count);
    for (std::uint64_t i = 0; i < count; ++i)
      std::memcpy(level_hashes[i].data(), it->second.data() + (first % 256 + i) * 32, 32);
    while (level_hashes.size() > 1) {
      std::vector<Hash> up(level_hashes.size() / 2);
      for (std::size_t i = 0; i < up.size(); ++i)
        up[i] = node_hash(level_hashes[2 * i], level_hashes[2 * i + 1]);
      level_hashes = std::move(up);
    }
    return level_hashes[0];
  }

 private:
  httplib::Client& cli_;
  std::uint64_t size_;
  std::map<std::string, std::string> cache_;
  std::size_t fetches_ = 0;
};

}  // namespace

Result<std::string> witness_once(const WitnessOptions& opt) {
  httplib::Client cli(opt.url);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(10, 0);
  cli.set_tcp_nodelay(true);
  auto res = cli.Get("/checkpoint");
  if (!res) return fail("cannot reach the log at " + opt.url);
  if (res->status != 200) return fail("log answered HTTP " + std::to_string(res->status));
  if (res->body.size() > kMaxNoteBytes) return fail("checkpoint is larger than the cap");
  auto note = parse_note(res->body);
  if (!note) return fail("checkpoint: " + note.error().message);
  if (!note_verified_by(*note, opt.log_key))
    return fail("checkpoint is not signed by the log key " + opt.log_key.key_hint());
  auto cp = parse_checkpoint(note->text);
  if (!cp) return std::unexpected(cp.error());
  if (cp->origin != opt.log_key.name) return fail("checkpoint origin is not the log key name");

  std::error_code ec;
  if (std::filesystem::exists(opt.state, ec)) {
    auto old_text = read_file_capped(opt.state, kMaxNoteBytes);
    if (!old_text) return std::unexpected(old_text.error());
    auto old_note = parse_note(*old_text);
    if (!old_note) return fail("witness state: " + old_note.error().message);
    auto old = parse_checkpoint(old_note->text);
    if (!old) return fail("witness state: " + old.error().message);
    if (cp->size < old->size)
      return fail("log rolled back from size " + std::to_string(old->size) + " to " +
                  std::to_string(cp->size) + "; not cosigning");
    // Every tree extends the empty one; otherwise the tiles must prove it.
    if (old->size > 0) {
      TileReader tiles(cli, cp->size);
      auto proof = consistency_proof(old->size, cp->size,
                                     [&](unsigned l, std::uint64_t i) { return tiles.get(l, i); });
      if (!proof) return fail("cannot build the consistency proof: " + proof.error().message);
      if (auto s = verify_consistency(old->size, cp->size, *proof, old->root, cp->root); !s)
        return fail("log is inconsistent with the last cosigned checkpoint: " + s.error().message);
    }
  }
  auto cosig = cosign(note->text, opt.witness_key, std::uint64_t(std::time(nullptr)));
  if (!cosig) return std::unexpected(cosig.error());
  // The state keeps the log-signed note; the cosigned form is what is returned and posted.
  if (auto s = write_file_atomic(opt.state, Note{note->text, note->sigs}.to_string()); !s)
    return std::unexpected(s.error());
  Note cosigned{note->text, {*cosig}};
  const std::string out = cosigned.to_string();
  if (!opt.token.empty()) {
    httplib::Headers h{{"Authorization", "Bearer " + opt.token}};
    auto post = cli.Post("/add-cosignature", h, out, "text/plain");
    if (!post || post->status != 200)
      return fail("log refused the cosignature" +
                  (post ? " (HTTP " + std::to_string(post->status) + ": " + post->body + ")" : ""));
  }
  return out;
}

}  // namespace probity::tlog
