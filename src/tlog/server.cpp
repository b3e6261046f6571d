// The log's HTTP front (cpp-httplib, plain HTTP for loopback or behind a TLS proxy): the read
// side as static C2SP tlog-tiles resources, and an authenticated append with group commit.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "probity/hash.hpp"
#include "probity/tlog.hpp"

namespace probity::tlog {
namespace {

/// Entries committed in one transaction at most: bounds a batch's latency and memory.
constexpr std::size_t kMaxCommitBatch = 4096;
/// Pending connections the kernel queues for accept(). Debian's prebuilt cpp-httplib listens
/// with a backlog of 5, which drops the handshakes of a burst of concurrent clients (their first
/// request then fails); the listening socket is re-armed with this backlog after bind.
constexpr int kListenBacklog = 1024;
/// How long an append waits for its commit before the client is told 503.
constexpr auto kCommitWait = std::chrono::seconds(60);

struct Pending {
  Bytes entry;
  std::promise<Result<std::uint64_t>> done;
};

// Linux lets listen() be called again on a listening socket to change its backlog. httplib does
// not expose its socket, so find the one listening on our port.
void widen_backlog(int port) {
  for (int fd = 3; fd < 65536; ++fd) {
    int accepting = 0;
    socklen_t len = sizeof accepting;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0) {
      if (errno == EBADF && fd > 1024) break;
      continue;
    }
    if (!accepting) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int p = -1;
    if (addr.ss_family == AF_INET) p = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) p = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (p == port) ::listen(fd, kListenBacklog);
  }
}

std::string token_digest(std::string_view s) {
  return sha256_hex({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

}  // namespace

struct Server::Impl {
  Log& log;
  ServeOptions opt;
  httplib::Server http;
  std::string token_hash;

  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<std::shared_ptr<Pending>> queue;
  bool stopping = false;
  std::thread committer, checkpointer;
  std::mutex ckmu;
  std::condition_variable ckcv;
  bool ckstop = false;

  std::mutex rate_mu;
  double tokens;
  std::chrono::steady_clock::time_point last_refill = std::chrono::steady_clock::now();

  Impl(Log& l, ServeOptions o) : log(l), opt(std::move(o)), tokens(opt.rate_burst) {}

  bool authorized(const httplib::Request& req) const {
    const std::string h = req.get_header_value("Authorization");
    if (!h.starts_with("Bearer ")) return false;
    // Comparing fixed-size digests in constant time leaks neither the token nor its length.
    const std::string got = token_digest(std::string_view(h).substr(7));
    return got.size() == token_hash.size() &&
           CRYPTO_memcmp(got.data(), token_hash.data(), got.size()) == 0;
  }

  bool admit() {
    std::lock_guard lock(rate_mu);
    const auto now = std::chrono::steady_clock::now();
    tokens =
        std::min(opt.rate_burst, tokens + std::chrono::duration<double>(now - last_refill).count() *
                                              opt.rate_per_second);
    last_refill = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  void commit_loop() {
    for (;;) {
      std::vector<std::shared_ptr<Pending>> batch;
      {
        std::unique_lock lock(qmu);
        qcv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty() && stopping) return;
        while (!queue.empty() && batch.size() < kMaxCommitBatch) {
          batch.push_back(queue.front());
          queue.pop_front();
        }
      }
      std::vector<Bytes> entries;
      entries.reserve(batch.size());
      for (auto& p : batch) entries.push_back(std::move(p->entry));
      auto idx = log.append(entries);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (idx)
          batch[i]->done.set_value((*idx)[i]);
        else
          batch[i]->done.set_value(std::unexpected(idx.error()));
      }
    }
  }

  void checkpoint_loop() {
    std::uint64_t last = UINT64_MAX;
    std::unique_lock lock(ckmu);
    for (;;) {
      // At most one checkpoint per interval, however fast appends arrive.
      if (ckcv.wait_for(lock, std::chrono::milliseconds(opt.checkpoint_interval_ms),
                        [&] { return ckstop; }))
        return;
      auto n = log.size();
      if (n && *n != last && log.checkpoint()) last = *n;
    }
  }

  void routes() {
    http.new_task_queue = [n = opt.threads] { return new httplib::ThreadPool(n); };
    http.set_payload_max_length(opt.max_body);
    // Small request/response pairs on kept-alive connections otherwise wait out Nagle plus
    // delayed ACK (~40 ms each).
    http.set_tcp_nodelay(true);
    // httplib closes a kept-alive connection after 5 requests by default; a client that sends
    // its next POST as the server closes gets a read error for an entry it cannot know the fate
    // of. Keep connections for many requests instead.
    http.set_keep_alive_max_count(100000);
    http.set_keep_alive_timeout(30);
    http.set_read_timeout(10, 0);
    http.set_write_timeout(10, 0);
    http.Get("/checkpoint", [this](const httplib::Request&, httplib::Response& res) {
      auto note = log.latest_checkpoint();
      if (!note) {
        res.status = 404;
        res.set_content(note.error().message + "\n", "text/plain");
        return;
      }
      res.set_header("Cache-Control", "no-cache");
      res.set_content(*note, "text/plain; charset=utf-8");
    });
    http.Get(R"(/tile/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      auto ref = parse_tile_path(std::string_view(req.path).substr(1));
      if (!ref) {
        res.status = 404;
        return;
      }
      auto data = log.tile(*ref);
      if (!data) {
        res.status = 404;
        res.set_content(data.error().message + "\n", "text/plain");
        return;
      }
      res.set_header("Cache-Control", "public, max-age=31536000, immutable");
      res.set_content(reinterpret_cast<const char*>(data->data()), data->size(),
                      "application/octet-stream");
    });
    http.Post("/add", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req)) {
        res.status = 401;
        res.set_header("WWW-Authenticate", "Bearer");
        res.set_content("unauthorized\n", "text/plain");
        return;
      }
      if (!admit()) {
        res.status = 429;
        res.set_header("Retry-After", "1");
        res.set_content("rate limit\n", "text/plain");
        return;
      }
      const auto* p = reinterpret_cast<const std::uint8_t*>(req.body.data());
      Bytes entry(p, p + req.body.size());
      if (entry.empty() || entry.size() > kMaxEntryBytes) {
        res.status = entry.empty() ? 400 : 413;
        return;
      }
      if (auto env = parse_envelope(entry); !env) {
        res.status = 400;
        res.set_content("not a DSSE envelope: " + env.error().message + "\n", "text/plain");
        return;
      }
      // Shared with the committer, so neither side can outlive the promise.
      auto pending = std::make_shared<Pending>();
      pending->entry = std::move(entry);
      auto fut = pending->done.get_future();
      {
        std::lock_guard lock(qmu);
        if (stopping) {
          res.status = 503;
          return;
        }
        queue.push_back(pending);
      }
      qcv.notify_one();
      // The committer always fulfils the promise: the queue is drained before it exits.
      if (fut.wait_for(kCommitWait) != std::future_status::ready) fut.wait();
      auto idx = fut.get();
      if (!idx) {
        res.status = 500;
        res.set_content(idx.error().message + "\n", "text/plain");
        return;
      }
      res.set_content(std::to_string(*idx) + "\n", "text/plain");
    });
    http.Post("/add-cosignature", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req)) {
        res.status = 401;
        res.set_header("WWW-Authenticate", "Bearer");
        return;
      }
      if (auto s = log.add_cosignatures(req.body); !s) {
        res.status = 400;
        res.set_content(s.error().message + "\n", "text/plain");
        return;
      }
      res.set_content("ok\n", "text/plain");
    });
  }
};

