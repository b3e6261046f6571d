// Release transparency log: RFC 6962/9162 Merkle trees, C2SP signed notes, checkpoints,
// cosignatures, tlog-tiles and tlog-proof, DSSE/in-toto attestations, and offline verification.
// See docs/tlog.md for the formats and the trust model.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probity/base64.hpp"
#include "probity/error.hpp"
#include "probity/limits.hpp"
#include "probity/mapped_file.hpp"

namespace probity::tlog {

using Hash = std::array<std::uint8_t, 32>;
using Bytes = std::vector<std::uint8_t>;

// ---- base64 (RFC 4648 section 4, padded): the one in probity/base64.hpp --------------------

inline std::string base64_encode(std::span<const std::uint8_t> bytes) {
  return probity::base64_encode(bytes);
}
/// Strict decoder: standard alphabet, padding required, no whitespace. Also accepts the URL-safe
/// alphabet when `url_ok` (DSSE allows either).
inline std::optional<Bytes> base64_decode(std::string_view text, bool url_ok = false) {
  return probity::base64_decode(text, url_ok ? Base64Mode::kUrlOk : Base64Mode::kStrict);
}

// ---- Merkle tree (RFC 6962 / RFC 9162) ------------------------------------------------------

/// SHA-256(0x00 || entry).
Hash leaf_hash(std::span<const std::uint8_t> entry);
/// SHA-256(0x01 || left || right).
Hash node_hash(const Hash& left, const Hash& right);
/// SHA-256 of the empty string: the root of the empty tree.
Hash empty_root();

/// Returns the hash of the complete subtree at `level` (0 = leaves) and `index` in that level.
using NodeGetter = std::function<Result<Hash>(unsigned level, std::uint64_t index)>;

/// MTH(D[0:size]) from complete-subtree hashes (O(log size) calls to `get`).
Result<Hash> tree_root(std::uint64_t size, const NodeGetter& get);
/// RFC 9162 2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves.
Result<std::vector<Hash>> inclusion_proof(std::uint64_t index, std::uint64_t size,
                                          const NodeGetter& get);
/// RFC 9162 2.1.4.1 consistency proof between trees of size1 <= size2 leaves.
Result<std::vector<Hash>> consistency_proof(std::uint64_t size1, std::uint64_t size2,
                                            const NodeGetter& get);
/// RFC 9162 2.1.3.2: recomputes the root from a leaf hash and its inclusion proof.
Result<Hash> root_from_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                                 std::span<const Hash> proof);
/// Roots are byte strings so that a malformed root is a verification failure, not a parse error.
Status verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                        std::span<const Hash> proof, std::span<const std::uint8_t> root);
/// RFC 9162 2.1.4.2 with the edge cases of transparency-dev/merkle: size1 = 0 is rejected (a
/// proof from the empty tree proves nothing); equal sizes need an empty proof and equal roots.
Status verify_consistency(std::uint64_t size1, std::uint64_t size2, std::span<const Hash> proof,
                          std::span<const std::uint8_t> root1, std::span<const std::uint8_t> root2);

// ---- Keys and C2SP signed notes ---------------------------------------------------------------

/// Signature types of C2SP signed-note key ids.
enum class KeyType : std::uint8_t {
  kEd25519 = 0x01,       ///< signed-note Ed25519 (logs and approvers)
  kCosignatureV1 = 0x04  ///< tlog-cosignature Ed25519 with timestamp (witnesses)
};

/// A verifier key: name+keyid+base64(type || key).
struct PublicKey {
  std::string name;
  KeyType type = KeyType::kEd25519;
  std::array<std::uint8_t, 32> key{};
  std::uint32_t id = 0;  ///< SHA-256(name || 0x0A || type || key)[:4], big-endian
  /// The vkey string form, e.g. "PeterNeumann+c74f20a3+ARpc2Q...".
  [[nodiscard]] std::string to_string() const;
  /// "name+keyid" (used as DSSE keyid).
  [[nodiscard]] std::string key_hint() const;
};

/// A signer key: PRIVATE+KEY+name+keyid+base64(type || seed), as Go's sumdb/note writes it.
struct PrivateKey {
  std::string name;
  KeyType type = KeyType::kEd25519;
  std::array<std::uint8_t, 32> seed{};
  PublicKey pub;
  [[nodiscard]] std::string to_string() const;
};

