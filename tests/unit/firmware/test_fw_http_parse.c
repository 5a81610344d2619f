/*
 * test_fw_http_parse.c - the board firmware's HTTP request head parser
 * (firmware/fw_http_parse.c, compiled here for the host) on well-formed,
 * malformed and hostile input.  Every input is parsed from a heap copy of
 * exactly its length (no NUL after it), so that the ASan build catches a
 * read past what the client sent; and every prefix of a complete head
 * must say "incomplete", never a verdict on half a request.
 */
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#include "../../../firmware/fw_http_parse.c"
#include "ust_test.h"

/* fw_http_parse() on an exact-length copy of s[0..len). */
static int
parse_n(const char *s, size_t len, struct fw_http_req *r)
{
	char *copy = malloc(len != 0 ? len : 1);
	int got;

	if (copy == NULL)
		abort();
	memcpy(copy, s, len);
	got = fw_http_parse(copy, len, r);
	free(copy);
	return (got);
}

static int
parse(const char *s, struct fw_http_req *r)
{
	return (parse_n(s, strlen(s), r));
}

TEST(get_bytes_persistent)
{
	static const char req[] = "GET /bytes/1000000 HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n";
	struct fw_http_req r;

	CHECK_EQ(parse(req, &r), 1);
	CHECK_EQ(r.status, 200);
	CHECK(r.body_len == 1000000);
	CHECK_EQ(r.close, 0);
	CHECK_EQ(r.head_len, sizeof(req) - 1);
	CHECK(
	    parse("GET /bytes/0 HTTP/1.1\r\n\r\n", &r) == 1 && r.status == 200 && r.body_len == 0);
}

TEST(every_prefix_is_incomplete)
{
	static const char req[] = "\r\nGET /bytes/12 HTTP/1.1\r\nConnection: close\r\n\r\n";
	struct fw_http_req r;
	size_t n;

	for (n = 0; n < sizeof(req) - 1; n++)
		CHECK_EQ(parse_n(req, n, &r), 0);
	CHECK_EQ(parse_n(req, sizeof(req) - 1, &r), 1);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.close, 1);
}

TEST(pipelined_heads_one_at_a_time)
{
	static const char two[] = "GET /bytes/1 HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
	struct fw_http_req r;

	CHECK_EQ(parse(two, &r), 1);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.head_len, 25);
	CHECK_EQ(parse(two + r.head_len, &r), 1);
	CHECK_EQ(r.status, 404);
	CHECK_EQ(r.close, 0);
}

TEST(bare_lf_and_leading_empty_lines)
{
	struct fw_http_req r;

	/* RFC 9112 2.2: a bare LF ends a line; empty lines before the
	 * request line are skipped. */
	CHECK_EQ(parse("\r\n\nGET /bytes/5 HTTP/1.1\nHost: b\n\n", &r), 1);
	CHECK_EQ(r.status, 200);
	CHECK(r.body_len == 5);
	/* Only empty lines: no request yet. */
	CHECK_EQ(parse("\r\n\r\n\r\n\n\n", &r), 0);
}

