/*
 * tcp_sack_campaign.c - SACK against no SACK on the same seeded path.
 *
 * For each seed: A sends --bytes to B over a pipe with 1% loss each way and
 * 20 ms of delay each way (10 Mbit/s), once with net.inet.tcp.sack.enable=1
 * on both stacks and once with 0, everything else (seeds, faults, data)
 * identical; prints A's retransmitted bytes (tcps_sndrexmitbyte) for both.
 * It fails a seed where SACK retransmits more than NewReno, and the run
 * unless SACK retransmits fewer bytes in total.  Per seed the two often
 * tie: with one loss per window NewReno (RFC 6582) also resends exactly the
 * lost segment; SACK wins where a window loses several segments (NewReno
 * then repairs one hole per round trip or falls back to a timeout).
 * CAMP_V=1 in the environment prints the recovery counters.
 *
 *   tcp_sack_campaign [--seeds N] [--first S] [--bytes B]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "sim_util.h"

#define CAMP_PORT 5002
#define CAMP_CHUNK 16384

struct camp {
	struct sim_pair net;
	struct ust_socket *lso, *ca, *cb;
};

static void
camp_free(struct camp *c)
{
	if (c->ca != NULL)
		ust_close(c->ca);
	if (c->cb != NULL)
		ust_close(c->cb);
	if (c->lso != NULL)
		ust_close(c->lso);
	sim_pair_close(&c->net);
}

/* One transfer.  Returns A's retransmitted bytes, or -1 on failure. */
static int64_t
transfer(uint64_t seed, int sack, size_t bytes)
{
	struct camp c;
	struct ust_fault_config fc[2];
	struct ust_sockaddr_in la = sin4(ip4(198, 18, 0, 2), CAMP_PORT);
	struct ust_tcpstat ts;
	static uint8_t buf[CAMP_CHUNK];
	uint8_t rbuf[CAMP_CHUNK];
	size_t sent = 0, got = 0;
	uint64_t next, t0;
	int d, one = 1, bufsz = 1 << 20;
	ptrdiff_t n;

	memset(&c, 0, sizeof(c));
	memset(buf, 0x5a, sizeof(buf));
	t0 = 1000 * NS_MS;
	for (d = 0; d < 2; d++) {
		struct ust_fault_config *f = &fc[d];

		memset(f, 0, sizeof(*f));
		f->loss_ppm = 10000; /* 1% */
		f->delay_ns = 20 * NS_MS;
		f->rate_bps = 10000000ull;
		f->seed = seed * 7919 + (uint64_t)d;
	}
	if (sim_pair_open(&c.net, t0, seed, fc) != 0) {
		camp_free(&c);
		return (-1);
	}
	ust_sysctl_set(c.net.a, "net.inet.tcp.sack.enable", sack);
	ust_sysctl_set(c.net.b, "net.inet.tcp.sack.enable", sack);
	if (ust_socket(c.net.b, UST_AF_INET, UST_SOCK_STREAM, 0, &c.lso) != 0 ||
	    ust_setsockopt(c.lso, UST_SOL_SOCKET, UST_SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    ust_bind(c.lso, &la) != 0 || ust_listen(c.lso, 8) != 0 ||
	    ust_socket(c.net.a, UST_AF_INET, UST_SOCK_STREAM, 0, &c.ca) != 0) {
		camp_free(&c);
		return (-1);
	}
	/* Windows wide enough for several losses per round trip. */
	(void)ust_setsockopt(c.lso, UST_SOL_SOCKET, UST_SO_RCVBUF, &bufsz, sizeof(bufsz));
	(void)ust_setsockopt(c.ca, UST_SOL_SOCKET, UST_SO_SNDBUF, &bufsz, sizeof(bufsz));
	(void)ust_connect(c.ca, &la);
	while (got < bytes) {
		int w;

		(void)sim_poll_both(&c.net);
		if (c.cb == NULL && ust_accept(c.lso, &c.cb, NULL) != 0)
			c.cb = NULL;
		w = 0;
		while (sent < bytes) {
			size_t want = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);

			n = ust_send(c.ca, buf, want, 0);
			if (n <= 0)
				break;
			sent += (size_t)n;
			w = 1;
		}
		while (c.cb != NULL && (n = ust_recv(c.cb, rbuf, sizeof(rbuf), 0)) > 0) {
			got += (size_t)n;
			w = 1;
		}
		if (w)
			continue;
		next = sim_next_deadline(&c.net);
		if (next == UINT64_MAX || next > t0 + 600 * NS_S) {
			camp_free(&c);
			return (-1);
		}
		if (next > ust_vclock_now(c.net.vc))
			ust_vclock_set(c.net.vc, next);
	}
	ust_stats_tcp(c.net.a, &ts);
	if (getenv("CAMP_V") != NULL)
		fprintf(stderr,
		    "  sack=%d rexmitpack %" PRIu64 " episodes %" PRIu64 " sack_rexmits %" PRIu64
		    " fastrexmt %" PRIu64 " rexmttimeo %" PRIu64 " sboverflow %" PRIu64 "\n",
		    sack, ts.tcps_sndrexmitpack, ts.tcps_sack_recovery_episode,
		    ts.tcps_sack_rexmits, ts.tcps_fastretransmits, ts.tcps_rexmttimeo,
		    ts.tcps_sack_sboverflow);
	camp_free(&c);
	return ((int64_t)ts.tcps_sndrexmitbyte);
}

int
main(int argc, char **argv)
{
	uint64_t first = 1, nseeds = 5, s;
	size_t bytes = 2u << 20;
	int i, failed = 0;
	int64_t tot_on = 0, tot_off = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
			nseeds = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--first") == 0 && i + 1 < argc)
			first = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
			bytes = (size_t)strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: %s [--seeds N] [--first S] [--bytes B]\n", argv[0]);
			return (2);
		}
	}
	for (s = first; s < first + nseeds; s++) {
		int64_t on = transfer(s, 1, bytes), off = transfer(s, 0, bytes);

		printf("seed %" PRIu64 ": retransmitted bytes sack %" PRId64 " nosack %" PRId64
		       "\n",
		    s, on, off);
		if (on >= 0 && off >= 0) {
			tot_on += on;
			tot_off += off;
		}
		if (on < 0 || off < 0 || on > off) {
			fprintf(stderr,
			    "seed %" PRIu64 " FAILED: SACK retransmitted more than NewReno "
			    "(replay: tcp_sack_campaign --first %" PRIu64 " --seeds 1)\n",
			    s, s);
			failed++;
		}
	}
	if (failed == 0 && tot_on >= tot_off) {
		fprintf(stderr, "FAILED: SACK did not retransmit fewer bytes in total\n");
		failed++;
	}
	printf("tcp_sack_campaign: %" PRIu64 " seeds, 1%% loss 20 ms: sack %" PRId64
	       " bytes retransmitted, nosack %" PRId64 ", %d failed\n",
	    nseeds, tot_on, tot_off, failed);
	return (failed ? 1 : 0);
}
