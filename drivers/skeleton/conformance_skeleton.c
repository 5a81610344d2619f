/*
 * conformance_skeleton.c - the skeleton in the generic driver conformance
 * suite (tests/drivers/conformance.h).  A new driver copies this file: make
 * two joined ends, say which offloads it can advertise, whether a full
 * ring refuses, and how many receive buffers are lent right now.
 */
#include <ustack/ustack_skeleton.h>

#include "conformance.h"

static int
sk_create(struct conf_link *l, struct ust_vclock *vc, const struct conf_opts *o)
{
	struct ust_skeleton_config cfg;
	struct ust_skeleton *sk;
	int err, i;

	(void)vc; /* frames are due at once: no clock */
	ust_skeleton_config_init(&cfg);
	cfg.caps = o->caps;
	if (o->tx_slots != 0) {
		cfg.nbufs = o->tx_slots;
		cfg.lend_min_free = o->tx_slots / 4;
	}
	if ((err = ust_skeleton_create(&cfg, &sk)) != 0)
		return (err);
	for (i = 0; i < 2; i++) {
		l->ops[i] = ust_skeleton_ops();
		l->softc[i] = ust_skeleton_end(sk, i);
	}
	l->priv = sk;
	return (0);
}

static void
sk_destroy(struct conf_link *l)
{
	ust_skeleton_destroy(l->priv);
}

static uint64_t
sk_lent(const struct conf_link *l, int side)
{
	struct ust_skeleton_stats s;

	ust_skeleton_get_stats(l->priv, side, &s);
	return (s.lent_now);
}

const struct conf_driver conf_driver = {
	.name = "skeleton",
	.offload_caps = UST_IFCAP_TXCSUM | UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_TSO6,
	.backpressure = 1,
	.create = sk_create,
	.destroy = sk_destroy,
	.lent = sk_lent,
};