std::uint32_t key_id(std::string_view name, KeyType type, std::span<const std::uint8_t> key);
Result<PrivateKey> generate_key(std::string_view name, KeyType type = KeyType::kEd25519);
Result<PrivateKey> parse_private_key(std::string_view text);
Result<PublicKey> parse_public_key(std::string_view text);
Result<PrivateKey> read_private_key(const std::filesystem::path& path);
Result<PublicKey> read_public_key(const std::filesystem::path& path);
/// A vkey given either as a file holding it or as the vkey string itself.
Result<PublicKey> load_public_key(const std::string& file_or_vkey);
Result<std::array<std::uint8_t, 64>> ed25519_sign(const PrivateKey& key,
                                                  std::span<const std::uint8_t> message);
bool ed25519_verify(std::span<const std::uint8_t, 32> pub, std::span<const std::uint8_t> message,
                    std::span<const std::uint8_t> signature);

/// One signature line of a note: "— name base64(keyid || sig)".
struct NoteSignature {
  std::string name;
  std::uint32_t id = 0;
  Bytes sig;  ///< without the 4-byte key id
  [[nodiscard]] std::string line() const;
};

/// A C2SP signed note: text (ends in '\n') then a blank line then signature lines.
struct Note {
  std::string text;
  std::vector<NoteSignature> sigs;
  [[nodiscard]] std::string to_string() const;
};

Result<Note> parse_note(std::string_view note);
/// Signs `text` (must end with '\n') with an Ed25519 signed-note key.
Result<NoteSignature> sign_note_text(std::string_view text, const PrivateKey& key);
/// True when `note` carries a valid signature by `key` (Ed25519 type), matched by name and id.
bool note_verified_by(const Note& note, const PublicKey& key);

/// tlog-cosignature/v1: signs "cosignature/v1\ntime T\n" + checkpoint text.
Result<NoteSignature> cosign(std::string_view checkpoint_text, const PrivateKey& key,
                             std::uint64_t timestamp);
/// The timestamp of a valid cosignature by `key` on `note`, if there is one.
std::optional<std::uint64_t> cosignature_time(const Note& note, const PublicKey& key);

// ---- Checkpoints (C2SP tlog-checkpoint) and tiles (C2SP tlog-tiles) --------------------------

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  ///< optional extension lines, without '\n'
  /// The note text: origin, size, base64 root, extension lines, each ending in '\n'.
  [[nodiscard]] std::string text() const;
};
Result<Checkpoint> parse_checkpoint(std::string_view text);

/// "tile/<L>/<N>[.p/<W>]" (level >= 0) or "tile/entries/<N>[.p/<W>]" (entries = true); width
/// 256 means a full tile.
std::string tile_path(bool entries, unsigned level, std::uint64_t index, unsigned width);
struct TileRef {
  bool entries = false;
  unsigned level = 0;
  std::uint64_t index = 0;
  unsigned width = 256;
};
/// Parses a tile path (without a leading '/'); nullopt when it is not a valid tile path.
std::optional<TileRef> parse_tile_path(std::string_view path);

// ---- DSSE v1 envelopes and in-toto Statement v1 -----------------------------------------------

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
/// probity's predicate type for a scan attestation (docs/tlog.md).
inline constexpr std::string_view kScanPredicateType = "https://probity.dev/attestation/scan/v1";

/// DSSE v1 pre-authentication encoding: "DSSEv1 SP len(type) SP type SP len(body) SP body".
Bytes pae(std::string_view payload_type, std::span<const std::uint8_t> payload);

struct DsseSignature {
  std::string keyid;
  Bytes sig;
};
struct Envelope {
  std::string payload_type;
  Bytes payload;
  std::vector<DsseSignature> signatures;
  /// Compact JSON, the bytes that are logged.
  [[nodiscard]] std::string serialize() const;
};
Result<Envelope> parse_envelope(std::span<const std::uint8_t> bytes);
/// Adds a signature by `key` over PAE(payload_type, payload).
Status dsse_sign(Envelope& env, const PrivateKey& key);
/// How many distinct keys of `keys` have a valid signature on `env`.
std::size_t dsse_valid_signers(const Envelope& env, std::span<const PublicKey> keys);
/// The sha256 digests of the statement's subjects (empty if the payload is not a Statement).
std::vector<std::string> statement_subject_digests(const Envelope& env);
/// The verdict the statement's predicate carries ("pass", "fail", "inconclusive"), or nullopt
/// when it carries none (an attestation made before verdicts were bound, or not a Statement).
std::optional<std::string> statement_verdict(const Envelope& env);

