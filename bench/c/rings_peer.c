/*
 * rings_peer.c - the programs of bench/b_rings.py: ustack on AF_XDP or on a
 * TAP device facing the kernel of the same namespace, the kernel's clients,
 * and the raw AF_XDP frame rate without a stack.
 *
 *   rings_peer ustack --driver tap|afxdp --ifname NAME [--mode native|generic]
 *              [--address A.B.C.D] [--reflect]
 *       ustack on NAME, busy-polling until SIGTERM: TCP sink on 5001 (one
 *       line "bytes N seconds S mbit_per_s R" per connection, first byte to
 *       last), TCP echo on 5002, UDP echo on 5003, TCP source on 5004
 *       (sends to each connection until it goes).  --driver tap: a TAP
 *       device made here, without the vnet header (no offloads: ustack
 *       computes every checksum and segment, as it must on AF_XDP).
 *       --reflect: no protocols at all; an input hook sends every UDP
 *       datagram for port 5003 straight back (addresses and ports swapped,
 *       checksums unchanged: the sums are commutative), everything else
 *       (ARP) goes to the stack: the raw round trip through the driver.
 *       Prints "ready", and at the end a JSON line of frame counts.
 *   rings_peer pump --ifname NAME [--mode M] --rx|--tx [--seconds S] [--size N]
 *       AF_XDP without a stack (ust_afxdp_raw_pump): receive and recycle, or
 *       send copies of one N-byte UDP frame (to a MAC nobody has: the kernel
 *       drops it on arrival); JSON {"frames", "seconds", "frames_per_s"}.
 *   rings_peer kecho [--address A.B.C.D]
 *       the kernel's TCP echo on 5002, UDP echo on 5003 and TCP source on
 *       5004 (Linux over veth).
 *   rings_peer udp-rr --to A.B.C.D [--window W] [--size N] [--seconds S]
 *   rings_peer tcp-rr --to A.B.C.D [--size N] [--seconds S]
 *       kernel clients: W datagrams in flight to port 5003 (the replies of
 *       one recvmmsg answered by one sendmmsg), or one TCP connection to
 *       5002 in lockstep; JSON
 *       {"ops_per_s", "p50_us", "lost"}.
 *   rings_peer drain --to A.B.C.D [--seconds S]
 *       the kernel receives from the source on 5004 for S seconds; JSON
 *       {"bytes", "gbit_per_s"} (first byte to last).
 *   rings_peer flood --to A.B.C.D [--size N] [--seconds S]
 *       the kernel sends N-byte UDP datagrams to port 9 as fast as it can;
 *       JSON {"frames", "frames_per_s"}.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ustack/ustack.h>
#include <ustack/ustack_afxdp.h>
#include <ustack/ustack_tap.h>

#include "example_util.h"

#define SINK_PORT 5001
#define ECHO_PORT 5002
#define UDP_PORT 5003
#define SOURCE_PORT 5004
#define MAX_CONNS 64
#define BUF 65536
#define MAX_SAMPLES (1u << 20)
#define MAX_WINDOW 256

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

struct opts {
	const char *driver, *ifname, *to, *mode;
	uint32_t addr;
	int reflect, rx, tx, window, size;
	double seconds;
};

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->driver = "afxdp";
	o->ifname = "ust0x";
	o->mode = "auto";
	o->to = "198.18.0.1";
	o->addr = ip4(198, 18, 0, 1);
	o->window = 1;
	o->size = 18; /* 18-byte UDP payload: a 60-byte frame, 64 on the wire */
	o->seconds = 2;
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--reflect") == 0)
			o->reflect = 1;
		else if (strcmp(a, "--rx") == 0)
			o->rx = 1;
		else if (strcmp(a, "--tx") == 0)
			o->tx = 1;
		else if (v == NULL)
			return (-1);
		else if (strcmp(a, "--driver") == 0)
			o->driver = v, i++;
		else if (strcmp(a, "--ifname") == 0)
			o->ifname = v, i++;
		else if (strcmp(a, "--mode") == 0)
			o->mode = v, i++;
		else if (strcmp(a, "--to") == 0)
			o->to = v, i++;
		else if (strcmp(a, "--address") == 0) {
			struct in_addr in;

			if (inet_pton(AF_INET, v, &in) != 1)
				return (-1);
			o->addr = in.s_addr;
			i++;
		} else if (strcmp(a, "--window") == 0)
			o->window = atoi(v), i++;
		else if (strcmp(a, "--size") == 0)
			o->size = atoi(v), i++;
		else if (strcmp(a, "--seconds") == 0)
			o->seconds = atof(v), i++;
		else
			return (-1);
	}
	if (o->window < 1 || o->window > MAX_WINDOW || o->size < 16 || o->size > 1400)
		return (-1);
	return (0);
}

