/*
 * sim_bulk.h - one seeded bulk TCP transfer A -> B over the sim_pair rig,
 * shared by the campaigns that compare two settings on the same path
 * (tcp_sack_campaign: SACK on and off; tcp_cc_campaign: cubic against
 * newreno).  Everything but the setting under test (stack seeds, fault
 * seeds, data) is a function of the seed, so the two runs of a seed see
 * the same path.
 *
 * The path is symmetric: loss, one-way delay and rate the same both ways.
 * The command-line options the campaigns share (--seeds, --first, --bytes,
 * --rate, --delay-ms, --loss-ppm, --buf) are parsed here too.
 */
#ifndef USTACK_TESTS_SIM_SIM_BULK_H
#define USTACK_TESTS_SIM_SIM_BULK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pcap.h>
#include <ustack/ustack_pipe.h>
#include <ustack/ustack_stats.h>

#include "sim_util.h"

#define SIM_BULK_PORT 5002
#define SIM_BULK_CHUNK 16384

struct sim_bulk_cfg {
	uint64_t seed;
	size_t bytes;      /* A sends this many to B */
	uint64_t rate_bps; /* each direction; 0: unlimited */
	uint64_t delay_ns; /* one way, each direction */
	uint32_t loss_ppm; /* each direction */
	int bufsz;         /* SO_SNDBUF of A's socket, SO_RCVBUF of B's */
	int sack;          /* net.inet.tcp.sack.enable on both stacks */
	const char *cc;    /* TCP_CONGESTION on A's socket; NULL: the default */
};

struct sim_bulk_result {
	uint64_t duration_ns;  /* connect() to the last byte read by B */
	struct ust_tcpstat ts; /* A's counters at that point */
};

/* The campaigns' common options and their defaults. */
struct sim_bulk_opts {
	uint64_t first, nseeds;
	struct sim_bulk_cfg cfg;
};

struct sim_bulk_run {
	struct tl_pair net;
	struct ust_socket *lso, *ca, *cb;
	struct ust_pcap *pcap; /* SIM_PCAP set: A's frames */
};

static inline void
sim_bulk_free(struct sim_bulk_run *r)
{
	if (r->ca != NULL)
		ust_close(r->ca);
	if (r->cb != NULL)
		ust_close(r->cb);
	if (r->lso != NULL)
		ust_close(r->lso);
	if (r->pcap != NULL) {
		ust_if_set_capture(r->net.ifa, NULL, NULL);
		ust_pcap_close(r->pcap);
	}
	tl_pair_close(&r->net);
}

/* Application goodput in bit/s: bytes over the virtual duration. */
static inline double
sim_bulk_goodput(size_t bytes, const struct sim_bulk_result *res)
{
	return (res->duration_ns == 0 ? 0.0 : (double)bytes * 8e9 / (double)res->duration_ns);
}

/* One transfer; 0 with *res filled, -1 when the rig could not be built,
 * the cc module is unknown or the transfer stalled for 600 s. */
