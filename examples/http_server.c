/*
 * http_server.c - a small HTTP/1.1 server on the zero-copy socket calls
 * (docs/zerocopy.md): GET and HEAD of /bytes/N answer N bytes of the
 * pattern `ustack serve --http` serves (python_bindings/ustack/pattern.py:
 * the byte at offset i is (i ^ i >> 8 ^ i >> 16) & 0xff), with the same
 * response head, keep-alive as RFC 9112 9.3 says.
 *
 *   - Bodies are lent, not copied: ust_send_zc from one static buffer per
 *     size class (the pattern's first 4 KiB, 8 KiB, ... 16 MiB, made on
 *     first use), lent to every connection that needs it at once.  A
 *     body's first bytes go with the head in one ust_sendv (a single
 *     segment for a short answer; no head-only segment for a long one).
 *   - Requests are read without a copy into the server's own buffer when
 *     they arrive whole: ust_recv_mbuf, parsed in the stack's mbufs,
 *     released; only a request cut across mbufs or reads is gathered.
 *
 * Two modes:
 *
 *   http_server [--clients C] [--requests R] [--size N,...]   (default)
 *     both ends in this process over the in-memory pipe: a built-in
 *     client opens C keep-alive connections and makes R requests on each,
 *     cycling through the sizes, checking every status line, length and
 *     body byte; prints the totals and exits 0 when all were right (the
 *     ctest smoke test).
 *
 *   http_server --tap [--ifname ust0] [--address 198.18.0.1] [--port 8080]
 *     serves on a TAP device (root; run it in a network namespace of its
 *     own), as `ustack serve --http --tap` does: prints "ready IFNAME" once
 *     listening, then serves until SIGINT/SIGTERM or --duration; the
 *     kernel's side (ip addr add 198.18.0.2/24 dev IFNAME; ip link set up)
 *     is set up by whoever runs it, and ab or wrk run from there.
 *
 * Uses only the public headers, as an application would.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, sigaction, poll */

#include <ctype.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_pipe.h>
#if HTTP_WITH_TAP
#include <poll.h>

#include <ustack/ustack_tap.h>
#endif

#include "example_util.h"

#define HEAD_MAX 16384       /* a longer request head is refused (431) */
#define CLASS_MIN_SHIFT 12   /* size classes 4 KiB .. 16 MiB */
#define NCLASS 13            /* 2^12 .. 2^24 */
#define FIRST_WITH_HEAD 1200 /* body bytes sent with the head (one segment) */
#define MAX_EVENTS 128

/* ---------------------------------------------------------------------
 * The pattern, and one buffer per size class.
 * ------------------------------------------------------------------- */

static inline uint8_t
pattern(uint64_t i)
{
	return ((uint8_t)(i ^ (i >> 8) ^ (i >> 16)));
}

static uint8_t *classes[NCLASS];

/* The buffer holding the pattern's first bytes for a body of n bytes:
 * its first min(n, 16 MiB) bytes are the body's (beyond 16 MiB the
 * pattern repeats).  *size: the buffer's length.  NULL: no memory. */
static const uint8_t *
body_buffer(uint64_t n, uint32_t *size)
{
	unsigned c = 0;
	uint32_t s;

	/* Beyond 16 MiB (the largest class) the pattern repeats: the
	 * 16 MiB buffer serves any length, lent in turn from its start. */
	while (c + 1 < NCLASS && ((uint64_t)1 << (CLASS_MIN_SHIFT + c)) < n)
		c++;
	s = (uint32_t)1 << (CLASS_MIN_SHIFT + c);
	if (classes[c] == NULL) {
		uint8_t *b = malloc(s);

		if (b == NULL)
			return (NULL);
		for (uint32_t i = 0; i < s; i++)
			b[i] = pattern(i);
		classes[c] = b;
	}
	*size = s;
	return (classes[c]);
}

/* strncasecmp without <strings.h>: ASCII only. */
static int
strncasecmp_ascii(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int x = tolower((unsigned char)a[i]), y = tolower((unsigned char)b[i]);

		if (x != y)
			return (x - y);
		if (x == 0)
			return (0);
	}
	return (0);
}

/* ---------------------------------------------------------------------
 * Server connections.
 * ------------------------------------------------------------------- */

struct stats {
	uint64_t requests, body_bytes, zc_sends, zc_done, zc_copied, zc_aborted;
	uint64_t zc_inflight;
};