static uint8_t
xdp_mode(const char *m)
{
	if (strcmp(m, "native") == 0)
		return (UST_AFXDP_MODE_NATIVE);
	if (strcmp(m, "generic") == 0)
		return (UST_AFXDP_MODE_GENERIC);
	return (UST_AFXDP_MODE_AUTO);
}

/* --- ustack ---------------------------------------------------------- */

enum { ECHO, SINK, SOURCE };

struct conn {
	struct ust_socket *so;
	int kind;
	uint64_t bytes;
	double first, last;
};

/* The raw round trip: UDP to UDP_PORT goes straight back. */
static int
reflect(void *arg, struct ust_if *ifp, const struct ust_mbuf *m)
{
	uint8_t f[256], t[6];
	size_t len = ust_mbuf_pktlen(m), ihl;
	uint32_t a;
	uint16_t p;

	(void)arg;
	if (len < 42 || len > sizeof(f) || ust_mbuf_copydata(m, 0, len, f) != 0)
		return (0);
	if (f[12] != 0x08 || f[13] != 0x00 || f[23] != 17)
		return (0);
	ihl = (size_t)(f[14] & 0x0f) * 4;
	if (14 + ihl + 8 > len || f[14 + ihl + 2] != (UDP_PORT >> 8) ||
	    f[14 + ihl + 3] != (UDP_PORT & 0xff))
		return (0);
	memcpy(t, f, 6), memcpy(f, f + 6, 6), memcpy(f + 6, t, 6);
	memcpy(&a, f + 26, 4), memcpy(f + 26, f + 30, 4), memcpy(f + 30, &a, 4);
	memcpy(&p, f + 14 + ihl, 2);
	memcpy(f + 14 + ihl, f + 14 + ihl + 2, 2);
	memcpy(f + 14 + ihl + 2, &p, 2);
	(void)ust_if_output_frame(ifp, f, len);
	return (1);
}

static int
listen_on(struct ust_stack *st, int type, uint16_t port, struct ust_socket **out)
{
	struct ust_sockaddr_in me = sin4(0, port);
	int one = 1;

	if (ust_socket(st, UST_AF_INET, type, 0, out) != 0)
		return (-1);
	(void)ust_setsockopt(*out, UST_SOL_SOCKET, UST_SO_REUSEADDR, &one, sizeof(one));
	if (ust_bind(*out, (const struct ust_sockaddr *)&me, sizeof(me)) != 0)
		return (-1);
	if (type == UST_SOCK_STREAM && ust_listen(*out, 16) != 0)
		return (-1);
	return (0);
}

/* One connection's waiting bytes: counted (sink) or sent back (echo);
 * a source fills its send buffer.  1 when it is over. */
static int
serve_conn(struct conn *c, uint8_t *buf)
{
	while (c->kind == SOURCE) {
		ptrdiff_t n = ust_send(c->so, buf, BUF, 0);

		if (n == -UST_EAGAIN)
			break;
		if (n < 0)
			return (1);
	}
	for (;;) {
		ptrdiff_t n = ust_recv(c->so, buf, BUF, 0), off = 0;

		if (n <= 0)
			return (n == -UST_EAGAIN ? 0 : 1);
		if (c->kind != ECHO) {
			if (c->bytes == 0)
				c->first = now_s();
			c->bytes += (uint64_t)n;
			c->last = now_s();
			continue;
		}
		while (off < n) { /* small requests: the send buffer has room */
			ptrdiff_t s = ust_send(c->so, buf + off, (size_t)(n - off), 0);

			if (s < 0 && s != -UST_EAGAIN)
				return (1);
			off += s > 0 ? s : 0;
		}
	}
}

