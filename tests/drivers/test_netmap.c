/*
 * test_netmap.c - the netmap driver's own behaviour beyond the conformance
 * suite, against the user-space emulator (tests/netmap_emu) in strict mode:
 * one end of an emulated pipe is the driver's (with a stack), the other is
 * driven by hand here as any netmap program would, so that the test can put
 * exactly the slots it wants on the wire: NS_MOREFRAG chains of 64 slots
 * (the most netmap allows: received) and of 65 (dropped and counted, the
 * next frame still received), and it reads what the driver transmits slot
 * by slot (a frame longer than a buffer is a chain whose slots but the last
 * carry NS_MOREFRAG).  Zero-copy accounting: lending stops at
 * lend_min_free spares and copying takes over.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <nm_emu.h>
#include <ustack/ustack.h>
#include <ustack/ustack_netmap.h>

#include "../../drivers/netmap/netmap_abi.h"
#include "test_env.h"
#include "ust_test.h"

/* The hand-driven end. */
struct raw {
	const struct ust_netmap_sys *sys;
	int fd;
	void *mem;
	size_t memsize;
	struct netmap_ring *tx, *rx;
};

static int
raw_open(struct raw *r, const struct ust_netmap_sys *sys, const char *name)
{
	struct nmreq_header hdr;
	struct nmreq_register reg;
	struct netmap_if *nifp;

	memset(r, 0, sizeof(*r));
	memset(&hdr, 0, sizeof(hdr));
	memset(&reg, 0, sizeof(reg));
	r->sys = sys;
	if ((r->fd = sys->open(sys->ctx, "/dev/netmap", 2)) < 0)
		return (-1);
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	hdr.nr_body = (uint64_t)(uintptr_t)&reg;
	reg.nr_mode = NR_REG_ALL_NIC;
	if (sys->ioctl(sys->ctx, r->fd, NIOCCTRL, &hdr) != 0)
		return (-1);
	r->memsize = (size_t)reg.nr_memsize;
	r->mem =
	    sys->mmap(sys->ctx, NULL, r->memsize, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->mem == MAP_FAILED)
		return (-1);
	nifp = NETMAP_IF(r->mem, reg.nr_offset);
	r->tx = NETMAP_TXRING(nifp, 0);
	r->rx = NETMAP_RXRING(nifp, 0);
	return (0);
}

static void
raw_close(struct raw *r)
{
	r->sys->munmap(r->sys->ctx, r->mem, r->memsize);
	r->sys->close(r->sys->ctx, r->fd);
}

/* One frame of len bytes as a chain of nslots slots (len / nslots each,
 * the rest in the last), then a txsync. */
static int
raw_send(struct raw *r, size_t len, unsigned nslots)
{
	struct netmap_ring *t = r->tx;
	uint32_t i = t->head;
	unsigned k;
	size_t per = len / nslots, off = 0;

	if (nm_ring_space(t) < nslots)
		return (-1);
	for (k = 0; k < nslots; k++) {
		struct netmap_slot *s = &t->slot[i];
		size_t n = k + 1 == nslots ? len - off : per;
		unsigned char *b = (unsigned char *)NETMAP_BUF(t, s->buf_idx);
		size_t j;

		for (j = 0; j < n; j++, off++)
			b[j] = off < 6 ? 0xff :
			    off < 12   ? 0x02 :
			    off == 12  ? 0x88 :
			    off == 13  ? 0xb5 :
			                 (unsigned char)off;
		s->len = (uint16_t)n;
		s->flags = k + 1 == nslots ? 0 : NS_MOREFRAG;
		i = nm_ring_next(t, i);
	}
	t->head = t->cur = i;
	return (r->sys->ioctl(r->sys->ctx, r->fd, NIOCTXSYNC, NULL));
}

struct rig {
	struct nm_emu *emu;
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct ust_netmap_port *port;
	struct ust_if *ifp;
	struct raw raw;
};

static int
rig_up(struct rig *g, uint32_t buf_size, uint32_t extra, uint32_t lend_min_free)
{
	struct nm_emu_config ec;
	struct ust_netmap_config cfg;

	memset(g, 0, sizeof(*g));
	nm_emu_config_init(&ec);
	ec.strict = 1;
	if (buf_size != 0)
		ec.buf_size = buf_size;
	if ((g->emu = nm_emu_create(&ec)) == NULL)
		return (-1);
	ust_netmap_config_init(&cfg);
	cfg.port = "netmap:t{0";
	cfg.sys = nm_emu_sys(g->emu);
	cfg.extra_bufs = extra;
	cfg.lend_min_free = lend_min_free;
	if (ust_netmap_open(&cfg, &g->port) != 0)
		return (-1);
	g->vc = ust_vclock_create(1000000000ull);
	g->st = test_stack_new(g->vc, 1);
	if (ust_netmap_attach(g->st, g->port, 0, "nm0", &g->ifp) != 0)
		return (-1);
	return (raw_open(&g->raw, nm_emu_sys(g->emu), "t}0"));
}

