// probity log-bench --dir DIR [--entries N] [--batch B] [--proofs K] [--http-clients C]
// [--http-each M]: times the log in-process for bench/tlog.sh (timing lives in bench/, never in
// tests). Prints one JSON object.
#include <fmt/format.h>

#include <httplib.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "commands.hpp"
#include "probity/tlog.hpp"

namespace probity::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Thread CPU time: on a shared, overloaded machine wall-clock tails measure the scheduler.
double cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

// Times one call: wall and CPU microseconds appended to the two vectors.
template <class F>
auto timed(std::vector<double>& wall, std::vector<double>& cpu, F&& f) {
  const double c0 = cpu_us();
  const auto t0 = Clock::now();
  auto r = f();
  wall.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  cpu.push_back(cpu_us() - c0);
  return r;
}

std::string fake_envelope(std::uint64_t i) {
  // Unsigned but well-formed DSSE envelopes of a realistic size (~500 bytes): signing a
  // million entries would time Ed25519, not the log.
  nlohmann::ordered_json st;
  st["_type"] = tlog::kStatementType;
  st["subject"] = {
      {{"name", fmt::format("fw-{}.bin", i)}, {"digest", {{"sha256", fmt::format("{:064x}", i)}}}}};
  st["predicateType"] = tlog::kScanPredicateType;
  st["predicate"] = {{"verdict", {{"result", "pass"}}}, {"n", i}};
  tlog::Envelope env;
  env.payload_type = tlog::kInTotoPayloadType;
  const std::string p = st.dump();
  env.payload.assign(p.begin(), p.end());
  env.signatures.push_back({"bench+00000000", tlog::Bytes(64, std::uint8_t(i))});
  return env.serialize();
}

nlohmann::json stats_us(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  auto at = [&](double q) { return v[std::min(v.size() - 1, std::size_t(q * double(v.size())))]; };
  return {{"n", v.size()},
          {"mean_us", sum / double(v.size())},
          {"p50_us", at(0.5)},
          {"p99_us", at(0.99)},
          {"max_us", v.back()}};
}

}  // namespace

