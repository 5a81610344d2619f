/*
 * tcp_transfer_sim.c - the seeded TCP fault-simulation campaign.
 *
 * For each seed: two stacks on one virtual clock, A (198.18.0.1/24) and
 * B (198.18.0.2/24), joined by the pipe driver whose two directions get
 * faults drawn from the seed (loss up to 10%, duplication, reordering,
 * bit flips that the IP and TCP checksums must catch, delay, jitter and a
 * rate limit).  A connects to B's listener; both send --bytes of data
 * generated from the seed at the same time, shut down their sending side
 * when done, and close once the peer's FIN arrived.  The clock jumps from
 * deadline to deadline until every PCB is gone (TIME_WAIT included), with
 * a bound on virtual time.  What each side received must hash (SHA-256)
 * to what the other sent; every zone must be empty before the stacks are
 * destroyed.
 *
 *   tcp_transfer_sim [--seeds N] [--first S] [--bytes B] [--stack NAME] [-v]
 *   tcp_transfer_sim --seed S [-v]          replay one seed
 *
 * --stack NAME: both stacks' net.inet.tcp.functions_default (the TCP
 * stack, e.g. rack: docs/tcp.md).
 *
 * USTACK_SIM_SEEDS sets N when --seeds is not given (default 500).  A
 * failing seed prints its faults and the command that replays it.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "sha256.h"
#include "sim_util.h"

#define SIM_T0 (1000 * NS_MS)
#define SIM_PORT 5001
#define SIM_CHUNK 16384

static uint64_t
uniform(uint64_t *x, uint64_t lo, uint64_t hi)
{
	return (lo + tl_mix64(x) % (hi - lo + 1));
}

/* One side of the transfer: the data it sends and hashes, what it got. */
struct side {
	const char *name;
	struct ust_socket *so;
	uint64_t gen; /* data generator state */
	size_t total; /* bytes to send */
	size_t sent;  /* accepted by ust_send */
	uint8_t buf[SIM_CHUNK];
	size_t buf_off, buf_len;
	struct sha256 tx_hash;
	struct sha256 rx_hash;
	size_t received;
	int shut;   /* shutdown(SHUT_WR) done */
	int eof;    /* recv returned 0 */
	int closed; /* ust_close done */
	int error;  /* a fatal socket error (negative) */
};

struct sim {
	uint64_t seed;
	size_t bytes;
	int verbose;
	struct tl_pair net;
	struct ust_fault_config fc[2];
	struct side sa, sb;
	struct ust_socket *lso; /* B's listener */
	char why[256];
};

static void
faults_from_seed(uint64_t seed, struct ust_fault_config fc[2])
{
	uint64_t x = seed * 0x2545f4914f6cdd1dull + 17;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		struct ust_fault_config *f = &fc[dir];

		memset(f, 0, sizeof(*f));
		/* A quarter of the seeds get a perfect direction: the
		 * fast paths deserve checking too. */
		if (uniform(&x, 0, 3) == 0) {
			f->seed = tl_mix64(&x);
			continue;
		}
		f->loss_ppm = (uint32_t)uniform(&x, 0, 100000); /* up to 10% */
		f->dup_ppm = (uint32_t)uniform(&x, 0, 30000);
		f->reorder_ppm = (uint32_t)uniform(&x, 0, 50000);
		f->reorder_ns = uniform(&x, 0, 5) * NS_MS;
		f->corrupt_ppm = (uint32_t)uniform(&x, 0, 20000);
		f->delay_ns = uniform(&x, 0, 20000) * 1000; /* up to 20 ms */
		f->jitter_ns = uniform(&x, 0, 1) ? uniform(&x, 0, 2000) * 1000 : 0;
		switch (uniform(&x, 0, 3)) {
		case 0:
			f->rate_bps = 0;
			break;
		case 1:
			f->rate_bps = 10000000ull; /* 10 Mbit/s */
			break;
		case 2:
			f->rate_bps = 100000000ull;
			break;
		default:
			f->rate_bps = 1000000000ull;
			break;
		}
		f->seed = tl_mix64(&x);
	}
}

static void
print_faults(const struct ust_fault_config fc[2])
{
	static const char *dn[2] = { "a->b", "b->a" };
	int d;

	for (d = 0; d < 2; d++)
		fprintf(stderr,
		    "  %s: loss %.2f%% dup %.2f%% reorder %.2f%% (%" PRIu64
		    " ms) corrupt %.2f%% delay %.3f ms jitter %.3f ms rate %" PRIu64 " bit/s\n",
		    dn[d], fc[d].loss_ppm / 1e4, fc[d].dup_ppm / 1e4, fc[d].reorder_ppm / 1e4,
		    (uint64_t)(fc[d].reorder_ns / NS_MS), fc[d].corrupt_ppm / 1e4,
		    fc[d].delay_ns / 1e6, fc[d].jitter_ns / 1e6, fc[d].rate_bps);
}