struct conn {
	struct ust_socket *so;
	struct stats *stats;
	char in[HEAD_MAX + 1]; /* a request gathered across reads */
	size_t inlen;
	char head[512]; /* the response head (and an error page) */
	size_t headlen, headoff;
	const uint8_t *body; /* the size class buffer */
	uint32_t bodysize;   /* its length */
	uint64_t body_len, body_off;
	uint32_t interest;
	int keep_alive, closed, eof;
	uint32_t zc_inflight; /* lent sends not complete: the conn stays */
};

struct server {
	struct ust_stack *st;
	struct ust_socket *lso;
	struct ust_evq *evq;
	struct conn **conns;
	size_t nconns, cap;
	struct stats stats;
	int use_zc;
	char date[40];
	time_t date_t;
};

/* ust_zc_done_fn: runs on the stack's thread, from a poll (the ACK) or a
 * socket call; the connection outlives it (freed only with none pending). */
static void
body_done(void *arg, const void *buf, size_t len, int status)
{
	struct conn *c = arg;

	(void)buf;
	(void)len;
	c->zc_inflight--;
	c->stats->zc_inflight--;
	c->stats->zc_done++;
	if (status == UST_ZC_COPIED)
		c->stats->zc_copied++;
	else if (status < 0)
		c->stats->zc_aborted++;
}

/* The Date header's value (RFC 9110 5.6.7 IMF-fixdate), once a second. */
static const char *
http_date(struct server *s)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
		"Sep", "Oct", "Nov", "Dec" };
	time_t t = time(NULL);
	struct tm tm;

	if (t != s->date_t) {
		gmtime_r(&t, &tm);
		snprintf(s->date, sizeof(s->date), "%s, %02d %s %04d %02d:%02d:%02d GMT",
		    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		s->date_t = t;
	}
	return (s->date);
}

/* An error page that ends the connection. */
static void
respond_error(struct server *s, struct conn *c, int code, const char *reason)
{
	char body[128];
	int blen = snprintf(body, sizeof(body), "%d %s\n", code, reason);

	c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
	    "HTTP/1.1 %d %s\r\nServer: ustack\r\nDate: %s\r\nConnection: close\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
	    code, reason, http_date(s), blen, body);
	c->headoff = 0;
	c->body_len = c->body_off = 0;
	c->keep_alive = 0;
}

/* Case-insensitive: does the header block h (len bytes) have a field
 * `name` whose value contains token? */
static int
header_has(const char *h, size_t len, const char *name, const char *token)
{
	size_t nl = strlen(name), tl = strlen(token), i, j;

	for (i = 0; i + nl < len; i++) {
		if ((i != 0 && h[i - 1] != '\n') || strncasecmp_ascii(h + i, name, nl) != 0 ||
		    h[i + nl] != ':')
			continue;
		for (j = i + nl + 1; j + tl <= len && h[j] != '\r' && h[j] != '\n'; j++)
			if (strncasecmp_ascii(h + j, token, tl) == 0)
				return (1);
	}
	return (0);
}

/* One complete request head req[0..len) (its blank line included): the
 * response goes into c (c->keep_alive 0: the connection ends after it). */
static void
handle_request(struct server *s, struct conn *c, const char *req, size_t len)
{
	char method[8], target[256], version[16];
	unsigned long long n;
	const char *p;
	int http11, head_only;
	uint32_t size;

	s->stats.requests++;
	if (sscanf(req, "%7s %255s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		respond_error(s, c, 400, "Bad Request");
		return;
	}
	http11 = strcmp(version, "HTTP/1.0") != 0;
	head_only = strcmp(method, "HEAD") == 0;
	if (!head_only && strcmp(method, "GET") != 0) {
		respond_error(s, c, 501, "Not Implemented");
		return;
	}
	/* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with
	 * "keep-alive" (ab -k). */
	c->keep_alive = http11 ? !header_has(req, len, "connection", "close") :
	                         header_has(req, len, "connection", "keep-alive");
	if (header_has(req, len, "content-length", "") ||
	    header_has(req, len, "transfer-encoding", "")) {
		respond_error(s, c, 400, "Bad Request"); /* no request bodies */
		return;
	}
	p = strchr(target, '?');
	if (p != NULL)
		target[p - target] = '\0';
	if (strncmp(target, "/bytes/", 7) != 0 || target[7] == '\0' ||
	    strspn(target + 7, "0123456789") != strlen(target + 7) || strlen(target + 7) > 13 ||
	    (n = strtoull(target + 7, NULL, 10)) > (1ull << 40)) {
		respond_error(s, c, 404, "Not Found");
		return;
	}
	/* As serve.py's head (BaseHTTPRequestHandler): byte for byte but the Date. */
	c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
	    "HTTP/1.1 200 OK\r\nServer: ustack\r\nDate: %s\r\n"
	    "Content-Type: application/octet-stream\r\nContent-Length: %llu\r\n"
	    "Connection: %s\r\n\r\n",
	    http_date(s), n, c->keep_alive ? "keep-alive" : "close");
	c->headoff = 0;
	c->body_off = 0;
	c->body_len = head_only ? 0 : n;
	c->body = c->body_len > 0 ? body_buffer(c->body_len, &size) : NULL;
	c->bodysize = c->body != NULL ? size : 0;
	if (c->body_len > 0 && c->body == NULL)
		respond_error(s, c, 503, "Service Unavailable");
}

