// The offline proof bundle (C2SP tlog-proof@v1 plus the envelope and consistency proofs) and the
// flash-time verification.
#include <charconv>
#include <set>

#include "probity/hash.hpp"
#include "probity/tlog.hpp"

namespace probity::tlog {
namespace {

constexpr std::string_view kBundleMagic = "probity.dev/bundle/v1";
constexpr std::string_view kProofMagic = "c2sp.org/tlog-proof@v1";

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<Hash> parse_hash(std::string_view s) {
  auto b = base64_decode(s);
  if (!b || b->size() != 32) return std::nullopt;
  Hash h;
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

// Splits off one '\n'-terminated line; nullopt at the end of the text.
std::optional<std::string_view> next_line(std::string_view& rest) {
  const auto eol = rest.find('\n');
  if (eol == std::string_view::npos) return std::nullopt;
  auto line = rest.substr(0, eol);
  rest.remove_prefix(eol + 1);
  return line;
}

}  // namespace

std::string Bundle::tlog_proof() const {
  std::string out(kProofMagic);
  out += "\nindex " + std::to_string(index) + "\n";
  for (const auto& h : inclusion) out += base64_encode(h) + "\n";
  out += "\n";
  out += checkpoint;
  return out;
}

std::string Bundle::to_string() const {
  std::string out(kBundleMagic);
  out += "\nenvelope " + base64_encode(envelope) + "\n";
  for (const auto& [size, proof] : consistency) {
    out += "consistency " + std::to_string(size);
    for (const auto& h : proof) out += " " + base64_encode(h);
    out += "\n";
  }
  out += "\n";
  out += tlog_proof();
  return out;
}

Result<Bundle> parse_bundle(std::string_view text) {
  if (text.size() > kMaxBundleBytes) return fail("bundle is larger than the cap");
  Bundle b;
  std::string_view rest = text;
  auto line = next_line(rest);
  if (!line || *line != kBundleMagic) return fail("bundle must start with probity.dev/bundle/v1");
  bool have_envelope = false;
  while (true) {
    line = next_line(rest);
    if (!line) return fail("bundle header is not terminated by a blank line");
    if (line->empty()) break;
    if (line->starts_with("envelope ")) {
      auto e = base64_decode(line->substr(9));
      if (!e || have_envelope) return fail("bundle envelope line is not valid base64");
      b.envelope = std::move(*e);
      have_envelope = true;
    } else if (line->starts_with("consistency ")) {
      std::vector<std::string_view> fields;
      for (std::string_view f = line->substr(12);;) {
        const auto sp = f.find(' ');
        fields.push_back(f.substr(0, sp));
        if (sp == std::string_view::npos) break;
        f.remove_prefix(sp + 1);
        if (fields.size() > kMaxProofHashes + 1)
          return fail("bundle consistency proof is too long");
      }
      auto size = parse_u64(fields[0]);
      if (!size) return fail("bundle consistency line has no size");
      std::vector<Hash> proof;
      for (std::size_t i = 1; i < fields.size(); ++i) {
        auto h = parse_hash(fields[i]);
        if (!h) return fail("bundle consistency line has a bad hash");
        proof.push_back(*h);
      }
      b.consistency.emplace_back(*size, std::move(proof));
      if (b.consistency.size() > 4 * kMaxBundleConsistencyProofs)
        return fail("bundle has too many consistency proofs");
    } else {
      return fail("bundle header has an unknown line");
    }
  }
  if (!have_envelope) return fail("bundle has no envelope");
  // The C2SP tlog-proof@v1 part.
  line = next_line(rest);
  if (!line || *line != kProofMagic)
    return fail("bundle proof must start with c2sp.org/tlog-proof@v1");
  line = next_line(rest);
  if (line && line->starts_with("extra ")) line = next_line(rest);  // unauthenticated; ignored
  if (!line || !line->starts_with("index ")) return fail("tlog-proof has no index line");
  auto index = parse_u64(line->substr(6));
  if (!index) return fail("tlog-proof index is not a canonical decimal");
  b.index = *index;
  while (true) {
    line = next_line(rest);
    if (!line) return fail("tlog-proof has no checkpoint");
    if (line->empty()) break;
    auto h = parse_hash(*line);
    if (!h) return fail("tlog-proof inclusion hash is not base64 of 32 bytes");
    b.inclusion.push_back(*h);
    if (b.inclusion.size() > kMaxProofHashes) return fail("tlog-proof inclusion proof is too long");
  }
  b.checkpoint = std::string(rest);
  return b;
}

Result<Bundle> make_bundle(Log& log, std::string_view image_sha256, std::size_t min_cosignatures,
                           std::span<const std::uint64_t> extra_from_sizes) {
  auto idx = log.find_subject(image_sha256);
  if (!idx) return std::unexpected(idx.error());
  if (!*idx)
    return fail("no entry in the log attests an image with sha256 " + std::string(image_sha256));
  auto note = log.checkpoint_covering(**idx, min_cosignatures);
  if (!note && min_cosignatures == 0) {
    if (auto made = log.checkpoint(); !made) return std::unexpected(made.error());
    note = log.checkpoint_covering(**idx, 0);
  }
  if (!note) return std::unexpected(note.error());
  auto parsed = parse_note(*note);
  if (!parsed) return std::unexpected(parsed.error());
  auto c = parse_checkpoint(parsed->text);
  if (!c) return std::unexpected(c.error());
  Bundle b;
  auto entry = log.entry(**idx);
  if (!entry) return std::unexpected(entry.error());
  b.envelope = std::move(*entry);
  b.index = **idx;
  auto proof = inclusion_proof(b.index, c->size, log.getter());
  if (!proof) return std::unexpected(proof.error());
  b.inclusion = std::move(*proof);
  b.checkpoint = *note;
  // Consistency from every recent checkpoint a flashing station could hold as its state.
  auto sizes = log.checkpoint_sizes(kMaxBundleConsistencyProofs);
  if (!sizes) return std::unexpected(sizes.error());
  std::set<std::uint64_t> from(sizes->begin(), sizes->end());
  from.insert(extra_from_sizes.begin(), extra_from_sizes.end());
  for (auto s : from) {
    if (s == 0 || s >= c->size) continue;
    auto p = consistency_proof(s, c->size, log.getter());
    if (!p) return std::unexpected(p.error());
    b.consistency.emplace_back(s, std::move(*p));
  }
  return b;
}

VerifyReport verify_offline(const std::filesystem::path& image, std::string_view bundle_text,
                            const VerifyOptions& opt) {
  VerifyReport r;
  auto add = [&](std::string name, bool ok, std::string detail) {
    r.checks.push_back({std::move(name), ok, std::move(detail)});
    return ok;
  };
  auto bundle = parse_bundle(bundle_text);
  if (!add("bundle", bool(bundle), bundle ? "parsed" : bundle.error().message)) return r;
  auto env = parse_envelope(bundle->envelope);
  if (!add("envelope", bool(env),
           env ? "DSSE v1 envelope, payloadType " + env->payload_type : env.error().message))
    return r;

  // 1. The image in hand is the attested subject.
  auto digest = sha256_file(image);
  if (!digest) {
    add("subject", false, "cannot read image: " + digest.error().to_string());
  } else {
    const auto subjects = statement_subject_digests(*env);
    const bool found = std::find(subjects.begin(), subjects.end(), *digest) != subjects.end();
    add("subject", found,
        found
            ? "image sha256 " + *digest + " is the statement subject"
            : "image sha256 " + *digest + " is not a subject of the attestation" +
                  (subjects.empty() ? " (no in-toto subjects)" : " (subject " + subjects[0] + ")"));
  }

  // 1b. What was judged: the verdict the approvers signed must be one this station installs.
  {
    const auto verdict = statement_verdict(*env);
    const bool accepted =
        verdict && std::find(opt.accept_verdicts.begin(), opt.accept_verdicts.end(), *verdict) !=
                       opt.accept_verdicts.end();
    add("verdict", accepted,
        !verdict   ? "the attestation carries no verdict (predicate.verdict.result)"
        : accepted ? "attested verdict: " + *verdict +
                         (*verdict == "pass" ? "" : " (accepted by --accept-verdict)")
                   : "attested verdict: " + *verdict + ", not installed unless --accept-verdict " +
                         *verdict + " is given");
  }

  // 2. t of n approvers signed the envelope.
  const std::size_t signers = dsse_valid_signers(*env, opt.approver_keys);
  const std::size_t need = std::max<std::size_t>(1, opt.approver_threshold);
  add("approvers", signers >= need,
      std::to_string(signers) + " of " + std::to_string(opt.approver_keys.size()) +
          " approver keys signed the envelope; " + std::to_string(need) + " required");

  // 3. The checkpoint is signed by the log.
  auto note = parse_note(bundle->checkpoint);
  std::optional<Checkpoint> cp;
  if (!note) {
    add("checkpoint-signature", false, "checkpoint is not a signed note: " + note.error().message);
  } else {
    auto c = parse_checkpoint(note->text);
    if (!c) {
      add("checkpoint-signature", false, "malformed checkpoint: " + c.error().message);
    } else {
      cp = *c;
      const bool signed_ok = note_verified_by(*note, opt.log_key);
      const bool origin_ok = c->origin == opt.log_key.name;
      add("checkpoint-signature", signed_ok && origin_ok,
          !signed_ok ? "checkpoint carries no valid signature by log key " + opt.log_key.key_hint()
          : !origin_ok
              ? "checkpoint origin '" + c->origin + "' is not the log key name '" +
                    opt.log_key.name + "'"
              : "signed by " + opt.log_key.key_hint() + " at size " + std::to_string(c->size));
    }
  }

  // 4. The envelope is included in that tree.
  if (!cp) {
    add("inclusion", false, "no checkpoint to check the inclusion proof against");
  } else {
    auto s = verify_inclusion(bundle->index, cp->size, leaf_hash(bundle->envelope),
                              bundle->inclusion, cp->root);
    add("inclusion", bool(s),
        s ? "entry " + std::to_string(bundle->index) + " is in the tree of size " +
                std::to_string(cp->size)
          : s.error().message);
  }

  // 5. Witnesses cosigned the checkpoint.
  if (opt.witness_threshold > 0 || !opt.witness_keys.empty()) {
    std::size_t good = 0;
    std::vector<std::string> names;
    for (std::size_t i = 0; note && i < opt.witness_keys.size(); ++i) {
      bool dup = false;
      for (std::size_t j = 0; j < i; ++j) dup |= opt.witness_keys[j].key == opt.witness_keys[i].key;
      if (!dup && cosignature_time(*note, opt.witness_keys[i])) {
        ++good;
        names.push_back(opt.witness_keys[i].name);
      }
    }
    const std::size_t wneed = opt.witness_threshold;
    std::string who;
    for (const auto& n : names) who += (who.empty() ? " (" : ", ") + n;
    if (!who.empty()) who += ")";
    add("witnesses", good >= wneed,
        std::to_string(good) + " of " + std::to_string(opt.witness_keys.size()) +
            " witnesses cosigned" + who + "; " + std::to_string(wneed) + " required");
  }

  // 6. The log never went backwards relative to what this station saw before.
  std::optional<std::string> new_state;
  if (opt.state) {
    std::error_code ec;
    if (!cp) {
      add("consistency", false, "no checkpoint to compare with the stored state");
    } else if (!std::filesystem::exists(*opt.state, ec)) {
      add("consistency", true, "no earlier state; this checkpoint becomes the state");
      new_state = bundle->checkpoint;
    } else {
      auto old_text = read_file_capped(*opt.state, kMaxNoteBytes);
      auto old_note = old_text ? parse_note(*old_text) : Result<Note>(fail("unreadable"));
      auto old = old_note ? parse_checkpoint(old_note->text) : Result<Checkpoint>(fail("bad"));
      if (!old || !note_verified_by(*old_note, opt.log_key)) {
        add("consistency", false,
            "state file " + opt.state->string() +
                " does not hold a checkpoint signed by the log key");
      } else if (old->origin != cp->origin) {
        add("consistency", false,
            "state is for log '" + old->origin + "', bundle for '" + cp->origin + "'");
      } else if (old->size == 0) {
        add("consistency", true, "every tree extends the empty tree of the earlier state");
        new_state = bundle->checkpoint;
      } else if (cp->size < old->size) {
        add("consistency", false,
            "rolled back: bundle checkpoint size " + std::to_string(cp->size) +
                " is older than the last seen size " + std::to_string(old->size) +
                " (re-issue the bundle from the log)");
      } else if (cp->size == old->size) {
        const bool same = cp->root == old->root;
        add("consistency", same,
            same ? "same tree as the last seen checkpoint"
                 : "fork: same size " + std::to_string(cp->size) +
                       " as the last seen checkpoint but a different root hash");
        if (same) new_state = bundle->checkpoint;
      } else {
        const std::vector<Hash>* proof = nullptr;
        for (const auto& [size, p] : bundle->consistency)
          if (size == old->size) proof = &p;
        if (!proof) {
          add("consistency", false,
              "bundle carries no consistency proof from the last seen size " +
                  std::to_string(old->size) + " (make the bundle with --from-size " +
                  std::to_string(old->size) + ")");
        } else {
          auto s = verify_consistency(old->size, cp->size, *proof, old->root, cp->root);
          add("consistency", bool(s),
              s ? "tree of size " + std::to_string(cp->size) + " extends the last seen size " +
                      std::to_string(old->size)
                : s.error().message);
          if (s) new_state = bundle->checkpoint;
        }
      }
    }
  }

  r.ok = std::all_of(r.checks.begin(), r.checks.end(), [](const VerifyCheck& c) { return c.ok; });
  if (r.ok && new_state) {
    if (auto s = write_file_atomic(*opt.state, *new_state); !s) {
      add("state", false, "cannot store the new state: " + s.error().to_string());
      r.ok = false;
    }
  }
  return r;
}

}  // namespace probity::tlog