Server::Server(Log& log, ServeOptions opt) : impl_(std::make_unique<Impl>(log, std::move(opt))) {
  impl_->token_hash = token_digest(impl_->opt.token);
  impl_->routes();
}

Server::~Server() {
  stop();
}

Result<int> Server::bind() {
  if (impl_->opt.token.empty()) return fail("the server needs a non-empty bearer token");
  int port = impl_->opt.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(impl_->opt.host);
    if (port < 0) return fail("cannot bind " + impl_->opt.host);
  } else if (!impl_->http.bind_to_port(impl_->opt.host, port)) {
    return fail("cannot bind " + impl_->opt.host + ":" + std::to_string(port));
  }
  widen_backlog(port);
  return port;
}

Status Server::run() {
  auto& I = *impl_;
  I.committer = std::thread([&I] { I.commit_loop(); });
  I.checkpointer = std::thread([&I] { I.checkpoint_loop(); });
  const bool ok = I.http.listen_after_bind();
  {
    std::lock_guard lock(I.qmu);
    I.stopping = true;
  }
  I.qcv.notify_all();
  {
    std::lock_guard lock(I.ckmu);
    I.ckstop = true;
  }
  I.ckcv.notify_all();
  I.committer.join();
  I.checkpointer.join();
  // Everything acknowledged is committed; sign the final size so readers see it.
  if (auto c = I.log.checkpoint(); !c) return std::unexpected(c.error());
  if (!ok) return fail("HTTP server stopped with an error");
  return {};
}

void Server::stop() {
  impl_->http.stop();
}

}  // namespace probity::tlog
