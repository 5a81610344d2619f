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
 * Per connection: read request heads into req (FW_HTTP_REQ bytes at
 * most), answer each in turn, and send through out, a buffer of
 * FW_IO_BUF filled with the rest of the current response (head, then
 * the body generated at its offset) and as many pipelined responses after
 * it as fit.  Every send is then a large one: a client pipelining many
 * small requests must not have its answers queued in the socket as as
 * many small mbufs (the stack does not merge them, and on a 64 KiB board
 * such a queue took every mbuf, so that tcp_output could not copy it and
 * the connection, then the board, stopped).  fw.h has the timeouts and
 * the slot policy.
 */
#include <string.h>

#include "fw.h"

struct fw_http_conn {
	struct ust_socket *so;     /* NULL: free slot */
	int busy;                  /* a response is being generated */
	int close;                 /* close after it */
	int closing;               /* answered a request that closes: no more */
	int answered;              /* responses so far */
	uint64_t since_ns;         /* waiting for a head: since; else last progress */
	uint32_t req_len;          /* bytes in req */
	uint32_t head_len;         /* bytes of the response head in head */
	uint32_t head_off;         /* of which into out */
	uint64_t body_len;         /* body bytes of the response */
	uint64_t body_off;         /* of which into out */
	const char *body_const;    /* NULL: the pattern */
	uint32_t out_off, out_len; /* out[out_off..out_len) still to send */
	char req[FW_HTTP_REQ];
	char head[160];
	uint8_t out[FW_IO_BUF];
};

struct fw_http {
	struct ust_stack *st;
	struct ust_socket *lso;
	struct fw_http_conn conn[FW_HTTP_CONNS];
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
fw_http_answer(struct fw_http_conn *c, const struct fw_http_req *r)
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
	c->busy = 1;
	c->closing = c->close;
	c->answered++;
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

/* Fills out with the current response and the pipelined ones after it,
 * as far as it has room; 1 if it put anything in. */
static int
fw_http_fill(struct fw_http_conn *c)
{
	struct fw_http_req r;
	size_t room, n;

	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	while ((room = sizeof(c->out) - c->out_len) > 0) {
		if (!c->busy) {
			if (c->closing || !fw_http_parse(c->req, c->req_len, &r))
				break;
			fw_http_answer(c, &r);
		}
		if (c->head_off < c->head_len) {
			n = c->head_len - c->head_off < room ? c->head_len - c->head_off : room;
			memcpy(c->out + c->out_len, c->head + c->head_off, n);
			c->head_off += (uint32_t)n;
		} else {
			n = c->body_len - c->body_off < room ? (size_t)(c->body_len - c->body_off) :
			                                       room;
			if (c->body_const != NULL)
				memcpy(c->out + c->out_len, c->body_const + c->body_off, n);
			else
				fw_http_pattern(c->out + c->out_len, c->body_off, n);
			c->body_off += n;
		}
		c->out_len += (uint32_t)n;
		if (c->head_off == c->head_len && c->body_off == c->body_len)
			c->busy = 0;
	}
	return (c->out_len > c->out_off);
}

/* Sends what the socket takes of out: 1 when out is empty, 0 if the
 * socket takes no more now, -1 on an error.  Progress restarts the
 * connection's clock (fw.h). */
static int
fw_http_flush(struct fw_http_conn *c, uint64_t now, int *did)
{
	ptrdiff_t n;

	while (c->out_off < c->out_len) {
		n = ust_send(c->so, c->out + c->out_off, c->out_len - c->out_off, 0);
		if (n == -UST_EAGAIN || n == -UST_ENOBUFS || n == 0)
			return (0);
		if (n < 0)
			return (-1);
		c->out_off += (uint32_t)n;
		c->since_ns = now;
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

static int
fw_http_conn_poll(struct fw_http_conn *c, uint64_t now)
{
	struct fw_http_req r;
	ptrdiff_t n;
	int did = 0, idle, sent;

	for (;;) {
		sent = fw_http_flush(c, now, &did);
		if (sent < 0) {
			fw_http_close(c, 0);
			return (1);
		}
		if (sent == 0)
			break;
		if (fw_http_fill(c))
			continue;
		if (c->closing) {
			fw_http_close(c, 0);
			return (1);
		}
		if (c->req_len == sizeof(c->req)) {
			/* A head longer than we take: say so, then close. */
			memset(&r, 0, sizeof(r));
			r.status = 431;
			r.close = 1;
			r.head_len = c->req_len;
			fw_http_answer(c, &r);
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
	/* fw.h: a head must be whole in FW_HTTP_HEAD_S however it trickles
	 * in; a response must move within FW_HTTP_SEND_S. */
	idle = !c->busy && c->out_off == c->out_len;
	if (now - c->since_ns >= (idle ? FW_HTTP_HEAD_S : FW_HTTP_SEND_S) * FW_NS_PER_S) {
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
		if (!c->busy && c->out_off == c->out_len && c->req_len == 0 && c->answered != 0 &&
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
	while ((j = fw_http_slot(h)) >= 0 && ust_accept(h->lso, &so, NULL, NULL) == 0) {
		did = 1;
		if (h->conn[j].so != NULL)
			fw_http_close(&h->conn[j], 1);
		memset(&h->conn[j], 0, sizeof(h->conn[j]));
		h->conn[j].so = so;
		h->conn[j].since_ns = now;
	}
	for (i = 0; i < FW_HTTP_CONNS; i++)
		if (h->conn[i].so != NULL)
			did |= fw_http_conn_poll(&h->conn[i], now);
	return (did);
}
