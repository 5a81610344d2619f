/*
 * test_nm_emu.c - the netmap emulator's own tests: it must behave as the
 * kernel's netmap(4) does where a driver can tell (layout, register
 * errors, pipe slot swap and completion, MOREFRAG publication, extra
 * buffers, the prologue checks, tail restore, paranoid faults, TAP frames
 * to and from the Linux kernel, the LD_PRELOAD form).
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../drivers/netmap/netmap_abi.h"
#include "nm_emu_int.h"
#include "ust_test.h"

#define SKIP_CODE 77

struct tport {
	const struct ust_netmap_sys *sys;
	int fd;
	char *mem;
	struct netmap_if *nifp;
	struct nmreq_register reg;
};

static int
tp_open_fl(const struct ust_netmap_sys *sys, struct tport *p, const char *name, uint32_t mode,
    uint16_t ringid, uint32_t extra, uint32_t slots, uint64_t flags)
{
	struct nmreq_header hdr;

	memset(p, 0, sizeof(*p));
	p->sys = sys;
	p->fd = sys->open(sys->ctx, "/dev/netmap", O_RDWR);
	if (p->fd < 0)
		return errno;
	memset(&hdr, 0, sizeof(hdr));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	hdr.nr_body = (uint64_t)(uintptr_t)&p->reg;
	p->reg.nr_mode = mode;
	p->reg.nr_ringid = ringid;
	p->reg.nr_extra_bufs = extra;
	p->reg.nr_tx_slots = p->reg.nr_rx_slots = slots;
	p->reg.nr_flags = flags;
	if (sys->ioctl(sys->ctx, p->fd, NIOCCTRL, &hdr) != 0) {
		int e = errno;

		sys->close(sys->ctx, p->fd);
		p->fd = -1;
		return e;
	}
	p->mem = sys->mmap(sys->ctx, NULL, p->reg.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED,
	    p->fd, 0);
	if (p->mem == MAP_FAILED)
		return errno;
	p->nifp = NETMAP_IF(p->mem, p->reg.nr_offset);
	return 0;
}

static int
tp_open(const struct ust_netmap_sys *sys, struct tport *p, const char *name, uint32_t mode,
    uint16_t ringid, uint32_t extra, uint32_t slots)
{
	return tp_open_fl(sys, p, name, mode, ringid, extra, slots, 0);
}

static void
tp_close(struct tport *p)
{
	if (p->mem != NULL && p->mem != MAP_FAILED)
		p->sys->munmap(p->sys->ctx, p->mem, p->reg.nr_memsize);
	if (p->fd >= 0)
		p->sys->close(p->sys->ctx, p->fd);
	p->fd = -1;
	p->mem = NULL;
}

static int
tp_sync(struct tport *p, int tx)
{
	return p->sys->ioctl(p->sys->ctx, p->fd, tx ? NIOCTXSYNC : NIOCRXSYNC, NULL);
}

/* Ends 0 of pipe `name` (a, with extra buffers) and 1 (b). */
static int
pair_open(struct nm_emu *emu, struct tport *a, struct tport *b, const char *name, uint32_t extra)
{
	char n[32];
	int err;

	if (emu == NULL)
		return ENOMEM;
	snprintf(n, sizeof(n), "%s{0", name);
	if ((err = tp_open(nm_emu_sys(emu), a, n, NR_REG_ALL_NIC, 0, extra, 0)) != 0)
		return err;
	snprintf(n, sizeof(n), "%s}0", name);
	return tp_open(nm_emu_sys(emu), b, n, NR_REG_ALL_NIC, 0, 0, 0);
}

/* Both ends closed, no violation on the way, the emulator gone. */
static void
pair_close(struct nm_emu *emu, struct tport *a, struct tport *b)
{
	char msg[256];

	if (nm_emu_violations(emu, msg, sizeof(msg)) != 0)
		UST_FAIL_AT(__FILE__, __LINE__, "violation: %s", msg);
	tp_close(a);
	tp_close(b);
	nm_emu_destroy(emu);
}

static struct netmap_ring *
txr(struct tport *p, unsigned i)
{
	return NETMAP_TXRING(p->nifp, i);
}

static struct netmap_ring *
rxr(struct tport *p, unsigned i)
{
	return NETMAP_RXRING(p->nifp, i);
}

/* Queues one frame (a chain of slots of at most per bytes each) on tx
 * ring r: 0, or -1 when there is no room. */
static int
tx_frame(struct netmap_ring *r, const unsigned char *data, size_t len, size_t per)
{
	size_t nslots = len == 0 ? 1 : (len + per - 1) / per;
	uint32_t i = r->head;

	if (nm_ring_space(r) < nslots)
		return -1;
	for (size_t k = 0; k < nslots; k++) {
		size_t n = len - k * per < per ? len - k * per : per;

		memcpy(NETMAP_BUF(r, r->slot[i].buf_idx), data + k * per, n);
		r->slot[i].len = (uint16_t)n;
		r->slot[i].flags = k + 1 < nslots ? NS_MOREFRAG : 0;
		i = nm_ring_next(r, i);
	}
	r->head = r->cur = i;
	return 0;
}

/* Takes one whole frame off rx ring r into out: its length, or -1. */
static long
rx_frame(struct netmap_ring *r, unsigned char *out, size_t cap, unsigned *nslots)
{
	uint32_t i = r->head;
	size_t off = 0;

	*nslots = 0;
	while (i != r->tail) {
		const struct netmap_slot *s = &r->slot[i];

		if (off + s->len <= cap)
			memcpy(out + off, NETMAP_BUF(r, s->buf_idx), s->len);
		off += s->len;
		(*nslots)++;
		i = nm_ring_next(r, i);
		if (!(s->flags & NS_MOREFRAG)) {
			r->head = r->cur = i;
			return (long)off;
		}
	}
	return -1;
}

static void
fill_pattern(unsigned char *b, size_t len, unsigned seq)
{
	for (size_t k = 0; k < len; k++)
		b[k] = (unsigned char)(seq * 131 + k * 7);
}

static void tx_slots(struct tport *p, unsigned k);

static struct nm_emu *
emu_make(uint32_t slots, void (*tweak)(struct nm_emu_config *))
{
	struct nm_emu_config cfg;

	nm_emu_config_init(&cfg);
	cfg.num_slots = slots;
	cfg.num_bufs = 4096;
	cfg.seed = ust_test_seed;
	if (tweak != NULL)
		tweak(&cfg);
	return nm_emu_create(&cfg);
}

