// The accept path of `probity log serve`: one event-loop thread (epoll) owns every client socket,
// reads each request whole under a total deadline and byte caps, enforces the connection caps and
// per-address request rates, and only then hands the buffered request to a worker; it also writes
// the replies. A client that connects and stays silent, or trickles its header a byte at a time,
// costs a socket and a few bytes of buffer for at most the request timeout, never a worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "probity/error.hpp"
#include "probity/tlog.hpp"

namespace probity::tlog::http {

/// What the front needs from a request's head (request line, header lines, blank line): whether
/// to refuse it, and how long its body is. The full parse is the handler's.
struct RequestHead {
  int status = 0;      ///< 0: acceptable; else the HTTP status to refuse it with (then close)
  std::string reason;  ///< why, for the refusal's body
  std::uint64_t content_length = 0;
  bool expect_continue = false;  ///< "Expect: 100-continue": the front answers it
  /// The Expect header line's bytes [begin, end) in the head, left out of what the handler sees
  /// (the front has answered it already). Empty when there is none.
  std::size_t drop_begin = 0, drop_end = 0;
};

/// Parses `head` (ending in "\r\n\r\n"). Strict where framing is at stake: lines end in CRLF
/// with no bare CR/LF or NUL inside, one Content-Length (decimal, at most `max_body`, else 413),
/// no Transfer-Encoding (501), no whitespace before a header's colon.
RequestHead parse_request_head(std::string_view head, std::size_t max_body);

/// One complete request as the front read it.
struct Request {
  std::string bytes;  ///< request line, headers (without an answered Expect) and body
  std::string peer_address, local_address;
  int peer_port = 0, local_port = 0;
};

/// The handler's answer: the response bytes, and whether to close the connection after them.
struct Reply {
  std::string bytes;
  bool close = false;
};

/// Runs on a worker thread; must not block for long except on purpose (an append's commit).
using Handler = std::function<Reply(const Request&)>;

class Front {
 public:
  /// Takes the address, the client caps and the number of workers (`threads`) from `opt`.
  Front(const ServeOptions& opt, Handler handler);
  ~Front();
  Front(const Front&) = delete;
  Front& operator=(const Front&) = delete;

  /// Binds and listens on opt.host:opt.port (0: a free port); returns the port.
  Result<int> bind();
  /// Serves until stop(): requests already handed to a worker are answered, then it returns.
  Status run();
  /// Safe from any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace probity::tlog::http
