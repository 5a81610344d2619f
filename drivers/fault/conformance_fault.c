/*
 * conformance_fault.c - the fault driver in the generic driver conformance
 * suite (tests/drivers/conformance.h): both ends of a pipe, each wrapped,
 * with faults that lose nothing (1 ms of delay and jitter each way, so
 * frames are held and released by the wrapper's heap and next_deadline).
 * For the back-pressure case the transmit side holds at most tx_slots
 * frames, so it refuses once they are delayed.
 */
#include <ustack/ustack_fault.h>
#include <ustack/ustack_pipe.h>

#include "conformance.h"

struct fault_link {
	struct ust_pipe *p;
	struct ust_fault *fw[2];
};

static struct fault_link links[1];

static int
fault_create(struct conf_link *l, struct ust_vclock *vc, const struct conf_opts *o)
{
	struct fault_link *fl = &links[0];
	struct ust_pipe_config pc;
	struct ust_fault_wrap_config fc;
	int err, i, d;

	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(vc);
	pc.caps = o->caps;
	if (o->caps & (UST_IFCAP_TSO4 | UST_IFCAP_TSO6))
		pc.ring_size = 256;
	if ((err = ust_pipe_create(&pc, &fl->p)) != 0)
		return (err);
	for (i = 0; i < 2; i++) {
		ust_fault_wrap_config_init(&fc);
		fc.clock = ust_vclock_clock(vc);
		for (d = 0; d < 2; d++) {
			fc.fault[d].delay_ns = 1000000;
			fc.fault[d].jitter_ns = 200000;
			fc.fault[d].seed = 17 + (uint64_t)(i * 2 + d);
		}
		if (o->tx_slots != 0)
			fc.capacity = o->tx_slots;
		if ((err = ust_fault_wrap(ust_pipe_ops(), ust_pipe_end(fl->p, i), &fc,
		         &fl->fw[i])) != 0)
			return (err);
		l->ops[i] = ust_fault_wrap_ops();
		l->softc[i] = ust_fault_wrap_softc(fl->fw[i]);
	}
	l->priv = fl;
	return (0);
}

static void
fault_destroy(struct conf_link *l)
{
	struct fault_link *fl = l->priv;

	ust_fault_wrap_destroy(fl->fw[0]);
	ust_fault_wrap_destroy(fl->fw[1]);
	ust_pipe_destroy(fl->p);
}

const struct conf_driver conf_driver = {
	.name = "fault",
	.offload_caps = UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM | UST_IFCAP_TSO4 | UST_IFCAP_LRO |
	    UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_TSO6,
	.backpressure = 1,
	.create = fault_create,
	.destroy = fault_destroy,
};