TEST(version_and_connection_header_decide_close)
{
	struct fw_http_req r;

	CHECK(parse("GET /bytes/1 HTTP/1.0\r\n\r\n", &r) == 1 && r.close == 1);
	CHECK(parse("GET /bytes/1 HTTP/1.1\r\nCONNECTION: Keep-Alive, Close\r\n\r\n", &r) == 1 &&
	    r.close == 1);
	CHECK(parse("GET /bytes/1 HTTP/1.1\r\nconnection: keep-alive\r\n\r\n", &r) == 1 &&
	    r.close == 0);
	/* "close" elsewhere than in a Connection header is no request to close. */
	CHECK(parse("GET /bytes/1 HTTP/1.1\r\nX-Connection: close\r\nUser-Agent: close\r\n\r\n",
	          &r) == 1 &&
	    r.close == 0);
	/* A body the server will not read: answer, then close. */
	CHECK(parse("GET /bytes/1 HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &r) == 1 && r.close == 1);
	CHECK(parse("GET /bytes/1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r) == 1 && r.close == 0);
	CHECK(parse("GET /bytes/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r) == 1 &&
	    r.close == 1);
}

TEST(sizes_at_and_over_the_limit)
{
	struct fw_http_req r;

	CHECK(parse("GET /bytes/1099511627776 HTTP/1.1\r\n\r\n", &r) == 1 && r.status == 200 &&
	    r.body_len == FW_HTTP_BYTES_MAX);
	CHECK(parse("GET /bytes/1099511627777 HTTP/1.1\r\n\r\n", &r) == 1 && r.status == 404);
	/* Would wrap a uint64_t several times over. */
	CHECK(
	    parse("GET /bytes/99999999999999999999999999999999999999 HTTP/1.1\r\n\r\n", &r) == 1 &&
	    r.status == 404);
	CHECK(
	    parse("GET /bytes/00000000000000000000000000000000000042 HTTP/1.1\r\n\r\n", &r) == 1 &&
	    r.status == 200 && r.body_len == 42);
}

/* Well-formed lines for what is not served are 404 on a connection that
 * stays; malformed ones 400 and a close. */
TEST(malformed_targets_are_404_malformed_lines_400_and_close)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "GET /bytes/ HTTP/1.1\r\n\r\n", 404 },
		{ "GET /bytes/12a HTTP/1.1\r\n\r\n", 404 },
		{ "GET /bytes/-1 HTTP/1.1\r\n\r\n", 404 },
		{ "GET /bytes/+1 HTTP/1.1\r\n\r\n", 404 },
		{ "GET /bytes/1/ HTTP/1.1\r\n\r\n", 404 },
		{ "GET /bytes HTTP/1.1\r\n\r\n", 404 },
		{ "POST /bytes/1 HTTP/1.1\r\n\r\n", 404 },
		{ "get /bytes/1 HTTP/1.1\r\n\r\n", 404 },
		{ "GET / HTTP/1.1\r\n\r\n", 404 },
		{ "GET\r\n\r\n", 400 },
		{ "GET /bytes/1\r\n\r\n", 400 },
		{ "GET  /bytes/1 HTTP/1.1\r\n\r\n", 400 },
		{ "GET /bytes/1  HTTP/1.1\r\n\r\n", 400 },
		{ "GET /bytes/1 HTTP/1.1 \r\n\r\n", 400 },
		{ "GET /bytes/1 HTTP/2.0\r\n\r\n", 400 },
		{ "GET /bytes/1 HTTP/1.x\r\n\r\n", 400 },
		{ "GET /bytes/1 HTTP/1.\r\n\r\n", 400 },
		{ " GET /bytes/1 HTTP/1.1\r\n\r\n", 400 },
		{ "\x16\x03\x01\x02\x01\xfc\x03\x03\n\n", 400 },
	};
	struct fw_http_req r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(parse(cases[i].req, &r), 1);
		CHECK_EQ(r.status, cases[i].status);
		CHECK_EQ(r.close, cases[i].status == 400);
	}
}

TEST(binary_garbage_never_reads_past_the_end)
{
	char buf[FW_HTTP_REQ];
	struct fw_http_req r;
	uint32_t x = 12345;
	size_t i, n;
	int got;

	/* Bytes from a small alphabet rich in the parser's delimiters, every
	 * length up to the buffer: a verdict or "incomplete", within bounds
	 * (ASan), and a verdict's head inside what was given. */
	for (n = 0; n <= sizeof(buf); n++) {
		for (i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = "\r\n :/GET1HTP.0a\x00\xff"[(x >> 16) % 18];
		}
		got = parse_n(buf, n, &r);
		CHECK(got == 0 || got == 1);
		if (got == 1) {
			CHECK(r.head_len >= 2 && r.head_len <= n);
			CHECK(r.status == 200 || r.status == 400 || r.status == 404);
		}
	}
}