TEST(layout)
{
	struct nm_emu *emu = emu_make(250, NULL);
	struct tport a, b;
	uint8_t *seen;
	struct netmap_ring *t, *r;

	REQUIRE(emu != NULL);
	REQUIRE_EQ(pair_open(emu, &a, &b, "p", 0), 0);
	CHECK_EQ(a.reg.nr_tx_slots, 250);
	CHECK_EQ(a.reg.nr_tx_rings, 1);
	CHECK_EQ(a.reg.nr_host_tx_rings, 0);
	CHECK(a.reg.nr_offset < a.reg.nr_memsize);
	CHECK_EQ(a.reg.nr_memsize, b.reg.nr_memsize); /* one allocator */
	CHECK(a.reg.nr_offset != b.reg.nr_offset);    /* one netmap_if each */
	CHECK_EQ(a.nifp->ni_tx_rings, 1);
	CHECK_EQ(a.nifp->ni_rx_rings, 1);
	CHECK_EQ(a.nifp->ni_bufs_head, 0);
	t = txr(&a, 0);
	r = rxr(&a, 0);
	/* if-pool, then ring-pool, then buffers */
	CHECK((char *)t > (char *)a.nifp && (char *)r > (char *)a.nifp);
	CHECK_EQ(t->num_slots, 250);
	CHECK_EQ(t->dir, 0);
	CHECK_EQ(r->dir, 1);
	CHECK_EQ(t->nr_buf_size, 2048);
	CHECK_EQ(t->head, 0);
	CHECK_EQ(t->tail, 249);
	CHECK_EQ(r->tail, 0);
	CHECK((char *)t + t->buf_ofs > (char *)r);
	CHECK((char *)t + t->buf_ofs == (char *)r + r->buf_ofs);
	CHECK(NETMAP_BUF(t, 4095) + 2048 <= a.mem + a.reg.nr_memsize);
	/* every slot of both ends holds its own buffer, none reserved */
	seen = calloc(4096, 1);
	REQUIRE(seen != NULL);
	{
		struct netmap_ring *rings[4] = { t, r, txr(&b, 0), rxr(&b, 0) };

		for (int k = 0; k < 4; k++)
			for (uint32_t i = 0; i < rings[k]->num_slots; i++) {
				uint32_t bi = rings[k]->slot[i].buf_idx;

				CHECK(bi >= 2 && bi < 4096);
				if (bi < 4096)
					CHECK_EQ(seen[bi]++, 0);
			}
	}
	free(seen);
	tp_close(&a);
	tp_close(&b);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), 0);
	nm_emu_destroy(emu);
}

static void
two_pipe_rings(struct nm_emu_config *c)
{
	c->pipe_rings = 2;
}

TEST(register_errors)
{
	struct nm_emu *emu = emu_make(250, two_pipe_rings);
	const struct ust_netmap_sys *sys = nm_emu_sys(emu);
	struct tport a, b, c;
	struct nmreq_header hdr;
	char msg[256];

	REQUIRE(emu != NULL);
	/* ONE_NIC: ring 1 only, the other ring's offset 0 */
	REQUIRE_EQ(tp_open(sys, &a, "q{3", NR_REG_ONE_NIC, 1, 0, 100), 0);
	CHECK_EQ(a.reg.nr_tx_slots, 100);
	CHECK_EQ(a.nifp->ni_tx_rings, 2);
	/* NIC tx 0, 1, the fake host tx ring, NIC rx 0, 1, fake host rx */
	CHECK_EQ(a.nifp->ni_host_tx_rings, 1);
	CHECK_EQ(a.reg.nr_host_tx_rings, 0);
	CHECK_EQ(a.nifp->ring_ofs[0], 0);
	CHECK(a.nifp->ring_ofs[1] != 0);
	CHECK_EQ(a.nifp->ring_ofs[2], 0);
	CHECK_EQ(a.nifp->ring_ofs[3], 0);
	CHECK(a.nifp->ring_ofs[4] != 0);
	CHECK_EQ(a.nifp->ring_ofs[5], 0);
	CHECK_EQ(rxr(&a, 1)->dir, 1);
	CHECK_EQ(txr(&a, 1)->ringid, 1);
	/* the same descriptor twice: EBUSY */
	memset(&hdr, 0, sizeof(hdr));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "q{3");
	hdr.nr_body = (uint64_t)(uintptr_t)&c.reg;
	memset(&c.reg, 0, sizeof(c.reg));
	CHECK_EQ(sys->ioctl(sys->ctx, a.fd, NIOCCTRL, &hdr), -1);
	CHECK_EQ(errno, EBUSY);
	/* exclusive on a ring in use */
	b.fd = sys->open(sys->ctx, "/dev/netmap", O_RDWR);
	c.reg.nr_mode = NR_REG_ONE_NIC;
	c.reg.nr_ringid = 1;
	c.reg.nr_flags = NR_EXCLUSIVE;
	CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCCTRL, &hdr), -1);
	CHECK_EQ(errno, EBUSY);
	/* ring out of range, unknown mode, no host rings on a pipe */
	c.reg.nr_flags = 0;
	c.reg.nr_ringid = 2;
	CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCCTRL, &hdr), -1);
	CHECK_EQ(errno, EINVAL);
	c.reg.nr_mode = 99;
	CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCCTRL, &hdr), -1);
	CHECK_EQ(errno, EINVAL);
	c.reg.nr_mode = NR_REG_SW;
	CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCCTRL, &hdr), -1);
	CHECK_EQ(errno, EINVAL);
	/* wrong API version */
	c.reg.nr_mode = NR_REG_ALL_NIC;
	hdr.nr_version = 11;
	CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCCTRL, &hdr), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(hdr.nr_version, NETMAP_API);
	hdr.nr_reserved = 1;
	CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCCTRL, &hdr), -1);
	CHECK_EQ(errno, EINVAL);
	hdr.nr_reserved = 0;
	/* syncs before register; the legacy register; unknown ioctl */
	CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCTXSYNC, NULL), -1);
	CHECK_EQ(errno, ENXIO);
	CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCREGIF, msg), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(sys->ioctl(sys->ctx, b.fd, 0x1234, NULL), -1);
	CHECK_EQ(errno, ENOTTY);
	CHECK(sys->mmap(sys->ctx, NULL, 4096, PROT_READ, MAP_SHARED, b.fd, 0) == MAP_FAILED);
	sys->close(sys->ctx, b.fd);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), 0);
	/* PORT_INFO_GET: a port that exists, one that would be made */
	{
		struct nmreq_port_info_get pi;

		memset(&pi, 0, sizeof(pi));
		hdr.nr_version = NETMAP_API;
		hdr.nr_reqtype = NETMAP_REQ_PORT_INFO_GET;
		hdr.nr_body = (uint64_t)(uintptr_t)&pi;
		b.fd = sys->open(sys->ctx, "/dev/netmap", O_RDWR);
		CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCCTRL, &hdr), 0);
		CHECK_EQ(pi.nr_tx_slots, 100);
		CHECK_EQ(pi.nr_tx_rings, 2);
		CHECK_EQ(pi.nr_memsize, a.reg.nr_memsize);
		snprintf(hdr.nr_name, sizeof(hdr.nr_name), "vale1:x");
		CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCCTRL, &hdr), 0);
		CHECK_EQ(pi.nr_tx_slots, 250);
		CHECK_EQ(pi.nr_tx_rings, 1);
		CHECK_EQ(pi.nr_host_tx_rings, 0);
		snprintf(hdr.nr_name, sizeof(hdr.nr_name), "em0^");
		CHECK_EQ(sys->ioctl(sys->ctx, b.fd, NIOCCTRL, &hdr), -1);
		CHECK_EQ(errno, ENXIO);
		sys->close(sys->ctx, b.fd);
	}
	/* libnetmap's form of a name is not the kernel's */
	CHECK_EQ(tp_open(sys, &b, "netmap:q{3", NR_REG_ALL_NIC, 0, 0, 0), ENXIO);
	CHECK_EQ(nm_emu_violations(emu, msg, sizeof(msg)), 1);
	CHECK(strstr(msg, "bare port name") != NULL);
	tp_close(&a);
	nm_emu_destroy(emu);
}

/* n frames of random sizes from a to b through a pipe, both ends
 * syncing as they go; checks order and bytes. */
