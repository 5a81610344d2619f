/*
 * cores_ustack.h - the ustack workers' loops of the scale-cores programs
 * (cores_pairs.c: a pair of lone stacks per worker; cores_group.c: stack i
 * of two groups per worker): rr_ustack_core.h's client steps run until the
 * main thread stops them, counted in the worker's slot.  Header only.
 */
#ifndef USTACK_BENCH_CORES_USTACK_H
#define USTACK_BENCH_CORES_USTACK_H

#include "cores_common.h"

#include "rr_ustack_core.h"

/* Round trips of msg bytes on one connection, the request's first byte
 * changing every time (a stale echo would not match). */
static inline int
cores_run_rr(struct client *c, struct cores_ctl *ctl, struct cores_slot *slot, size_t msg)
{
	struct ust_socket *so;
	uint8_t req[RR_MSG];
	uint64_t n = 0;
	int err;

	if ((err = client_open(c, &so)) != 0)
		return (err);
	memset(req, 'r', sizeof(req));
	while (!cores_stopped(ctl)) {
		req[0] = (uint8_t)n;
		if ((err = client_roundtrip(c, so, req, msg)) != 0)
			break;
		cores_count(slot, ++n);
	}
	ust_close(so);
	return (err);
}

/* Connect + request/response + close, again and again. */
static inline int
cores_run_crr(struct client *c, struct cores_ctl *ctl, struct cores_slot *slot, size_t msg)
{
	uint8_t req[RR_MSG];
	uint64_t n = 0;
	int err = 0;

	memset(req, 'c', sizeof(req));
	while (err == 0 && !cores_stopped(ctl)) {
		req[0] = (uint8_t)n;
		if ((err = client_crr_once(c, req, msg)) == 0)
			cores_count(slot, ++n);
	}
	return (err);
}

#endif /* USTACK_BENCH_CORES_USTACK_H */