static int
fail(struct sim *s, const char *fmt, const char *what, long long v)
{
	snprintf(s->why, sizeof(s->why), fmt, what, v);
	return (-1);
}

/* --stack: the TCP stack (function block) of both sides; NULL: default. */
static const char *sim_tcp_stack;

static int
setup(struct sim *s)
{
	struct ust_sockaddr_in la = tl_sin(tl_ip4addr(198, 18, 0, 2), SIM_PORT);
	struct ust_sockaddr_in ca = tl_sin(tl_ip4addr(198, 18, 0, 2), SIM_PORT);
	int one = 1, err;

	faults_from_seed(s->seed, s->fc);
	err = sim_pair_open(&s->net, SIM_T0, s->seed, s->fc);
	if (err == -1)
		return (fail(s, "%s: cannot create the stacks (%lld)", "setup", 0));
	if (err != 0)
		return (fail(s, "%s: cannot build the pipe (%lld)", "setup", 0));
	if (sim_tcp_stack != NULL &&
	    ((err = ust_sysctl_set_str(s->net.a, "net.inet.tcp.functions_default",
	          sim_tcp_stack)) != 0 ||
	        (err = ust_sysctl_set_str(s->net.b, "net.inet.tcp.functions_default",
	             sim_tcp_stack)) != 0))
		return (fail(s, "%s: functions_default = %lld", "setup", err));

	if ((err = ust_socket(s->net.b, UST_AF_INET, UST_SOCK_STREAM, 0, &s->lso)) != 0)
		return (fail(s, "%s: socket() = %lld", "B", err));
	ust_setsockopt(s->lso, UST_SOL_SOCKET, UST_SO_REUSEADDR, &one, sizeof(one));
	if ((err = ust_bind(s->lso, (const struct ust_sockaddr *)&la, sizeof(la))) != 0)
		return (fail(s, "%s: bind() = %lld", "B", err));
	if ((err = ust_listen(s->lso, 8)) != 0)
		return (fail(s, "%s: listen() = %lld", "B", err));
	if ((err = ust_socket(s->net.a, UST_AF_INET, UST_SOCK_STREAM, 0, &s->sa.so)) != 0)
		return (fail(s, "%s: socket() = %lld", "A", err));
	err = ust_connect(s->sa.so, (const struct ust_sockaddr *)&ca, sizeof(ca));
	if (err != 0 && err != -UST_EINPROGRESS)
		return (fail(s, "%s: connect() = %lld", "A", err));
	return (0);
}

static void
side_init(struct side *sd, const char *name, uint64_t gen, size_t total)
{
	memset(sd, 0, sizeof(*sd));
	sd->name = name;
	sd->gen = gen;
	sd->total = total;
	sha256_init(&sd->tx_hash);
	sha256_init(&sd->rx_hash);
}

/* Sends, receives, shuts down and closes as far as the socket allows.
 * Returns 1 when it made progress, 0 when not, -1 on a fatal error. */
static int
side_work(struct sim *s, struct side *sd)
{
	uint8_t rbuf[SIM_CHUNK];
	ptrdiff_t n;
	int progress = 0;

	if (sd->so == NULL || sd->closed)
		return (0);
	while (sd->sent < sd->total) {
		if (sd->buf_off == sd->buf_len) {
			size_t want = sd->total - sd->sent, i;

			if (want > SIM_CHUNK)
				want = SIM_CHUNK;
			for (i = 0; i < want; i += 8) {
				uint64_t r = tl_mix64(&sd->gen);
				size_t k = want - i < 8 ? want - i : 8;

				memcpy(sd->buf + i, &r, k);
			}
			sd->buf_off = 0;
			sd->buf_len = want;
			sha256_update(&sd->tx_hash, sd->buf, want);
		}
		n = ust_send(sd->so, sd->buf + sd->buf_off, sd->buf_len - sd->buf_off, 0);
		if (n == -UST_EAGAIN || n == 0)
			break;
		if (n < 0) {
			sd->error = (int)n;
			snprintf(s->why, sizeof(s->why), "%s: send() = %s after %zu bytes",
			    sd->name, ust_errname((int)n), sd->sent);
			return (-1);
		}
		sd->buf_off += (size_t)n;
		sd->sent += (size_t)n;
		progress = 1;
	}
	if (sd->sent == sd->total && !sd->shut) {
		int err = ust_shutdown(sd->so, UST_SHUT_WR);

		if (err != 0) {
			snprintf(s->why, sizeof(s->why), "%s: shutdown() = %s", sd->name,
			    ust_errname(err));
			return (-1);
		}
		sd->shut = 1;
		progress = 1;
	}
	while (!sd->eof) {
		n = ust_recv(sd->so, rbuf, sizeof(rbuf), 0);
		if (n == -UST_EAGAIN)
			break;
		if (n < 0) {
			sd->error = (int)n;
			snprintf(s->why, sizeof(s->why), "%s: recv() = %s after %zu bytes",
			    sd->name, ust_errname((int)n), sd->received);
			return (-1);
		}
		progress = 1;
		if (n == 0) {
			sd->eof = 1;
			break;
		}
		sha256_update(&sd->rx_hash, rbuf, (size_t)n);
		sd->received += (size_t)n;
	}
	if (sd->eof && sd->shut) {
		ust_close(sd->so);
		sd->so = NULL;
		sd->closed = 1;
		progress = 1;
	}
	return (progress);
}