static void
rig_down(struct rig *g)
{
	char msg[256] = "";

	ust_netmap_close(g->port);
	raw_close(&g->raw);
	test_stack_free(g->st);
	ust_vclock_destroy(g->vc);
	if (nm_emu_violations(g->emu, msg, sizeof(msg)) != 0)
		UST_FAIL_AT(__FILE__, __LINE__, "strict-mode violation: %s", msg);
	nm_emu_destroy(g->emu);
}

static struct ust_netmap_stats
stats(const struct rig *g)
{
	struct ust_netmap_stats s;

	ust_netmap_get_stats(g->port, &s);
	return (s);
}

TEST(chain_of_64_slots_received_65_dropped)
{
	struct rig g;

	REQUIRE(rig_up(&g, 0, 64, 8) == 0);
	REQUIRE(raw_send(&g.raw, 64 * 20, 64) == 0);
	(void)ust_stack_poll(g.st);
	CHECK_EQ(stats(&g).rx_frames, 1);
	CHECK_EQ(stats(&g).rx_frags, 1);
	CHECK_EQ(stats(&g).rx_dropped, 0);
	/* One slot too many, then an ordinary frame. */
	REQUIRE(raw_send(&g.raw, 65 * 20, 65) == 0);
	REQUIRE(raw_send(&g.raw, 60, 1) == 0);
	(void)ust_stack_poll(g.st);
	(void)ust_stack_poll(g.st);
	CHECK_EQ(stats(&g).rx_dropped, 1);
	CHECK_EQ(stats(&g).rx_frames, 2);
	rig_down(&g);
}

TEST(frame_over_a_buffer_leaves_as_a_morefrag_chain)
{
	struct rig g;
	unsigned char frame[1400];
	struct ust_mbuf *m;
	struct netmap_ring *rx;
	uint32_t i, n = 0;
	size_t total = 0;
	int more = 1;

	REQUIRE(rig_up(&g, 512, 64, 8) == 0);
	memset(frame, 0xab, sizeof(frame));
	m = ust_mbuf_from_buf(g.ifp, frame, sizeof(frame));
	REQUIRE(m != NULL);
	CHECK_EQ(ust_netmap_ops()->tx_burst(ust_netmap_softc(g.port, 0), &m, 1), 1);
	rx = g.raw.rx;
	REQUIRE(g.raw.sys->ioctl(g.raw.sys->ctx, g.raw.fd, NIOCRXSYNC, NULL) == 0);
	for (i = rx->head; i != rx->tail && more; i = nm_ring_next(rx, i), n++) {
		more = (rx->slot[i].flags & NS_MOREFRAG) != 0;
		CHECK(rx->slot[i].len <= 512);
		total += rx->slot[i].len;
	}
	CHECK_EQ(n, 3); /* 512 + 512 + 376 */
	CHECK_EQ(total, sizeof(frame));
	CHECK(!more);
	CHECK_EQ(stats(&g).tx_frags, 1);
	rx->head = rx->cur = i;
	rig_down(&g);
}

TEST(lending_stops_at_lend_min_free)
{
	struct rig g;
	struct ust_mbuf *pkts[32];
	int n, k;

	/* 12 spares, lend while at least 8 are left: five frames lent, then copies. */
	REQUIRE(rig_up(&g, 0, 12, 8) == 0);
	for (k = 0; k < 10; k++)
		REQUIRE(raw_send(&g.raw, 60, 1) == 0);
	n = ust_netmap_ops()->rx_burst(ust_netmap_softc(g.port, 0), g.ifp, pkts, 32);
	CHECK_EQ(n, 10);
	CHECK_EQ(stats(&g).rx_lent, 5);
	CHECK_EQ(stats(&g).rx_copied, 5);
	CHECK_EQ(stats(&g).lent_now, 5);
	CHECK_EQ(stats(&g).spare_bufs, 7);
	for (k = 0; k < n; k++)
		ust_mbuf_free(pkts[k]);
	CHECK_EQ(stats(&g).lent_now, 0);
	CHECK_EQ(stats(&g).spare_bufs, 12);
	rig_down(&g);
}
