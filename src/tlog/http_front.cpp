// The accept path of `probity log serve` (see http_front.hpp): one epoll loop owns the sockets;
// workers only ever see complete requests.
#include "tlog/http_front.hpp"
#include "probity/limits.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

namespace probity::tlog::http {
namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

/// Pending handshakes the kernel queues for accept(): a burst of clients is not dropped.
constexpr int kListenBacklog = 1024;
/// Bytes read from a socket per recv().
constexpr std::size_t kReadChunk = 16 * 1024;
/// Connections accepted per wake-up, so a flood of connects cannot starve the other sockets.
constexpr int kAcceptsPerWake = 64;
/// Events taken per epoll_wait().
constexpr int kEventsPerWait = 256;
/// How often deadlines are checked: a timeout fires at most this late.
constexpr Ms kTick{50};
/// After a refusal that closes the connection, what the client still sends is read and dropped
/// for this long (and at most kLingerBytes), so that its unread request does not make the kernel
/// reset the connection before the client has read the refusal.
constexpr Ms kLinger{1000};
constexpr std::size_t kLingerBytes = 1 << 20;
/// File descriptors left to the rest of the process (the log's database, its WAL, key files):
/// the connection cap is lowered to the open-file limit minus these.
constexpr std::size_t kReservedFds = 64;
/// Out of file descriptors with no connection to close: accept() pauses this long rather than
/// spinning on a listening socket that stays readable.
constexpr Ms kAcceptPause{100};
/// Forgotten per-address buckets are swept this often.
constexpr Ms kSweepEvery{1000};

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

/// RFC 9110 token characters (header names).
bool is_tchar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

RequestHead refuse(int status, std::string reason) {
  RequestHead h;
  h.status = status;
  h.reason = std::move(reason);
  return h;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 413:
      return "Content Too Large";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    default:
      return "Internal Server Error";
  }
}

/// A response the front makes itself (refusals and rate limits), plain text.
std::string simple_response(int status, std::string_view body, bool close,
                            std::string_view extra_headers = {}) {
  std::string r =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) +
      "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size() + 1) + "\r\n";
  r += extra_headers;
  if (close) r += "Connection: close\r\n";
  r += "\r\n";
  r += body;
  r += "\n";
  return r;
}

/// The numeric address and port; an IPv4-mapped IPv6 address counts as the IPv4 one.
std::pair<std::string, int> address_of(const sockaddr_storage& sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa.ss_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, &sa, sizeof in);
    ::inet_ntop(AF_INET, &in.sin_addr, buf, sizeof buf);
    return {buf, ntohs(in.sin_port)};
  }
  if (sa.ss_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &sa, sizeof in6);
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr))
      ::inet_ntop(AF_INET, &in6.sin6_addr.s6_addr[12], buf, sizeof buf);
    else
      ::inet_ntop(AF_INET6, &in6.sin6_addr, buf, sizeof buf);
    return {buf, ntohs(in6.sin6_port)};
  }
  return {"unknown", 0};
}

}  // namespace

RequestHead parse_request_head(std::string_view head, std::size_t max_body) {
  if (!head.ends_with("\r\n\r\n")) return refuse(400, "request head does not end in a blank line");
  RequestHead h;
  bool have_length = false;
  std::size_t pos = 0;
  for (bool first = true;; first = false) {
    const auto eol = head.find("\r\n", pos);  // found: the head ends in CRLF
    const std::string_view line = head.substr(pos, eol - pos);
    const std::size_t begin = pos;
    pos = eol + 2;
    if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
      return refuse(400, "bare CR, LF or NUL in the request head");
    if (first) {
      if (line.empty() || line.find(' ') == std::string_view::npos)
        return refuse(400, "malformed request line");
      continue;
    }
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return refuse(400, "malformed header line");
    const std::string_view name = line.substr(0, colon);
    // Also refuses whitespace before the colon and folded (obs-fold) lines.
    if (!std::all_of(name.begin(), name.end(), is_tchar))
      return refuse(400, "malformed header name");
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      std::uint64_t v = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size())
        return refuse(400, "malformed Content-Length");
      if (have_length && v != h.content_length)
        return refuse(400, "conflicting Content-Length headers");
      have_length = true;
      h.content_length = v;
    } else if (iequals(name, "Transfer-Encoding")) {
      return refuse(501, "Transfer-Encoding is not supported; send Content-Length");
    } else if (iequals(name, "Expect")) {
      if (!iequals(value, "100-continue") || h.expect_continue)
        return refuse(417, "only one Expect: 100-continue is understood");
      h.expect_continue = true;
      h.drop_begin = begin;
      h.drop_end = pos;
    }
  }
  if (pos != head.size()) return refuse(400, "bytes after the blank line ending the head");
  if (h.content_length > max_body)
    return refuse(413, "request body larger than " + std::to_string(max_body) + " bytes");
  return h;
}