// ---- The log (SQLite, WAL, synchronous=FULL) --------------------------------------------------

/// What `Log::check` compares the log with, beyond its own files.
struct CheckOptions {
  /// The log key as the log's users know it (e.g. from the verifier's configuration); without
  /// it the key in the directory is trusted, so a replaced log.key with re-signed checkpoints
  /// goes unnoticed.
  std::optional<PublicKey> log_key;
  /// Signed checkpoint notes seen earlier (a witness's or a station's state): the log must still
  /// contain each, so history rewritten below a deleted checkpoint, or rolled back, is caught.
  std::vector<std::pair<std::string, std::string>> trusted;  ///< (name for messages, note)
};

/// The outcome of `Log::check`.
struct CheckReport {
  std::uint64_t entries = 0;
  std::size_t checkpoints = 0;  ///< stored checkpoints
  /// Size of the newest stored checkpoint that is valid; entries past it are not yet covered by
  /// any signature (normal after a crash between an append and its checkpoint).
  std::optional<std::uint64_t> signed_size;
  std::vector<std::string> problems;  ///< empty when the log is consistent (capped)
  [[nodiscard]] bool ok() const { return problems.empty(); }
};

/// A durable append-only Merkle log in one directory: log.db (SQLite), log.key, log.pub.
/// Thread-safe: every call takes an internal lock. Safe across processes (SQLite locking).
class Log {
 public:
  /// Creates DIR (must not hold a log yet) with `key` as the log's signing key; the origin is
  /// the key's name.
  static Result<std::unique_ptr<Log>> create(const std::filesystem::path& dir,
                                             const PrivateKey& key);
  static Result<std::unique_ptr<Log>> open(const std::filesystem::path& dir);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  [[nodiscard]] const PublicKey& public_key() const;
  [[nodiscard]] const std::string& origin() const;
  /// Committed tree size.
  Result<std::uint64_t> size();
  /// Appends every entry in one durable transaction (fsync before return); returns their
  /// indices. Entries must be DSSE envelopes of at most kMaxEntryBytes.
  Result<std::vector<std::uint64_t>> append(std::span<const Bytes> entries);
  Result<Bytes> entry(std::uint64_t index);
  /// Hash of a complete subtree (fails if it is not complete in the committed tree).
  Result<Hash> node(unsigned level, std::uint64_t index);
  /// A NodeGetter bound to this log.
  NodeGetter getter();
  Result<Hash> root(std::uint64_t size);
  /// Signs and stores a checkpoint for the current size (idempotent per size); returns the note
  /// with any stored cosignatures.
  Result<std::string> checkpoint();
  /// The newest stored checkpoint note (with cosignatures); error if none.
  Result<std::string> latest_checkpoint();
  /// The newest stored checkpoint of size > index carrying >= min_cosignatures cosignatures.
  Result<std::string> checkpoint_covering(std::uint64_t index, std::size_t min_cosignatures);
  /// Sizes of stored checkpoints, newest first, at most `limit`.
  Result<std::vector<std::uint64_t>> checkpoint_sizes(std::size_t limit);
  /// Stores the cosignature lines of `note` (whose text must equal a stored checkpoint's text).
  Status add_cosignatures(std::string_view note);
  /// Index of the newest entry whose statement subject has this sha256 (lower-case hex).
  Result<std::optional<std::uint64_t>> find_subject(std::string_view sha256_hex);
  /// tlog-tiles resources for the committed tree (error if out of range).
  Result<Bytes> tile(const TileRef& ref);
  /// Recomputes every leaf and interior hash from the entries and checks the stored
  /// checkpoints: at least one exists, each is signed by the log key with the log's origin, and
  /// each root equals the root recomputed from the entries at its size. An error only when the
  /// log cannot be read; what is wrong with it is in the report's problems.
  Result<CheckReport> check(const CheckOptions& opt = {});

