/*
 * conformance_afxdp.c - the AF_XDP driver in the generic driver conformance
 * suite (tests/drivers/conformance.h): a veth pair in a network namespace
 * of the test process's own (unshare(CLONE_NEWNET): it goes, with its
 * veths and XDP programs, when the process exits), one AF_XDP port on
 * each end, queue 0 of each.  Side 0 copies received frames (lend 0, so
 * ASan sees what the stack reads), side 1 lends them.
 *
 * Needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN for unshare); without
 * it every case prints SKIP and exits 77, which ctest reports as skipped.
 * The kernel is on real time and the suite on a virtual clock: the kernel
 * moves a veth frame from the sender's sendto() to the peer's rx ring
 * almost always before sendto returns, and the wrapped tx_burst below
 * waits (at most 5 ms) for the peer's socket to become readable so that a
 * stack polled right after a send finds its frames.  A full rx ring drops
 * (the kernel counts rx_ring_full): the link models a wire, so the
 * back-pressure case is skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/ustack_afxdp.h>

#include "conformance.h"

struct afxdp_link {
	struct ust_afxdp_port *port[2];
	char name[2][16];
};

/* tx_burst of side i, then a short wait for side 1-i's socket. */
static struct afxdp_link *cur;

static int
conf_ns_setup(void)
{
	static int done;
	FILE *f;

	if (done)
		return (0);
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		printf("SKIP afxdp: needs root and a network namespace of its own (%s)\n",
		    geteuid() != 0 ? "not root" : strerror(errno));
		fflush(stdout);
		exit(77);
	}
	/* No IPv6 chatter (router solicitations, MLD) on the new veths. */
	if ((f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w")) != NULL) {
		fputs("1\n", f);
		fclose(f);
	}
	done = 1;
	return (0);
}

static int
sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "afxdp conformance: '%s' failed (%d)\n", cmd, rc);
	return (rc == 0 ? 0 : -UST_EIO);
}

static int
side_tx(int side, void *softc, struct ust_mbuf **pkts, int n)
{
	int k = ust_afxdp_ops()->tx_burst(softc, pkts, n);

	if (k > 0 && cur != NULL) {
		struct pollfd pfd = { ust_afxdp_fd(cur->port[1 - side], 0), POLLIN, 0 };
		(void)poll(&pfd, 1, 5);
	}
	return (k);
}

static int
tx0(void *softc, struct ust_mbuf **pkts, int n)
{
	return (side_tx(0, softc, pkts, n));
}

static int
tx1(void *softc, struct ust_mbuf **pkts, int n)
{
	return (side_tx(1, softc, pkts, n));
}

static struct ust_driver_ops wrapped[2];

static int
afxdp_conf_create(struct conf_link *l, struct ust_vclock *vc, const struct conf_opts *o)
{
	static unsigned seq;
	struct ust_afxdp_config cfg;
	struct afxdp_link *al;
	char cmd[200];
	int err, i;

	(void)vc;
	conf_ns_setup();
	if ((al = calloc(1, sizeof(*al))) == NULL)
		return (-UST_ENOMEM);
	snprintf(al->name[0], sizeof(al->name[0]), "cxa%u", seq);
	snprintf(al->name[1], sizeof(al->name[1]), "cxb%u", seq);
	seq++;
	snprintf(cmd, sizeof(cmd),
	    "ip link add %s type veth peer name %s && ip link set %s up && ip link set %s up",
	    al->name[0], al->name[1], al->name[0], al->name[1]);
	if ((err = sh(cmd)) != 0) {
		free(al);
		return (err);
	}
	for (i = 0; i < 2; i++) {
		ust_afxdp_config_init(&cfg);
		cfg.ifname = al->name[i];
		cfg.frames = 1024;
		cfg.lend = (uint8_t)i;
		cfg.caps_mask = o->caps;
		if ((err = ust_afxdp_open(&cfg, &al->port[i])) != 0) {
			fprintf(stderr, "afxdp conformance: open %s: %s\n", al->name[i],
			    ust_strerror(err));
			if (i == 1)
				ust_afxdp_close(al->port[0]);
			snprintf(cmd, sizeof(cmd), "ip link del %s", al->name[0]);
			(void)sh(cmd);
			free(al);
			return (err);
		}
		wrapped[i] = *ust_afxdp_ops();
		wrapped[i].tx_burst = i == 0 ? tx0 : tx1;
		l->ops[i] = &wrapped[i];
		l->softc[i] = ust_afxdp_softc(al->port[i], 0);
	}
	cur = al;
	l->priv = al;
	return (0);
}

static void
afxdp_conf_destroy(struct conf_link *l)
{
	struct afxdp_link *al = l->priv;
	char cmd[64];

	ust_afxdp_close(al->port[0]);
	ust_afxdp_close(al->port[1]);
	snprintf(cmd, sizeof(cmd), "ip link del %s", al->name[0]);
	(void)sh(cmd);
	if (cur == al)
		cur = NULL;
	free(al);
}

static uint64_t
afxdp_conf_lent(const struct conf_link *l, int side)
{
	const struct afxdp_link *al = l->priv;
	struct ust_afxdp_stats s;

	ust_afxdp_get_stats(al->port[side], UINT16_MAX, &s);
	return (s.lent_now);
}

const struct conf_driver conf_driver = {
	.name = "afxdp",
	.offload_caps = UST_IFCAP_TXCSUM,
	.backpressure = 0,
	.create = afxdp_conf_create,
	.destroy = afxdp_conf_destroy,
	.lent = afxdp_conf_lent,
};