struct Front::Impl {
  enum class State { kReading, kBusy, kWriting, kDraining };

  struct Conn {
    int fd = -1;
    std::uint64_t id = 0;
    std::string peer, local;
    int peer_port = 0, local_port = 0;
    State state = State::kReading;
    std::uint32_t events = 0;  ///< what epoll watches for
    bool proven = false;       ///< has completed a request
    bool idle = false;         ///< kept alive, no byte of its next request yet
    bool eof = false;          ///< the client has shut down its sending side
    bool continued = false;    ///< "100 Continue" sent for the current request
    std::string in;
    std::size_t scan = 0;  ///< where the search for the head's end resumes
    std::optional<RequestHead> head;
    std::size_t head_bytes = 0;
    std::string out;
    std::size_t out_off = 0;
    bool close_after = false;
    std::size_t drained = 0;
    Clock::time_point since;  ///< when its wait for the current request began
    Clock::time_point deadline;
  };

  struct Address {
    std::size_t conns = 0;
    double tokens = 0;
    Clock::time_point refill;
  };

  struct Job {
    int fd;
    std::uint64_t id;
    Request req;
  };
  struct Done {
    int fd;
    std::uint64_t id;
    Reply reply;
  };

  ServeOptions opt;
  Handler handler;
  int listen_fd = -1, ep = -1, wake = -1;
  std::size_t max_conns = 0;
  std::atomic<bool> stopping{false};

  // The loop thread's own state.
  std::unordered_map<int, Conn> conns;
  std::unordered_map<std::string, Address> addresses;
  std::uint64_t next_id = 1;
  std::size_t pending = 0;  ///< connections that have not completed a request
  std::vector<int> again;   ///< reading connections with buffered bytes to frame
  bool accept_paused = false;
  Clock::time_point accept_resume, next_sweep;

  // Shared with the workers.
  std::mutex job_mu;
  std::condition_variable job_cv;
  std::deque<Job> jobs;
  bool workers_stop = false;
  std::mutex done_mu;
  std::vector<Done> done;
  std::vector<std::thread> workers;

  Impl(const ServeOptions& o, Handler h) : opt(o), handler(std::move(h)) {
    opt.address_rate_burst = std::max(1.0, opt.address_rate_burst);
  }

  ~Impl() {
    stop_workers();
    for (auto& [fd, c] : conns) ::close(fd);
    for (int fd : {listen_fd, ep, wake})
      if (fd >= 0) ::close(fd);
  }

  void stop_workers() {
    {
      std::lock_guard lock(job_mu);
      workers_stop = true;
    }
    job_cv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }

  void watch(Conn& c, std::uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = c.fd;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
  }

  void close_conn(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    if (!it->second.proven) --pending;
    if (auto a = addresses.find(it->second.peer); a != addresses.end()) --a->second.conns;
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(it);
  }

  /// Closes the connection that has waited longest for a request among those `match` accepts
  /// (connections a worker or a write holds are never closed for room); false when there is none.
  template <class Match>
  bool evict_oldest(Match match) {
    const Conn* best = nullptr;
    for (const auto& [fd, c] : conns)
      if ((c.state == State::kReading || c.state == State::kDraining) && match(c) &&
          (!best || c.since < best->since))
        best = &c;
    if (!best) return false;
    close_conn(best->fd);
    return true;
  }

  Address& address(const std::string& peer, Clock::time_point now) {
    if (addresses.size() >= kMaxTrackedAddresses && !addresses.contains(peer))
      std::erase_if(addresses, [](const auto& kv) { return kv.second.conns == 0; });
    auto [it, fresh] = addresses.try_emplace(peer);
    if (fresh) {
      it->second.tokens = opt.address_rate_burst;
      it->second.refill = now;
    }
    return it->second;
  }

  bool take_token(Address& a, Clock::time_point now) {
    if (opt.address_rate_per_second <= 0) return true;
    a.tokens = std::min(opt.address_rate_burst,
                        a.tokens + std::chrono::duration<double>(now - a.refill).count() *
                                       opt.address_rate_per_second);
    a.refill = now;
    if (a.tokens < 1) return false;
    a.tokens -= 1;
    return true;
  }