static void
pipe_run(struct tport *a, struct tport *b, unsigned n, size_t maxlen, unsigned *chains)
{
	struct netmap_ring *t = txr(a, 0), *r = rxr(b, 0);
	unsigned char buf[9000], got[9000];
	unsigned sent = 0, recvd = 0, spins = 0;
	uint64_t x = ust_test_seed * 7 + 1;

	while (recvd < n && spins < 100000) {
		unsigned ns;
		long len;

		spins++;
		while (sent < n) {
			size_t l;

			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			l = 60 + (size_t)((x >> 33) % (maxlen - 60));
			fill_pattern(buf, l, sent);
			if (tx_frame(t, buf, l, 2048) != 0)
				break;
			sent++;
			if (sent % 7 == 0)
				break;
		}
		REQUIRE_EQ(tp_sync(a, 1), 0);
		REQUIRE_EQ(tp_sync(b, 0), 0);
		while ((len = rx_frame(r, got, sizeof(got), &ns)) >= 0) {
			unsigned char want[9000];

			fill_pattern(want, (size_t)len, recvd);
			if (memcmp(want, got, (size_t)len) != 0) {
				CHECK(!"frame bytes differ");
				return;
			}
			*chains += ns > 1;
			recvd++;
		}
	}
	CHECK_EQ(recvd, n);
}

TEST(pipe_transfer)
{
	struct nm_emu *emu = emu_make(250, NULL);
	const struct ust_netmap_sys *sys = nm_emu_sys(emu);
	struct tport a, b;
	unsigned chains = 0;
	struct netmap_ring *t, *r;
	uint32_t n;

	REQUIRE(emu != NULL);
	REQUIRE_EQ(tp_open(sys, &a, "x{1", NR_REG_ALL_NIC, 0, 0, 0), 0);
	REQUIRE_EQ(tp_open(sys, &b, "x}1", NR_REG_ALL_NIC, 0, 0, 0), 0);
	pipe_run(&a, &b, 2000, 1514, &chains);
	pipe_run(&b, &a, 2000, 1514, &chains);
	CHECK_EQ(chains, 0);
	/* tx tail advances only as the peer releases its rx slots */
	t = txr(&a, 0);
	r = rxr(&b, 0);
	n = t->num_slots;
	/* the last frames taken are released with the next rxsync */
	REQUIRE_EQ(tp_sync(&b, 0), 0);
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	while (nm_ring_space(t) > 0) {
		t->slot[t->head].len = 60;
		t->slot[t->head].flags = 0;
		t->head = t->cur = nm_ring_next(t, t->head);
		REQUIRE_EQ(tp_sync(&a, 1), 0);
	}
	REQUIRE_EQ(tp_sync(&b, 0), 0);
	CHECK_EQ(nm_ring_space(r), n - 1);
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	CHECK_EQ(nm_ring_space(t), 0);
	/* b releases 10 slots: a gets 10 back, not more */
	r->head = r->cur = (r->head + 10) % n;
	REQUIRE_EQ(tp_sync(&b, 0), 0);
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	CHECK_EQ(nm_ring_space(t), 10);
	pair_close(emu, &a, &b);
}

TEST(morefrag_published_whole)
{
	struct nm_emu *emu = emu_make(97, NULL);
	struct tport a, b;
	struct netmap_ring *t, *r;
	unsigned char buf[3000], got[3000];
	unsigned ns, chains = 0;

	REQUIRE(emu != NULL);
	REQUIRE_EQ(pair_open(emu, &a, &b, "m", 0), 0);
	t = txr(&a, 0);
	r = rxr(&b, 0);
	fill_pattern(buf, 2500, 0);
	REQUIRE_EQ(tx_frame(t, buf, 2500, 1000), 0); /* 3 slots */
	/* release only the first two: nothing may be published */
	t->head = t->cur = 2;
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	REQUIRE_EQ(tp_sync(&b, 0), 0);
	CHECK_EQ(r->tail, 0);
	t->head = t->cur = 3;
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	REQUIRE_EQ(tp_sync(&b, 0), 0);
	CHECK_EQ(r->tail, 3);
	CHECK_EQ(rx_frame(r, got, sizeof(got), &ns), 2500);
	CHECK_EQ(ns, 3);
	CHECK(memcmp(buf, got, 2500) == 0);
	/* chains of up to 64 buffers both ways */
	pipe_run(&a, &b, 300, 9000, &chains);
	CHECK(chains > 100);
	pair_close(emu, &a, &b);
}

static void
knobs_all(struct nm_emu_config *c)
{
	c->frag_size = 300;
	c->swap_rx = 1;
	c->permute_bufs = 1;
	c->lazy_tx = 3;
	c->partial_tx = 1;
}

TEST(adversarial_knobs)
{
	struct nm_emu *emu = emu_make(131, knobs_all);
	struct tport a, b;
	unsigned chains = 0;
	uint32_t before[131], differ = 0;
	struct netmap_ring *r;

	REQUIRE(emu != NULL);
	REQUIRE_EQ(pair_open(emu, &a, &b, "k", 0), 0);
	r = rxr(&b, 0);
	/* permuted: not handed out in index order */
	CHECK(txr(&a, 0)->slot[1].buf_idx != txr(&a, 0)->slot[0].buf_idx + 1 ||
	    txr(&a, 0)->slot[2].buf_idx != txr(&a, 0)->slot[1].buf_idx + 1);
	for (uint32_t i = 0; i < 131; i++)
		before[i] = r->slot[i].buf_idx;
	pipe_run(&a, &b, 1500, 1514, &chains);
	pipe_run(&b, &a, 500, 9000, &chains);
	/* frames over 300 bytes came as chains */
	CHECK(chains > 1000);
	for (uint32_t i = 0; i < 131; i++)
		differ += r->slot[i].buf_idx != before[i];
	CHECK(differ > 0);
	pair_close(emu, &a, &b);
}

static void
lazy_3(struct nm_emu_config *c)
{
	c->lazy_tx = 3;
}

static void
partial(struct nm_emu_config *c)
{
	c->partial_tx = 1;
}

TEST(lazy_and_partial_completion)
{
	struct nm_emu *emu = emu_make(250, lazy_3);
	struct tport a, b;
	struct netmap_ring *t;
	uint32_t space, rounds = 0;

	REQUIRE(emu != NULL);
	REQUIRE_EQ(pair_open(emu, &a, &b, "l", 0), 0);
	t = txr(&a, 0);
	tx_slots(&a, 1);
	REQUIRE_EQ(tp_sync(&a, 1), 0); /* sync 1: sent, not reported */
	CHECK_EQ(t->tail, 249);
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	CHECK_EQ(t->tail, 249);
	REQUIRE_EQ(tp_sync(&a, 1), 0); /* sync 3 */
	CHECK_EQ(t->tail, 0);
	tp_close(&a);
	tp_close(&b);
	nm_emu_destroy(emu);

	emu = emu_make(250, partial);
	REQUIRE(emu != NULL);
	REQUIRE_EQ(pair_open(emu, &a, &b, "l", 0), 0);
	t = txr(&a, 0);
	tx_slots(&a, 200);
	space = nm_ring_space(t);
	CHECK_EQ(space, 49);
	while (nm_ring_space(t) < 249 && rounds < 1000) {
		uint32_t before = nm_ring_space(t);

		REQUIRE_EQ(tp_sync(&a, 1), 0);
		CHECK(nm_ring_space(t) > before); /* some, maybe not all */
		rounds++;
	}
	CHECK_EQ(nm_ring_space(t), 249);
	CHECK(rounds > 1);
	pair_close(emu, &a, &b);
}

