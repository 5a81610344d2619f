/*
 * goodput_loss.c - one seeded bulk TCP transfer A -> B on the virtual
 * pipe (default 1 Gbit/s each way, 10 ms each way so a 20 ms RTT, 4 MB
 * buffers so that the window is not the limit) with the given congestion
 * control module, SACK on or off and random loss each way; prints the
 * goodput (application bytes over virtual time) and A's retransmission
 * counters as one line of key=value pairs for bench/b_loss.py.
 *
 * The transfer itself is tests/sim/sim_bulk.h, the one the SACK and
 * CUBIC campaigns use, so the benchmark and the campaigns see the same
 * path for the same seed.  Virtual time: the figure is what the protocol
 * achieves on that path, independent of the machine's speed.
 *
 *   goodput_loss [--cc newreno|cubic] [--sack 0|1] [--first SEED]
 *                [--bytes B] [--rate BPS] [--delay-ms MS] [--loss-ppm PPM]
 *                [--buf BYTES]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_bulk.h"

static int
usage(void)
{
	fprintf(stderr, "usage: goodput_loss [--cc NAME] [--sack 0|1] " SIM_BULK_USAGE "\n");
	return (2);
}

int
main(int argc, char **argv)
{
	struct sim_bulk_opts o = {
		.first = 1,
		.nseeds = 1,
		.cfg = { .bytes = 16u << 20,
		    .rate_bps = 1000000000ull,
		    .delay_ns = 10 * NS_MS,
		    .loss_ppm = 0,
		    .bufsz = 4 << 20,
		    .sack = 1,
		    .cc = "cubic" },
	};
	struct sim_bulk_result res;
	int i, r;

	for (i = 1; i < argc; i++) {
		r = sim_bulk_parse_opt(argc, argv, &i, &o);
		if (r < 0)
			return (usage());
		if (r > 0)
			continue;
		if (strcmp(argv[i], "--cc") == 0 && i + 1 < argc)
			o.cfg.cc = argv[++i];
		else if (strcmp(argv[i], "--sack") == 0 && i + 1 < argc)
			o.cfg.sack = atoi(argv[++i]) != 0;
		else
			return (usage());
	}
	o.cfg.seed = o.first;
	if (sim_bulk_transfer(&o.cfg, &res) != 0) {
		fprintf(stderr, "goodput_loss: the transfer failed (seed %" PRIu64 ")\n",
		    o.cfg.seed);
		return (1);
	}
	printf("goodput_bps=%.0f duration_ns=%" PRIu64 " rexmit_bytes=%" PRIu64
	       " rexmit_timeouts=%" PRIu64 " fast_rexmits=%" PRIu64 "\n",
	    sim_bulk_goodput(o.cfg.bytes, &res), res.duration_ns, res.ts.tcps_sndrexmitbyte,
	    res.ts.tcps_rexmttimeo, res.ts.tcps_fastretransmits);
	return (0);
}