  void on_accept() {
    for (int i = 0; i < kAcceptsPerWake; ++i) {
      sockaddr_storage sa{};
      socklen_t len = sizeof sa;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          if (evict_oldest([](const Conn&) { return true; })) continue;
          pause_accept();
        }
        return;
      }
      admit(fd, sa);
    }
  }

  void pause_accept() {
    epoll_event ev{};
    ev.data.fd = listen_fd;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, listen_fd, &ev);
    accept_paused = true;
    accept_resume = Clock::now() + kAcceptPause;
  }

  void admit(int fd, const sockaddr_storage& sa) {
    const auto now = Clock::now();
    auto [peer, port] = address_of(sa);
    auto any = [](const Conn&) { return true; };
    auto same_peer = [&peer](const Conn& c) { return c.peer == peer; };
    auto unproven = [](const Conn& c) { return !c.proven; };
    if ((conns.size() >= max_conns && !evict_oldest(any)) ||
        (address(peer, now).conns >= opt.max_connections_per_address && !evict_oldest(same_peer)) ||
        (pending >= opt.max_pending_connections && !evict_oldest(unproven))) {
      ::close(fd);
      return;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Conn c;
    c.fd = fd;
    c.id = next_id++;
    c.peer = std::move(peer);
    c.peer_port = port;
    sockaddr_storage local{};
    socklen_t llen = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0)
      std::tie(c.local, c.local_port) = address_of(local);
    c.since = now;
    c.deadline = now + Ms(opt.request_timeout_ms);
    c.events = EPOLLIN;
    epoll_event ev{};
    ev.events = c.events;
    ev.data.fd = fd;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      return;
    }
    ++addresses[c.peer].conns;
    ++pending;
    conns.emplace(fd, std::move(c));
  }

  void on_readable(int fd) {
    Conn& c = conns.at(fd);
    // What a request can hold, plus one read: a client sending more waits (it is not read).
    const std::size_t cap = opt.max_head_bytes + opt.max_body + kReadChunk;
    char buf[kReadChunk];
    while (c.in.size() < cap) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (c.idle) {  // the next request on a kept-alive connection begins
          c.idle = false;
          c.deadline = Clock::now() + Ms(opt.request_timeout_ms);
        }
        c.in.append(buf, std::size_t(n));
        if (std::size_t(n) < sizeof buf) break;
        continue;
      }
      if (n == 0) {
        c.eof = true;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close_conn(fd);
      return;
    }
    process_input(fd);
  }

  void on_drain(int fd) {
    Conn& c = conns.at(fd);
    char buf[kReadChunk];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.drained += std::size_t(n);
        if (c.drained > kLingerBytes) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      break;  // end of stream or an error
    }
    close_conn(fd);
  }

  /// Frames the buffered bytes of a reading connection: refuse, wait, or hand a whole request on.
  void process_input(int fd) {
    Conn& c = conns.at(fd);
    if (!c.head) {
      const auto end = c.in.find("\r\n\r\n", c.scan);
      if (end == std::string::npos && c.in.size() < opt.max_head_bytes) {
        c.scan = c.in.size() < 3 ? 0 : c.in.size() - 3;
        if (c.eof) close_conn(fd);
        return;
      }
      if (end == std::string::npos || end + 4 > opt.max_head_bytes) {
        refuse_and_close(
            c, 431, "request head larger than " + std::to_string(opt.max_head_bytes) + " bytes");
        return;
      }
      auto h = parse_request_head(std::string_view(c.in).substr(0, end + 4), opt.max_body);
      if (h.status) {
        refuse_and_close(c, h.status, h.reason);
        return;
      }
      c.head_bytes = end + 4;
      c.head = std::move(h);
    }
    const std::size_t total = c.head_bytes + std::size_t(c.head->content_length);
    if (c.in.size() < total) {
      if (c.eof) {
        close_conn(fd);
        return;
      }
      if (c.head->expect_continue && !c.continued) {
        c.continued = true;
        if (::send(fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL) !=
            ssize_t(kContinue.size()))
          close_conn(fd);
      }
      return;
    }
    Request req;
    const RequestHead& h = *c.head;
    if (h.drop_end > h.drop_begin) {
      req.bytes.reserve(total - (h.drop_end - h.drop_begin));
      req.bytes.append(c.in, 0, h.drop_begin);
      req.bytes.append(c.in, h.drop_end, total - h.drop_end);
    } else {
      req.bytes.assign(c.in, 0, total);
    }
    c.in.erase(0, total);
    c.head.reset();
    c.scan = 0;
    c.continued = false;
    if (!c.proven) {
      c.proven = true;
      --pending;
    }
    const auto now = Clock::now();
    if (!take_token(address(c.peer, now), now)) {
      respond(
          c,
          simple_response(429, "too many requests from your address", false, "Retry-After: 1\r\n"),
          false);
      return;
    }
    req.peer_address = c.peer;
    req.peer_port = c.peer_port;
    req.local_address = c.local;
    req.local_port = c.local_port;
    c.state = State::kBusy;
    watch(c, 0);
    {
      std::lock_guard lock(job_mu);
      jobs.push_back({fd, c.id, std::move(req)});
    }
    job_cv.notify_one();
  }

  void refuse_and_close(Conn& c, int status, const std::string& why) {
    respond(c, simple_response(status, why, true), true);
  }

  /// Starts writing `bytes` to the connection (it stays this connection's until written).
  void respond(Conn& c, std::string bytes, bool close) {
    c.out = std::move(bytes);
    c.out_off = 0;
    c.close_after = close || c.eof || stopping;
    c.state = State::kWriting;
    c.deadline = Clock::now() + Ms(opt.write_timeout_ms);
    on_writable(c.fd);
  }

  void on_writable(int fd) {
    Conn& c = conns.at(fd);
    while (c.out_off < c.out.size()) {
      const ssize_t n =
          ::send(fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += std::size_t(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(c, EPOLLOUT);
        return;
      }
      close_conn(fd);
      return;
    }
    std::string().swap(c.out);  // a tile can be large: give its memory back
    const auto now = Clock::now();
    if (stopping || (c.close_after && c.eof)) {
      close_conn(fd);
      return;
    }
    if (c.close_after) {
      // Lingering close: the client may still be sending the request that was refused.
      ::shutdown(fd, SHUT_WR);
      c.state = State::kDraining;
      c.deadline = now + kLinger;
      watch(c, EPOLLIN);
      return;
    }
    c.state = State::kReading;
    c.since = now;
    c.idle = c.in.empty();
    c.deadline = now + Ms(c.idle ? opt.idle_timeout_ms : opt.request_timeout_ms);
    watch(c, EPOLLIN);
    // A pipelined next request (or the end of the stream) is framed from the loop, not from here:
    // a burst of refused requests must not recurse.
    if (!c.in.empty() || c.eof) again.push_back(fd);
  }

  void on_done() {
    std::uint64_t count = 0;
    while (::read(wake, &count, sizeof count) > 0) {
    }
    std::vector<Done> ready;
    {
      std::lock_guard lock(done_mu);
      ready.swap(done);
    }
    for (auto& d : ready) {
      auto it = conns.find(d.fd);
      if (it == conns.end() || it->second.id != d.id || it->second.state != State::kBusy)
        continue;  // the client went away meanwhile
      respond(it->second, std::move(d.reply.bytes), d.reply.close);
    }
  }

  void tick(Clock::time_point now) {
    std::vector<int> expired;
    for (const auto& [fd, c] : conns)
      if (c.state != State::kBusy && now >= c.deadline) expired.push_back(fd);
    for (int fd : expired) close_conn(fd);
    if (accept_paused && now >= accept_resume && !stopping) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = listen_fd;
      ::epoll_ctl(ep, EPOLL_CTL_MOD, listen_fd, &ev);
      accept_paused = false;
    }
    if (now >= next_sweep) {
      next_sweep = now + kSweepEvery;
      // A full bucket without connections is the same as no bucket.
      std::erase_if(addresses, [&](auto& kv) {
        return kv.second.conns == 0 &&
               (opt.address_rate_per_second <= 0 ||
                kv.second.tokens + std::chrono::duration<double>(now - kv.second.refill).count() *
                                       opt.address_rate_per_second >=
                    opt.address_rate_burst);
      });
    }
  }

  void worker() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(job_mu);
        job_cv.wait(lock, [&] { return workers_stop || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      Reply reply;
      try {
        reply = handler(job.req);
      } catch (...) {
        reply = {simple_response(500, "internal error", true), true};
      }
      {
        std::lock_guard lock(done_mu);
        done.push_back({job.fd, job.id, std::move(reply)});
      }
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto w = ::write(wake, &one, sizeof one);
    }
  }

  void dispatch(const epoll_event& e) {
    const int fd = e.data.fd;
    if (fd == wake) return on_done();
    auto it = conns.find(fd);
    if (it == conns.end()) return;  // closed earlier in this batch
    switch (it->second.state) {
      case State::kReading:
        return on_readable(fd);
      case State::kDraining:
        return on_drain(fd);
      case State::kWriting:
        return on_writable(fd);
      case State::kBusy:
        // Nothing is watched, but hang-ups and errors are always reported: the client is gone.
        if (e.events & (EPOLLHUP | EPOLLERR)) close_conn(fd);
        return;
    }
  }

  Status loop() {
    for (unsigned i = 0; i < std::max(1u, opt.threads); ++i)
      workers.emplace_back([this] { worker(); });
    std::vector<epoll_event> events(kEventsPerWait);
    auto next_tick = Clock::now() + kTick;
    next_sweep = Clock::now() + kSweepEvery;
    bool draining = false;
    Status result;
    for (;;) {
      if (stopping && !draining) {
        // No new connections or requests; those a worker holds are answered, then it ends.
        draining = true;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, listen_fd, nullptr);
        std::vector<int> idle;
        for (const auto& [fd, c] : conns)
          if (c.state == State::kReading || c.state == State::kDraining) idle.push_back(fd);
        for (int fd : idle) close_conn(fd);
      }
      if (draining && conns.empty()) break;
      const auto now = Clock::now();
      const auto wait =
          std::max<std::int64_t>(0, std::chrono::duration_cast<Ms>(next_tick - now).count());
      const int n = ::epoll_wait(ep, events.data(), int(events.size()), int(wait));
      if (n < 0 && errno != EINTR) {
        result = fail(std::string("epoll_wait: ") + std::strerror(errno));
        break;
      }
      // Connections already open go first: a burst of new ones, each closing the connection that
      // has waited longest when a cap is reached, cannot push out one whose request just arrived.
      bool accept_ready = false;
      for (int i = 0; i < n; ++i) {
        if (events[std::size_t(i)].data.fd == listen_fd)
          accept_ready = true;
        else
          dispatch(events[std::size_t(i)]);
      }
      while (!again.empty()) {
        std::vector<int> fds;
        fds.swap(again);
        for (int fd : fds)
          if (auto it = conns.find(fd); it != conns.end() && it->second.state == State::kReading)
            process_input(fd);
      }
      if (accept_ready) on_accept();
      if (const auto t = Clock::now(); t >= next_tick) {
        tick(t);
        next_tick = t + kTick;
      }
    }
    stop_workers();
    return result;
  }
};