TEST(leaked_buffer_counted)
{
	struct nm_emu *emu = emu_make(64, NULL);
	struct tport a, b;
	struct netmap_ring *r;
	uint32_t spare;

	REQUIRE(emu != NULL);
	REQUIRE_EQ(pair_open(emu, &a, &b, "g", 2), 0);
	tx_slots(&b, 1);
	REQUIRE_EQ(tp_sync(&b, 1), 0);
	REQUIRE_EQ(tp_sync(&a, 0), 0);
	r = rxr(&a, 0);
	REQUIRE_EQ(r->tail, 1);
	/* keep the received buffer, give the first spare instead, and leave
	 * the list as it was: the spare is in the ring now, so the list is
	 * cut there, and the buffer kept is lost */
	spare = a.nifp->ni_bufs_head;
	memcpy(&a.nifp->ni_bufs_head, NETMAP_BUF(r, spare), 4);
	r->slot[0].buf_idx = spare;
	r->slot[0].flags = NS_BUF_CHANGED;
	r->head = r->cur = 1;
	REQUIRE_EQ(tp_sync(&a, 0), 0);
	CHECK_EQ(nm_emu_user_bufs(emu), 2);
	tp_close(&a);
	tp_close(&b);
	CHECK_EQ(nm_emu_leaked_bufs(emu), 1);
	CHECK_EQ(nm_emu_user_bufs(emu), 0);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), 0);
	nm_emu_destroy(emu);
}

TEST(extra_bufs_and_swap)
{
	struct nm_emu *emu = emu_make(64, NULL);
	struct tport a, b;
	struct netmap_ring *t, *r;
	uint32_t list[100], n = 0, bi, spare, took, oldtx, zero = 0;
	char msg[256];

	REQUIRE(emu != NULL);
	REQUIRE_EQ(pair_open(emu, &a, &b, "e", 100), 0);
	CHECK_EQ(a.reg.nr_extra_bufs, 100);
	CHECK_EQ(nm_emu_user_bufs(emu), 100);
	t = txr(&a, 0);
	r = rxr(&a, 0);
	for (bi = a.nifp->ni_bufs_head; bi != 0 && n < 100; n++) {
		list[n] = bi;
		for (uint32_t i = 0; i < t->num_slots; i++)
			CHECK(t->slot[i].buf_idx != bi && r->slot[i].buf_idx != bi);
		memcpy(&bi, NETMAP_BUF(t, bi), sizeof(bi));
	}
	CHECK_EQ(n, 100);
	CHECK_EQ(bi, 0);
	/* zero-copy receive: b sends one frame, a keeps its buffer and puts
	 * a spare in the slot */
	REQUIRE_EQ(tx_frame(txr(&b, 0), (const unsigned char *)"hello, netmap", 13, 2048), 0);
	REQUIRE_EQ(tp_sync(&b, 1), 0);
	REQUIRE_EQ(tp_sync(&a, 0), 0);
	REQUIRE_EQ(r->tail, 1);
	took = r->slot[0].buf_idx;
	CHECK(memcmp(NETMAP_BUF(r, took), "hello, netmap", 13) == 0);
	spare = list[99];
	r->slot[0].buf_idx = spare;
	r->slot[0].flags |= NS_BUF_CHANGED;
	r->head = r->cur = 1;
	REQUIRE_EQ(tp_sync(&a, 0), 0);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), 0);
	/* the buffer taken is the user's now: it may go into a tx slot,
	 * whose buffer the user gets instead */
	oldtx = t->slot[t->head].buf_idx;
	t->slot[t->head].buf_idx = took;
	t->slot[t->head].len = 13;
	t->slot[t->head].flags = NS_BUF_CHANGED;
	t->head = t->cur = nm_ring_next(t, t->head);
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	REQUIRE_EQ(tp_sync(&b, 0), 0);
	CHECK_EQ(rxr(&b, 0)->tail, 1);
	CHECK(memcmp(NETMAP_BUF(r, rxr(&b, 0)->slot[0].buf_idx), "hello, netmap", 13) == 0);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), 0);
	/* a buffer another slot holds may not be swapped in */
	t->slot[t->head].buf_idx = r->slot[5].buf_idx;
	t->slot[t->head].flags = NS_BUF_CHANGED;
	t->head = t->cur = nm_ring_next(t, t->head);
	CHECK_EQ(tp_sync(&a, 1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(nm_emu_violations(emu, msg, sizeof(msg)), 1);
	CHECK(strstr(msg, "not one the user holds") != NULL);
	/* nor a changed index without NS_BUF_CHANGED */
	t->slot[t->head].buf_idx = list[98];
	t->slot[t->head].flags = 0;
	t->head = t->cur = nm_ring_next(t, t->head);
	CHECK_EQ(tp_sync(&a, 1), -1);
	CHECK_EQ(nm_emu_violations(emu, msg, sizeof(msg)), 2);
	CHECK(strstr(msg, "without NS_BUF_CHANGED") != NULL);
	/* what the user holds goes back on ni_bufs_head: the list without
	 * spare (now in the rx ring), plus oldtx */
	memcpy(NETMAP_BUF(t, list[98]), &zero, 4);
	memcpy(NETMAP_BUF(t, oldtx), &list[0], 4);
	a.nifp->ni_bufs_head = oldtx;
	tp_close(&a);
	tp_close(&b);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), 2);
	CHECK_EQ(nm_emu_leaked_bufs(emu), 0);
	CHECK_EQ(nm_emu_user_bufs(emu), 0);
	nm_emu_destroy(emu);
}

static void
not_strict(struct nm_emu_config *c)
{
	c->strict = 0;
}

static void
tx_slots(struct tport *p, unsigned k)
{
	struct netmap_ring *t = txr(p, 0);

	for (unsigned i = 0; i < k; i++) {
		t->slot[t->head].len = 60;
		t->slot[t->head].flags = 0;
		t->head = t->cur = nm_ring_next(t, t->head);
	}
}

static void
bad_head_case(int strict)
{
	struct nm_emu *emu = emu_make(250, strict ? NULL : not_strict);
	struct tport a, b;
	struct netmap_ring *t, *r;
	char msg[256];

	REQUIRE(emu != NULL);
	REQUIRE_EQ(pair_open(emu, &a, &b, "h", 0), 0);
	t = txr(&a, 0);
	r = rxr(&b, 0);
	tx_slots(&a, 5);
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	/* rx: head beyond tail */
	REQUIRE_EQ(tp_sync(&b, 0), 0);
	CHECK_EQ(r->tail, 5);
	r->head = r->cur = 6;
	CHECK_EQ(tp_sync(&b, 0), strict ? -1 : 0);
	CHECK_EQ(r->head, 0); /* reinitialised to the kernel's view */
	CHECK_EQ(nm_emu_violations(emu, msg, sizeof(msg)), strict ? 1 : 0);
	if (strict)
		CHECK(strstr(msg, "reinitialise") != NULL);
	r->head = r->cur = 250; /* not an index at all */
	CHECK_EQ(tp_sync(&b, 0), strict ? -1 : 0);
	/* tx: fill b's rx ring, then 10 more wait: tail stays behind */
	tx_slots(&a, 244);
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	tx_slots(&a, 10);
	REQUIRE_EQ(tp_sync(&a, 1), 0);
	CHECK_EQ(t->head, 9);
	CHECK_EQ(t->tail, 248);
	t->head = t->cur = 5; /* backwards, into the kernel's part */
	CHECK_EQ(tp_sync(&a, 1), strict ? -1 : 0);
	CHECK_EQ(t->head, 9);
	t->head = 20; /* cur before head */
	t->cur = 15;
	CHECK_EQ(tp_sync(&a, 1), strict ? -1 : 0);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), strict ? 4 : 0);
	/* cur ahead of head is fine */
	r->head = 2;
	r->cur = 5;
	CHECK_EQ(tp_sync(&b, 0), 0);
	t->head = 12;
	t->cur = 30;
	CHECK_EQ(tp_sync(&a, 1), 0);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), strict ? 4 : 0);
	tp_close(&a);
	tp_close(&b);
	nm_emu_destroy(emu);
}

