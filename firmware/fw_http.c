/*
 * fw_http.c - a small HTTP/1.1 server (RFC 9112) on port 80, for
 * measuring and checking bulk TCP from the host with curl: GET /bytes/N
 * answers N bytes of ustack's test pattern (python_bindings/ustack/
 * pattern.py: byte i is (i ^ i >> 8 ^ i >> 16) & 0xff) with a
 * Content-Length; any other well-formed request gets 404, a malformed one
 * 400, a head longer than FW_HTTP_REQ 431 (RFC 6585 5), the last two
 * with the connection closed.  Connections persist (RFC 9112 9.3) unless
 * the request says "Connection: close" or is HTTP/1.0; pipelined requests
 * are answered in order.  fw_http_parse.c reads the heads.
 *
 * Per connection: READ the request head (FW_HTTP_REQ bytes at most, in
 * FW_HTTP_HEAD_S), then SEND the response head and the body, generated
 * in FW_IO_BUF chunks at the offset TCP has taken so far (a partial send
 * regenerates from there: nothing is buffered twice).  fw.h has the
 * timeouts and the slot policy.
 */
#include <string.h>

#include "fw.h"

enum fw_http_state { FW_HTTP_READ, FW_HTTP_SEND };

struct fw_http_conn {
	struct ust_socket *so; /* NULL: free slot */
	enum fw_http_state state;
	int close;              /* close after this response */
	uint64_t since_ns;      /* READ: start; SEND: last progress */
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
	struct ust_stack *st;
	struct ust_socket *lso;
	struct fw_http_conn conn[FW_HTTP_CONNS];
	uint8_t chunk[FW_IO_BUF];
};

static struct fw_http fw_http_state;