/* Sends what it can of the current response; 1 when it is all out. */
static int
send_response(struct server *s, struct conn *c)
{
	for (;;) {
		uint64_t left = c->body_len - c->body_off;
		uint32_t at;
		size_t chunk;
		ptrdiff_t k;

		if (c->headoff < c->headlen) {
			/* The head with the first body bytes: one send, copied. */
			struct ust_iovec iov[2] = {
				{ c->head + c->headoff, c->headlen - c->headoff }, { c->body, 0 }
			};

			if (c->headoff == 0 && left > 0)
				iov[1].iov_len =
				    left < FIRST_WITH_HEAD ? (size_t)left : FIRST_WITH_HEAD;
			k = ust_sendv(c->so, iov, 2, 0);
			if (k < 0)
				return (k == -UST_EAGAIN ? 0 : -1);
			if ((size_t)k > iov[0].iov_len) {
				c->body_off += (size_t)k - iov[0].iov_len;
				s->stats.body_bytes += (size_t)k - iov[0].iov_len;
				k = (ptrdiff_t)iov[0].iov_len;
			}
			c->headoff += (size_t)k;
			continue;
		}
		if (left == 0)
			return (1);
		at = (uint32_t)(c->body_off % c->bodysize);
		chunk = c->bodysize - at;
		if (chunk > left)
			chunk = (size_t)left;
		if (s->use_zc) {
			k = ust_send_zc(c->so, c->body + at, chunk, 0, body_done, c);
			if (k > 0) {
				c->zc_inflight++;
				s->stats.zc_inflight++;
				s->stats.zc_sends++;
			}
		} else
			k = ust_send(c->so, c->body + at, chunk, 0);
		if (k < 0)
			return (k == -UST_EAGAIN ? 0 : -1);
		c->body_off += (uint64_t)k;
		s->stats.body_bytes += (uint64_t)k;
	}
}

/* Takes the complete requests out of buf[0..len) (answering one at a
 * time: the next waits while a response is being sent); returns the
 * bytes consumed.  Sets c->closed on a head that is too long. */
static size_t
parse_requests(struct server *s, struct conn *c, const char *buf, size_t len, int *busy)
{
	size_t used = 0;

	while (!*busy && used < len) {
		const char *start = buf + used, *end = NULL;

		for (size_t i = 3; i < len - used; i++)
			if (start[i] == '\n' && start[i - 1] == '\r' && start[i - 2] == '\n' &&
			    start[i - 3] == '\r') {
				end = start + i + 1;
				break;
			}
		if (end == NULL)
			break;
		handle_request(s, c, start, (size_t)(end - start));
		used += (size_t)(end - start);
		*busy = 1;
	}
	return (used);
}

/* Reads and answers; returns -1 when the connection is over. */
static int
serve_conn(struct server *s, struct conn *c)
{
	struct ust_mbuf *chain, *m;
	ptrdiff_t n;
	int busy, r;

	for (;;) {
		busy = c->headoff < c->headlen || c->body_off < c->body_len;
		if (busy) {
			r = send_response(s, c);
			if (r < 0)
				return (-1);
			if (r == 0)
				return (0); /* the send buffer is full: wait for EV_OUT */
			c->headlen = c->headoff = 0;
			if (!c->keep_alive)
				return (-1);
			busy = 0;
		}
		/* A request already gathered (pipelined). */
		if (c->inlen > 0) {
			size_t used = parse_requests(s, c, c->in, c->inlen, &busy);

			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen -= used;
			if (busy)
				continue;
		}
		if (c->eof)
			return (-1);
		n = ust_recv_mbuf(c->so, &chain, HEAD_MAX, 0);
		if (n == -UST_EAGAIN)
			return (0);
		if (n <= 0) {
			c->eof = 1; /* end of stream (or reset): nothing more to answer */
			return (-1);
		}
		for (m = chain; m != NULL; m = ust_mbuf_next(m)) {
			const char *d = ust_mbuf_data(m);
			size_t len = ust_mbuf_len(m), used = 0;

			/* Parsed where it lies when nothing is gathered before it. */
			if (c->inlen == 0)
				used = parse_requests(s, c, d, len, &busy);
			if (len - used > sizeof(c->in) - 1 - c->inlen) {
				ust_mbuf_release(c->so, chain);
				respond_error(s, c, 431, "Request Header Fields Too Large");
				c->inlen = 0;
				(void)send_response(s, c);
				return (-1);
			}
			memcpy(c->in + c->inlen, d + used, len - used);
			c->inlen += len - used;
		}
		ust_mbuf_release(c->so, chain);
	}
}

