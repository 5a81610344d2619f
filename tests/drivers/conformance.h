/*
 * conformance.h - the generic driver conformance suite (conformance.c):
 * what a driver folder provides to run it.
 *
 * A driver's folder holds one adapter file (named in its driver.cmake with
 * CONFORMANCE) that defines `conf_driver`: how to make a link of two ends
 * of that driver, joined so that what one end sends the other receives.
 * tests/drivers/CMakeLists.txt builds conformance.c with each adapter into
 * conformance_<name> and registers every case as the ctest test
 * drivers.conformance.<name>.<case>.
 */
#ifndef UST_CONFORMANCE_H
#define UST_CONFORMANCE_H

#include <stdint.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>

/* What a case asks of the link it makes. */
struct conf_opts {
	uint32_t caps; /* UST_IFCAP_* to advertise, from conf_driver.offload_caps */
	/* Non-zero: make the link refuse transmit (tx_burst takes fewer) once
	 * about this many frames wait for the receiver to poll, for the
	 * back-pressure case. */
	uint32_t tx_slots;
};

/* Two joined ends, made by create(). */
struct conf_link {
	const struct ust_driver_ops *ops[2];
	void *softc[2];
	void *priv; /* the adapter's */
};

struct conf_driver {
	const char *name;
	/* Offloads the driver can advertise (honoured in hardware or filled
	 * in software); the offload case runs with them and without. */
	uint32_t offload_caps;
	/* 1 if create() with tx_slots makes a link that refuses when full;
	 * 0 for a driver that models a wire and drops instead (the case is
	 * skipped, saying so). */
	int backpressure;
	/* Both ends on clock vc (a virtual clock the suite moves).  0 or a
	 * negative UST_E* (the case fails, printing it). */
	int (*create)(struct conf_link *l, struct ust_vclock *vc, const struct conf_opts *o);
	/* After both interfaces are detached. */
	void (*destroy)(struct conf_link *l);
	/* Optional: receive buffers of end side lent to its stack right now
	 * (ust_mbuf_attach_ext); NULL for a driver that copies. */
	uint64_t (*lent)(const struct conf_link *l, int side);
};

extern const struct conf_driver conf_driver;

#endif /* UST_CONFORMANCE_H */