Front::Front(const ServeOptions& opt, Handler handler)
    : impl_(std::make_unique<Impl>(opt, std::move(handler))) {}

Front::~Front() = default;

Result<int> Front::bind() {
  auto& I = *impl_;
  const std::string& host = I.opt.host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(I.opt.port);
  if (const int rc =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
      rc != 0)
    return fail("cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::string why = "no address";
  for (addrinfo* ai = res; ai && I.listen_fd < 0; ai = ai->ai_next) {
    const int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, kListenBacklog) == 0) {
      I.listen_fd = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(res);
  if (I.listen_fd < 0) return fail("cannot listen on " + host + ":" + service + ": " + why);
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  ::getsockname(I.listen_fd, reinterpret_cast<sockaddr*>(&sa), &len);
  const int bound = address_of(sa).second;

  I.ep = ::epoll_create1(EPOLL_CLOEXEC);
  I.wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (I.ep < 0 || I.wake < 0) return fail(std::string("epoll: ") + std::strerror(errno));
  for (int fd : {I.listen_fd, I.wake}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(I.ep, EPOLL_CTL_ADD, fd, &ev) != 0)
      return fail(std::string("epoll: ") + std::strerror(errno));
  }
  // Each connection is a file descriptor: stay below the open-file limit.
  I.max_conns = std::max<std::size_t>(1, I.opt.max_connections);
  if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    const std::size_t room = rl.rlim_cur > kReservedFds ? rl.rlim_cur - kReservedFds : 1;
    I.max_conns = std::min(I.max_conns, room);
  }
  return bound;
}

Status Front::run() {
  if (impl_->listen_fd < 0) return fail("the server is not bound");
  return impl_->loop();
}

void Front::stop() {
  impl_->stopping = true;
  if (impl_->wake >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto w = ::write(impl_->wake, &one, sizeof one);
  }
}

}  // namespace probity::tlog::http