static void
conn_watch(struct server *s, struct conn *c)
{
	uint32_t want = c->headoff < c->headlen || c->body_off < c->body_len ?
	    UST_EV_IN | UST_EV_OUT :
	    UST_EV_IN;

	if (want != c->interest) {
		(void)ust_evq_ctl(s->evq, UST_EVQ_MOD, c->so, want, c);
		c->interest = want;
	}
}

static void
conn_close(struct conn *c)
{
	if (c->so != NULL)
		ust_close(c->so);
	c->so = NULL;
	c->closed = 1;
}

/* Frees closed connections whose lent sends all completed. */
static void
reap_conns(struct server *s)
{
	size_t i;

	for (i = 0; i < s->nconns; i++)
		if (s->conns[i]->closed && s->conns[i]->zc_inflight == 0) {
			free(s->conns[i]);
			s->conns[i--] = s->conns[--s->nconns];
		}
}

/* One round of the server: accept, read, answer. */
static void
server_round(struct server *s)
{
	struct ust_event ev[MAX_EVENTS];
	int n, i;

	n = ust_evq_poll(s->evq, ev, MAX_EVENTS);
	for (i = 0; i < n; i++) {
		struct conn *c = ev[i].udata;

		if (c == NULL) {
			struct ust_socket *so;
			int one = 1;

			while (ust_accept(s->lso, &so, NULL, NULL) == 0) {
				if (s->nconns == s->cap) {
					size_t cap = s->cap ? 2 * s->cap : 64;
					struct conn **nc = realloc(s->conns, cap * sizeof(*nc));

					if (nc == NULL) {
						ust_close(so);
						continue;
					}
					s->conns = nc;
					s->cap = cap;
				}
				c = calloc(1, sizeof(*c));
				if (c == NULL) {
					ust_close(so);
					continue;
				}
				c->so = so;
				c->stats = &s->stats;
				c->interest = UST_EV_IN;
				/* Each answer as soon as it is sent (no Nagle wait on
				 * the head's ACK; serve.py does the same). */
				(void)ust_setsockopt(so, UST_IPPROTO_TCP, UST_TCP_NODELAY, &one,
				    sizeof(one));
				s->conns[s->nconns++] = c;
				(void)ust_evq_ctl(s->evq, UST_EVQ_ADD, so, UST_EV_IN, c);
				if (serve_conn(s, c) < 0)
					conn_close(c);
				else
					conn_watch(s, c);
			}
			continue;
		}
		if (c->closed)
			continue;
		if (serve_conn(s, c) < 0)
			conn_close(c);
		else
			conn_watch(s, c);
	}
	reap_conns(s);
}

static int
server_open(struct server *s, struct ust_stack *st, uint16_t port, int use_zc)
{
	struct ust_sockaddr_in me = sin4(0, port);
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->st = st;
	s->use_zc = use_zc;
	if (ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &s->lso) != 0 ||
	    ust_setsockopt(s->lso, UST_SOL_SOCKET, UST_SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    ust_bind(s->lso, (const struct ust_sockaddr *)&me, sizeof(me)) != 0 ||
	    ust_listen(s->lso, -1) != 0 || ust_evq_create(st, &s->evq) != 0 ||
	    ust_evq_ctl(s->evq, UST_EVQ_ADD, s->lso, UST_EV_IN, NULL) != 0)
		return (-1);
	return (0);
}

/* Closes everything; the connections' memory goes after the stack (a
 * lent send may complete while it is destroyed). */
static void
server_close(struct server *s)
{
	size_t i;

	for (i = 0; i < s->nconns; i++)
		if (!s->conns[i]->closed)
			conn_close(s->conns[i]);
	if (s->evq != NULL)
		ust_evq_destroy(s->evq);
	if (s->lso != NULL)
		ust_close(s->lso);
}