/* Items in use in every zone of a stack (the ARP cache aside, which
 * outlives connections by design). */
static uint32_t
zones_in_use(struct ust_stack *st, char *name, size_t namelen)
{
	struct ust_zone_stats zs;
	uint32_t n = 0;
	unsigned i;

	for (i = 0; ust_stack_get_zone_stats(st, i, &zs) == 0; i++) {
		if (strcmp(zs.name, "arp_entry") == 0 || zs.in_use == 0)
			continue;
		n += zs.in_use;
		if (name != NULL)
			snprintf(name, namelen, "%s", zs.name);
	}
	return (n);
}

static int
app_work(struct sim *s)
{
	int pa, pb;

	if (s->sb.so == NULL && !s->sb.closed) {
		struct ust_socket *so = NULL;
		int err = ust_accept(s->lso, &so, NULL, NULL);

		if (err == 0) {
			s->sb.so = so;
			ust_close(s->lso);
			s->lso = NULL;
		} else if (err != -UST_EAGAIN) {
			snprintf(s->why, sizeof(s->why), "B: accept() = %s", ust_errname(err));
			return (-1);
		}
	}
	pa = side_work(s, &s->sa);
	pb = side_work(s, &s->sb);
	if (pa < 0 || pb < 0)
		return (-1);
	return (pa + pb);
}

/* The whole transfer; 0 when everything checks out. */
static int
run(struct sim *s, uint64_t vbound)
{
	uint64_t now, next;
	uint8_t d1[32], d2[32];
	char zn[64];
	int w;

	for (;;) {
		tl_pair_poll(&s->net);
		w = app_work(s);
		if (w < 0)
			return (-1);
		if (w > 0)
			continue;
		now = ust_vclock_now(s->net.vc);
		if (s->sa.closed && s->sb.closed &&
		    zones_in_use(s->net.a, NULL, 0) + zones_in_use(s->net.b, NULL, 0) == 0)
			break;
		next = tl_pair_next_deadline(&s->net);
		if (next == UINT64_MAX) {
			zn[0] = '\0';
			zones_in_use(s->net.a, zn, sizeof(zn));
			zones_in_use(s->net.b, zn, sizeof(zn));
			snprintf(s->why, sizeof(s->why),
			    "stalled at %.3f s: nothing pending, A sent %zu got %zu%s, B sent %zu "
			    "got %zu%s, zone %s in use",
			    (now - SIM_T0) / 1e9, s->sa.sent, s->sa.received,
			    s->sa.closed ? " closed" : "", s->sb.sent, s->sb.received,
			    s->sb.closed ? " closed" : "", zn[0] ? zn : "-");
			return (-1);
		}
		if (next - SIM_T0 > vbound && next > now) {
			snprintf(s->why, sizeof(s->why),
			    "virtual time bound %.0f s passed: A sent %zu got %zu%s, B sent %zu "
			    "got "
			    "%zu%s",
			    vbound / 1e9, s->sa.sent, s->sa.received, s->sa.closed ? " closed" : "",
			    s->sb.sent, s->sb.received, s->sb.closed ? " closed" : "");
			return (-1);
		}
		if (next <= now)
			next = now + 1;
		ust_vclock_set(s->net.vc, next);
	}
	if (s->sa.received != s->bytes || s->sb.received != s->bytes) {
		snprintf(s->why, sizeof(s->why), "A got %zu bytes, B got %zu, each sent %zu",
		    s->sa.received, s->sb.received, s->bytes);
		return (-1);
	}
	sha256_final(&s->sa.tx_hash, d1);
	sha256_final(&s->sb.rx_hash, d2);
	if (memcmp(d1, d2, 32) != 0) {
		snprintf(s->why, sizeof(s->why), "SHA-256 of what B received != what A sent");
		return (-1);
	}
	sha256_final(&s->sb.tx_hash, d1);
	sha256_final(&s->sa.rx_hash, d2);
	if (memcmp(d1, d2, 32) != 0) {
		snprintf(s->why, sizeof(s->why), "SHA-256 of what A received != what B sent");
		return (-1);
	}
	return (0);
}

