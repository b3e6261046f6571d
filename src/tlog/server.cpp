// The log's HTTP server (plain HTTP for loopback or behind a TLS proxy): the read side as static
// C2SP tlog-tiles resources, and an authenticated append with group commit. Connections belong
// to the front (http_front.cpp), which reads each request whole under its deadlines and caps;
// cpp-httplib parses and routes the buffered request on a worker.
#include <httplib.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <mutex>
#include <thread>

#include "probity/hash.hpp"
#include "probity/limits.hpp"
#include "probity/tlog.hpp"
#include "tlog/http_front.hpp"

namespace probity::tlog {
namespace {

/// How long an append waits for its commit before the client is told 503.
constexpr auto kCommitWait = std::chrono::seconds(60);

struct Pending {
  Bytes entry;
  std::promise<Result<std::uint64_t>> done;
};

/// httplib's request parser and router, run on a request the front has already read whole.
class Router : public httplib::Server {
 public:
  /// Parses the request in `s`, runs its route and writes the response to `s`; `close` is set
  /// when the client asked for the connection to be closed. False when it must be closed.
  bool serve(httplib::Stream& s, bool& close) { return process_request(s, false, close, nullptr); }
};

/// One buffered request as httplib's stream: reads come from the request's bytes, writes collect
/// the response for the front to send.
class Exchange final : public httplib::Stream {
 public:
  explicit Exchange(const http::Request& r) : req_(r) {}
  bool is_readable() const override { return pos_ < req_.bytes.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const std::size_t n = std::min(size, req_.bytes.size() - pos_);
    std::memcpy(ptr, req_.bytes.data() + pos_, n);
    pos_ += n;
    return ssize_t(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out.append(ptr, size);
    return ssize_t(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = req_.peer_address;
    port = req_.peer_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = req_.local_address;
    port = req_.local_port;
  }
  // No socket: httplib compares it with FD_SETSIZE (its select() limit) and would refuse
  // requests on descriptors above 1024, which the front does not use select() on.
  socket_t socket() const override { return INVALID_SOCKET; }

  std::string out;

 private:
  const http::Request& req_;
  std::size_t pos_ = 0;
};

std::string token_digest(std::string_view s) {
  return sha256_hex({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

}  // namespace

struct Server::Impl {
  Log& log;
  ServeOptions opt;
  Router router;
  http::Front front;
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

  Impl(Log& l, ServeOptions o)
      : log(l),
        opt(std::move(o)),
        front(opt, [this](const http::Request& r) { return handle(r); }),
        tokens(opt.rate_burst) {}

  http::Reply handle(const http::Request& r) {
    Exchange ex(r);
    bool close = false;
    const bool ok = router.serve(ex, close);
    return {std::move(ex.out), close || !ok};
  }

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
    router.set_payload_max_length(opt.max_body);
    // Only what the Keep-Alive response header announces: the front keeps a connection for any
    // number of requests and closes it after the idle timeout.
    router.set_keep_alive_max_count(std::numeric_limits<int>::max());
    router.set_keep_alive_timeout(std::max<time_t>(1, opt.idle_timeout_ms / 1000));
    router.Get("/checkpoint", [this](const httplib::Request&, httplib::Response& res) {
      auto note = log.latest_checkpoint();
      if (!note) {
        res.status = 404;
        res.set_content(note.error().message + "\n", "text/plain");
        return;
      }
      res.set_header("Cache-Control", "no-cache");
      res.set_content(*note, "text/plain; charset=utf-8");
    });
    router.Get(R"(/tile/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
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
    router.Post("/add", [this](const httplib::Request& req, httplib::Response& res) {
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
    router.Post("/add-cosignature", [this](const httplib::Request& req, httplib::Response& res) {
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
  return impl_->front.bind();
}

Status Server::run() {
  auto& I = *impl_;
  I.committer = std::thread([&I] { I.commit_loop(); });
  I.checkpointer = std::thread([&I] { I.checkpoint_loop(); });
  const Status served = I.front.run();
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
  return served;
}

void Server::stop() {
  impl_->front.stop();
}

}  // namespace probity::tlog