static void
server_free(struct server *s)
{
	size_t i;

	for (i = 0; i < s->nconns; i++)
		free(s->conns[i]);
	free(s->conns);
	s->conns = NULL;
	s->nconns = 0;
}

static void
server_print(const struct server *s)
{
	printf("server: requests %llu body_bytes %llu zc_sends %llu zc_done %llu "
	       "(copied %llu, aborted %llu)\n",
	    (unsigned long long)s->stats.requests, (unsigned long long)s->stats.body_bytes,
	    (unsigned long long)s->stats.zc_sends, (unsigned long long)s->stats.zc_done,
	    (unsigned long long)s->stats.zc_copied, (unsigned long long)s->stats.zc_aborted);
}

/* ---------------------------------------------------------------------
 * The built-in client (pipe mode).
 * ------------------------------------------------------------------- */

struct client {
	struct ust_socket *so;
	char hdr[2048];
	size_t hlen;
	uint64_t want, got; /* body: Content-Length, received so far */
	int in_body, sent_req, done, bad;
	int requests; /* completed */
	size_t size_idx;
};

struct load {
	struct client *cl;
	int nclients, requests;
	const uint64_t *sizes;
	size_t nsizes;
	uint64_t body_bytes, responses;
	int failures;
};

static void
client_fail(struct load *l, struct client *c, const char *what)
{
	if (!c->bad)
		fprintf(stderr, "http_server: client %d: %s\n", (int)(c - l->cl), what);
	c->bad = 1;
	c->done = 1;
	l->failures++;
}

/* Parses a response head; returns 0, or -1 when it is wrong. */
static int
client_head(struct load *l, struct client *c)
{
	const char *cl;
	uint64_t expect = l->sizes[c->size_idx % l->nsizes];

	c->hdr[c->hlen] = '\0';
	if (strncmp(c->hdr, "HTTP/1.1 200 OK\r\n", 17) != 0)
		return (-1);
	cl = strstr(c->hdr, "\r\nContent-Length: ");
	if (cl == NULL || strstr(c->hdr, "\r\nServer: ustack\r\n") == NULL)
		return (-1);
	c->want = strtoull(cl + 18, NULL, 10);
	if (c->want != expect)
		return (-1);
	c->got = 0;
	c->in_body = 1;
	return (0);
}

static void
client_round(struct load *l, struct client *c)
{
	static uint8_t buf[65536];
	char req[128];
	ptrdiff_t n;

	if (c->done)
		return;
	if (!c->sent_req) {
		int last = c->requests + 1 == l->requests;
		int len =
		    snprintf(req, sizeof(req), "GET /bytes/%llu HTTP/1.1\r\nHost: ustack\r\n%s\r\n",
		        (unsigned long long)l->sizes[c->size_idx % l->nsizes],
		        last ? "Connection: close\r\n" : "");

		n = ust_send(c->so, req, (size_t)len, 0);
		if (n == -UST_EAGAIN)
			return;
		if (n != len) {
			client_fail(l, c, "request not sent");
			return;
		}
		c->sent_req = 1;
		c->hlen = 0;
		c->in_body = 0;
	}
	while ((n = ust_recv(c->so, buf, sizeof(buf), 0)) > 0) {
		size_t off = 0;

		while (off < (size_t)n) {
			if (!c->in_body) {
				char *end;

				if (c->hlen + 1 >= sizeof(c->hdr)) {
					client_fail(l, c, "response head too long");
					return;
				}
				c->hdr[c->hlen++] = (char)buf[off++];
				c->hdr[c->hlen] = '\0';
				end =
				    c->hlen >= 4 ? strstr(c->hdr + c->hlen - 4, "\r\n\r\n") : NULL;
				if (end != NULL && client_head(l, c) != 0) {
					client_fail(l, c, "bad response head");
					return;
				}
			} else {
				size_t k = (size_t)n - off;

				if (k > c->want - c->got)
					k = (size_t)(c->want - c->got);
				for (size_t i = 0; i < k; i++)
					if (buf[off + i] != pattern(c->got + i)) {
						client_fail(l, c, "body byte wrong");
						return;
					}
				c->got += k;
				off += k;
			}
			if (c->in_body && c->got == c->want) {
				l->responses++;
				l->body_bytes += c->want;
				c->requests++;
				c->size_idx++;
				c->sent_req = 0;
				c->in_body = 0;
				c->hlen = 0;
				if (off != (size_t)n) {
					client_fail(l, c, "bytes after the response");
					return;
				}
				if (c->requests == l->requests)
					break;
				return; /* the next request next round */
			}
		}
	}
	if (c->requests == l->requests && (n == 0 || n == -UST_EAGAIN)) {
		if (n == 0) { /* the server closed after "Connection: close" */
			c->done = 1;
			ust_close(c->so);
			c->so = NULL;
		}
		return;
	}
	if (n == 0 || (n < 0 && n != -UST_EAGAIN))
		client_fail(l, c, "connection ended early");
}