static const struct {
	int status;
	const char *line; /* status line and fixed headers */
	const char *body;
} fw_http_answers[] = {
	{ 200, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n", NULL },
	{ 400, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n", "bad request\n" },
	{ 404, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n", "not found\n" },
	{ 431, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain\r\n",
	    "request head too large\n" },
};

int
fw_http_start(struct ust_stack *st, struct fw_http **out)
{
	struct fw_http *h = &fw_http_state;
	int error;

	memset(h, 0, sizeof(*h));
	h->st = st;
	h->lso = fw_listen(st, UST_SOCK_STREAM, FW_HTTP_PORT, FW_HTTP_CONNS * 2, &error);
	if (h->lso == NULL)
		return (error);
	*out = h;
	return (0);
}

static char *
fw_cat(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return (p + n);
}

/* Prepares the response to r (status 431: no head, the buffer is full)
 * and drops the head from the buffer; what follows it is the next
 * pipelined request. */
static void
fw_http_answer(struct fw_http_conn *c, const struct fw_http_req *r, uint64_t now)
{
	size_t i;
	char *h;

	for (i = 0; fw_http_answers[i].status != r->status; i++)
		;
	c->close = r->close;
	c->body_const = fw_http_answers[i].body;
	c->body_len = c->body_const != NULL ? strlen(c->body_const) : r->body_len;
	h = fw_cat(c->head, fw_http_answers[i].line);
	h = fw_cat(h, "Content-Length: ");
	h = fw_u64_str(h, c->body_len);
	h = fw_cat(h, c->close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
	c->head_len = (uint32_t)(h - c->head);
	c->head_off = 0;
	c->body_off = 0;
	c->state = FW_HTTP_SEND;
	c->since_ns = now;
	c->req_len -= (uint32_t)r->head_len;
	memmove(c->req, c->req + r->head_len, c->req_len);
}

/* The pattern from stream offset off, n bytes (pattern.py). */
static void
fw_http_pattern(uint8_t *dst, uint64_t off, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++, off++)
		dst[i] = (uint8_t)(off ^ off >> 8 ^ off >> 16);
}

/* Sends what the socket takes; 1 if the response is complete, 0 if the
 * socket takes no more now, -1 on an error. */
static int
fw_http_send(struct fw_http *h, struct fw_http_conn *c, int *did)
{
	const void *p;
	ptrdiff_t n;
	size_t len;

	while (c->head_off < c->head_len || c->body_off < c->body_len) {
		if (c->head_off < c->head_len) {
			p = c->head + c->head_off;
			len = c->head_len - c->head_off;
		} else {
			len = c->body_len - c->body_off < sizeof(h->chunk) ?
			    (size_t)(c->body_len - c->body_off) :
			    sizeof(h->chunk);
			if (c->body_const != NULL)
				memcpy(h->chunk, c->body_const + c->body_off, len);
			else
				fw_http_pattern(h->chunk, c->body_off, len);
			p = h->chunk;
		}
		n = ust_send(c->so, p, len, 0);
		if (n == -UST_EAGAIN || n == -UST_ENOBUFS || n == 0)
			return (0);
		if (n < 0)
			return (-1);
		if (c->head_off < c->head_len)
			c->head_off += (uint32_t)n;
		else
			c->body_off += (uint64_t)n;
		*did = 1;
	}
	return (1);
}

static void
fw_http_close(struct fw_http_conn *c, int reset)
{
	if (reset)
		fw_abort(c->so);
	else
		(void)ust_close(c->so);
	c->so = NULL;
}

/* Into READ for the next request: the head deadline starts now. */
static void
fw_http_reading(struct fw_http_conn *c, uint64_t now)
{
	c->state = FW_HTTP_READ;
	c->since_ns = now;
}

static int
fw_http_conn_poll(struct fw_http *h, struct fw_http_conn *c, uint64_t now)
{
	struct fw_http_req r;
	ptrdiff_t n;
	int did = 0, sent;

	for (;;) {
		if (c->state == FW_HTTP_SEND) {
			sent = fw_http_send(h, c, &did);
			if (sent < 0 || (sent > 0 && c->close)) {
				fw_http_close(c, 0);
				return (1);
			}
			if (sent == 0)
				break;
			fw_http_reading(c, now);
		}
		if (fw_http_parse(c->req, c->req_len, &r)) {
			fw_http_answer(c, &r, now);
			did = 1;
			continue;
		}
		if (c->req_len == sizeof(c->req)) {
			/* A head longer than we take: say so, then close. */
			memset(&r, 0, sizeof(r));
			r.status = 431;
			r.close = 1;
			r.head_len = c->req_len;
			fw_http_answer(c, &r, now);
			did = 1;
			continue;
		}
		n = ust_recv(c->so, c->req + c->req_len, sizeof(c->req) - c->req_len, 0);
		if (n == -UST_EAGAIN)
			break;
		if (n <= 0) {
			fw_http_close(c, 0);
			return (1);
		}
		c->req_len += (uint32_t)n;
		did = 1;
	}
	if (c->state == FW_HTTP_SEND && did)
		c->since_ns = now;
	/* fw.h: a head must be whole in FW_HTTP_HEAD_S however it trickles
	 * in; a response must move within FW_HTTP_SEND_S. */
	if (now - c->since_ns >=
	    (c->state == FW_HTTP_READ ? FW_HTTP_HEAD_S : FW_HTTP_SEND_S) * FW_NS_PER_S) {
		fw_http_close(c, 1);
		return (1);
	}
	return (did);
}

/* A slot for a new connection: a free one, else that of the persistent
 * connection that has waited longest for a next request with nothing of
 * it received (fw.h); -1 if every slot is busy. */
static int
fw_http_slot(const struct fw_http *h)
{
	const struct fw_http_conn *c;
	int i, idle = -1;

	for (i = 0; i < FW_HTTP_CONNS; i++) {
		c = &h->conn[i];
		if (c->so == NULL)
			return (i);
		/* head_len: it has had a response. */
		if (c->state == FW_HTTP_READ && c->req_len == 0 && c->head_len != 0 &&
		    (idle < 0 || c->since_ns < h->conn[idle].since_ns))
			idle = i;
	}
	return (idle);
}

int
fw_http_poll(struct fw_http *h)
{
	struct ust_socket *so;
	uint64_t now = ust_stack_now(h->st);
	int did = 0, i, j;

	/* With every slot busy, new connections wait in the listen queue
	 * (its backlog bounds them; the stack refuses beyond it). */
	while ((j = fw_http_slot(h)) >= 0 && ust_accept(h->lso, &so, NULL) == 0) {
		did = 1;
		if (h->conn[j].so != NULL)
			fw_http_close(&h->conn[j], 1);
		memset(&h->conn[j], 0, sizeof(h->conn[j]));
		h->conn[j].so = so;
		fw_http_reading(&h->conn[j], now);
	}
	for (i = 0; i < FW_HTTP_CONNS; i++)
		if (h->conn[i].so != NULL)
			did |= fw_http_conn_poll(h, &h->conn[i], now);
	return (did);
}