Command add_log_bench(CLI::App& parent) {
  struct Args {
    std::string dir;
    std::uint64_t entries = 1000000, batch = 1000, proofs = 2000, single = 200;
    unsigned http_clients = 8, http_each = 500;
  };
  auto a = std::make_shared<Args>();
  CLI::App* app = parent.add_subcommand(
      "log-bench", "Benchmark the transparency log in-process (used by bench/tlog.sh); JSON out.");
  app->group("");  // hidden from --help: a benchmark driver, not a user command
  app->add_option("--dir", a->dir, "Scratch directory (a fresh log is created in it)")->required();
  app->add_option("--entries", a->entries, "Entries to append");
  app->add_option("--batch", a->batch, "Entries per durable transaction");
  app->add_option("--single", a->single, "Entries appended one per transaction (fsync each)");
  app->add_option("--proofs", a->proofs, "Proofs to generate and verify");
  app->add_option("--http-clients", a->http_clients, "Concurrent HTTP appenders (0: skip)");
  app->add_option("--http-each", a->http_each, "Appends per HTTP client");
  return {app, [a]() -> int {
            std::filesystem::remove_all(a->dir);
            auto key = tlog::generate_key("bench.example/log");
            auto log = tlog::Log::create(std::filesystem::path(a->dir) / "L", *key);
            if (!log) {
              fmt::print(stderr, "probity log-bench: {}\n", log.error().to_string());
              return kExitUsage;
            }
            nlohmann::ordered_json out;
            out["entries"] = a->entries;
            out["batch"] = a->batch;

            // 1. Durable appends, one transaction (one fsync) per batch.
            std::uint64_t done = 0;
            double busy = 0;
            while (done < a->entries) {
              std::vector<tlog::Bytes> b;
              const std::uint64_t n = std::min(a->batch, a->entries - done);
              for (std::uint64_t i = 0; i < n; ++i) {
                const auto s = fake_envelope(done + i);
                b.emplace_back(s.begin(), s.end());
              }
              const auto t0 = Clock::now();
              auto r = (*log)->append(b);
              busy += std::chrono::duration<double>(Clock::now() - t0).count();
              if (!r) {
                fmt::print(stderr, "probity log-bench: {}\n", r.error().to_string());
                return kExitFail;
              }
              done += n;
            }
            out["batched_appends_per_s"] = double(done) / busy;
            // 2. Unbatched: every append its own fsync, for contrast.
            const auto t1 = Clock::now();
            for (std::uint64_t i = 0; i < a->single; ++i) {
              const auto s = fake_envelope(done + i);
              if (!(*log)->append(std::vector<tlog::Bytes>{tlog::Bytes(s.begin(), s.end())}))
                return kExitFail;
            }
            out["single_appends_per_s"] =
                double(a->single) / std::chrono::duration<double>(Clock::now() - t1).count();
            auto ck = (*log)->checkpoint();
            if (!ck) return kExitFail;
            const std::uint64_t size = *(*log)->size();
            out["tree_size"] = size;
            auto root = (*log)->root(size);

            // 3. Proofs at full size: generation (SQLite lookups) and verification. One warm-up
            // round first so that one-time OpenSSL and SQLite set-up is not timed.
            std::mt19937_64 rng(42);
            if (auto w = tlog::inclusion_proof(0, size, (*log)->getter()); w && root)
              (void)tlog::verify_inclusion(0, size, *(*log)->node(0, 0), *w, *root);
            std::vector<double> gen_inc, ver_inc, gen_con, ver_con;
            std::vector<double> gen_inc_c, ver_inc_c, gen_con_c, ver_con_c;
            auto getter = (*log)->getter();
            for (std::uint64_t k = 0; k < a->proofs; ++k) {
              const std::uint64_t i = rng() % size;
              auto p =
                  timed(gen_inc, gen_inc_c, [&] { return tlog::inclusion_proof(i, size, getter); });
              auto leaf = (*log)->node(0, i);
              if (!p || !leaf) return kExitFail;
              auto ok = timed(ver_inc, ver_inc_c,
                              [&] { return tlog::verify_inclusion(i, size, *leaf, *p, *root); });
              if (!ok) return kExitFail;
              const std::uint64_t m = 1 + rng() % (size - 1);
              auto c = timed(gen_con, gen_con_c,
                             [&] { return tlog::consistency_proof(m, size, getter); });
              auto r1 = (*log)->root(m);
              if (!c || !r1) return kExitFail;
              auto cok = timed(ver_con, ver_con_c,
                               [&] { return tlog::verify_consistency(m, size, *c, *r1, *root); });
              if (!cok) return kExitFail;
            }
            out["inclusion_generate"] = stats_us(gen_inc);
            out["inclusion_verify"] = stats_us(ver_inc);
            out["consistency_generate"] = stats_us(gen_con);
            out["consistency_verify"] = stats_us(ver_con);
            out["inclusion_generate_cpu"] = stats_us(gen_inc_c);
            out["inclusion_verify_cpu"] = stats_us(ver_inc_c);
            out["consistency_generate_cpu"] = stats_us(gen_con_c);
            out["consistency_verify_cpu"] = stats_us(ver_con_c);
            double load[3] = {0, 0, 0};
            if (getloadavg(load, 3) > 0) out["loadavg_1min"] = load[0];
            out["cores"] = std::thread::hardware_concurrency();

            // 4. Through the HTTP server: concurrent appenders, group commit.
            if (a->http_clients > 0) {
              tlog::ServeOptions so;
              so.token = "bench-token";
              so.rate_per_second = 1e9;
              so.rate_burst = 1e9;
              so.threads = a->http_clients + 4;
              // One address makes every request: lift the per-address caps.
              so.address_rate_per_second = 0;
              so.max_connections_per_address = a->http_clients + 16;
              so.max_pending_connections =
                  std::max(so.max_pending_connections, std::size_t(a->http_clients) + 16);
              tlog::Server server(**log, so);
              auto port = server.bind();
              if (!port) return kExitFail;
              std::thread th([&] { (void)server.run(); });
              std::atomic<std::uint64_t> ok{0}, failures{0};
              const auto t = Clock::now();
              std::vector<std::thread> clients;
              for (unsigned c = 0; c < a->http_clients; ++c)
                clients.emplace_back([&, c] {
                  httplib::Client cli("127.0.0.1", *port);
                  cli.set_keep_alive(true);
                  cli.set_tcp_nodelay(true);
                  cli.set_read_timeout(60, 0);
                  httplib::Headers h{{"Authorization", "Bearer bench-token"}};
                  for (unsigned i = 0; i < a->http_each; ++i) {
                    auto r = cli.Post("/add", h, fake_envelope(size + 1000000ull * (c + 1) + i),
                                      "application/json");
                    if (r && r->status == 200)
                      ++ok;
                    else if (failures++ < 3)
                      fmt::print(
                          stderr, "log-bench: append {} of client {} failed: {}\n", i, c,
                          r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error()));
                  }
                });
              for (auto& c : clients) c.join();
              const double secs = std::chrono::duration<double>(Clock::now() - t).count();
              server.stop();
              th.join();
              out["http_clients"] = a->http_clients;
              out["http_appends"] = ok.load();
              out["http_failed"] = failures.load();
              out["http_appends_per_s"] = double(ok.load()) / secs;
            }
            std::cout << out.dump(2) << "\n";
            return kExitOk;
          }};
}

}  // namespace probity::cli