static int
parse_sizes(const char *arg, uint64_t *sizes, size_t max, size_t *n)
{
	char *end;

	*n = 0;
	while (*arg != '\0' && *n < max) {
		unsigned long long v = strtoull(arg, &end, 10);

		if (end == arg)
			return (-1);
		if (*end == 'K' || *end == 'k')
			v <<= 10, end++;
		else if (*end == 'M' || *end == 'm')
			v <<= 20, end++;
		sizes[(*n)++] = v;
		if (*end == ',')
			end++;
		else if (*end != '\0')
			return (-1);
		arg = end;
	}
	return (*n > 0 ? 0 : -1);
}

static int
run_pipe(int nclients, int requests, const uint64_t *sizes, size_t nsizes, int use_zc,
    int64_t zc_min, uint16_t port)
{
	struct ust_stack_config sc;
	struct ust_stack *srv_st = NULL, *cli_st = NULL;
	struct ust_pipe_config pc;
	struct ust_pipe *pipe = NULL;
	struct ust_if *ifa, *ifb;
	struct server s;
	struct load l;
	struct ust_zone_stats zs;
	struct ust_sockaddr_in to = sin4(ip4(198, 18, 0, 1), port);
	double t0, dt;
	int i, rc = 1, left;
	unsigned z;

	memset(&l, 0, sizeof(l));
	memset(&s, 0, sizeof(s));
	ust_stack_config_init(&sc);
	ust_pipe_config_init(&pc);
	if (ust_stack_create(&sc, &srv_st) != 0 || ust_stack_create(&sc, &cli_st) != 0 ||
	    ust_pipe_create(&pc, &pipe) != 0 ||
	    ust_if_attach(srv_st, "pipe0", ust_pipe_ops(), ust_pipe_end(pipe, UST_PIPE_A), &ifa) !=
	        0 ||
	    ust_if_attach(cli_st, "pipe0", ust_pipe_ops(), ust_pipe_end(pipe, UST_PIPE_B), &ifb) !=
	        0 ||
	    ust_if_addr_add(ifa, ip4(198, 18, 0, 1), 24) != 0 ||
	    ust_if_addr_add(ifb, ip4(198, 18, 0, 2), 24) != 0) {
		fprintf(stderr, "http_server: stack setup failed\n");
		goto out;
	}
	if (zc_min >= 0 && ust_sysctl_set(srv_st, "kern.ipc.zc_min", zc_min) != 0) {
		fprintf(stderr, "http_server: kern.ipc.zc_min %lld refused\n", (long long)zc_min);
		goto out;
	}
	if (server_open(&s, srv_st, port, use_zc) != 0) {
		fprintf(stderr, "http_server: cannot listen on port %u\n", port);
		goto out;
	}
	l.cl = calloc((size_t)nclients, sizeof(*l.cl));
	l.nclients = nclients;
	l.requests = requests;
	l.sizes = sizes;
	l.nsizes = nsizes;
	if (l.cl == NULL)
		goto out;
	for (i = 0; i < nclients; i++) {
		int err;

		l.cl[i].size_idx = (size_t)i;
		if (ust_socket(cli_st, UST_AF_INET, UST_SOCK_STREAM, 0, &l.cl[i].so) != 0)
			goto out;
		err = ust_connect(l.cl[i].so, (const struct ust_sockaddr *)&to, sizeof(to));
		if (err != 0 && err != -UST_EINPROGRESS)
			goto out;
	}
	t0 = now_s();
	for (;;) {
		ust_stack_poll(cli_st);
		ust_stack_poll(srv_st);
		server_round(&s);
		left = 0;
		for (i = 0; i < nclients; i++) {
			client_round(&l, &l.cl[i]);
			left += !l.cl[i].done;
		}
		if (left == 0 || now_s() - t0 > 60.0)
			break;
	}
	dt = now_s() - t0;
	/* The last ACKs: every lent body completes. */
	for (i = 0; i < 20000 && s.stats.zc_inflight > 0; i++) {
		ust_stack_poll(cli_st);
		ust_stack_poll(srv_st);
		server_round(&s);
	}
	printf("client: responses %llu body_bytes %llu seconds %.3f requests_per_s %.0f "
	       "mbyte_per_s %.1f failures %d\n",
	    (unsigned long long)l.responses, (unsigned long long)l.body_bytes, dt,
	    dt > 0 ? (double)l.responses / dt : 0.0, dt > 0 ? (double)l.body_bytes / dt / 1e6 : 0.0,
	    l.failures);
	server_print(&s);
	rc = 0;
	if (l.failures != 0 || l.responses != (uint64_t)nclients * (uint64_t)requests) {
		fprintf(stderr, "http_server: %llu of %llu responses right\n",
		    (unsigned long long)l.responses,
		    (unsigned long long)nclients * (unsigned long long)requests);
		rc = 1;
	}
	if (s.stats.zc_done != s.stats.zc_sends || s.stats.zc_aborted != 0) {
		fprintf(stderr, "http_server: %llu lent sends, %llu completed (%llu aborted)\n",
		    (unsigned long long)s.stats.zc_sends, (unsigned long long)s.stats.zc_done,
		    (unsigned long long)s.stats.zc_aborted);
		rc = 1;
	}
	for (z = 0; ust_stack_get_zone_stats(srv_st, z, &zs) == 0; z++)
		if (strcmp(zs.name, "zc") == 0 && zs.in_use != 0) {
			fprintf(stderr, "http_server: zone zc has %u in use\n", zs.in_use);
			rc = 1;
		}
out:
	if (l.cl != NULL)
		for (i = 0; i < nclients; i++)
			if (l.cl[i].so != NULL)
				ust_close(l.cl[i].so);
	server_close(&s);
	if (srv_st != NULL)
		ust_stack_destroy(srv_st);
	if (cli_st != NULL)
		ust_stack_destroy(cli_st);
	server_free(&s);
	ust_pipe_destroy(pipe);
	free(l.cl);
	return (rc);
}

