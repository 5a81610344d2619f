/*
 * conformance_dpdk.c - the DPDK driver in the generic driver conformance
 * suite (tests/drivers/conformance.h): two net_ring ports joined back to
 * back (ust_dpdk_ring_pair), queue 0 of each.  The EAL starts once per
 * process (ctest runs every case as its own process; later links of a
 * case find it up) without hugepages, PCI or shared config, so cases may
 * run in parallel; its runtime directory goes at exit.  Rings of tx_slots
 * frames refuse when full (back-pressure); net_ring has no offload, so
 * the checksum and TSO cases run the driver's software fallbacks.  The
 * DPDK clock is not the suite's: frames are due at once.  Side 0 copies
 * received frames (zero_copy 0), side 1 lends them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/ustack_dpdk.h>

#include "conformance.h"

static char eal_dir[64];

/* The EAL leaves its (empty, with --no-shconf) runtime directory, and
 * the dpdk/ directory above it, which goes too once empty. */
static void
dpdk_conf_rmdir(void)
{
	(void)rmdir(eal_dir);
	(void)rmdir("/var/run/dpdk");
}

struct dpdk_link {
	struct ust_dpdk_port *port[2];
};

static int
dpdk_conf_create(struct conf_link *l, struct ust_vclock *vc, const struct conf_opts *o)
{
	static unsigned seq;
	struct ust_dpdk_port_config cfg;
	struct dpdk_link *dl;
	uint16_t id[2];
	char name[16];
	int err, i;

	(void)vc;
	if (!ust_dpdk_eal_ready()) {
		char args[160];

		snprintf(eal_dir, sizeof(eal_dir), "/var/run/dpdk/ustconf%ld", (long)getpid());
		snprintf(args, sizeof(args),
		    "--no-huge -m 256 --no-shconf --no-pci --no-telemetry --log-level=warning "
		    "--file-prefix=%s",
		    eal_dir + strlen("/var/run/dpdk/"));
		if ((err = ust_dpdk_eal_init(args)) != 0)
			return (err);
		atexit(dpdk_conf_rmdir);
	}
	snprintf(name, sizeof(name), "conf%u", seq++);
	if ((err = ust_dpdk_ring_pair(name, 1, o->tx_slots, &id[0], &id[1])) != 0)
		return (err);
	if ((dl = calloc(1, sizeof(*dl))) == NULL)
		return (-UST_ENOMEM);
	for (i = 0; i < 2; i++) {
		ust_dpdk_port_config_init(&cfg);
		cfg.port_id = id[i];
		cfg.nb_mbufs = 4095;
		cfg.nb_rxd = cfg.nb_txd = 512;
		cfg.caps_mask = o->caps;
		/* Side 0 copies what it receives, side 1 lends: every case runs
		 * both receive paths, and the copies keep ASan on the stack's
		 * side (DPDK's memory is invisible to it). */
		cfg.zero_copy = (uint8_t)i;
		if ((err = ust_dpdk_port_open(&cfg, &dl->port[i])) != 0)
			return (err);
		l->ops[i] = ust_dpdk_ops();
		l->softc[i] = ust_dpdk_softc(dl->port[i], 0);
	}
	l->priv = dl;
	return (0);
}

static void
dpdk_conf_destroy(struct conf_link *l)
{
	struct dpdk_link *dl = l->priv;

	ust_dpdk_port_close(dl->port[0]);
	ust_dpdk_port_close(dl->port[1]);
	free(dl);
}

static uint64_t
dpdk_conf_lent(const struct conf_link *l, int side)
{
	const struct dpdk_link *dl = l->priv;
	struct ust_dpdk_stats s;

	ust_dpdk_get_stats(dl->port[side], &s);
	return (s.rx_lent_now);
}

const struct conf_driver conf_driver = {
	.name = "dpdk",
	.offload_caps = UST_IFCAP_TXCSUM | UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_TSO6,
	.backpressure = 1,
	.create = dpdk_conf_create,
	.destroy = dpdk_conf_destroy,
	.lent = dpdk_conf_lent,
};
