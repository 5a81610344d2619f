/*
 * fw_http_parse.c - the request head parser of fw_http.c, apart from the
 * sockets so that the host's unit tests run it on hostile input
 * (tests/unit/firmware/test_fw_http_parse.c).
 *
 * It reads bytes a client sent, never writes them, and looks only inside
 * [req, req + len): every byte of a request is untrusted.  What it takes
 * (RFC 9112):
 *  - 2.2: empty lines before the request line are skipped; a bare LF
 *    ends a line as CRLF does;
 *  - 3: request-line = method SP request-target SP HTTP-version; only
 *    "GET /bytes/N" with N decimal, at most FW_HTTP_BYTES_MAX, is served
 *    (200), any other well-formed line is 404, anything else 400;
 *  - 9.3: HTTP/1.1 persists unless a Connection header lists "close";
 *    HTTP/1.0 closes;
 *  - 6.3: a request with a body (Content-Length other than 0, or
 *    Transfer-Encoding) is answered, then the connection is closed: the
 *    server does not read bodies, so it cannot find the next request.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fw.h"

/* The end of the head: the byte after the empty line that ends it, or
 * NULL if it has not all arrived. */
static const char *
fw_http_head_end(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p != '\n')
			continue;
		if (p + 1 < end && p[1] == '\n')
			return (p + 2);
		if (p + 2 < end && p[1] == '\r' && p[2] == '\n')
			return (p + 3);
	}
	return (NULL);
}

static int
fw_lower(int c)
{
	return (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* 1 if [p, end) starts with the lower-case text s, ignoring case. */
static int
fw_prefix(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s), i;

	if ((size_t)(end - p) < n)
		return (0);
	for (i = 0; i < n; i++)
		if (fw_lower((unsigned char)p[i]) != s[i])
			return (0);
	return (1);
}

/* 1 if the value [p, end) holds the token s (lower case) anywhere. */
static int
fw_contains(const char *p, const char *end, const char *s)
{
	for (; p < end; p++)
		if (fw_prefix(p, end, s))
			return (1);
	return (0);
}

/* The end of the line starting at p (at its CR or LF). */
static const char *
fw_line_end(const char *p, const char *end)
{
	while (p < end && *p != '\r' && *p != '\n')
		p++;
	return (p);
}

/* Past the line terminator at p (CRLF or LF). */
static const char *
fw_next_line(const char *p, const char *end)
{
	if (p < end && *p == '\r')
		p++;
	if (p < end && *p == '\n')
		p++;
	return (p);
}

/* The request line [p, eol): method, target and version into out. */
static void
fw_http_request_line(const char *p, const char *eol, struct fw_http_req *out)
{
	static const char get[] = "GET /bytes/";
	const char *sp1, *sp2, *d;
	uint64_t n = 0;

	out->status = 400;
	for (sp1 = p; sp1 < eol && *sp1 != ' '; sp1++)
		;
	for (sp2 = sp1 + (sp1 < eol); sp2 < eol && *sp2 != ' '; sp2++)
		;
	/* Three non-empty tokens, the last "HTTP/1.x". */
	if (sp1 == p || sp1 >= eol || sp2 == sp1 + 1 || sp2 >= eol || eol - sp2 != 9 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] < '0' || sp2[8] > '9')
		return;
	out->close = sp2[8] == '0';
	out->status = 404;
	if ((size_t)(sp2 - p) <= sizeof(get) - 1 || memcmp(p, get, sizeof(get) - 1) != 0)
		return;
	for (d = p + sizeof(get) - 1; d < sp2; d++) {
		if (*d < '0' || *d > '9')
			return;
		n = n * 10 + (uint64_t)(*d - '0');
		if (n > FW_HTTP_BYTES_MAX) /* also before n * 10 can wrap */
			return;
	}
	out->status = 200;
	out->body_len = n;
}

int
fw_http_parse(const char *req, size_t len, struct fw_http_req *out)
{
	const char *end = req + len, *p = req, *head, *eol, *v;

	memset(out, 0, sizeof(*out));
	/* RFC 9112 2.2: empty lines before the request line. */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (p == end)
		return (0);
	head = fw_http_head_end(p, end);
	if (head == NULL)
		return (0);
	out->head_len = (size_t)(head - req);
	eol = fw_line_end(p, head);
	fw_http_request_line(p, eol, out);
	for (p = fw_next_line(eol, head); p < head; p = fw_next_line(eol, head)) {
		eol = fw_line_end(p, head);
		if (eol == p)
			break; /* the empty line */
		if (fw_prefix(p, eol, "connection:")) {
			if (fw_contains(p + 11, eol, "close"))
				out->close = 1;
		} else if (fw_prefix(p, eol, "transfer-encoding:")) {
			out->close = 1;
		} else if (fw_prefix(p, eol, "content-length:")) {
			for (v = p + 15; v < eol && (*v == ' ' || *v == '\t' || *v == '0'); v++)
				;
			if (v < eol)
				out->close = 1;
		}
	}
	if (out->status == 400)
		out->close = 1;
	return (1);
}