/* ---------------------------------------------------------------------
 * TAP mode.
 * ------------------------------------------------------------------- */

#if HTTP_WITH_TAP
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
run_tap(const char *ifname, uint32_t addr, uint16_t port, int use_zc, int64_t zc_min, int sleepy,
    double duration)
{
	struct ust_tap_config tc;
	struct ust_stack_config sc;
	struct ust_stack *st = NULL;
	struct ust_tap *tap = NULL;
	struct ust_if *ifp = NULL;
	struct server s;
	struct sigaction sa;
	double t0;
	int err, rc = 1;

	memset(&s, 0, sizeof(s));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ust_tap_config_init(&tc);
	snprintf(tc.name, sizeof(tc.name), "%s", ifname);
	ust_stack_config_init(&sc);
	if ((err = ust_tap_open(&tc, &tap)) != 0) {
		fprintf(stderr, "http_server: cannot open the TAP device: %s\n",
		    ust_strerror(-err));
		return (1);
	}
	if (ust_stack_create(&sc, &st) != 0 ||
	    ust_if_attach(st, "tap0", ust_tap_ops(), ust_tap_softc(tap), &ifp) != 0 ||
	    ust_if_addr_add(ifp, addr, 24) != 0) {
		fprintf(stderr, "http_server: stack setup failed\n");
		goto out;
	}
	if (zc_min >= 0 && ust_sysctl_set(st, "kern.ipc.zc_min", zc_min) != 0) {
		fprintf(stderr, "http_server: kern.ipc.zc_min %lld refused\n", (long long)zc_min);
		goto out;
	}
	if (server_open(&s, st, port, use_zc) != 0) {
		fprintf(stderr, "http_server: cannot listen on port %u\n", port);
		goto out;
	}
	printf("ready %s\n", ust_tap_name(tap));
	fflush(stdout);
	t0 = now_s();
	while (!stop && (duration <= 0 || now_s() - t0 < duration)) {
		int work = ust_stack_poll(st);

		server_round(&s);
		if (work == 0 && sleepy) {
			struct pollfd pfd = { .fd = ust_tap_fd(tap), .events = POLLIN };

			(void)poll(&pfd, 1, 1);
		}
	}
	server_print(&s);
	rc = 0;
out:
	server_close(&s);
	if (st != NULL) {
		for (int k = 0; k < 1000; k++) /* the FINs */
			ust_stack_poll(st);
		ust_stack_destroy(st);
	}
	server_free(&s);
	ust_tap_close(tap);
	return (rc);
}
#endif