TEST(strict_bad_head)
{
	bad_head_case(1);
}

TEST(lenient_bad_head_reinit)
{
	bad_head_case(0);
}

TEST(tail_restored)
{
	struct nm_emu *emu = emu_make(250, NULL);
	struct tport a, b;
	struct netmap_ring *t;
	char msg[256];

	REQUIRE(emu != NULL);
	REQUIRE_EQ(pair_open(emu, &a, &b, "t", 0), 0);
	t = txr(&a, 0);
	t->tail = 3;
	CHECK_EQ(tp_sync(&a, 1), 0);
	CHECK_EQ(t->tail, 249);
	CHECK_EQ(nm_emu_violations(emu, msg, sizeof(msg)), 1);
	CHECK(strstr(msg, "tail overwritten") != NULL);
	rxr(&b, 0)->tail = 17;
	CHECK_EQ(tp_sync(&b, 0), 0);
	CHECK_EQ(rxr(&b, 0)->tail, 0);
	tp_close(&a);
	tp_close(&b);
	nm_emu_destroy(emu);
}

static void
paranoid_on(struct nm_emu_config *c)
{
	c->paranoid = 1;
}

static char *volatile fault_expected;

/* 42 when the fault is in the buffer the kernel owns, 43 elsewhere (a
 * handler of our own: ASan's would turn the signal into an exit 1). */
static void
on_segv(int sig, siginfo_t *si, void *uc)
{
	char *a = si->si_addr;

	(void)sig;
	(void)uc;
	_exit(a >= fault_expected && a < fault_expected + 2048 ? 42 : 43);
}

/* In a child: writes to a buffer after handing it to the kernel. */
static int
paranoid_child(int touch_released)
{
	struct sigaction sa;
	struct nm_emu *emu = emu_make(64, paranoid_on);
	struct tport a, b;
	struct netmap_ring *t;
	char *buf;

	if (emu == NULL || tp_open(nm_emu_sys(emu), &a, "z{0", NR_REG_ALL_NIC, 0, 8, 0) != 0 ||
	    tp_open(nm_emu_sys(emu), &b, "z}0", NR_REG_ALL_NIC, 0, 0, 0) != 0)
		return 2;
	t = txr(&a, 0);
	buf = NETMAP_BUF(t, t->slot[0].buf_idx);
	memset(buf, 0xab, 60);                                  /* the user's: fine */
	memset(NETMAP_BUF(t, a.nifp->ni_bufs_head) + 4, 1, 16); /* extra: fine */
	t->slot[0].len = 60;
	t->head = t->cur = 1;
	if (tp_sync(&a, 1) != 0)
		return 3;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	fault_expected = buf;
	if (touch_released)
		memset(buf, 0xcd, 60); /* the kernel's now (the peer's rx slot) */
	return 0;
}

TEST(paranoid_faults)
{
	for (int touch = 0; touch < 2; touch++) {
		pid_t pid = fork();
		int st = 0;

		REQUIRE(pid >= 0);
		if (pid == 0)
			_exit(paranoid_child(touch));
		REQUIRE_EQ(waitpid(pid, &st, 0), pid);
		CHECK(WIFEXITED(st));
		CHECK_EQ(WEXITSTATUS(st), touch ? 42 : 0);
	}
}

static void
put_frame(struct tport *p, const unsigned char *f, size_t len)
{
	struct netmap_ring *t = txr(p, 0);

	CHECK_EQ(tx_frame(t, f, len, 2048), 0);
	CHECK_EQ(tp_sync(p, 1), 0);
}

static long
get_frame(struct tport *p, unsigned ring, unsigned char *out, size_t cap)
{
	unsigned ns;

	if (tp_sync(p, 0) != 0)
		return -2;
	return rx_frame(rxr(p, ring), out, cap, &ns);
}

TEST(vale_learning_bridge)
{
	struct nm_emu *emu = emu_make(250, NULL);
	const struct ust_netmap_sys *sys = nm_emu_sys(emu);
	struct tport a, b, c;
	unsigned char f[64], got[2048];

	REQUIRE(emu != NULL);
	REQUIRE_EQ(tp_open(sys, &a, "vale0:a", NR_REG_ALL_NIC, 0, 0, 0), 0);
	REQUIRE_EQ(tp_open(sys, &b, "vale0:b", NR_REG_ALL_NIC, 0, 0, 0), 0);
	REQUIRE_EQ(tp_open(sys, &c, "vale0:c", NR_REG_ALL_NIC, 0, 0, 0), 0);
	CHECK_EQ(a.reg.nr_memsize, c.reg.nr_memsize);
	/* a -> unknown b: flooded to b and c */
	memset(f, 0, sizeof(f));
	memcpy(f, "\x02\0\0\0\0\x0b\x02\0\0\0\0\x0a\x08\x00", 14);
	put_frame(&a, f, sizeof(f));
	CHECK_EQ(get_frame(&b, 0, got, sizeof(got)), 64);
	CHECK(memcmp(got, f, 64) == 0);
	CHECK_EQ(get_frame(&c, 0, got, sizeof(got)), 64);
	CHECK_EQ(get_frame(&a, 0, got, sizeof(got)), -1); /* not back to the sender */
	/* b -> a (learnt): only a */
	memcpy(f, "\x02\0\0\0\0\x0a\x02\0\0\0\0\x0b\x08\x00", 14);
	put_frame(&b, f, sizeof(f));
	CHECK_EQ(get_frame(&a, 0, got, sizeof(got)), 64);
	CHECK(memcmp(got, f, 64) == 0);
	CHECK_EQ(get_frame(&c, 0, got, sizeof(got)), -1);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), 0);
	tp_close(&a);
	tp_close(&b);
	tp_close(&c);
	nm_emu_destroy(emu);
}

struct sender {
	struct tport *p;
	unsigned delay_ms;
};

static void *
send_later(void *arg)
{
	struct sender *s = arg;
	unsigned char f[60] = { 1, 2, 3 };

	usleep(s->delay_ms * 1000);
	put_frame(s->p, f, sizeof(f));
	return NULL;
}

