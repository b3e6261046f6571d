// The log server front's request framing (src/tlog/http_front.cpp): what it accepts, what it
// refuses with which status, and the Expect line it answers itself.
#include <gtest/gtest.h>

#include "tlog/http_front.hpp"

using probity::tlog::http::parse_request_head;

TEST(TlogHttpFront, AcceptsPlainRequests) {
  auto h = parse_request_head("GET /checkpoint HTTP/1.1\r\nHost: x\r\n\r\n", 100);
  EXPECT_EQ(h.status, 0) << h.reason;
  EXPECT_EQ(h.content_length, 0u);
  EXPECT_FALSE(h.expect_continue);
  h = parse_request_head("POST /add HTTP/1.1\r\ncontent-length:  42 \r\nX-A: b\r\n\r\n", 100);
  EXPECT_EQ(h.status, 0) << h.reason;
  EXPECT_EQ(h.content_length, 42u);
  // The same length twice is one length.
  h = parse_request_head("POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n", 100);
  EXPECT_EQ(h.status, 0) << h.reason;
  EXPECT_EQ(h.content_length, 7u);
  h = parse_request_head("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n", 100);
  EXPECT_EQ(h.status, 0) << h.reason;
}

TEST(TlogHttpFront, ExpectLineIsDroppedForTheHandler) {
  const std::string head =
      "POST /add HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
  auto h = parse_request_head(head, 100);
  ASSERT_EQ(h.status, 0) << h.reason;
  EXPECT_TRUE(h.expect_continue);
  EXPECT_EQ(head.substr(h.drop_begin, h.drop_end - h.drop_begin), "Expect: 100-Continue\r\n");
  EXPECT_EQ(parse_request_head("POST / HTTP/1.1\r\nExpect: other\r\n\r\n", 100).status, 417);
  EXPECT_EQ(parse_request_head(
                "POST / HTTP/1.1\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n", 100)
                .status,
            417);
}

TEST(TlogHttpFront, RefusesWhatCouldFrameTwoWays) {
  struct Case {
    const char* head;
    int status;
  } cases[] = {
      {"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", 400},       // space before the colon
      {"POST / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400},          // obs-fold
      {"POST / HTTP/1.1\r\nX: a\nContent-Length: 5\r\n\r\n", 400},  // bare LF
      {"POST / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400},                  // bare CR
      {"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 400},                   // NUL (cut by the literal)
      {"GET / HTTP/1.1\r\n: empty name\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400},
      {"\r\nGET / HTTP/1.1\r\n\r\n", 400},
      {"GET\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n", 400},
      {"GET / HTTP/1.1\r\n\r\nX: after the end\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    const auto h = parse_request_head(c.head, 100);
    EXPECT_EQ(h.status, c.status) << c.head;
    EXPECT_FALSE(h.reason.empty()) << c.head;
  }
  // A NUL inside the head (the literal above stops at it).
  const std::string nul("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26);
  EXPECT_EQ(parse_request_head(nul, 100).status, 400);
}