static inline int
sim_bulk_transfer(const struct sim_bulk_cfg *cfg, struct sim_bulk_result *res)
{
	static const uint8_t buf[SIM_BULK_CHUNK]; /* contents do not matter */
	struct sim_bulk_run r;
	struct ust_fault_config fc[2];
	struct ust_sockaddr_in la = tl_sin(tl_ip4addr(198, 18, 0, 2), SIM_BULK_PORT);
	uint8_t rbuf[SIM_BULK_CHUNK];
	size_t sent = 0, got = 0;
	uint64_t next, t0 = 1000 * NS_MS;
	int d, one = 1, bufsz = cfg->bufsz;
	ptrdiff_t n;

	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	for (d = 0; d < 2; d++) {
		memset(&fc[d], 0, sizeof(fc[d]));
		fc[d].loss_ppm = cfg->loss_ppm;
		fc[d].delay_ns = cfg->delay_ns;
		fc[d].rate_bps = cfg->rate_bps;
		fc[d].seed = cfg->seed * 7919 + (uint64_t)d;
	}
	if (sim_pair_open(&r.net, t0, cfg->seed, fc) != 0)
		goto fail;
	/* SIM_PCAP=prefix: A's side of each run to prefix-sackN.pcap. */
	if (getenv("SIM_PCAP") != NULL) {
		char path[512];

		snprintf(path, sizeof(path), "%s-sack%d.pcap", getenv("SIM_PCAP"), cfg->sack);
		if (ust_pcap_open(path, 128, &r.pcap) == 0)
			ust_if_set_capture(r.net.ifa, ust_pcap_capture, r.pcap);
	}
	for (d = 0; d < 2; d++) {
		struct ust_stack *st = d ? r.net.b : r.net.a;

		ust_sysctl_set(st, "net.inet.tcp.sack.enable", cfg->sack);
		/* kern.ipc.maxsockbuf (2 MB by default) caps SO_SNDBUF and
		 * SO_RCVBUF; buffers of a few MB need it raised. */
		if ((int64_t)bufsz * 2 > 2097152)
			ust_sysctl_set(st, "kern.ipc.maxsockbuf", (int64_t)bufsz * 2);
	}
	if (ust_socket(r.net.b, UST_AF_INET, UST_SOCK_STREAM, 0, &r.lso) != 0 ||
	    ust_setsockopt(r.lso, UST_SOL_SOCKET, UST_SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    ust_bind(r.lso, (const struct ust_sockaddr *)&la, sizeof(la)) != 0 ||
	    ust_listen(r.lso, 8) != 0 ||
	    ust_socket(r.net.a, UST_AF_INET, UST_SOCK_STREAM, 0, &r.ca) != 0)
		goto fail;
	if (cfg->cc != NULL &&
	    ust_setsockopt(r.ca, UST_IPPROTO_TCP, UST_TCP_CONGESTION, cfg->cc, strlen(cfg->cc)) !=
	        0) {
		fprintf(stderr, "sim_bulk: TCP_CONGESTION %s refused\n", cfg->cc);
		goto fail;
	}
	/* Set before connect() so that the window scale covers them. */
	if (ust_setsockopt(r.lso, UST_SOL_SOCKET, UST_SO_RCVBUF, &bufsz, sizeof(bufsz)) != 0 ||
	    ust_setsockopt(r.ca, UST_SOL_SOCKET, UST_SO_SNDBUF, &bufsz, sizeof(bufsz)) != 0) {
		fprintf(stderr, "sim_bulk: buffers of %d bytes refused\n", bufsz);
		goto fail;
	}
	(void)ust_connect(r.ca, (const struct ust_sockaddr *)&la, sizeof(la));
	while (got < cfg->bytes) {
		int moved = 0;

		(void)tl_pair_poll(&r.net);
		if (r.cb == NULL && ust_accept(r.lso, &r.cb, NULL, NULL) != 0)
			r.cb = NULL;
		while (sent < cfg->bytes) {
			size_t want =
			    cfg->bytes - sent < sizeof(buf) ? cfg->bytes - sent : sizeof(buf);

			n = ust_send(r.ca, buf, want, 0);
			if (n <= 0)
				break;
			sent += (size_t)n;
			moved = 1;
		}
		while (r.cb != NULL && (n = ust_recv(r.cb, rbuf, sizeof(rbuf), 0)) > 0) {
			got += (size_t)n;
			moved = 1;
		}
		if (moved)
			continue;
		next = tl_pair_next_deadline(&r.net);
		if (next == UINT64_MAX || next > ust_vclock_now(r.net.vc) + 600 * NS_S) {
			fprintf(stderr, "sim_bulk: seed %" PRIu64 " stalled after %zu bytes\n",
			    cfg->seed, got);
			goto fail;
		}
		if (next > ust_vclock_now(r.net.vc))
			ust_vclock_set(r.net.vc, next);
	}
	res->duration_ns = ust_vclock_now(r.net.vc) - t0;
	ust_stats_tcp(r.net.a, &res->ts);
	sim_bulk_free(&r);
	return (0);
fail:
	sim_bulk_free(&r);
	return (-1);
}

/*
 * Consumes argv[*i] (and its value) when it is a common option; 1 then,
 * 0 when it is not one, -1 when its value is missing or out of range.
 */
static inline int
sim_bulk_parse_opt(int argc, char **argv, int *i, struct sim_bulk_opts *o)
{
	const char *opt = argv[*i];
	char *end;
	unsigned long long v;

	if (strcmp(opt, "--seeds") != 0 && strcmp(opt, "--first") != 0 &&
	    strcmp(opt, "--bytes") != 0 && strcmp(opt, "--rate") != 0 &&
	    strcmp(opt, "--delay-ms") != 0 && strcmp(opt, "--loss-ppm") != 0 &&
	    strcmp(opt, "--buf") != 0)
		return (0);
	if (*i + 1 >= argc)
		return (-1);
	v = strtoull(argv[++*i], &end, 10);
	if (*end != '\0')
		return (-1);
	if (strcmp(opt, "--seeds") == 0)
		o->nseeds = v;
	else if (strcmp(opt, "--first") == 0)
		o->first = v;
	else if (strcmp(opt, "--bytes") == 0)
		o->cfg.bytes = (size_t)v;
	else if (strcmp(opt, "--rate") == 0)
		o->cfg.rate_bps = v;
	else if (strcmp(opt, "--delay-ms") == 0)
		o->cfg.delay_ns = v * NS_MS;
	else if (strcmp(opt, "--loss-ppm") == 0 && v <= 1000000)
		o->cfg.loss_ppm = (uint32_t)v;
	else if (strcmp(opt, "--buf") == 0 && v > 0 && v <= (1u << 30))
		o->cfg.bufsz = (int)v;
	else
		return (-1);
	return (1);
}

#define SIM_BULK_USAGE                                                                       \
	"[--seeds N] [--first S] [--bytes B] [--rate BPS] [--delay-ms MS] [--loss-ppm PPM] " \
	"[--buf BYTES]"

/* The path as one line: "1% loss, 20 ms RTT, 1 Gbit/s". */
static inline void
sim_bulk_print_path(const struct sim_bulk_cfg *c)
{
	printf("%g%% loss each way, %" PRIu64 " ms RTT, %g Mbit/s, %zu bytes, buffers %d\n",
	    c->loss_ppm / 1e4, (uint64_t)(2 * c->delay_ns / NS_MS), (double)c->rate_bps / 1e6,
	    c->bytes, c->bufsz);
}

#endif /* USTACK_TESTS_SIM_SIM_BULK_H */