 private:
  struct Impl;
  explicit Log(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- Offline bundle (C2SP tlog-proof@v1 plus the envelope) and verification ---------------

/// The file that ships beside an image: see docs/tlog.md for the exact text layout.
struct Bundle {
  Bytes envelope;
  std::uint64_t index = 0;
  std::vector<Hash> inclusion;
  std::string checkpoint;  ///< the signed note, verbatim, with cosignatures
  /// Consistency proofs from earlier checkpoint sizes to this checkpoint's size.
  std::vector<std::pair<std::uint64_t, std::vector<Hash>>> consistency;
  [[nodiscard]] std::string to_string() const;
  /// The C2SP tlog-proof@v1 part alone.
  [[nodiscard]] std::string tlog_proof() const;
};
Result<Bundle> parse_bundle(std::string_view text);
/// Builds the bundle for the newest entry whose subject is `image_sha256`.
Result<Bundle> make_bundle(Log& log, std::string_view image_sha256, std::size_t min_cosignatures,
                           std::span<const std::uint64_t> extra_from_sizes);

struct VerifyOptions {
  PublicKey log_key;
  std::vector<PublicKey> approver_keys;
  std::size_t approver_threshold = 1;
  std::vector<PublicKey> witness_keys;
  std::size_t witness_threshold = 0;
  std::optional<std::filesystem::path> state;  ///< last checkpoint seen (read, then updated)
  /// Attested verdicts a station installs (verify --accept-verdict adds to "pass"): a failed or
  /// inconclusive image that was attested and logged anyway is refused unless named here.
  std::vector<std::string> accept_verdicts = {"pass"};
};

struct VerifyCheck {
  std::string name;  ///< "bundle", "subject", "approvers", "checkpoint-signature", ...
  bool ok = false;
  std::string detail;
};

struct VerifyReport {
  bool ok = false;
  std::vector<VerifyCheck> checks;
};

/// The flash-time check: no network. Every check is reported; ok only when all hold. The
/// state file is updated only when every check holds.
VerifyReport verify_offline(const std::filesystem::path& image, std::string_view bundle_text,
                            const VerifyOptions& opt);

// ---- Server and witness (cpp-httplib, plain HTTP) ----------------------------------------------

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 0;  ///< 0: pick a free port
  std::string token;
  std::size_t max_body = kMaxEntryBytes;
  double rate_per_second = 50000;  ///< appends admitted per second (token bucket)
  double rate_burst = 10000;
  unsigned checkpoint_interval_ms = 500;
  unsigned threads = 32;  ///< workers running complete requests
  // Slow and hostile clients (include/probity/limits.hpp, docs/tlog.md).
  std::size_t max_connections = kServeMaxConnections;
  std::size_t max_pending_connections = kServeMaxPendingConnections;
  std::size_t max_connections_per_address = kServeMaxConnectionsPerAddress;
  unsigned request_timeout_ms = kServeRequestTimeoutMs;
  unsigned idle_timeout_ms = kServeIdleTimeoutMs;
  unsigned write_timeout_ms = kServeWriteTimeoutMs;
  std::size_t max_head_bytes = kServeMaxHeadBytes;
  double address_rate_per_second = kServeRequestsPerSecondPerAddress;  ///< 0: no limit
  double address_rate_burst = kServeRequestsPerSecondPerAddress * kServeBurstSeconds;
};

/// The HTTP front of a Log: GET checkpoint and tiles; POST add (bearer token) with group commit.
/// Its own event loop reads each request whole (total deadline, byte caps, per-address caps and
/// rates) before a worker runs it, so slow clients hold no worker.
class Server {
 public:
  Server(Log& log, ServeOptions opt);
  ~Server();
  /// Binds; returns the port.
  Result<int> bind();
  /// Serves until stop(); flushes pending appends and signs a final checkpoint.
  Status run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct WitnessOptions {
  std::string url;  ///< http://127.0.0.1:PORT
  PublicKey log_key;
  PrivateKey witness_key;  ///< KeyType::kCosignatureV1
  std::filesystem::path state;
  std::string token;  ///< to POST the cosignature back (empty: do not post)
};

/// One poll: fetch the checkpoint, verify its signature and its consistency with the state (via
/// tiles), cosign it, store it as the new state, post the cosignature. Returns the cosigned note.
Result<std::string> witness_once(const WitnessOptions& opt);

/// Writes a file atomically (temp file, fsync, rename, fsync dir).
Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                         bool private_mode = false);

}  // namespace probity::tlog
