/*
 * tcp_cc_campaign.c - CUBIC against NewReno on the same seeded path.
 *
 * For each seed: A sends --bytes to B over a pipe with loss, delay and a
 * rate limit the same both ways (default 0.1% loss, 10 ms each way so a
 * 20 ms RTT, 1 Gbit/s, 4 MB buffers so that the window is not the limit),
 * once with TCP_CONGESTION "cubic" on A's socket and once with "newreno",
 * everything else (seeds, faults, data) identical; prints the goodput
 * (application bytes over virtual time) of both and their ratio.
 *
 * Why CUBIC should win here: the path holds 2.5 MB (about 1700 segments)
 * and 0.1% loss strikes about once per 1000 segments, so the window is cut
 * every round trip or two.  NewReno halves cwnd and then grows one segment
 * per round trip (RFC 5681 3.1); CUBIC cuts to 0.7 (RFC 9438 4.6) and
 * regrows along the cubic curve, at least as fast as Reno would with the
 * same loss rate (the Reno-friendly region, 4.3).  The run fails unless
 * CUBIC's goodput summed over the seeds is higher and CUBIC is ahead on
 * more than half of the seeds; a failing seed is printed with its replay
 * command.
 *
 *   tcp_cc_campaign [--seeds N] [--first S] [--bytes B] [--rate BPS]
 *                   [--delay-ms MS] [--loss-ppm PPM] [--buf BYTES]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_bulk.h"

/* Goodput in bit/s with the given module, or -1 on failure. */
static double
goodput(struct sim_bulk_cfg cfg, const char *cc, uint64_t *rexmit)
{
	struct sim_bulk_result res;

	cfg.cc = cc;
	if (sim_bulk_transfer(&cfg, &res) != 0)
		return (-1.0);
	*rexmit = res.ts.tcps_sndrexmitbyte;
	if (getenv("CAMP_V") != NULL)
		fprintf(stderr,
		    "  %-7s fastrexmt %" PRIu64 " rexmttimeo %" PRIu64 " sack_episodes %" PRIu64
		    " %.3f s\n",
		    cc, res.ts.tcps_fastretransmits, res.ts.tcps_rexmttimeo,
		    res.ts.tcps_sack_recovery_episode, (double)res.duration_ns / 1e9);
	return (sim_bulk_goodput(cfg.bytes, &res));
}

int
main(int argc, char **argv)
{
	struct sim_bulk_opts o = {
		.first = 1,
		.nseeds = 5,
		.cfg = { .bytes = 64u << 20,
		    .rate_bps = 1000000000ull,
		    .delay_ns = 10 * NS_MS,
		    .loss_ppm = 1000,
		    .bufsz = 4 << 20,
		    .sack = 1 },
	};
	uint64_t s, wins = 0, rx_c, rx_n;
	int i, failed = 0;
	double tot_c = 0, tot_n = 0;

	for (i = 1; i < argc; i++) {
		if (sim_bulk_parse_opt(argc, argv, &i, &o) != 1) {
			fprintf(stderr, "usage: %s " SIM_BULK_USAGE "\n", argv[0]);
			return (2);
		}
	}
	printf("tcp_cc_campaign: ");
	sim_bulk_print_path(&o.cfg);
	for (s = o.first; s < o.first + o.nseeds; s++) {
		double c, n;

		o.cfg.seed = s;
		c = goodput(o.cfg, "cubic", &rx_c);
		n = goodput(o.cfg, "newreno", &rx_n);
		if (c < 0 || n < 0) {
			fprintf(stderr,
			    "seed %" PRIu64 " FAILED: a transfer failed (replay: tcp_cc_campaign "
			    "--first %" PRIu64 " --seeds 1 and the same options)\n",
			    s, s);
			failed++;
			continue;
		}
		printf("seed %" PRIu64 ": goodput cubic %.1f Mbit/s newreno %.1f Mbit/s ratio %.3f"
		       " (retransmitted bytes cubic %" PRIu64 " newreno %" PRIu64 ")\n",
		    s, c / 1e6, n / 1e6, n > 0 ? c / n : 0.0, rx_c, rx_n);
		fflush(stdout);
		tot_c += c;
		tot_n += n;
		if (c > n)
			wins++;
		else
			fprintf(stderr,
			    "seed %" PRIu64
			    ": cubic not ahead (replay: tcp_cc_campaign --first %" PRIu64
			    " --seeds 1 and the same options)\n",
			    s, s);
	}
	if (failed == 0 && (tot_c <= tot_n || 2 * wins <= o.nseeds)) {
		fprintf(stderr,
		    "FAILED: cubic ahead on %" PRIu64 " of %" PRIu64
		    " seeds, mean goodput cubic %.1f newreno %.1f Mbit/s\n",
		    wins, o.nseeds, tot_c / 1e6 / (double)o.nseeds, tot_n / 1e6 / (double)o.nseeds);
		failed++;
	}
	printf("tcp_cc_campaign: %" PRIu64 " seeds: mean goodput cubic %.1f newreno %.1f Mbit/s "
	       "(ratio %.3f), cubic ahead on %" PRIu64 ", %d failed\n",
	    o.nseeds, o.nseeds ? tot_c / 1e6 / (double)o.nseeds : 0.0,
	    o.nseeds ? tot_n / 1e6 / (double)o.nseeds : 0.0, tot_n > 0 ? tot_c / tot_n : 0.0, wins,
	    failed);
	return (failed ? 1 : 0);
}