static int
run_ustack(const struct opts *o)
{
	static uint8_t buf[BUF];
	struct ust_stack_config sc;
	struct ust_stack *st = NULL;
	struct ust_tap *tap = NULL;
	struct ust_afxdp_port *port = NULL;
	struct ust_if *ifp = NULL;
	struct ust_socket *sink = NULL, *echo = NULL, *udp = NULL, *source = NULL, *so;
	struct ust_sockaddr_in peer;
	struct ust_if_stats is;
	struct conn conns[MAX_CONNS];
	int nconn = 0, rc = 1, i, err;

	ust_stack_config_init(&sc);
	if (ust_stack_create(&sc, &st) != 0)
		return (1);
	if (strcmp(o->driver, "tap") == 0) {
		struct ust_tap_config tc;

		ust_tap_config_init(&tc);
		snprintf(tc.name, sizeof(tc.name), "%s", o->ifname);
		tc.offload = 0;
		err = ust_tap_open(&tc, &tap);
		if (err == 0)
			err = ust_if_attach(st, "tap0", ust_tap_ops(), ust_tap_softc(tap), &ifp);
	} else {
		struct ust_afxdp_config xc;

		ust_afxdp_config_init(&xc);
		xc.ifname = o->ifname;
		xc.mode = xdp_mode(o->mode);
		err = ust_afxdp_open(&xc, &port);
		if (err == 0)
			err = ust_afxdp_attach(st, port, 0, "xdp0", &ifp);
	}
	if (err != 0) {
		fprintf(stderr, "rings_peer: %s on %s: %s\n", o->driver, o->ifname,
		    ust_strerror(-err));
		goto out;
	}
	if (ust_if_addr_add(ifp, o->addr, 24) != 0)
		goto out;
	if (o->reflect)
		ust_if_set_input_hook(ifp, reflect, NULL);
	else if (listen_on(st, UST_SOCK_STREAM, SINK_PORT, &sink) != 0 ||
	    listen_on(st, UST_SOCK_STREAM, ECHO_PORT, &echo) != 0 ||
	    listen_on(st, UST_SOCK_STREAM, SOURCE_PORT, &source) != 0 ||
	    listen_on(st, UST_SOCK_DGRAM, UDP_PORT, &udp) != 0) {
		fprintf(stderr, "rings_peer: cannot listen\n");
		goto out;
	}
	catch_signals();
	printf("ready %s\n", o->ifname);
	fflush(stdout);
	while (!stop) {
		(void)ust_stack_poll(st);
		if (o->reflect)
			continue;
		while (nconn < MAX_CONNS &&
		    ust_accept(sink, &so, (struct ust_sockaddr *)&peer,
		        &(ust_socklen_t){ sizeof(peer) }) == 0)
			conns[nconn++] = (struct conn){ .so = so, .kind = SINK };
		while (nconn < MAX_CONNS &&
		    ust_accept(source, &so, (struct ust_sockaddr *)&peer,
		        &(ust_socklen_t){ sizeof(peer) }) == 0)
			conns[nconn++] = (struct conn){ .so = so, .kind = SOURCE };
		while (nconn < MAX_CONNS &&
		    ust_accept(echo, &so, (struct ust_sockaddr *)&peer,
		        &(ust_socklen_t){ sizeof(peer) }) == 0) {
			int one = 1;

			(void)ust_setsockopt(so, UST_IPPROTO_TCP, UST_TCP_NODELAY, &one,
			    sizeof(one));
			conns[nconn++] = (struct conn){ .so = so };
		}
		for (;;) {
			ptrdiff_t n = ust_recvfrom(udp, buf, BUF, 0, (struct ust_sockaddr *)&peer,
			    &(ust_socklen_t){ sizeof(peer) });

			if (n < 0)
				break;
			(void)ust_sendto(udp, buf, (size_t)n, 0, (const struct ust_sockaddr *)&peer,
			    sizeof(peer));
		}
		for (i = 0; i < nconn; i++) {
			struct conn *c = &conns[i];
			double dt;

			if (!serve_conn(c, buf))
				continue;
			if (c->kind == SINK) {
				dt = c->last - c->first;
				printf("bytes %llu seconds %.6f mbit_per_s %.1f\n",
				    (unsigned long long)c->bytes, dt,
				    dt > 0 ? (double)c->bytes * 8 / dt / 1e6 : 0.0);
				fflush(stdout);
			}
			ust_close(c->so);
			conns[i--] = conns[--nconn];
		}
	}
	ust_if_get_stats(ifp, &is);
	printf("{\"rx_frames\": %llu, \"tx_frames\": %llu}\n", (unsigned long long)is.ipackets,
	    (unsigned long long)is.opackets);
	rc = 0;
out:
	for (i = 0; i < nconn; i++)
		ust_close(conns[i].so);
	if (sink != NULL)
		ust_close(sink);
	if (echo != NULL)
		ust_close(echo);
	if (udp != NULL)
		ust_close(udp);
	if (source != NULL)
		ust_close(source);
	if (port != NULL)
		ust_afxdp_close(port); /* detaches the interface first */
	ust_stack_destroy(st);
	if (tap != NULL)
		ust_tap_close(tap);
	return (rc);
}

