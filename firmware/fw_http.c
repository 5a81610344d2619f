/*
 * fw_http.c - a small HTTP/1.1 server (RFC 9112) on port 80, for
 * measuring and checking bulk TCP from the host with curl: GET /bytes/N
 * answers N bytes of ustack's test pattern (python_bindings/ustack/
 * pattern.py: byte i is (i ^ i >> 8 ^ i >> 16) & 0xff) with a
 * Content-Length; any other request gets 404.  Connections persist
 * (RFC 9112 9.3) unless the request says "Connection: close" or is
 * HTTP/1.0; pipelined requests are answered in order.
 *
 * Per connection: READ the request head (up to FW_HTTP_REQ bytes, else
 * 431-style close), then SEND the response head and the body, generated
 * in FW_IO_BUF chunks at the offset TCP has taken so far (a partial send
 * regenerates from there: nothing is buffered twice).
 */
#include <string.h>

#include "fw.h"

#define FW_HTTP_REQ 512

enum fw_http_state { FW_HTTP_READ, FW_HTTP_SEND };

struct fw_http_conn {
	struct ust_socket *so; /* NULL: free slot */
	enum fw_http_state state;
	int close;              /* close after this response */
	uint32_t req_len;       /* bytes in req */
	uint32_t head_len;      /* bytes of the response head in head */
	uint32_t head_off;      /* of which sent */
	uint64_t body_len;      /* body bytes to send */
	uint64_t body_off;      /* of which sent */
	const char *body_const; /* NULL: the pattern */
	char req[FW_HTTP_REQ];
	char head[160];
};

struct fw_http {
	struct ust_socket *lso;
	struct fw_http_conn conn[FW_HTTP_CONNS];
	uint8_t chunk[FW_IO_BUF];
};

static struct fw_http fw_http_state;

static const char fw_http_404[] = "not found\n";

int
fw_http_start(struct ust_stack *st, struct fw_http **out)
{
	struct fw_http *h = &fw_http_state;
	int error;

	memset(h, 0, sizeof(*h));
	h->lso = fw_listen(st, UST_SOCK_STREAM, FW_HTTP_PORT, FW_HTTP_CONNS * 2, &error);
	if (h->lso == NULL)
		return (error);
	*out = h;
	return (0);
}

/* The end of the request head (after CRLF CRLF), or NULL. */
static const char *
fw_http_head_end(const char *p, uint32_t len)
{
	uint32_t i;

	for (i = 3; i < len; i++)
		if (p[i - 3] == '\r' && p[i - 2] == '\n' && p[i - 1] == '\r' && p[i] == '\n')
			return (p + i + 1);
	return (NULL);
}

/* Case-insensitive search for a header line's text in the head. */
static int
fw_http_has(const char *p, const char *end, const char *what)
{
	size_t n = strlen(what), i;
	const char *q;

	for (q = p; q + n <= end; q++) {
		for (i = 0; i < n; i++) {
			char a = q[i], b = what[i];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (a != b)
				break;
		}
		if (i == n)
			return (1);
	}
	return (0);
}

static char *
fw_cat(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return (p + n);
}

