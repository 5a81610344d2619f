/*
 * conformance_pipe.c - the pipe in the generic driver conformance suite
 * (tests/drivers/conformance.h): ends A and B of one pipe, on the suite's
 * clock.  A pipe is a wire: a full link drops (dropped_queue) instead of
 * refusing, so the back-pressure case does not apply.
 */
#include <ustack/ustack_pipe.h>

#include "conformance.h"

static int
pipe_create(struct conf_link *l, struct ust_vclock *vc, const struct conf_opts *o)
{
	struct ust_pipe_config cfg;
	struct ust_pipe *p;
	int err, i;

	ust_pipe_config_init(&cfg);
	cfg.clock = ust_vclock_clock(vc);
	cfg.caps = o->caps;
	if (o->caps & (UST_IFCAP_TSO4 | UST_IFCAP_TSO6))
		cfg.ring_size = 256; /* 64 KiB slots */
	if ((err = ust_pipe_create(&cfg, &p)) != 0)
		return (err);
	for (i = 0; i < 2; i++) {
		l->ops[i] = ust_pipe_ops();
		l->softc[i] = ust_pipe_end(p, i);
	}
	l->priv = p;
	return (0);
}

static void
pipe_destroy(struct conf_link *l)
{
	ust_pipe_destroy(l->priv);
}

const struct conf_driver conf_driver = {
	.name = "pipe",
	.offload_caps = UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM | UST_IFCAP_TSO4 | UST_IFCAP_LRO |
	    UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_TSO6,
	.backpressure = 0,
	.create = pipe_create,
	.destroy = pipe_destroy,
};