TEST(poll_mixed_fds)
{
	struct nm_emu *emu = emu_make(250, NULL);
	const struct ust_netmap_sys *sys = nm_emu_sys(emu);
	struct tport a, b;
	struct pollfd pf[2];
	struct sender s;
	pthread_t th;
	int ev = eventfd(0, EFD_NONBLOCK);
	uint64_t one = 1;
	unsigned char got[2048];

	REQUIRE(emu != NULL && ev >= 0);
	REQUIRE_EQ(pair_open(emu, &a, &b, "w", 0), 0);
	pf[0].fd = b.fd;
	pf[0].events = POLLIN;
	pf[1].fd = ev;
	pf[1].events = POLLIN;
	CHECK_EQ(sys->poll(sys->ctx, pf, 2, 0), 0);
	/* a real descriptor wakes it */
	CHECK_EQ(write(ev, &one, sizeof(one)), 8);
	CHECK_EQ(sys->poll(sys->ctx, pf, 2, 1000), 1);
	CHECK_EQ(pf[1].revents, POLLIN);
	CHECK_EQ(pf[0].revents, 0);
	CHECK_EQ(read(ev, &one, sizeof(one)), 8);
	/* POLLOUT: room on the tx ring */
	pf[0].events = POLLOUT;
	CHECK_EQ(sys->poll(sys->ctx, pf, 1, 0), 1);
	CHECK_EQ(pf[0].revents, POLLOUT);
	/* a frame from another thread wakes a blocked poll */
	s.p = &a;
	s.delay_ms = 50;
	REQUIRE_EQ(pthread_create(&th, NULL, send_later, &s), 0);
	pf[0].events = POLLIN;
	CHECK_EQ(sys->poll(sys->ctx, pf, 2, 5000), 1);
	CHECK_EQ(pf[0].revents, POLLIN);
	pthread_join(th, NULL);
	CHECK_EQ(rx_frame(rxr(&b, 0), got, sizeof(got), &(unsigned){ 0 }), 60);
	/* the descriptor itself in a plain poll(2): readable while a frame
	 * waits to be published, not after */
	put_frame(&a, got, 60);
	pf[0].revents = 0;
	CHECK_EQ(poll(pf, 1, 1000), 1);
	CHECK_EQ(tp_sync(&b, 0), 0);
	CHECK_EQ(poll(pf, 1, 0), 0);
	CHECK_EQ(nm_emu_violations(emu, NULL, 0), 0);
	close(ev);
	tp_close(&a);
	tp_close(&b);
	nm_emu_destroy(emu);
}

/* An ARP request from 198.18.0.2 (02:00:00:00:00:02) for 198.18.0.1. */
static size_t
arp_request(unsigned char *f, unsigned char net)
{
	static const unsigned char req[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x06, /* ether */
		0, 1, 0x08, 0, 6, 4, 0, 1,             /* request */
		0x02, 0, 0, 0, 0, 0x02, 198, 18, 0, 2, /* sender */
		0, 0, 0, 0, 0, 0, 198, 18, 0, 1,       /* target */
	};

	memset(f, 0, 60);
	memcpy(f, req, sizeof(req));
	f[30] = f[40] = net;
	return 60;
}

/* Waits for the kernel's ARP reply on rx ring `ring` of p; the slots it
 * took, 0 if none came. */
static unsigned
arp_reply_wait(struct tport *p, unsigned ring, unsigned char net)
{
	unsigned char got[2048];
	const unsigned char ip[4] = { 198, 18, net, 1 };

	for (int round = 0; round < 50; round++) {
		struct pollfd pf = { .fd = p->fd, .events = POLLIN, .revents = 0 };
		unsigned ns;
		long len;

		(void)p->sys->poll(p->sys->ctx, &pf, 1, 100);
		while ((len = rx_frame(rxr(p, ring), got, sizeof(got), &ns)) >= 0) {
			if (len >= 42 && got[12] == 0x08 && got[13] == 0x06 && got[21] == 2 &&
			    memcmp(got + 28, ip, 4) == 0 && memcmp(got, "\x02\0\0\0\0\x02", 6) == 0)
				return ns;
		}
	}
	return 0;
}

/* 198.18.net.1/24 on ifname, the kernel's side; 0 or -1. */
static int
kernel_addr(const char *ifname, unsigned char net)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0), rc = -1;
	const unsigned char ip[4] = { 198, 18, net, 1 };

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	/* sockaddr_in by hand: family, port, address (netstack/ shadows
	 * <netinet/in.h> in this test's include path) */
	ifr.ifr_addr.sa_family = AF_INET;
	memcpy(ifr.ifr_addr.sa_data + 2, ip, 4);
	if (ioctl(s, SIOCSIFADDR, &ifr) == 0) {
		memcpy(ifr.ifr_addr.sa_data + 2, "\xff\xff\xff\x00", 4);
		rc = ioctl(s, SIOCSIFNETMASK, &ifr);
	}
	close(s);
	return rc;
}

static void
tap_2q(struct nm_emu_config *c)
{
	c->tap_rings = 2;
}

/* Two TAP queues (IFF_MULTI_QUEUE) as two NIC ring pairs: a request on
 * ring 1, the reply on whichever queue the kernel picks. */
static int
tap_multiqueue(void)
{
	struct nm_emu *emu = emu_make(250, tap_2q);
	struct tport p;
	unsigned char f[60];

	if (emu == NULL || tp_open(nm_emu_sys(emu), &p, "nmt1", NR_REG_ALL_NIC, 0, 0, 0) != 0)
		return 30;
	if (p.reg.nr_rx_rings != 2 || p.nifp->ni_tx_rings != 2 || kernel_addr("nmt1", 1) != 0)
		return 31;
	CHECK_EQ(tx_frame(txr(&p, 1), f, arp_request(f, 1), 2048), 0);
	CHECK_EQ(tp_sync(&p, 1), 0);
	for (int round = 0; round < 20; round++) {
		if (arp_reply_wait(&p, round & 1, 1) != 0)
			break;
		if (round == 19)
			return 32;
	}
	tp_close(&p);
	nm_emu_destroy(emu);
	return ust_test_failures != 0 ? 33 : 0;
}

/* RFC 1071 checksum of n bytes. */
static uint16_t
cksum(const unsigned char *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16be(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* An ICMP echo of a 3000-byte IP packet to the kernel (MTU 4000 on
 * nmt0): two tx slots out, the reply as a chain in; 0 when the reply
 * came back whole with the same payload. */
static int
big_echo(struct tport *nic)
{
	static unsigned char f[3014], got[4096];
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned char *ip = f + 14, *icmp = f + 34;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "nmt0");
	ifr.ifr_mtu = 4000;
	if (ioctl(s, SIOCSIFMTU, &ifr) != 0 || ioctl(s, SIOCGIFHWADDR, &ifr) != 0) {
		close(s);
		return -1;
	}
	close(s);
	memcpy(f, ifr.ifr_hwaddr.sa_data, 6);
	memcpy(f + 6, "\x02\0\0\0\0\x02\x08\x00", 8);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16be(ip + 2, 3000);
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, "\xc6\x12\x00\x02\xc6\x12\x00\x01", 8);
	put16be(ip + 10, cksum(ip, 20));
	memset(icmp, 0, 8);
	icmp[0] = 8;
	put16be(icmp + 4, 0x1234);
	for (size_t k = 8; k < 2980; k++)
		icmp[k] = (unsigned char)(k * 13);
	put16be(icmp + 2, cksum(icmp, 2980));
	CHECK_EQ(tx_frame(txr(nic, 0), f, sizeof(f), 2048), 0);
	CHECK_EQ(tp_sync(nic, 1), 0);
	for (int round = 0; round < 50; round++) {
		struct pollfd pf = { .fd = nic->fd, .events = POLLIN, .revents = 0 };
		unsigned ns;
		long len;

		(void)nic->sys->poll(nic->sys->ctx, &pf, 1, 100);
		while ((len = rx_frame(rxr(nic, 0), got, sizeof(got), &ns)) >= 0)
			if (len == 3014 && got[23] == 1 && got[34] == 0 && ns > 1 && ns <= 64 &&
			    memcmp(got + 42, icmp + 8, 2972) == 0)
				return 0;
	}
	return -1;
}

static void
frag_40(struct nm_emu_config *c)
{
	c->frag_size = 40;
}