/* --- raw AF_XDP -------------------------------------------------------- */

static int
run_pump(const struct opts *o)
{
	/* Ethernet to 02:00:00:00:00:99 (nobody), IPv4 198.18.0.1 -> .2, UDP 9. */
	uint8_t f[1514];
	struct ust_afxdp_config xc;
	struct ust_afxdp_port *port = NULL;
	size_t len = (size_t)(42 + o->size);
	int64_t n;
	int err;

	memset(f, 0, sizeof(f));
	memcpy(f, "\x02\x00\x00\x00\x00\x99\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	f[14] = 0x45, f[22] = 64, f[23] = 17;
	f[16] = (uint8_t)((len - 14) >> 8), f[17] = (uint8_t)(len - 14);
	memcpy(f + 26, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	f[36] = 0, f[37] = 9, f[38] = (uint8_t)((len - 34) >> 8), f[39] = (uint8_t)(len - 34);
	ust_afxdp_config_init(&xc);
	xc.ifname = o->ifname;
	xc.mode = xdp_mode(o->mode);
	if ((err = ust_afxdp_open(&xc, &port)) != 0) {
		fprintf(stderr, "rings_peer: AF_XDP on %s: %s\n", o->ifname, ust_strerror(-err));
		return (1);
	}
	printf("ready %s\n", o->ifname);
	fflush(stdout);
	n = ust_afxdp_raw_pump(port, 0, o->tx ? f : NULL, len, (uint64_t)(o->seconds * 1e9));
	ust_afxdp_close(port);
	if (n < 0) {
		fprintf(stderr, "rings_peer: raw pump: %s\n", ust_strerror((int)-n));
		return (1);
	}
	printf("{\"frames\": %lld, \"seconds\": %.3f, \"frames_per_s\": %.0f}\n", (long long)n,
	    o->seconds, (double)n / o->seconds);
	return (0);
}

/* --- the kernel's side ------------------------------------------------- */

static int
kernel_socket(int type, const char *ip, int port, int do_connect)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, type, 0), one = 1;

	if (fd < 0)
		return (-1);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return (close(fd), -1);
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (do_connect ? connect(fd, (struct sockaddr *)&sa, sizeof(sa)) :
	                 bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return (close(fd), -1);
	return (fd);
}

static void *
kecho_udp(void *arg)
{
	static char buf[BUF];
	int fd = *(int *)arg;

	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n >= 0)
			(void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	return (NULL);
}

/* The kernel's source: each connection gets bytes until it goes away. */
static void *
kecho_source(void *arg)
{
	static char buf[BUF];
	int lfd = *(int *)arg;

	for (;;) {
		int c = accept(lfd, NULL, NULL);

		if (c < 0)
			continue;
		while (send(c, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
			continue;
		close(c);
	}
	return (NULL);
}

static int
run_kecho(const struct opts *o)
{
	static char buf[BUF];
	char ip[INET_ADDRSTRLEN];
	struct in_addr in = { .s_addr = o->addr };
	pthread_t t, t2;
	int lfd, ufd, sfd;

	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	lfd = kernel_socket(SOCK_STREAM, ip, ECHO_PORT, 0);
	ufd = kernel_socket(SOCK_DGRAM, ip, UDP_PORT, 0);
	sfd = kernel_socket(SOCK_STREAM, ip, SOURCE_PORT, 0);
	if (lfd < 0 || ufd < 0 || sfd < 0 || listen(lfd, 16) != 0 || listen(sfd, 16) != 0) {
		perror("rings_peer kecho");
		return (1);
	}
	pthread_create(&t, NULL, kecho_udp, &ufd);
	pthread_create(&t2, NULL, kecho_source, &sfd);
	printf("ready %s\n", ip);
	fflush(stdout);
	for (;;) {
		int c = accept(lfd, NULL, NULL), one = 1;
		ssize_t n;

		if (c < 0)
			continue;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
			(void)send(c, buf, (size_t)n, 0);
		close(c);
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return ((x > y) - (x < y));
}

/* Round-trip times in 0.1 us, every one up to MAX_SAMPLES. */
struct rtts {
	uint32_t *v;
	size_t n;
};

static void
rtt_add(struct rtts *r, double dt)
{
	if (r->n < MAX_SAMPLES)
		r->v[r->n++] = (uint32_t)(dt * 1e7);
}

static int
report_rr(struct rtts *r, uint64_t ops, double dt, uint64_t lost)
{
	double p50 = 0;

	if (r->n > 0) {
		qsort(r->v, r->n, sizeof(r->v[0]), cmp_u32);
		p50 = r->v[r->n / 2] / 10.0;
	}
	printf("{\"ops\": %llu, \"seconds\": %.3f, \"ops_per_s\": %.0f, \"p50_us\": %.2f, "
	       "\"lost\": %llu}\n",
	    (unsigned long long)ops, dt, dt > 0 ? (double)ops / dt : 0.0, p50,
	    (unsigned long long)lost);
	free(r->v);
	return (ops > 0 ? 0 : 1);
}

/* W datagrams in flight, each carrying its send time; the replies one
 * recvmmsg() brings are answered by one sendmmsg() of as many new ones
 * (the kernel client's syscalls batched, so that the server's side, not
 * the client's, sets the rate); a quiet 50 ms (a loss) sends a fresh one. */
static int
run_udp_rr(const struct opts *o)
{
	static char bufs[MAX_WINDOW][64];
	struct mmsghdr in[MAX_WINDOW], out[MAX_WINDOW];
	struct iovec iin[MAX_WINDOW], iout[MAX_WINDOW];
	struct rtts r = { malloc(MAX_SAMPLES * sizeof(uint32_t)), 0 };
	struct timeval tv = { 0, 50000 };
	uint64_t ops = 0, lost = 0;
	double t0, end, now;
	int fd = kernel_socket(SOCK_DGRAM, o->to, UDP_PORT, 1), i, n;

	if (fd < 0 || r.v == NULL) {
		perror("rings_peer udp-rr");
		return (1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(bufs, 0, sizeof(bufs));
	memset(in, 0, sizeof(in));
	memset(out, 0, sizeof(out));
	for (i = 0; i < MAX_WINDOW; i++) {
		iin[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		iout[i] = (struct iovec){ bufs[i], (size_t)o->size };
		in[i].msg_hdr.msg_iov = &iin[i];
		in[i].msg_hdr.msg_iovlen = 1;
		out[i].msg_hdr.msg_iov = &iout[i];
		out[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now_s();
	end = t0 + o->seconds;
	now = t0;
	for (i = 0; i < o->window; i++)
		memcpy(bufs[i], &now, sizeof(now));
	(void)sendmmsg(fd, out, (unsigned)o->window, 0);
	while ((now = now_s()) < end) {
		n = recvmmsg(fd, in, (unsigned)o->window, MSG_WAITFORONE, NULL);
		now = now_s();
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				continue;
			lost++;
			n = 1;
		} else {
			for (i = 0; i < n; i++) {
				double sent;

				if (in[i].msg_len < sizeof(sent))
					continue;
				memcpy(&sent, bufs[i], sizeof(sent));
				rtt_add(&r, now - sent);
				ops++;
			}
		}
		for (i = 0; i < n; i++)
			memcpy(bufs[i], &now, sizeof(now));
		(void)sendmmsg(fd, out, (unsigned)n, 0);
	}
	close(fd);
	return (report_rr(&r, ops, now - t0, lost));
}

static int
run_tcp_rr(const struct opts *o)
{
	char buf[2048];
	struct rtts r = { malloc(MAX_SAMPLES * sizeof(uint32_t)), 0 };
	uint64_t ops = 0;
	double t0, end, now, sent;
	int fd = kernel_socket(SOCK_STREAM, o->to, ECHO_PORT, 1);

	if (fd < 0 || r.v == NULL) {
		perror("rings_peer tcp-rr");
		return (1);
	}
	memset(buf, 'x', sizeof(buf));
	t0 = now_s();
	end = t0 + o->seconds;
	while ((sent = now_s()) < end) {
		ssize_t got = 0, n;

		if (send(fd, buf, (size_t)o->size, 0) != o->size)
			break;
		while (got < o->size && (n = recv(fd, buf, (size_t)(o->size - got), 0)) > 0)
			got += n;
		if (got < o->size)
			break;
		rtt_add(&r, now_s() - sent);
		ops++;
	}
	now = now_s();
	close(fd);
	return (report_rr(&r, ops, now - t0, 0));
}

/* The kernel receives from the server's source for the time given:
 * throughput from the first byte to the last. */
static int
run_drain(const struct opts *o)
{
	static char buf[BUF];
	uint64_t bytes = 0;
	double first = 0, last = 0, end;
	int fd = kernel_socket(SOCK_STREAM, o->to, SOURCE_PORT, 1);

	if (fd < 0) {
		perror("rings_peer drain");
		return (1);
	}
	end = now_s() + o->seconds;
	while ((last = now_s()) < end) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		if (bytes == 0)
			first = last;
		bytes += (uint64_t)n;
	}
	close(fd);
	printf("{\"bytes\": %llu, \"gbit_per_s\": %.3f}\n", (unsigned long long)bytes,
	    last > first ? (double)bytes * 8 / (last - first) / 1e9 : 0.0);
	return (bytes > 0 ? 0 : 1);
}

static int
run_flood(const struct opts *o)
{
	char buf[2048];
	uint64_t n = 0;
	double t0, end;
	int fd = -1;
	struct sockaddr_in sa;

	memset(buf, 0, sizeof(buf));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(9);
	if (inet_pton(AF_INET, o->to, &sa.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
		perror("rings_peer flood");
		return (1);
	}
	t0 = now_s();
	end = t0 + o->seconds;
	while (now_s() < end) {
		for (int i = 0; i < 64; i++)
			if (sendto(fd, buf, (size_t)o->size, 0, (struct sockaddr *)&sa,
			        sizeof(sa)) > 0)
				n++;
	}
	t0 = now_s() - t0;
	close(fd);
	printf("{\"frames\": %llu, \"frames_per_s\": %.0f}\n", (unsigned long long)n,
	    (double)n / t0);
	return (0);
}

int
main(int argc, char **argv)
{
	struct opts o;
	const char *cmd = argc > 1 ? argv[1] : "";

	if (parse_opts(argc, argv, &o) != 0) {
		fprintf(stderr,
		    "usage: rings_peer ustack|pump|kecho|udp-rr|tcp-rr|drain|flood [options] "
		    "(see the comment at the top of bench/c/rings_peer.c)\n");
		return (2);
	}
	if (strcmp(cmd, "ustack") == 0)
		return (run_ustack(&o));
	if (strcmp(cmd, "pump") == 0 && o.rx != o.tx)
		return (run_pump(&o));
	if (strcmp(cmd, "kecho") == 0)
		return (run_kecho(&o));
	if (strcmp(cmd, "udp-rr") == 0)
		return (run_udp_rr(&o));
	if (strcmp(cmd, "tcp-rr") == 0)
		return (run_tcp_rr(&o));
	if (strcmp(cmd, "flood") == 0)
		return (run_flood(&o));
	if (strcmp(cmd, "drain") == 0)
		return (run_drain(&o));
	fprintf(stderr, "rings_peer: unknown command %s\n", cmd);
	return (2);
}
