// DSSE v1 envelopes (PAE, signing, verification) and in-toto Statement v1 subjects.
#include <nlohmann/json.hpp>

#include "probity/json.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity::tlog {
Bytes pae(std::string_view type, std::span<const std::uint8_t> body) {
  const std::string head = "DSSEv1 " + std::to_string(type.size()) + " " + std::string(type) + " " +
                           std::to_string(body.size()) + " ";
  Bytes out(head.begin(), head.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::string Envelope::serialize() const {
  nlohmann::ordered_json j;
  j["payload"] = base64_encode(payload);
  j["payloadType"] = payload_type;
  auto sigs = nlohmann::ordered_json::array();
  for (const auto& s : signatures) {
    nlohmann::ordered_json o;
    o["keyid"] = s.keyid;
    o["sig"] = base64_encode(s.sig);
    sigs.push_back(std::move(o));
  }
  j["signatures"] = std::move(sigs);
  return j.dump();
}

Result<Envelope> parse_envelope(std::span<const std::uint8_t> bytes) {
  auto parsed = parse_json_bounded({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, {},
                                   kMaxEntryBytes);
  if (!parsed) {
    Error e = parsed.error();
    e.message = "envelope: " + e.message;
    return std::unexpected(std::move(e));
  }
  auto& j = *parsed;
  if (!j.is_object()) return fail("envelope is not a JSON object");
  Envelope e;
  if (!j.contains("payloadType") || !j["payloadType"].is_string())
    return fail("envelope has no payloadType string");
  e.payload_type = j["payloadType"].get<std::string>();
  if (!j.contains("payload") || !j["payload"].is_string())
    return fail("envelope has no payload string");
  auto p = base64_decode(j["payload"].get<std::string>(), true);
  if (!p) return fail("envelope payload is not base64");
  e.payload = std::move(*p);
  if (!j.contains("signatures") || !j["signatures"].is_array())
    return fail("envelope has no signatures array");
  if (j["signatures"].size() > kMaxDsseSignatures) return fail("envelope has too many signatures");
  for (const auto& s : j["signatures"]) {
    if (!s.is_object() || !s.contains("sig") || !s["sig"].is_string())
      return fail("envelope signature has no sig string");
    DsseSignature d;
    if (s.contains("keyid") && s["keyid"].is_string()) d.keyid = s["keyid"].get<std::string>();
    auto sig = base64_decode(s["sig"].get<std::string>(), true);
    if (!sig) return fail("envelope signature is not base64");
    d.sig = std::move(*sig);
    e.signatures.push_back(std::move(d));
  }
  return e;
}

Status dsse_sign(Envelope& env, const PrivateKey& key) {
  if (key.type != KeyType::kEd25519)
    return fail("attestations are signed with Ed25519 (0x01) keys");
  auto sig = ed25519_sign(key, pae(env.payload_type, env.payload));
  if (!sig) return std::unexpected(sig.error());
  env.signatures.push_back({key.pub.key_hint(), Bytes(sig->begin(), sig->end())});
  return {};
}

std::size_t dsse_valid_signers(const Envelope& env, std::span<const PublicKey> keys) {
  const Bytes msg = pae(env.payload_type, env.payload);
  std::size_t n = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    // The same key listed twice counts once.
    bool dup = false;
    for (std::size_t j = 0; j < i; ++j) dup |= keys[j].key == keys[i].key;
    if (dup || keys[i].type != KeyType::kEd25519) continue;
    for (const auto& s : env.signatures)
      if (ed25519_verify(keys[i].key, msg, s.sig)) {
        ++n;
        break;
      }
  }
  return n;
}

std::vector<std::string> statement_subject_digests(const Envelope& env) {
  std::vector<std::string> out;
  if (env.payload_type != kInTotoPayloadType || env.payload.size() > kMaxStatementBytes) return out;
  auto parsed =
      parse_json_bounded({reinterpret_cast<const char*>(env.payload.data()), env.payload.size()},
                         {}, kMaxStatementBytes);
  if (!parsed) return out;
  auto& j = *parsed;
  if (!j.is_object() || !j.contains("subject") || !j["subject"].is_array()) return out;
  for (const auto& s : j["subject"]) {
    if (!s.is_object() || !s.contains("digest") || !s["digest"].is_object()) continue;
    const auto& d = s["digest"];
    if (d.contains("sha256") && d["sha256"].is_string())
      out.push_back(d["sha256"].get<std::string>());
  }
  return out;
}

std::optional<std::string> statement_verdict(const Envelope& env) {
  if (env.payload_type != kInTotoPayloadType || env.payload.size() > kMaxStatementBytes)
    return std::nullopt;
  auto parsed =
      parse_json_bounded({reinterpret_cast<const char*>(env.payload.data()), env.payload.size()},
                         {}, kMaxStatementBytes);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  const nlohmann::json::json_pointer at("/predicate/verdict/result");
  if (!parsed->contains(at) || !parsed->at(at).is_string()) return std::nullopt;
  return parsed->at(at).get<std::string>();
}

}  // namespace probity::tlog