/* In a fresh network namespace: the TAP back end against the kernel. */
static int
tap_child(void)
{
	struct nm_emu *emu;
	const struct ust_netmap_sys *sys;
	struct tport nic, host;
	unsigned char f[60];

	if (unshare(CLONE_NEWNET) != 0)
		return 10;
	emu = emu_make(250, frag_40);
	if (emu == NULL)
		return 11;
	sys = nm_emu_sys(emu);
	if (tp_open(sys, &nic, "nmt0", NR_REG_ALL_NIC, 0, 0, 0) != 0)
		return 12;
	if (nic.nifp->ni_host_tx_rings != 1 || nic.reg.nr_rx_rings != 1)
		return 13;
	/* the kernel's side: 198.18.0.1/24 on nmt0 (up already) */
	if (kernel_addr("nmt0", 0) != 0)
		return 14;
	/* NIC rings: the request in, the reply out, split in 40-byte slots */
	put_frame(&nic, f, arp_request(f, 0));
	if (arp_reply_wait(&nic, 0, 0) != 2)
		return 16;
	/* a frame longer than a buffer both ways: an echo of 3000 bytes */
	if (big_echo(&nic) != 0)
		return 23;
	/* host rings bound too: what the kernel sends goes there */
	if (tp_open(sys, &host, "nmt0", NR_REG_SW, 0, 0, 0) != 0)
		return 17;
	if (host.nifp->ring_ofs[0] != 0 || host.nifp->ring_ofs[1] == 0)
		return 18;
	put_frame(&nic, f, arp_request(f, 0));
	if (arp_reply_wait(&host, 1, 0) == 0)
		return 19;
	if (get_frame(&nic, 0, f, sizeof(f)) >= 0 && f[12] == 0x08 && f[13] == 0x06)
		return 20;
	tp_close(&host);
	tp_close(&nic);
	if (nm_emu_violations(emu, NULL, 0) != 0 || ust_test_failures != 0)
		return 21;
	nm_emu_destroy(emu);
	/* the TAP was ours: it went with its last descriptor */
	if (if_nametoindex("nmt0") != 0)
		return 22;
	return tap_multiqueue();
}

TEST(tap_arp_in_netns)
{
	pid_t pid;
	int st = 0;

	if (geteuid() != 0) {
		fprintf(stderr,
		    "SKIP: the TAP back end needs root (a network namespace and a TAP)\n");
		exit(SKIP_CODE);
	}
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(tap_child());
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

/* The LD_PRELOAD form, in a child process running this program again
 * with NM_EMU_PRELOAD_CHILD set: plain libc calls on /dev/netmap. */
static int
lc_open(void *ctx, const char *path, int flags)
{
	(void)ctx;
	return open(path, flags);
}

static int
lc_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd);
}

static int
lc_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	(void)ctx;
	return ioctl(fd, req, arg);
}

static void *
lc_mmap(void *ctx, void *addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	(void)ctx;
	return mmap(addr, len, prot, flags, fd, (off_t)off);
}

static int
lc_munmap(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	return munmap(addr, len);
}

static int
lc_poll(void *ctx, struct pollfd *fds, unsigned long nfds, int timeout)
{
	(void)ctx;
	return poll(fds, (nfds_t)nfds, timeout);
}

/* libc's calls, as the driver's default table makes them */
static const struct ust_netmap_sys *
libc_sys(void)
{
	static const struct ust_netmap_sys lc = { NULL, lc_open, lc_close, lc_ioctl, lc_mmap,
		lc_munmap, lc_poll };

	return &lc;
}

