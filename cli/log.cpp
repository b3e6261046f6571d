// probity log init|append|checkpoint|prove|bundle|serve|witness|check
#include <fmt/format.h>

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <thread>

#include "commands.hpp"
#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"

namespace probity::cli {
namespace {

/// Envelopes appended per transaction by `log append` (each transaction is one fsync).
constexpr std::size_t kAppendBatch = 10000;

int usage(const char* cmd, const std::string& m) {
  fmt::print(stderr, "probity log {}: {}\n", cmd, m);
  return kExitUsage;
}

Result<std::string> read_token(const std::string& path) {
  auto t = read_file_capped(path, kMaxLogTokenBytes);
  if (!t) return t;
  while (!t->empty() && (t->back() == '\n' || t->back() == '\r' || t->back() == ' ')) t->pop_back();
  if (t->empty()) return fail("token file is empty", 0, path);
  return t;
}

Result<std::unique_ptr<tlog::Log>> open_log(const std::string& dir) {
  return tlog::Log::open(dir);
}

}  // namespace

Command add_log(CLI::App& parent) {
  struct Args {
    std::string dir, key, image, out, listen = "127.0.0.1:0", token_file, url, log_key, state;
    std::vector<std::string> files, states;
    std::vector<std::uint64_t> from_sizes;
    std::optional<std::uint64_t> index, from, to;
    std::size_t min_cosignatures = 0;
    double rate = 50000, address_rate = kServeRequestsPerSecondPerAddress;
    std::size_t max_connections = kServeMaxConnections,
                max_pending_connections = kServeMaxPendingConnections,
                max_connections_per_address = kServeMaxConnectionsPerAddress;
    unsigned request_timeout_ms = kServeRequestTimeoutMs;
    unsigned checkpoint_ms = 500, interval_ms = 1000, count = 1;
  };
  auto a = std::make_shared<Args>();
  CLI::App* app = parent.add_subcommand(
      "log", "Release transparency log (RFC 9162 Merkle tree, C2SP checkpoints and tiles).");
  app->require_subcommand(1);

  auto* init =
      app->add_subcommand("init", "Create a log in DIR signed by KEY (origin = key name).");
  init->add_option("--dir", a->dir, "Log directory")->required();
  init->add_option("--key", a->key, "Log private key (probity key generate)")->required();

  auto* append = app->add_subcommand(
      "append", "Append DSSE envelopes (durably) and sign a checkpoint; prints 'INDEX FILE'.");
  append->add_option("--dir", a->dir, "Log directory")->required();
  append->add_option("ENVELOPE", a->files, "Envelope files")->required();

  auto* ckpt =
      app->add_subcommand("checkpoint", "Sign a checkpoint of the current size; print it.");
  ckpt->add_option("--dir", a->dir, "Log directory")->required();

  auto* prove = app->add_subcommand(
      "prove",
      R"(--index I: print a C2SP tlog-proof@v1 for entry I against the newest checkpoint.
--from M [--to N]: print a consistency proof (base64 hashes, one per line).)");
  prove->add_option("--dir", a->dir, "Log directory")->required();
  auto* o_index = prove->add_option("--index", a->index, "Entry index (inclusion proof)");
  auto* o_from = prove->add_option("--from", a->from, "Older tree size (consistency proof)");
  prove->add_option("--to", a->to, "Newer tree size (default: newest checkpoint)");
  o_index->excludes(o_from);

  auto* bundle = app->add_subcommand(
      "bundle", "Write the offline proof bundle for IMAGE (the newest entry whose subject it is).");
  bundle->add_option("--dir", a->dir, "Log directory")->required();
  bundle->add_option("IMAGE", a->image, "Firmware image")->required();
  bundle->add_option("--out", a->out, "Bundle file")->required();
  bundle->add_option("--min-cosignatures", a->min_cosignatures,
                     "Use the newest checkpoint with at least this many cosignatures");
  bundle->add_option("--from-size", a->from_sizes,
                     "Also carry a consistency proof from this tree size (repeatable)");

  auto* serve = app->add_subcommand(
      "serve",
      R"(Serve the log over HTTP: GET /checkpoint, /tile/...; POST /add and /add-cosignature with
'Authorization: Bearer TOKEN'. Prints 'listening on HOST:PORT'. SIGTERM stops cleanly.)");
  serve->add_option("--dir", a->dir, "Log directory")->required();
  serve->add_option("--listen", a->listen, "HOST:PORT (port 0 picks a free port)");
  serve->add_option("--token-file", a->token_file, "File holding the bearer token")->required();
  serve->add_option("--rate", a->rate, "Appends admitted per second (token bucket)");
  serve->add_option("--checkpoint-interval-ms", a->checkpoint_ms, "Checkpoint at most this often");
  serve
      ->add_option("--rate-per-address", a->address_rate,
                   "Requests per second each client address may make, any route (0: no limit)")
      ->capture_default_str();
  serve->add_option("--max-connections", a->max_connections, "Open client connections at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--max-pending-connections", a->max_pending_connections,
                   "Connections that have not completed a request yet, at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--max-connections-per-address", a->max_connections_per_address,
                   "Open connections from one client address at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--request-timeout-ms", a->request_timeout_ms,
                   "A whole request must arrive within this time (total, however it trickles)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  auto* witness = app->add_subcommand(
      "witness",
      R"(Poll a log, verify its checkpoint signature and consistency (from tiles) with the last
cosigned checkpoint, and only then cosign (C2SP tlog-cosignature/v1).
Exit codes: 0 every poll cosigned, 1 a checkpoint was refused, 2 bad usage.)");
  witness->add_option("--url", a->url, "Log URL, e.g. http://127.0.0.1:8080")->required();
  witness->add_option("--log-key", a->log_key, "Log verifier key (file or vkey)")->required();
  witness->add_option("--key", a->key, "Witness private key (key generate --witness)")->required();
  witness->add_option("--state", a->state, "Witness state file (last cosigned checkpoint)")
      ->required();
  witness->add_option("--token-file", a->token_file, "Token to post the cosignature back");
  witness->add_option("--count", a->count, "Polls (0: until SIGTERM)");
  witness->add_option("--interval-ms", a->interval_ms, "Pause between polls");

  auto* check = app->add_subcommand(
      "check",
      R"(Recompute every hash from the entries and verify the stored checkpoints: at least one
exists, each is signed by the log key and matches the entries at its size.
Exit codes: 0 consistent, 1 problems found (each named), 2 bad usage or unreadable log.)");
  check->add_option("--dir", a->dir, "Log directory")->required();
  check->add_option("--log-key", a->log_key,
                    "Expected log key (file or vkey); default: the directory's own log.key");
  check->add_option("--state", a->states,
                    "A signed checkpoint seen earlier (witness or station state) that the log "
                    "must still contain (repeatable)");

  return {app, [=]() -> int {
            if (init->parsed()) {
              auto key = tlog::read_private_key(a->key);
              if (!key) return usage("init", key.error().to_string());
              auto log = tlog::Log::create(a->dir, *key);
              if (!log) return usage("init", log.error().to_string());
              auto c = (*log)->checkpoint();
              if (!c) return usage("init", c.error().to_string());
              fmt::print("log {} created in {}\n", (*log)->public_key().to_string(), a->dir);
              return kExitOk;
            }
            auto log = open_log(a->dir);
            if (!log && !witness->parsed())
              return usage(app->get_subcommands().front()->get_name().c_str(),
                           log.error().to_string());
            if (append->parsed()) {
              std::vector<tlog::Bytes> batch;
              std::vector<std::string> names;
              auto flush = [&]() -> int {
                auto idx = (*log)->append(batch);
                if (!idx) return usage("append", idx.error().to_string());
                for (std::size_t i = 0; i < idx->size(); ++i)
                  fmt::print("{} {}\n", (*idx)[i], names[i]);
                batch.clear();
                names.clear();
                return kExitOk;
              };
              for (const auto& f : a->files) {
                auto data = read_file_capped(f, probity::kMaxEntryBytes);
                if (!data) return usage("append", data.error().to_string());
                batch.emplace_back(data->begin(), data->end());
                names.push_back(f);
                if (batch.size() == kAppendBatch)
                  if (int rc = flush(); rc != kExitOk) return rc;
              }
              if (!batch.empty())
                if (int rc = flush(); rc != kExitOk) return rc;
              auto c = (*log)->checkpoint();
              if (!c) return usage("append", c.error().to_string());
              return kExitOk;
            }
            if (ckpt->parsed()) {
              auto c = (*log)->checkpoint();
              if (!c) return usage("checkpoint", c.error().to_string());
              fmt::print("{}", *c);
              return kExitOk;
            }
            if (prove->parsed()) {
              if (a->index) {
                auto note = (*log)->checkpoint_covering(*a->index, 0);
                if (!note) {
                  if (auto c = (*log)->checkpoint(); !c)
                    return usage("prove", c.error().to_string());
                  note = (*log)->checkpoint_covering(*a->index, 0);
                }
                if (!note) return usage("prove", note.error().to_string());
                auto cp = tlog::parse_checkpoint(tlog::parse_note(*note)->text);
                auto proof = tlog::inclusion_proof(*a->index, cp->size, (*log)->getter());
                if (!proof) return usage("prove", proof.error().to_string());
                tlog::Bundle b;
                b.index = *a->index;
                b.inclusion = std::move(*proof);
                b.checkpoint = *note;
                fmt::print("{}", b.tlog_proof());
                return kExitOk;
              }
              if (a->from) {
                std::uint64_t to = 0;
                if (a->to) {
                  to = *a->to;
                } else {
                  auto note = (*log)->latest_checkpoint();
                  if (!note) return usage("prove", note.error().to_string());
                  to = tlog::parse_checkpoint(tlog::parse_note(*note)->text)->size;
                }
                auto n = (*log)->size();
                if (!n || to > *n) return usage("prove", "--to is beyond the log");
                auto proof = tlog::consistency_proof(*a->from, to, (*log)->getter());
                if (!proof) return usage("prove", proof.error().to_string());
                fmt::print("consistency {} {}\n", *a->from, to);
                for (const auto& h : *proof) fmt::print("{}\n", tlog::base64_encode(h));
                return kExitOk;
              }
              return usage("prove", "give --index I or --from M");
            }
            if (bundle->parsed()) {
              auto digest = sha256_file(a->image);
              if (!digest) return usage("bundle", digest.error().to_string());
              auto b = tlog::make_bundle(**log, *digest, a->min_cosignatures, a->from_sizes);
              if (!b) return usage("bundle", b.error().to_string());
              if (auto s = tlog::write_file_atomic(a->out, b->to_string()); !s)
                return usage("bundle", s.error().to_string());
              fmt::print("bundle for entry {} ({} bytes) -> {}\n", b->index, b->to_string().size(),
                         a->out);
              return kExitOk;
            }
            if (check->parsed()) {
              tlog::CheckOptions co;
              if (!a->log_key.empty()) {
                auto k = tlog::load_public_key(a->log_key);
                if (!k) return usage("check", k.error().to_string());
                co.log_key = *k;
              }
              for (const auto& f : a->states) {
                auto note = read_file_capped(f, probity::kMaxNoteBytes);
                if (!note) return usage("check", note.error().to_string());
                co.trusted.emplace_back("the checkpoint in " + f, *note);
              }
              auto r = (*log)->check(co);
              if (!r) return usage("check", r.error().to_string());
              if (!r->ok()) {
                for (const auto& p : r->problems)
                  fmt::print(stderr, "probity log check: INCONSISTENT: {}\n", p);
                return kExitFail;
              }
              fmt::print("log consistent: {} entries, {} signed checkpoints, newest at size {}\n",
                         r->entries, r->checkpoints, r->signed_size.value_or(0));
              if (r->signed_size.value_or(0) < r->entries)
                fmt::print(
                    "note: entries {}..{} are not covered by a signed checkpoint yet "
                    "(probity log checkpoint signs them)\n",
                    r->signed_size.value_or(0), r->entries - 1);
              return kExitOk;
            }
            // serve and witness run until SIGTERM/SIGINT: block them in every thread and wait
            // for them in one, so shutdown is an orderly call, never async-signal code.
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGTERM);
            sigaddset(&set, SIGINT);
            pthread_sigmask(SIG_BLOCK, &set, nullptr);
            if (serve->parsed()) {
              auto token = read_token(a->token_file);
              if (!token) return usage("serve", token.error().to_string());
              tlog::ServeOptions opt;
              const auto colon = a->listen.rfind(':');
              if (colon == std::string::npos) return usage("serve", "--listen HOST:PORT");
              opt.host = a->listen.substr(0, colon);
              try {
                opt.port = std::stoi(a->listen.substr(colon + 1));
              } catch (const std::exception&) {
                return usage("serve", "--listen HOST:PORT");
              }
              opt.token = *token;
              opt.rate_per_second = a->rate;
              opt.rate_burst = std::max(1.0, a->rate / 5);
              opt.checkpoint_interval_ms = std::max(10u, a->checkpoint_ms);
              opt.address_rate_per_second = std::max(0.0, a->address_rate);
              opt.address_rate_burst = std::max(1.0, a->address_rate * kServeBurstSeconds);
              opt.max_connections = a->max_connections;
              opt.max_pending_connections = a->max_pending_connections;
              opt.max_connections_per_address = a->max_connections_per_address;
              opt.request_timeout_ms = a->request_timeout_ms;
              tlog::Server server(**log, opt);
              auto port = server.bind();
              if (!port) return usage("serve", port.error().to_string());
              fmt::print("listening on {}:{}\n", opt.host, *port);
              std::fflush(stdout);
              std::thread waiter([&server, set] {
                int sig = 0;
                sigwait(&set, &sig);
                server.stop();
              });
              auto s = server.run();
              // Wake the waiter if the server stopped on its own.
              pthread_kill(waiter.native_handle(), SIGTERM);
              waiter.join();
              if (!s) return usage("serve", s.error().to_string());
              return kExitOk;
            }
            if (witness->parsed()) {
              tlog::WitnessOptions opt;
              opt.url = a->url;
              auto lk = tlog::load_public_key(a->log_key);
              if (!lk) return usage("witness", lk.error().to_string());
              opt.log_key = *lk;
              auto wk = tlog::read_private_key(a->key);
              if (!wk) return usage("witness", wk.error().to_string());
              opt.witness_key = *wk;
              opt.state = a->state;
              if (!a->token_file.empty()) {
                auto t = read_token(a->token_file);
                if (!t) return usage("witness", t.error().to_string());
                opt.token = *t;
              }
              int rc = kExitOk;
              for (unsigned i = 0; a->count == 0 || i < a->count; ++i) {
                if (i > 0) {
                  timespec ts{long(a->interval_ms / 1000), long(a->interval_ms % 1000) * 1000000};
                  if (sigtimedwait(&set, nullptr, &ts) > 0) break;
                }
                auto r = tlog::witness_once(opt);
                if (!r) {
                  fmt::print(stderr, "probity log witness: refused: {}\n", r.error().message);
                  rc = kExitFail;
                  continue;
                }
                fmt::print("{}", *r);
                std::fflush(stdout);
              }
              return rc;
            }
            return kExitUsage;
          }};
}

}  // namespace probity::cli