/* ---------------------------------------------------------------------
 * Options.
 * ------------------------------------------------------------------- */

static void
usage(void)
{
	printf(
	    "usage: http_server [--clients C] [--requests R] [--size N[,N...]]\n"
	    "       http_server --tap [--ifname NAME] [--address A.B.C.D] [--sleep] "
	    "[--duration S]\n"
	    "HTTP/1.1 GET/HEAD of /bytes/N (N bytes of ustack.pattern, as `ustack serve --http`),\n"
	    "bodies lent with ust_send_zc, requests read with ust_recv_mbuf.\n"
	    "Pipe mode (default): a built-in client checks every response, then exits 0.\n"
	    "  --clients C     keep-alive connections of the built-in client (default 8)\n"
	    "  --requests R    requests per connection, the last with Connection: close "
	    "(default 50)\n"
	    "  --size LIST     body sizes the client asks for, in turn, e.g. 0,128,1K,64K,1M\n"
	    "                  (default 0,128,1024,65536,1000000)\n"
	    "TAP mode (root, in a network namespace of its own):\n"
	    "  --tap           serve on a TAP device until SIGINT/SIGTERM; prints \"ready "
	    "IFNAME\"\n"
	    "  --ifname NAME   TAP device to create (default ust0)\n"
	    "  --address A     ustack's IPv4 address, /24 (default 198.18.0.1)\n"
	    "  --sleep         wait in poll(2) when idle instead of busy-polling\n"
	    "  --duration S    exit after S seconds (default 0: run until a signal)\n"
	    "Both modes:\n"
	    "  --port P        TCP port to listen on (default 8080)\n"
	    "  --no-zc         send bodies with ust_send (copied), for comparison\n"
	    "  --zc-min N      kern.ipc.zc_min: shorter sends are copied (default: the knob's, "
	    "1024)\n"
	    "  --help          this text\n");
}

int
main(int argc, char **argv)
{
	uint64_t sizes[32] = { 0, 128, 1024, 65536, 1000000 };
	size_t nsizes = 5;
	const char *ifname = "ust0";
	uint32_t addr = ip4(198, 18, 0, 1);
	int clients = 8, requests = 50, port = 8080, tap = 0, use_zc = 1, sleepy = 0, i;
	int64_t zc_min = -1;
	double duration = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--clients") == 0 && v != NULL && (clients = atoi(v)) > 0)
			i++;
		else if (strcmp(a, "--requests") == 0 && v != NULL && (requests = atoi(v)) > 0)
			i++;
		else if (strcmp(a, "--size") == 0 && v != NULL &&
		    parse_sizes(v, sizes, sizeof(sizes) / sizeof(sizes[0]), &nsizes) == 0)
			i++;
		else if (strcmp(a, "--port") == 0 && v != NULL && (port = atoi(v)) > 0 &&
		    port < 65536)
			i++;
		else if (strcmp(a, "--zc-min") == 0 && v != NULL) {
			zc_min = atoll(v);
			i++;
		} else if (strcmp(a, "--ifname") == 0 && v != NULL) {
			ifname = v;
			i++;
		} else if (strcmp(a, "--address") == 0 && v != NULL) {
			unsigned b[4];

			if (sscanf(v, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) != 4 ||
			    b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255) {
				fprintf(stderr, "http_server: bad address %s\n", v);
				return (2);
			}
			addr = ip4(b[0], b[1], b[2], b[3]);
			i++;
		} else if (strcmp(a, "--duration") == 0 && v != NULL) {
			duration = atof(v);
			i++;
		} else if (strcmp(a, "--tap") == 0)
			tap = 1;
		else if (strcmp(a, "--sleep") == 0)
			sleepy = 1;
		else if (strcmp(a, "--no-zc") == 0)
			use_zc = 0;
		else {
			usage();
			return (strcmp(a, "--help") == 0 ? 0 : 2);
		}
	}
	if (tap) {
#if HTTP_WITH_TAP
		return (run_tap(ifname, addr, (uint16_t)port, use_zc, zc_min, sleepy, duration));
#else
		(void)ifname;
		(void)addr;
		(void)sleepy;
		(void)duration;
		fprintf(stderr, "http_server: built without the TAP driver\n");
		return (2);
#endif
	}
	(void)ifname;
	(void)addr;
	(void)sleepy;
	(void)duration;
	return (run_pipe(clients, requests, sizes, nsizes, use_zc, zc_min, (uint16_t)port));
}