static int
preload_body(void)
{
	const struct ust_netmap_sys *sys = libc_sys();
	struct tport a, b;
	struct pollfd pf[2];
	unsigned char f[60] = { 9, 8, 7 }, got[2048];
	int pp[2];
	unsigned ns;

	if (tp_open(sys, &a, "pl{0", NR_REG_ALL_NIC, 0, 4, 0) != 0 ||
	    tp_open(sys, &b, "pl}0", NR_REG_ALL_NIC, 0, 0, 0) != 0)
		return 30;
	if (txr(&a, 0)->num_slots != 100 || a.reg.nr_extra_bufs != 4) /* from NETMAP_EMU_* */
		return 31;
	if (fcntl(a.fd, F_GETFD) < 0 || pipe(pp) != 0)
		return 32;
	pf[0].fd = b.fd;
	pf[0].events = POLLIN;
	pf[1].fd = pp[0];
	pf[1].events = POLLIN;
	if (poll(pf, 2, 0) != 0)
		return 33;
	if (write(pp[1], "x", 1) != 1 || poll(pf, 2, 1000) != 1 || pf[1].revents != POLLIN)
		return 34;
	if (read(pp[0], got, 1) != 1)
		return 35;
	if (tx_frame(txr(&a, 0), f, sizeof(f), 2048) != 0 || ioctl(a.fd, NIOCTXSYNC, NULL) != 0)
		return 36;
	if (poll(pf, 2, 1000) != 1 || pf[0].revents != POLLIN)
		return 37;
	if (rx_frame(rxr(&b, 0), got, sizeof(got), &ns) != 60 || memcmp(got, f, 60) != 0)
		return 38;
	/* a forked child closing the descriptors leaves them to the parent */
	{
		pid_t pid = fork();
		int st = 0;

		if (pid == 0) {
			close(a.fd);
			close(b.fd);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
			return 40;
		if (a.nifp->ni_bufs_head == 0) /* the child unregistered a */
			return 42;
	}
	if (tx_frame(txr(&a, 0), f, sizeof(f), 2048) != 0 || ioctl(a.fd, NIOCTXSYNC, NULL) != 0 ||
	    poll(pf, 1, 1000) != 1 || rx_frame(rxr(&b, 0), got, sizeof(got), &ns) != 60)
		return 41;
	/* strict mode is on: a bad head fails the sync */
	rxr(&b, 0)->head = 99;
	if (ioctl(b.fd, NIOCRXSYNC, NULL) != -1 || errno != EINVAL)
		return 39;
	tp_close(&a);
	tp_close(&b);
	close(pp[0]);
	close(pp[1]);
	return 0;
}

__attribute__((constructor)) static void
preload_child(void)
{
	if (getenv("NM_EMU_PRELOAD_CHILD") != NULL)
		_exit(preload_body());
}

TEST(preload_form)
{
	pid_t pid;
	int st = 0;

#ifdef NM_EMU_CROSS
	printf("SKIP: a cross build runs its tests under qemu-user, where LD_PRELOAD "
	       "reaches the host's loader first\n");
	exit(SKIP_CODE);
#endif
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		const char *asan = getenv("ASAN_OPTIONS");
		char opts[512];

		/* ASan wants its runtime first; the emulator comes first here */
		snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", asan ? asan : "",
		    asan ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
		setenv("LD_PRELOAD", NM_EMU_PRELOAD_PATH, 1);
		setenv("NM_EMU_PRELOAD_CHILD", "1", 1);
		setenv("NETMAP_EMU_SLOTS", "100", 1);
		setenv("NETMAP_EMU_PARANOID", "1", 1);
		execl("/proc/self/exe", "test_nm_emu", (char *)NULL);
		_exit(99);
	}
	REQUIRE_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

/* One end of a randomised run: what it sent and expects, its spares. */
struct rend {
	struct tport *p;
	unsigned sent, got;
	uint32_t spare[64];
	unsigned nspare;
};

static uint64_t
rnd(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

/* Takes what arrived on e's rx ring, checking order and bytes; swaps
 * spares into some slots (zero copy) and keeps the buffers taken. */
static int
rend_receive(struct rend *e, uint64_t *x)
{
	struct netmap_ring *r = rxr(e->p, 0);
	unsigned char got[9000], want[9000];

	for (;;) {
		uint32_t i = r->head;
		size_t off = 0;
		int whole = 0;

		for (uint32_t j = i; j != r->tail; j = nm_ring_next(r, j)) {
			if (!(r->slot[j].flags & NS_MOREFRAG)) {
				whole = 1;
				break;
			}
		}
		if (!whole)
			return 0;
		for (;;) {
			struct netmap_slot *s = &r->slot[i];
			int more = (s->flags & NS_MOREFRAG) != 0;

			if (off + s->len > sizeof(got))
				return -1;
			memcpy(got + off, NETMAP_BUF(r, s->buf_idx), s->len);
			off += s->len;
			if (e->nspare > 0 && e->nspare < 64 && (rnd(x) & 1)) {
				uint32_t take = s->buf_idx;

				s->buf_idx = e->spare[--e->nspare];
				s->flags |= NS_BUF_CHANGED;
				e->spare[e->nspare++] = take;
			}
			i = nm_ring_next(r, i);
			if (!more)
				break;
		}
		r->head = r->cur = i;
		fill_pattern(want, off, e->got);
		if (memcmp(want, got, off) != 0)
			return -1;
		e->got++;
	}
}

static void
random_tweak(struct nm_emu_config *c)
{
	uint64_t x = c->seed * 977 + 5;

	/* a ring holds the longest chain: 64 slots and one always empty */
	c->num_slots = 66 + (uint32_t)(rnd(&x) % 300);
	c->frag_size = (rnd(&x) & 1) ? 64 + (uint32_t)(rnd(&x) % 2000) : 0;
	c->swap_rx = rnd(&x) & 1;
	c->permute_bufs = rnd(&x) & 1;
	c->lazy_tx = (uint32_t)(rnd(&x) % 5);
	c->partial_tx = rnd(&x) & 1;
	/* legal accesses only here: paranoid mode must not fault them */
	c->paranoid = (rnd(&x) & 3) == 0;
}

TEST(random_ops_keep_the_books)
{
	for (unsigned round = 0; round < 12; round++) {
		struct nm_emu_config cfg;
		struct nm_emu *emu;
		struct tport a, b;
		struct rend ea = { &a, 0, 0, { 0 }, 0 }, eb = { &b, 0, 0, { 0 }, 0 };
		struct rend *ends[2] = { &ea, &eb };
		uint64_t x = ust_test_seed * 1000 + round;
		char msg[256];
		unsigned idle = 0;

		nm_emu_config_init(&cfg);
		cfg.num_bufs = 4096;
		cfg.seed = x;
		random_tweak(&cfg);
		emu = nm_emu_create(&cfg);
		REQUIRE_EQ(pair_open(emu, &a, &b, "r", 32), 0);
		for (uint32_t bi = a.nifp->ni_bufs_head; bi != 0 && ea.nspare < 32;) {
			ea.spare[ea.nspare++] = bi;
			memcpy(&bi, NETMAP_BUF(txr(&a, 0), bi), 4);
		}
		for (unsigned op = 0; op < 4000 || idle < 50; op++) {
			struct rend *e = ends[rnd(&x) & 1];
			unsigned char f[9000];
			unsigned before = ea.got + eb.got;

			switch (op < 4000 ? rnd(&x) % 4 : 4) {
			case 0: {
				size_t l = 60 + (size_t)(rnd(&x) % 5000);

				fill_pattern(f, l, e->sent);
				if (tx_frame(txr(e->p, 0), f, l, 2048) == 0)
					e->sent++;
				break;
			}
			case 1:
				CHECK_EQ(tp_sync(e->p, 1), 0);
				break;
			case 2:
				CHECK_EQ(rend_receive(e, &x), 0);
				break;
			case 3:
				CHECK_EQ(tp_sync(e->p, 0), 0);
				break;
			default: /* drain */
				for (int k = 0; k < 2; k++) {
					CHECK_EQ(tp_sync(ends[k]->p, 1), 0);
					CHECK_EQ(tp_sync(ends[1 - k]->p, 0), 0);
					CHECK_EQ(rend_receive(ends[1 - k], &x), 0);
				}
				idle = ea.got + eb.got == before ? idle + 1 : 0;
				break;
			}
			if (nm_emu_check(emu, msg, sizeof(msg)) != 0) {
				UST_FAIL_AT(__FILE__, __LINE__, "round %u op %u: %s", round, op,
				    msg);
				return;
			}
			if (ust_test_failures)
				return;
		}
		CHECK_EQ(eb.got, ea.sent);
		CHECK_EQ(ea.got, eb.sent);
		CHECK(ea.sent > 100 && eb.sent > 100);
		/* the spares go back on the list for the kernel to free */
		a.nifp->ni_bufs_head = 0;
		for (unsigned k = 0; k < ea.nspare; k++) {
			memcpy(NETMAP_BUF(txr(&a, 0), ea.spare[k]), &a.nifp->ni_bufs_head, 4);
			a.nifp->ni_bufs_head = ea.spare[k];
		}
		CHECK_EQ(nm_emu_violations(emu, msg, sizeof(msg)), 0);
		tp_close(&a);
		tp_close(&b);
		CHECK_EQ(nm_emu_leaked_bufs(emu), 0);
		nm_emu_destroy(emu);
	}
}

/* poll's implicit syncs: txsync unless NR_NO_TX_POLL, rxsync on POLLIN or
 * with NR_DO_RX_POLL; NR_TX_RINGS_ONLY binds no rx ring. */
TEST(poll_flags)
{
	struct nm_emu *emu = emu_make(250, NULL);
	const struct ust_netmap_sys *sys = nm_emu_sys(emu);
	struct tport a, b, c;
	struct pollfd pf = { .fd = -1, .events = POLLIN, .revents = 0 };

	REQUIRE(emu != NULL);
	REQUIRE_EQ(tp_open_fl(sys, &a, "f{0", NR_REG_ALL_NIC, 0, 0, 0, NR_NO_TX_POLL), 0);
	REQUIRE_EQ(tp_open_fl(sys, &b, "f}0", NR_REG_ALL_NIC, 0, 0, 0, NR_DO_RX_POLL), 0);
	tx_slots(&a, 3);
	pf.fd = a.fd;
	CHECK_EQ(sys->poll(sys->ctx, &pf, 1, 0), 0); /* POLLIN only: nothing sent */
	pf.fd = b.fd;
	CHECK_EQ(sys->poll(sys->ctx, &pf, 1, 0), 0);
	CHECK_EQ(rxr(&b, 0)->tail, 0);
	pf.fd = a.fd;
	pf.events = POLLOUT; /* POLLOUT: sent */
	CHECK_EQ(sys->poll(sys->ctx, &pf, 1, 0), 1);
	pf.fd = b.fd;
	pf.events = POLLOUT; /* NR_DO_RX_POLL: received without POLLIN */
	CHECK_EQ(sys->poll(sys->ctx, &pf, 1, 0), 1);
	CHECK_EQ(rxr(&b, 0)->tail, 3);
	/* without NR_NO_TX_POLL a POLLIN poll sends */
	tx_slots(&b, 2);
	pf.events = POLLIN;
	CHECK_EQ(sys->poll(sys->ctx, &pf, 1, 0), 1); /* b's rx ring holds 3 */
	REQUIRE_EQ(tp_sync(&a, 0), 0);
	CHECK_EQ(rxr(&a, 0)->tail, 2);
	/* a third descriptor on one end's tx ring only */
	CHECK_EQ(tp_open_fl(sys, &c, "f{0", NR_REG_ALL_NIC, 0, 0, 0, NR_TX_RINGS_ONLY), 0);
	CHECK(c.nifp->ring_ofs[0] != 0);
	CHECK_EQ(c.nifp->ring_ofs[2], 0);
	tp_close(&c);
	pair_close(emu, &a, &b);
}