static void
teardown(struct sim *s)
{
	if (s->sa.so != NULL)
		ust_close(s->sa.so);
	if (s->sb.so != NULL)
		ust_close(s->sb.so);
	if (s->lso != NULL)
		ust_close(s->lso);
	tl_pair_close(&s->net);
}

/* One seed: 0 when it passes. */
static int
run_seed(uint64_t seed, size_t bytes, int verbose, const char *argv0)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct ust_tcpstat ta, tb;
	uint64_t vbound = 600 * NS_S;
	int rc;
	char zn[64];

	if (s == NULL)
		return (-1);
	s->seed = seed;
	s->bytes = bytes;
	s->verbose = verbose;
	side_init(&s->sa, "A", seed * 0x9e3779b97f4a7c15ull + 1, bytes);
	side_init(&s->sb, "B", seed * 0x9e3779b97f4a7c15ull + 2, bytes);
	rc = setup(s);
	if (rc == 0)
		rc = run(s, vbound);
	if (rc == 0) {
		zn[0] = '\0';
		if (zones_in_use(s->net.a, zn, sizeof(zn)) +
		        zones_in_use(s->net.b, zn, sizeof(zn)) !=
		    0) {
			snprintf(s->why, sizeof(s->why), "zone %s still in use before destroy", zn);
			rc = -1;
		}
	}
	if (s->net.a != NULL && s->net.b != NULL && (rc != 0 || verbose)) {
		ust_stats_tcp(s->net.a, &ta);
		ust_stats_tcp(s->net.b, &tb);
		fprintf(rc != 0 ? stderr : stdout,
		    "seed %" PRIu64 ": %s in %.3f virtual s; A: %" PRIu64 " segs out, %" PRIu64
		    " rexmit; B: %" PRIu64 " segs out, %" PRIu64 " rexmit\n",
		    seed, rc == 0 ? "ok" : "FAILED", (ust_vclock_now(s->net.vc) - SIM_T0) / 1e9,
		    ta.tcps_sndtotal, ta.tcps_sndrexmitpack, tb.tcps_sndtotal,
		    tb.tcps_sndrexmitpack);
	}
	if (rc != 0) {
		fprintf(stderr, "seed %" PRIu64 " FAILED: %s\n", seed, s->why);
		print_faults(s->fc);
		if (bytes != 1048576)
			fprintf(stderr, "  replay: %s --seed %" PRIu64 " --bytes %zu\n", argv0,
			    seed, bytes);
		else
			fprintf(stderr, "  replay: %s --seed %" PRIu64 "\n", argv0, seed);
	}
	teardown(s);
	free(s);
	return (rc);
}

static void
usage(const char *argv0, FILE *f)
{
	fprintf(f,
	    "usage: %s [--seeds N] [--first S] [--bytes B] [--stack NAME] [-v]\n"
	    "       %s --seed S [--bytes B] [-v]\n"
	    "A 1 MB TCP transfer each way between two stacks over a faulty pipe on a\n"
	    "virtual clock, for seeds S..S+N-1 (default 1..500; USTACK_SIM_SEEDS sets N),\n"
	    "checked with SHA-256; --seed replays one seed.  Exit 1 if any seed fails.\n",
	    argv0, argv0);
}

int
main(int argc, char **argv)
{
	uint64_t first = 1, nseeds = 500, seed, failed = 0;
	size_t bytes = 1048576;
	int verbose = 0, one = 0, i;
	const char *env = getenv("USTACK_SIM_SEEDS");
	struct timespec t0, t1;
	double wall;

	if (env != NULL && *env != '\0')
		nseeds = strtoull(env, NULL, 10);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
			nseeds = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc)
			first = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			first = strtoull(argv[++i], NULL, 10);
			one = 1;
		} else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
			bytes = (size_t)strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--stack") == 0 && i + 1 < argc)
			sim_tcp_stack = argv[++i];
		else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(argv[0], stdout);
			return (0);
		} else {
			usage(argv[0], stderr);
			return (2);
		}
	}
	if (one)
		nseeds = 1;
	if (sha256_selftest() != 0) {
		fprintf(stderr, "tcp_transfer_sim: the SHA-256 self-test failed\n");
		return (1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (seed = first; seed < first + nseeds; seed++) {
		if (run_seed(seed, bytes, verbose || one, argv[0]) != 0)
			failed++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	wall = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("tcp_transfer_sim: %" PRIu64 " seeds (%" PRIu64 "..%" PRIu64
	       "), %zu bytes each way: "
	       "%" PRIu64 " passed, %" PRIu64 " failed in %.2f s (%.1f seeds/s)\n",
	    nseeds, first, first + nseeds - 1, bytes, nseeds - failed, failed, wall,
	    wall > 0 ? nseeds / wall : 0.0);
	return (failed != 0 ? 1 : 0);
}