/* Parses the request head req[0..end) and prepares the response. */
static void
fw_http_request(struct fw_http_conn *c, const char *end)
{
	static const char get[] = "GET /bytes/";
	const char *p = c->req + sizeof(get) - 1;
	uint64_t n = 0;
	int ok = 0;
	char *h;

	if ((size_t)(end - c->req) > sizeof(get) && memcmp(c->req, get, sizeof(get) - 1) == 0 &&
	    *p >= '0' && *p <= '9') {
		for (; *p >= '0' && *p <= '9' && n < (1ull << 40); p++)
			n = n * 10 + (uint64_t)(*p - '0');
		ok = *p == ' ';
	}
	c->close = fw_http_has(c->req, end, "connection: close") ||
	    fw_http_has(c->req, end, " http/1.0\r");
	h = c->head;
	if (ok) {
		h = fw_cat(h, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n");
		c->body_len = n;
		c->body_const = NULL;
	} else {
		h = fw_cat(h, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n");
		c->body_len = sizeof(fw_http_404) - 1;
		c->body_const = fw_http_404;
	}
	h = fw_cat(h, "Content-Length: ");
	h = fw_u64_str(h, c->body_len);
	h = fw_cat(h, c->close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
	c->head_len = (uint32_t)(h - c->head);
	c->head_off = 0;
	c->body_off = 0;
	c->state = FW_HTTP_SEND;
	/* Keep what follows the head: the next pipelined request. */
	c->req_len -= (uint32_t)(end - c->req);
	memmove(c->req, end, c->req_len);
}

/* The pattern from stream offset off, n bytes (pattern.py). */
static void
fw_http_pattern(uint8_t *dst, uint64_t off, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, off++)
		dst[i] = (uint8_t)(off ^ off >> 8 ^ off >> 16);
}

/* Sends what the socket takes; 1 if the response is complete. */
static int
fw_http_send(struct fw_http *h, struct fw_http_conn *c, int *did)
{
	ptrdiff_t n;
	size_t len;

	while (c->head_off < c->head_len) {
		n = ust_send(c->so, c->head + c->head_off, c->head_len - c->head_off, 0);
		if (n < 0)
			return (n == -UST_EAGAIN || n == -UST_ENOBUFS ? 0 : -1);
		c->head_off += (uint32_t)n;
		*did = 1;
	}
	while (c->body_off < c->body_len) {
		len = c->body_len - c->body_off < sizeof(h->chunk) ?
		    (size_t)(c->body_len - c->body_off) :
		    sizeof(h->chunk);
		if (c->body_const != NULL)
			memcpy(h->chunk, c->body_const + c->body_off, len);
		else
			fw_http_pattern(h->chunk, c->body_off, len);
		n = ust_send(c->so, h->chunk, len, 0);
		if (n < 0)
			return (n == -UST_EAGAIN || n == -UST_ENOBUFS ? 0 : -1);
		c->body_off += (uint64_t)n;
		*did = 1;
	}
	return (1);
}

static void
fw_http_close(struct fw_http_conn *c)
{
	(void)ust_close(c->so);
	c->so = NULL;
}

static int
fw_http_conn_poll(struct fw_http *h, struct fw_http_conn *c)
{
	const char *end;
	ptrdiff_t n;
	int did = 0, r;

	for (;;) {
		if (c->state == FW_HTTP_SEND) {
			r = fw_http_send(h, c, &did);
			if (r == 0)
				return (did);
			if (r < 0 || c->close) {
				fw_http_close(c);
				return (1);
			}
			c->state = FW_HTTP_READ;
		}
		end = fw_http_head_end(c->req, c->req_len);
		if (end != NULL) {
			fw_http_request(c, end);
			did = 1;
			continue;
		}
		if (c->req_len == sizeof(c->req)) {
			/* A head longer than we take: give up on the client. */
			fw_http_close(c);
			return (1);
		}
		n = ust_recv(c->so, c->req + c->req_len, sizeof(c->req) - c->req_len, 0);
		if (n == -UST_EAGAIN)
			return (did);
		if (n <= 0) {
			fw_http_close(c);
			return (1);
		}
		c->req_len += (uint32_t)n;
		did = 1;
	}
}

int
fw_http_poll(struct fw_http *h)
{
	struct ust_socket *so;
	int did = 0, i, j;

	while (ust_accept(h->lso, &so, NULL) == 0) {
		did = 1;
		for (j = 0; j < FW_HTTP_CONNS && h->conn[j].so != NULL; j++)
			;
		if (j == FW_HTTP_CONNS) {
			(void)ust_close(so);
			continue;
		}
		memset(&h->conn[j], 0, sizeof(h->conn[j]));
		h->conn[j].so = so;
	}
	for (i = 0; i < FW_HTTP_CONNS; i++)
		if (h->conn[i].so != NULL)
			did |= fw_http_conn_poll(h, &h->conn[i]);
	return (did);
}
