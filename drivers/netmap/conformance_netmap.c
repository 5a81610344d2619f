/*
 * conformance_netmap.c - the netmap driver in the generic driver
 * conformance suite (tests/drivers/conformance.h): the two ends of an
 * in-memory netmap pipe ("netmap:conf{N" and "netmap:conf}N") served by
 * the user-space emulator of netmap's kernel side (tests/netmap_emu), one
 * emulator per link, in strict mode: a call the real kernel would refuse
 * (or silently repair) ends the case as failed at once (the adapter checks
 * the emulator's violations after every call through the driver's
 * system-call table), and so do extra buffers not handed back at close.
 *
 * The emulator's knobs come from its NETMAP_EMU_* environment variables
 * (nm_emu_config_env), which tests/drivers/CMakeLists.txt sets per ctest
 * variant: drivers.conformance.netmap.* run on its defaults (rings of 250
 * slots: not a power of two), drivers.conformance.netmap_<knob>.* with
 * permuted buffers, lazy and partial tx completion, swapped rx buffers,
 * NS_MOREFRAG chains both ways (small buffers and split receive) and the
 * paranoid mode (kernel-owned buffers PROT_NONE between calls).
 *
 * A pipe's tx ring fills until the peer's rxsync releases slots, so the
 * link refuses when full (back-pressure) with rings of tx_slots slots.
 * Netmap ports offer no offloads: the offload case runs without.  Side 0
 * copies received frames (zero_copy 0), side 1 lends them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack_netmap.h>

/* The emulator's header, from the netmap_emu target's include path (a
 * test library, not part of ustack). */
#include <nm_emu.h>

#include "conformance.h"

struct nm_link {
	struct nm_emu *emu;
	const struct ust_netmap_sys *esys; /* the emulator's table */
	struct ust_netmap_sys sys;         /* it, checked after every call */
	struct ust_netmap_port *port[2];
};

/* Ends the case at the first strict-mode violation (the suite has no
 * failure hook for adapters), naming it: the emulator refuses the call as
 * the kernel would reinitialise the ring, after which the case would only
 * time out. */
static void
nm_conf_check(const struct nm_link *nl)
{
	char msg[256];
	unsigned v;

	msg[0] = '\0';
	if ((v = nm_emu_violations(nl->emu, msg, sizeof(msg))) != 0) {
		fprintf(stderr, "FAIL netmap emulator: %u strict-mode violations, last: %s\n", v,
		    msg);
		exit(1);
	}
}

static int
nm_conf_open(void *ctx, const char *path, int flags)
{
	const struct nm_link *nl = ctx;
	int rc = nl->esys->open(nl->esys->ctx, path, flags);

	nm_conf_check(nl);
	return (rc);
}

static int
nm_conf_close(void *ctx, int fd)
{
	const struct nm_link *nl = ctx;
	int rc = nl->esys->close(nl->esys->ctx, fd);

	nm_conf_check(nl);
	return (rc);
}

static int
nm_conf_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	const struct nm_link *nl = ctx;
	int rc = nl->esys->ioctl(nl->esys->ctx, fd, request, arg);

	nm_conf_check(nl);
	return (rc);
}

static void *
nm_conf_mmap(void *ctx, void *addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	const struct nm_link *nl = ctx;

	return (nl->esys->mmap(nl->esys->ctx, addr, len, prot, flags, fd, off));
}

static int
nm_conf_munmap(void *ctx, void *addr, size_t len)
{
	const struct nm_link *nl = ctx;

	return (nl->esys->munmap(nl->esys->ctx, addr, len));
}

static int
nm_conf_poll(void *ctx, struct pollfd *fds, unsigned long nfds, int timeout_ms)
{
	const struct nm_link *nl = ctx;
	int rc = nl->esys->poll(nl->esys->ctx, fds, nfds, timeout_ms);

	nm_conf_check(nl);
	return (rc);
}

static int
nm_conf_create(struct conf_link *l, struct ust_vclock *vc, const struct conf_opts *o)
{
	static unsigned seq;
	struct nm_emu_config ec;
	struct ust_netmap_config cfg;
	struct nm_link *nl;
	char name[2][32], err[128];
	int rc, i;

	(void)vc;
	nm_emu_config_init(&ec);
	ec.strict = 1;
	if (nm_emu_config_env(&ec, err, sizeof(err)) != 0) {
		fprintf(stderr, "netmap: emulator environment: %s\n", err);
		return (-UST_EINVAL);
	}
	if ((nl = calloc(1, sizeof(*nl))) == NULL)
		return (-UST_ENOMEM);
	if ((nl->emu = nm_emu_create(&ec)) == NULL) {
		free(nl);
		return (-UST_ENOMEM);
	}
	nl->esys = nm_emu_sys(nl->emu);
	nl->sys = (struct ust_netmap_sys){ .ctx = nl,
		.open = nm_conf_open,
		.close = nm_conf_close,
		.ioctl = nm_conf_ioctl,
		.mmap = nm_conf_mmap,
		.munmap = nm_conf_munmap,
		.poll = nm_conf_poll };
	snprintf(name[0], sizeof(name[0]), "netmap:conf{%u", seq);
	snprintf(name[1], sizeof(name[1]), "netmap:conf}%u", seq);
	seq++;
	l->priv = nl;
	for (i = 0; i < 2; i++) {
		ust_netmap_config_init(&cfg);
		cfg.port = name[i];
		cfg.sys = &nl->sys;
		cfg.slots = o->tx_slots;
		cfg.caps_mask = o->caps;
		cfg.zero_copy = (uint8_t)i;
		cfg.extra_bufs = 512;
		if ((rc = ust_netmap_open(&cfg, &nl->port[i])) != 0) {
			fprintf(stderr, "netmap: open %s: %s\n", name[i], ust_strerror(rc));
			return (rc);
		}
		l->ops[i] = ust_netmap_ops();
		l->softc[i] = ust_netmap_softc(nl->port[i], 0);
	}
	return (0);
}

static void
nm_conf_destroy(struct conf_link *l)
{
	struct nm_link *nl = l->priv;
	struct ust_netmap_stats s[2];
	int i, lent = 0;

	if (nl == NULL)
		return;
	for (i = 0; i < 2; i++) {
		if (nl->port[i] == NULL)
			continue;
		ust_netmap_get_stats(nl->port[i], &s[i]);
		lent += s[i].lent_now != 0;
		ust_netmap_close(nl->port[i]);
	}
	nm_conf_check(nl); /* also extra buffers not handed back at close */
	/* A port still lending keeps its mapping (and the emulator) until its
	 * stack lets go; the suite's stacks are freed after this. */
	if (lent == 0)
		nm_emu_destroy(nl->emu);
	free(nl);
	l->priv = NULL;
}

static uint64_t
nm_conf_lent(const struct conf_link *l, int side)
{
	const struct nm_link *nl = l->priv;
	struct ust_netmap_stats s;

	ust_netmap_get_stats(nl->port[side], &s);
	return (s.lent_now);
}

const struct conf_driver conf_driver = {
	.name = "netmap",
	.offload_caps = 0,
	.backpressure = 1,
	.create = nm_conf_create,
	.destroy = nm_conf_destroy,
	.lent = nm_conf_lent,
};
