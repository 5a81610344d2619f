/*
 * nm_emu.c - the netmap kernel side in user space (see nm_emu.h): memory
 * region, descriptors, register, sync and poll, and the three back ends
 * (in-memory pipes, a VALE-like learning bridge, Linux TAP devices).
 *
 * Call order: open() -> ioctl(NIOCCTRL REGISTER) -> mmap() -> the user
 * moves head/cur -> ioctl(NIOCTXSYNC/NIOCRXSYNC) or poll() ->
 * emu_txsync()/emu_rxsync() -> sync_prologue() (netmap(4): head and cur
 * must lie in [old head, tail], cur at or after head) -> slots_release()
 * (NS_BUF_CHANGED) -> the back end (pipe_push, vale_forward, tap_send,
 * tap_recv) -> tail published -> paranoid_apply() -> events_refresh().
 *
 * Kernel bookkeeping per ring (kring): hwcur = the head the kernel last
 * accepted, hwtail = the tail it last published; the user owns
 * [hwcur, hwtail).  A tx ring's slots [hwtail+1, nxt) are sent and
 * [nxt, hwcur) wait to be sent; an rx ring's [hwtail, ready) hold complete
 * frames not yet published, [ready, nxt) the start of an incomplete
 * NS_MOREFRAG chain, and [nxt, hwcur-1) are free.  kbuf[] is the buffer
 * the kernel believes each slot holds; every buffer is free, in exactly
 * one slot, or in the user's hands (extra buffers, swapped-out ones).
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "nm_emu_int.h"

#define EMU_MAX_FDS 64
#define EMU_MAX_PORTS 64
#define EMU_MAX_MAPS 64
#define EMU_MAX_RINGS 16 /* NIC rings per direction */
#define EMU_MAX_KRINGS (2 * (EMU_MAX_RINGS + 1))
#define EMU_IF_OBJ 1024
#define EMU_RING_OBJS 256
#define EMU_VALE_PORTS 8
#define EMU_VALE_MACS 64
#define EMU_MAX_FRAME 65536

_Static_assert(56 + 8 * EMU_MAX_KRINGS <= EMU_IF_OBJ, "netmap_if object");
_Static_assert(EMU_MAX_KRINGS <= 64, "ring masks");

enum { BS_FREE, BS_RING, BS_USER };
enum { PK_PIPE, PK_VALE, PK_TAP };

struct emu_port;

struct kring {
	struct netmap_ring *ring; /* in the kernel's mapping */
	struct emu_port *port;
	int tx, host;
	unsigned id; /* ring index within its port's tx or rx rings */
	uint32_t n;
	uint32_t *kbuf;
	uint32_t hwcur, hwtail, nxt, ready;
	uint32_t syncs;
	int users, excl;
	int obj;
	struct kring *peer; /* pipe: the other end's rx ring (tx) or tx ring (rx) */
	/* TAP rx: a frame read that did not fit yet */
	unsigned char *stash;
	size_t stash_len;
};

struct emu_vale;

struct emu_port {
	int used, kind;
	char name[NETMAP_REQ_IFNAMSIZ];
	unsigned ntx, nrx, nhost;
	uint32_t slots;
	struct kring kr[EMU_MAX_KRINGS];
	unsigned nkr;
	int refs;
	struct emu_port *pipe_peer;
	int tapfd[EMU_MAX_RINGS];
	struct emu_vale *sw;
};

struct emu_vale {
	int used;
	char name[NETMAP_REQ_IFNAMSIZ];
	struct emu_port *port[EMU_VALE_PORTS];
	struct {
		uint8_t mac[6];
		int port;
	} mac[EMU_VALE_MACS];
	unsigned nmac;
};

struct emu_fd {
	int used, fd, evfd, ev_set;
	struct emu_port *port;
	int ifobj;
	uint64_t txmask, rxmask;
	uint64_t flags;
};

struct emu_map {
	char *addr;
	size_t len;
	int64_t off;
	int prot;
};

struct nm_emu {
	pthread_mutex_t mtx;
	struct nm_emu_config cfg;
	struct nm_emu_host host;
	struct ust_netmap_sys sys;
	int verbose;
	uint64_t rng;
	unsigned violations;
	char last_violation[256];
	unsigned leaked;
	/* the region */
	int memfd;
	char *mem;
	size_t memsize, ring_obj, pool_if, pool_ring, pool_buf;
	uint32_t nbufs, bsz;
	uint8_t *bstate;
	uint8_t *bprot; /* paranoid: 1 where the user's mappings are writable */
	uint32_t *freel;
	uint32_t nfree;
	uint8_t ifobj_used[EMU_MAX_FDS];
	uint8_t ringobj_used[EMU_RING_OBJS];
	struct emu_fd fds[EMU_MAX_FDS];
	struct emu_port ports[EMU_MAX_PORTS];
	struct emu_vale vales[4];
	struct emu_map maps[EMU_MAX_MAPS];
	unsigned char *scratch;
};

/* ------------------------------------------------------------------------
 * Small helpers.
 */

static uint64_t
emu_rand(struct nm_emu *emu)
{
	/* xorshift64*: reproducible from cfg.seed */
	uint64_t x = emu->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	emu->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t
rnext(const struct kring *kr, uint32_t i)
{
	return i + 1 == kr->n ? 0 : i + 1;
}

static uint32_t
rdist(const struct kring *kr, uint32_t from, uint32_t to)
{
	return to >= from ? to - from : to + kr->n - from;
}

static void
put32(void *base, size_t off, uint32_t v)
{
	memcpy((char *)base + off, &v, sizeof(v));
}

static void
put16(void *base, size_t off, uint16_t v)
{
	memcpy((char *)base + off, &v, sizeof(v));
}

static void
put64(void *base, size_t off, int64_t v)
{
	memcpy((char *)base + off, &v, sizeof(v));
}

/* src into dst, cut to fit, NUL-terminated. */
static void
name_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static char *
buf_addr(struct nm_emu *emu, uint32_t idx)
{
	return emu->mem + emu->pool_buf + (size_t)idx * emu->bsz;
}

static void violate(struct nm_emu *emu, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
violate(struct nm_emu *emu, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emu->violations++;
	snprintf(emu->last_violation, sizeof(emu->last_violation), "%s (nm_emu seed %" PRIu64 ")",
	    msg, emu->cfg.seed);
	/* the first one always, so that a failing test's log has the seed */
	if (emu->verbose || emu->violations == 1)
		fprintf(stderr, "nm_emu: violation: %s\n", emu->last_violation);
}

static int
buf_alloc(struct nm_emu *emu, uint32_t *out)
{
	uint32_t k;

	if (emu->nfree == 0)
		return -1;
	k = emu->nfree - 1;
	if (emu->cfg.permute_bufs) {
		uint32_t j = (uint32_t)(emu_rand(emu) % emu->nfree);
		uint32_t t = emu->freel[j];

		emu->freel[j] = emu->freel[k];
		emu->freel[k] = t;
	}
	*out = emu->freel[k];
	emu->nfree = k;
	return 0;
}

static void
buf_free(struct nm_emu *emu, uint32_t idx)
{
	emu->bstate[idx] = BS_FREE;
	emu->freel[emu->nfree++] = idx;
}

/* ------------------------------------------------------------------------
 * Configuration and the region.
 */

void
nm_emu_config_init(struct nm_emu_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->num_slots = 250;
	cfg->max_slots = 1024;
	cfg->buf_size = 2048;
	cfg->num_bufs = 16384;
	cfg->max_extra_bufs = 4096;
	cfg->strict = 1;
	cfg->seed = 1;
	cfg->pipe_rings = 1;
	cfg->tap_rings = 1;
	cfg->tap_up = 1;
	cfg->tap_create = 1;
	cfg->device = "/dev/netmap";
}

static int
env_num(const char *name, uint64_t *v, char *err, size_t errlen)
{
	const char *s = getenv(name);
	char *end;

	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0') {
		if (err != NULL)
			snprintf(err, errlen, "%s=%s: not a number", name, s);
		return -1;
	}
	return 1;
}

int
nm_emu_config_env(struct nm_emu_config *cfg, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off, size;
	} tab[] = {
#define F(n, f) { n, offsetof(struct nm_emu_config, f), sizeof(((struct nm_emu_config *)0)->f) }
		F("NETMAP_EMU_SLOTS", num_slots),
		F("NETMAP_EMU_MAX_SLOTS", max_slots),
		F("NETMAP_EMU_BUF_SIZE", buf_size),
		F("NETMAP_EMU_BUFS", num_bufs),
		F("NETMAP_EMU_MAX_EXTRA", max_extra_bufs),
		F("NETMAP_EMU_STRICT", strict),
		F("NETMAP_EMU_PERMUTE", permute_bufs),
		F("NETMAP_EMU_LAZY_TX", lazy_tx),
		F("NETMAP_EMU_PARTIAL_TX", partial_tx),
		F("NETMAP_EMU_SWAP_RX", swap_rx),
		F("NETMAP_EMU_FRAG", frag_size),
		F("NETMAP_EMU_PARANOID", paranoid),
		F("NETMAP_EMU_SEED", seed),
		F("NETMAP_EMU_PIPE_RINGS", pipe_rings),
		F("NETMAP_EMU_TAP_RINGS", tap_rings),
		F("NETMAP_EMU_TAP_UP", tap_up),
		F("NETMAP_EMU_TAP_CREATE", tap_create),
#undef F
	};
	const char *dev = getenv("NETMAP_EMU_DEVICE");

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		uint64_t v;
		int r = env_num(tab[i].name, &v, err, errlen);
		char *p = (char *)cfg + tab[i].off;

		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (tab[i].size == 1) {
			uint8_t x = (uint8_t)v;
			memcpy(p, &x, 1);
		} else if (tab[i].size == 4) {
			uint32_t x = (uint32_t)v;
			memcpy(p, &x, 4);
		} else {
			memcpy(p, &v, 8);
		}
	}
	if (dev != NULL && *dev != '\0')
		cfg->device = dev;
	return 0;
}

static size_t
round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static int
region_create(struct nm_emu *emu)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const struct nm_emu_config *c = &emu->cfg;

	emu->bsz = c->buf_size;
	if (c->paranoid)
		emu->bsz = (uint32_t)round_up(emu->bsz, page);
	emu->nbufs = c->num_bufs;
	emu->ring_obj =
	    round_up(sizeof(struct netmap_ring) + (size_t)c->max_slots * sizeof(struct netmap_slot),
	        NM_CACHE_ALIGN);
	emu->pool_if = 0;
	emu->pool_ring = round_up((size_t)EMU_MAX_FDS * EMU_IF_OBJ, page);
	emu->pool_buf = round_up(emu->pool_ring + (size_t)EMU_RING_OBJS * emu->ring_obj, page);
	emu->memsize = emu->pool_buf + (size_t)emu->nbufs * emu->bsz;
	emu->memfd = memfd_create("nm_emu", MFD_CLOEXEC);
	if (emu->memfd < 0)
		return -1;
	if (ftruncate(emu->memfd, (off_t)emu->memsize) != 0)
		return -1;
	emu->mem =
	    emu->host.mmap(NULL, emu->memsize, PROT_READ | PROT_WRITE, MAP_SHARED, emu->memfd, 0);
	if (emu->mem == MAP_FAILED) {
		emu->mem = NULL;
		return -1;
	}
	emu->bstate = calloc(emu->nbufs, 1);
	emu->bprot = calloc(emu->nbufs, 1);
	emu->freel = calloc(emu->nbufs, sizeof(uint32_t));
	emu->scratch = malloc(EMU_MAX_FRAME + (size_t)NETMAP_MAX_FRAGS * emu->bsz);
	if (emu->bstate == NULL || emu->bprot == NULL || emu->freel == NULL || emu->scratch == NULL)
		return -1;
	/* Buffers 0 and 1 are reserved (netmap(4)); the rest free, handed
	 * out from the end of the list (lowest index first unless permuted). */
	emu->bstate[0] = emu->bstate[1] = BS_RING;
	emu->nfree = 0;
	for (uint32_t i = emu->nbufs; i-- > 2;)
		emu->freel[emu->nfree++] = i;
	return 0;
}

static void
host_libc(struct nm_emu_host *h)
{
	h->open = open;
	h->close = close;
	h->ioctl = ioctl;
	h->mmap = mmap;
	h->munmap = munmap;
	h->poll = poll;
}

static const struct ust_netmap_sys emu_sys_template;

struct nm_emu *
nm_emu_create_host(const struct nm_emu_config *cfg, const struct nm_emu_host *host)
{
	struct nm_emu *emu;
	const char *v = getenv("NETMAP_EMU_VERBOSE");

	if (cfg->num_slots < 2 || cfg->max_slots < cfg->num_slots || cfg->buf_size < 64 ||
	    cfg->num_bufs < 16 || cfg->pipe_rings < 1 || cfg->pipe_rings > EMU_MAX_RINGS ||
	    cfg->tap_rings < 1 || cfg->tap_rings > EMU_MAX_RINGS || cfg->device == NULL) {
		errno = EINVAL;
		return NULL;
	}
	emu = calloc(1, sizeof(*emu));
	if (emu == NULL)
		return NULL;
	pthread_mutex_init(&emu->mtx, NULL);
	emu->cfg = *cfg;
	if (host != NULL)
		emu->host = *host;
	else
		host_libc(&emu->host);
	emu->sys = emu_sys_template;
	emu->sys.ctx = emu;
	emu->rng = cfg->seed ? cfg->seed : 0x9E3779B97F4A7C15ULL;
	emu->verbose = v != NULL && *v != '\0' && *v != '0';
	emu->memfd = -1;
	if (region_create(emu) != 0) {
		int e = errno ? errno : ENOMEM;

		nm_emu_destroy(emu);
		errno = e;
		return NULL;
	}
	if (emu->verbose)
		fprintf(stderr,
		    "nm_emu: seed %" PRIu64 " slots %u bufs %u x %u strict %u permute %u "
		    "lazy_tx %u partial_tx %u swap_rx %u frag %u paranoid %u\n",
		    cfg->seed, cfg->num_slots, emu->nbufs, emu->bsz, cfg->strict, cfg->permute_bufs,
		    cfg->lazy_tx, cfg->partial_tx, cfg->swap_rx, cfg->frag_size, cfg->paranoid);
	return emu;
}

struct nm_emu *
nm_emu_create(const struct nm_emu_config *cfg)
{
	return nm_emu_create_host(cfg, NULL);
}

const struct ust_netmap_sys *
nm_emu_sys(struct nm_emu *emu)
{
	return &emu->sys;
}

unsigned
nm_emu_violations(const struct nm_emu *emu, char *last_msg, size_t len)
{
	struct nm_emu *e = (struct nm_emu *)(uintptr_t)emu;
	unsigned n;

	pthread_mutex_lock(&e->mtx);
	n = e->violations;
	if (last_msg != NULL && len > 0)
		snprintf(last_msg, len, "%s", e->last_violation);
	pthread_mutex_unlock(&e->mtx);
	return n;
}

unsigned
nm_emu_user_bufs(const struct nm_emu *emu)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < emu->nbufs; i++)
		n += emu->bstate[i] == BS_USER;
	return n;
}

unsigned
nm_emu_leaked_bufs(const struct nm_emu *emu)
{
	return emu->leaked;
}

static int
check_kring(const struct nm_emu *emu, const struct kring *kr, uint8_t *seen, char *msg, size_t len)
{
	const struct netmap_ring *r = kr->ring;
	uint32_t first = kr->tx ? rnext(kr, kr->hwtail) : kr->hwtail;

	if (kr->hwcur >= kr->n || kr->hwtail >= kr->n || kr->nxt >= kr->n || kr->ready >= kr->n) {
		snprintf(msg, len, "%s: index out of range", kr->port->name);
		return -1;
	}
	if (kr->tx ? rdist(kr, first, kr->nxt) > rdist(kr, first, kr->hwcur) :
	             (rdist(kr, kr->hwcur, kr->hwtail) > rdist(kr, kr->hwcur, kr->ready) ||
	                 rdist(kr, kr->hwcur, kr->ready) > rdist(kr, kr->hwcur, kr->nxt))) {
		snprintf(msg, len, "%s %s ring %u: hwcur %u hwtail %u nxt %u ready %u out of order",
		    kr->port->name, kr->tx ? "tx" : "rx", kr->id, kr->hwcur, kr->hwtail, kr->nxt,
		    kr->ready);
		return -1;
	}
	for (uint32_t i = 0; i < kr->n; i++) {
		uint32_t b = kr->kbuf[i];

		if (b < 2 || b >= emu->nbufs || emu->bstate[b] != BS_RING || seen[b]++) {
			snprintf(msg, len, "%s slot %u: buffer %u twice or not the ring's",
			    kr->port->name, i, b);
			return -1;
		}
	}
	/* the kernel's part, [hwtail, hwcur), as the kernel knows it */
	for (uint32_t i = kr->hwtail; i != kr->hwcur; i = rnext(kr, i))
		if (r->slot[i].buf_idx != kr->kbuf[i]) {
			snprintf(msg, len, "%s %s slot %u: user sees buffer %u, kernel has %u",
			    kr->port->name, kr->tx ? "tx" : "rx", i, r->slot[i].buf_idx,
			    kr->kbuf[i]);
			return -1;
		}
	return 0;
}

int
nm_emu_check(const struct nm_emu *emu, char *msg, size_t len)
{
	struct nm_emu *e = (struct nm_emu *)(uintptr_t)emu;
	uint8_t *seen = calloc(emu->nbufs, 1);
	int rc = 0;

	if (seen == NULL)
		return -1;
	pthread_mutex_lock(&e->mtx);
	for (uint32_t k = 0; k < e->nfree && rc == 0; k++) {
		uint32_t b = e->freel[k];

		if (b < 2 || b >= e->nbufs || e->bstate[b] != BS_FREE || seen[b]++) {
			snprintf(msg, len, "free list: buffer %u twice or not free", b);
			rc = -1;
		}
	}
	for (int p = 0; p < EMU_MAX_PORTS && rc == 0; p++)
		for (unsigned k = 0; e->ports[p].used && k < e->ports[p].nkr && rc == 0; k++)
			rc = check_kring(e, &e->ports[p].kr[k], seen, msg, len);
	for (uint32_t b = 2; b < e->nbufs && rc == 0; b++)
		if (!seen[b] && e->bstate[b] != BS_USER) {
			snprintf(msg, len, "buffer %u is nowhere", b);
			rc = -1;
		}
	pthread_mutex_unlock(&e->mtx);
	free(seen);
	return rc;
}

/* ------------------------------------------------------------------------
 * Descriptors and maps.
 */

static struct emu_fd *
fd_find(struct nm_emu *emu, int fd)
{
	if (fd < 0)
		return NULL;
	for (int i = 0; i < EMU_MAX_FDS; i++)
		if (emu->fds[i].used && emu->fds[i].fd == fd)
			return &emu->fds[i];
	return NULL;
}

int
nm_emu_owns_fd(const struct nm_emu *emu, int fd)
{
	struct nm_emu *e = (struct nm_emu *)(uintptr_t)emu;
	int r;

	pthread_mutex_lock(&e->mtx);
	r = fd_find(e, fd) != NULL;
	pthread_mutex_unlock(&e->mtx);
	return r;
}

int
nm_emu_any_fd(const struct nm_emu *emu, const struct pollfd *fds, unsigned long nfds)
{
	struct nm_emu *e = (struct nm_emu *)(uintptr_t)emu;
	int r = 0;

	pthread_mutex_lock(&e->mtx);
	for (unsigned long i = 0; i < nfds && !r; i++)
		r = fd_find(e, fds[i].fd) != NULL;
	pthread_mutex_unlock(&e->mtx);
	return r;
}

int
nm_emu_owns_map(const struct nm_emu *emu, const void *addr, size_t len)
{
	struct nm_emu *e = (struct nm_emu *)(uintptr_t)emu;
	const char *a = addr;
	int r = 0;

	pthread_mutex_lock(&e->mtx);
	for (int i = 0; i < EMU_MAX_MAPS && !r; i++) {
		const struct emu_map *m = &e->maps[i];

		r = m->addr != NULL && a >= m->addr && a + len <= m->addr + m->len;
	}
	pthread_mutex_unlock(&e->mtx);
	return r;
}

/* ------------------------------------------------------------------------
 * Paranoid mode: between calls, the user's mappings of every buffer the
 * kernel owns (free, or in the kernel's part of a ring) are PROT_NONE.
 */

static void
map_protect(struct nm_emu *emu, const struct emu_map *m, uint32_t first, uint32_t count, int rw)
{
	int64_t start = (int64_t)(emu->pool_buf + (size_t)first * emu->bsz) - m->off;
	size_t len = (size_t)count * emu->bsz;

	if (start < 0 || (size_t)start + len > m->len)
		return; /* the map does not cover these buffers */
	if (mprotect(m->addr + start, len, rw ? m->prot : PROT_NONE) != 0 && emu->verbose)
		perror("nm_emu: mprotect");
}

static void
paranoid_apply(struct nm_emu *emu, int all)
{
	uint8_t *want;

	if (!emu->cfg.paranoid)
		return;
	want = calloc(emu->nbufs, 1);
	if (want == NULL)
		return;
	for (uint32_t b = 2; b < emu->nbufs; b++)
		want[b] = emu->bstate[b] == BS_USER;
	for (int p = 0; p < EMU_MAX_PORTS; p++) {
		struct emu_port *port = &emu->ports[p];

		if (!port->used)
			continue;
		for (unsigned k = 0; k < port->nkr; k++) {
			struct kring *kr = &port->kr[k];

			for (uint32_t i = kr->hwcur; i != kr->hwtail; i = rnext(kr, i))
				want[kr->kbuf[i]] = 1;
		}
	}
	for (uint32_t b = 2; b < emu->nbufs;) {
		uint32_t e = b;

		if (!all && want[b] == emu->bprot[b]) {
			b++;
			continue;
		}
		while (e < emu->nbufs && want[e] == want[b] && (all || want[e] != emu->bprot[e]))
			e++;
		for (int i = 0; i < EMU_MAX_MAPS; i++)
			if (emu->maps[i].addr != NULL)
				map_protect(emu, &emu->maps[i], b, e - b, want[b]);
		memset(emu->bprot + b, want[b], e - b);
		b = e;
	}
	free(want);
}

/* ------------------------------------------------------------------------
 * Ports and rings.
 */

static void
kring_init_ring(struct nm_emu *emu, struct kring *kr)
{
	struct netmap_ring *r = kr->ring;
	int64_t bofs = (int64_t)emu->pool_buf - (int64_t)((char *)r - emu->mem);

	memset(r, 0, sizeof(*r));
	put64(r, offsetof(struct netmap_ring, buf_ofs), bofs);
	put32(r, offsetof(struct netmap_ring, num_slots), kr->n);
	put32(r, offsetof(struct netmap_ring, nr_buf_size), emu->bsz);
	put16(r, offsetof(struct netmap_ring, ringid), (uint16_t)kr->id);
	put16(r, offsetof(struct netmap_ring, dir), (uint16_t)(kr->tx ? 0 : 1));
	kr->hwcur = kr->nxt = kr->ready = 0;
	kr->hwtail = kr->tx ? kr->n - 1 : 0;
	r->head = r->cur = 0;
	r->tail = kr->hwtail;
	for (uint32_t i = 0; i < kr->n; i++) {
		r->slot[i].buf_idx = kr->kbuf[i];
		r->slot[i].len = 0;
		r->slot[i].flags = 0;
		r->slot[i].ptr = 0;
	}
}

static void
port_free(struct nm_emu *emu, struct emu_port *port)
{
	for (unsigned k = 0; k < port->nkr; k++) {
		struct kring *kr = &port->kr[k];

		if (kr->kbuf != NULL)
			for (uint32_t i = 0; i < kr->n; i++)
				buf_free(emu, kr->kbuf[i]);
		free(kr->kbuf);
		free(kr->stash);
		if (kr->obj >= 0)
			emu->ringobj_used[kr->obj] = 0;
	}
	if (port->kind == PK_TAP)
		for (unsigned q = 0; q < port->ntx; q++)
			if (port->tapfd[q] >= 0)
				emu->host.close(port->tapfd[q]);
	if (port->sw != NULL) {
		int left = 0;

		for (int i = 0; i < EMU_VALE_PORTS; i++) {
			if (port->sw->port[i] == port)
				port->sw->port[i] = NULL;
			left |= port->sw->port[i] != NULL;
		}
		/* forget what the switch learnt about this port */
		port->sw->nmac = 0;
		if (!left)
			port->sw->used = 0;
	}
	memset(port, 0, sizeof(*port));
}

static struct emu_port *
port_alloc(struct nm_emu *emu, const char *name, int kind, unsigned ntx, unsigned nhost,
    uint32_t slots)
{
	struct emu_port *port = NULL;

	for (int i = 0; i < EMU_MAX_PORTS && port == NULL; i++)
		if (!emu->ports[i].used)
			port = &emu->ports[i];
	if (port == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(port, 0, sizeof(*port));
	port->used = 1;
	port->kind = kind;
	snprintf(port->name, sizeof(port->name), "%s", name);
	port->ntx = port->nrx = ntx;
	port->nhost = nhost;
	port->slots = slots;
	port->nkr = 2 * (ntx + nhost);
	for (unsigned q = 0; q < EMU_MAX_RINGS; q++)
		port->tapfd[q] = -1;
	for (unsigned k = 0; k < port->nkr; k++) {
		struct kring *kr = &port->kr[k];
		unsigned half = ntx + nhost;
		int obj = -1;

		kr->obj = -1;
		kr->port = port;
		kr->tx = k < half;
		kr->id = k % half;
		kr->host = kr->id >= ntx;
		kr->n = slots;
		for (int o = 0; o < EMU_RING_OBJS && obj < 0; o++)
			if (!emu->ringobj_used[o])
				obj = o;
		kr->kbuf = calloc(slots, sizeof(uint32_t));
		if (obj < 0 || kr->kbuf == NULL)
			goto nomem;
		emu->ringobj_used[obj] = 1;
		kr->obj = obj;
		kr->ring = (struct netmap_ring *)(void *)(emu->mem + emu->pool_ring +
		    (size_t)obj * emu->ring_obj);
		for (uint32_t i = 0; i < slots; i++) {
			if (buf_alloc(emu, &kr->kbuf[i]) != 0) {
				/* give back the ones taken */
				while (i-- > 0)
					buf_free(emu, kr->kbuf[i]);
				free(kr->kbuf);
				kr->kbuf = NULL;
				goto nomem;
			}
			emu->bstate[kr->kbuf[i]] = BS_RING;
		}
		kring_init_ring(emu, kr);
	}
	return port;
nomem:
	port_free(emu, port);
	errno = ENOMEM;
	return NULL;
}

static struct emu_port *
port_find(struct nm_emu *emu, const char *name)
{
	for (int i = 0; i < EMU_MAX_PORTS; i++)
		if (emu->ports[i].used && strcmp(emu->ports[i].name, name) == 0)
			return &emu->ports[i];
	return NULL;
}

static uint32_t
slots_for(const struct nm_emu *emu, uint32_t asked)
{
	if (asked == 0)
		return emu->cfg.num_slots;
	if (asked < 8)
		return 8;
	return asked > emu->cfg.max_slots ? emu->cfg.max_slots : asked;
}

/* A pipe X{N / X}N: both ends made at once, tx ring i of one end feeding
 * rx ring i of the other. */
static struct emu_port *
pipe_get(struct nm_emu *emu, const char *name, uint32_t slots)
{
	char other[NETMAP_REQ_IFNAMSIZ];
	char *brace;
	struct emu_port *a, *b;
	unsigned n = emu->cfg.pipe_rings;

	if ((a = port_find(emu, name)) != NULL)
		return a;
	snprintf(other, sizeof(other), "%s", name);
	brace = strpbrk(other, "{}");
	if (brace == NULL || brace == other || brace[1] == '\0' ||
	    strspn(brace + 1, "0123456789") != strlen(brace + 1)) {
		errno = EINVAL;
		return NULL;
	}
	*brace = *brace == '{' ? '}' : '{';
	if ((a = port_alloc(emu, name, PK_PIPE, n, 0, slots)) == NULL)
		return NULL;
	if ((b = port_alloc(emu, other, PK_PIPE, n, 0, slots)) == NULL) {
		port_free(emu, a);
		return NULL;
	}
	a->pipe_peer = b;
	b->pipe_peer = a;
	for (unsigned q = 0; q < n; q++) {
		a->kr[q].peer = &b->kr[n + q];
		b->kr[n + q].peer = &a->kr[q];
		b->kr[q].peer = &a->kr[n + q];
		a->kr[n + q].peer = &b->kr[q];
	}
	return a;
}

static int tap_open(struct nm_emu *emu, struct emu_port *port);

static struct emu_port *
tap_get(struct nm_emu *emu, const char *name, uint32_t slots)
{
	struct emu_port *port = port_find(emu, name);

	if (port != NULL)
		return port;
	if (strlen(name) >= IFNAMSIZ || strpbrk(name, ":/ {}") != NULL) {
		errno = ENXIO;
		return NULL;
	}
	if (!emu->cfg.tap_create && if_nametoindex(name) == 0) {
		errno = ENXIO;
		return NULL;
	}
	port = port_alloc(emu, name, PK_TAP, emu->cfg.tap_rings, 1, slots);
	if (port == NULL)
		return NULL;
	if (tap_open(emu, port) != 0) {
		int e = errno;

		port_free(emu, port);
		errno = e;
		return NULL;
	}
	for (unsigned k = 0; k < port->nkr; k++) {
		if (port->kr[k].tx)
			continue;
		port->kr[k].stash = malloc(EMU_MAX_FRAME);
		if (port->kr[k].stash == NULL) {
			port_free(emu, port);
			errno = ENOMEM;
			return NULL;
		}
	}
	return port;
}

static struct emu_port *
vale_get(struct nm_emu *emu, const char *name, uint32_t slots)
{
	struct emu_port *port = port_find(emu, name);
	const char *colon = strchr(name, ':');
	struct emu_vale *sw = NULL;
	size_t swlen;
	int slot = -1;

	if (port != NULL)
		return port;
	if (colon == NULL || colon[1] == '\0' || (size_t)(colon - name) >= sizeof(sw->name)) {
		errno = EINVAL;
		return NULL;
	}
	swlen = (size_t)(colon - name);
	for (int i = 0; i < 4 && sw == NULL; i++)
		if (emu->vales[i].used && strlen(emu->vales[i].name) == swlen &&
		    memcmp(emu->vales[i].name, name, swlen) == 0)
			sw = &emu->vales[i];
	for (int i = 0; i < 4 && sw == NULL; i++)
		if (!emu->vales[i].used) {
			sw = &emu->vales[i];
			memset(sw, 0, sizeof(*sw));
			memcpy(sw->name, name, swlen);
		}
	if (sw == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (int i = 0; i < EMU_VALE_PORTS && slot < 0; i++)
		if (sw->port[i] == NULL)
			slot = i;
	if (slot < 0) {
		errno = ENOMEM;
		return NULL;
	}
	if ((port = port_alloc(emu, name, PK_VALE, 1, 0, slots)) == NULL)
		return NULL;
	sw->used = 1;
	sw->port[slot] = port;
	port->sw = sw;
	return port;
}

/* ------------------------------------------------------------------------
 * Register.
 */

static struct netmap_if *
fd_nifp(struct nm_emu *emu, const struct emu_fd *f)
{
	return (
	    struct netmap_if *)(void *)(emu->mem + emu->pool_if + (size_t)f->ifobj * EMU_IF_OBJ);
}

/* Rings a register binds, as kring masks; 0 and errno EINVAL if none. */
static int
ring_masks(const struct emu_port *port, const struct nmreq_register *reg, uint64_t *txm,
    uint64_t *rxm)
{
	unsigned half = port->ntx + port->nhost;
	uint64_t nic = 0, host = 0, one;
	uint64_t sel;

	for (unsigned q = 0; q < port->ntx; q++)
		nic |= 1ULL << q;
	for (unsigned q = 0; q < port->nhost; q++)
		host |= 1ULL << (port->ntx + q);
	switch (reg->nr_mode) {
	case NR_REG_DEFAULT:
	case NR_REG_ALL_NIC:
		sel = nic;
		break;
	case NR_REG_ONE_NIC:
		if (reg->nr_ringid >= port->ntx)
			return -1;
		sel = 1ULL << reg->nr_ringid;
		break;
	case NR_REG_SW:
		sel = host;
		break;
	case NR_REG_ONE_SW:
		if (reg->nr_ringid >= port->nhost)
			return -1;
		sel = 1ULL << (port->ntx + reg->nr_ringid);
		break;
	case NR_REG_NIC_SW:
		sel = nic | host;
		break;
	default:
		return -1;
	}
	if (sel == 0)
		return -1;
	one = sel;
	*txm = (reg->nr_flags & NR_RX_RINGS_ONLY) ? 0 : one;
	*rxm = (reg->nr_flags & NR_TX_RINGS_ONLY) ? 0 : one << half;
	return (*txm | *rxm) != 0 ? 0 : -1;
}

static void tap_epoll(struct nm_emu *emu, struct emu_fd *f);

static int
extra_bufs(struct nm_emu *emu, struct netmap_if *nifp, uint32_t want)
{
	uint32_t head = 0, got = 0;

	if (want > emu->cfg.max_extra_bufs)
		want = emu->cfg.max_extra_bufs;
	/* Linked through each buffer's first 4 bytes, ending with 0
	 * (netmap(4): ni_bufs_head). */
	while (got < want) {
		uint32_t b;

		if (buf_alloc(emu, &b) != 0)
			break;
		emu->bstate[b] = BS_USER;
		memcpy(buf_addr(emu, b), &head, sizeof(head));
		head = b;
		got++;
	}
	nifp->ni_bufs_head = head;
	return (int)got;
}

static void
extra_bufs_free(struct nm_emu *emu, struct netmap_if *nifp)
{
	uint32_t b = nifp->ni_bufs_head;

	for (uint32_t n = 0; b != 0 && n < emu->nbufs; n++) {
		uint32_t next;

		if (b < 2 || b >= emu->nbufs || emu->bstate[b] != BS_USER) {
			if (emu->cfg.strict)
				violate(emu, "ni_bufs_head list holds buffer %u, not the user's",
				    b);
			break;
		}
		memcpy(&next, buf_addr(emu, b), sizeof(next));
		buf_free(emu, b);
		b = next;
	}
	nifp->ni_bufs_head = 0;
}

/* A port (a pipe: both ends) nobody registers goes away; returns err. */
static int
port_put_unused(struct nm_emu *emu, struct emu_port *port, int err)
{
	struct emu_port *peer = port->pipe_peer;

	if (port->refs != 0 || (peer != NULL && peer->refs != 0))
		return err;
	if (peer != NULL)
		port_free(emu, peer);
	port_free(emu, port);
	return err;
}

static int
emu_register(struct nm_emu *emu, struct emu_fd *f, struct nmreq_header *hdr,
    struct nmreq_register *reg)
{
	char name[NETMAP_REQ_IFNAMSIZ];
	struct emu_port *port;
	struct netmap_if *nifp;
	uint64_t txm, rxm, both;
	uint32_t slots, hosts;
	int obj = -1;

	if (f->port != NULL)
		return EBUSY; /* this descriptor is registered already */
	memcpy(name, hdr->nr_name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	if (name[0] == '\0')
		return EINVAL;
	if (strncmp(name, "netmap:", 7) == 0 || strchr(name, '^') != NULL ||
	    strchr(name, '*') != NULL) {
		/* The kernel looks the bare name up: libnetmap strips
		 * "netmap:" and turns the suffixes into nr_mode/nr_ringid. */
		if (emu->cfg.strict)
			violate(emu, "nr_name \"%s\": the kernel takes the bare port name", name);
		return ENXIO;
	}
	slots = slots_for(emu,
	    reg->nr_tx_slots > reg->nr_rx_slots ? reg->nr_tx_slots : reg->nr_rx_slots);
	if (strpbrk(name, "{}") != NULL)
		port = pipe_get(emu, name, slots);
	else if (strncmp(name, "vale", 4) == 0 && strchr(name, ':') != NULL)
		port = vale_get(emu, name, slots);
	else
		port = tap_get(emu, name, slots);
	if (port == NULL)
		return errno;
	if (ring_masks(port, reg, &txm, &rxm) != 0)
		return port_put_unused(emu, port, EINVAL);
	both = txm | rxm;
	for (unsigned k = 0; k < port->nkr; k++) {
		if (!(both & (1ULL << k)))
			continue;
		if (port->kr[k].excl || (port->kr[k].users && (reg->nr_flags & NR_EXCLUSIVE)))
			return port_put_unused(emu, port, EBUSY);
	}
	for (int i = 0; i < EMU_MAX_FDS && obj < 0; i++)
		if (!emu->ifobj_used[i])
			obj = i;
	if (obj < 0)
		return port_put_unused(emu, port, ENOMEM);
	emu->ifobj_used[obj] = 1;
	f->ifobj = obj;
	f->port = port;
	f->txmask = txm;
	f->rxmask = rxm;
	f->flags = reg->nr_flags;
	port->refs++;
	for (unsigned k = 0; k < port->nkr; k++) {
		if (!(both & (1ULL << k)))
			continue;
		port->kr[k].users++;
		port->kr[k].excl = (reg->nr_flags & NR_EXCLUSIVE) != 0;
	}
	nifp = fd_nifp(emu, f);
	hosts = port->nhost ? port->nhost : 1;
	memset(nifp, 0, EMU_IF_OBJ);
	name_copy(nifp->ni_name, sizeof(nifp->ni_name), name);
	put32(nifp, offsetof(struct netmap_if, ni_version), NETMAP_API);
	put32(nifp, offsetof(struct netmap_if, ni_tx_rings), port->ntx);
	put32(nifp, offsetof(struct netmap_if, ni_rx_rings), port->nrx);
	/* A port without host rings still has one (fake, ring_ofs 0) per
	 * direction in its netmap_if, as the kernel's netmap_all_rings()
	 * counts them: the rx rings start after it. */
	put32(nifp, offsetof(struct netmap_if, ni_host_tx_rings), hosts);
	put32(nifp, offsetof(struct netmap_if, ni_host_rx_rings), hosts);
	for (unsigned k = 0; k < port->nkr; k++) {
		unsigned half = port->ntx + port->nhost;
		unsigned idx = k < half ? k : port->ntx + hosts + (k - half);
		ssize_t ofs = 0; /* ring_ofs[] is ssize_t: 4 bytes on a 32-bit host */

		if (both & (1ULL << k))
			ofs = (ssize_t)((char *)port->kr[k].ring - (char *)nifp);
		memcpy((char *)nifp + offsetof(struct netmap_if, ring_ofs) + idx * sizeof(ssize_t),
		    &ofs, sizeof(ofs));
	}
	reg->nr_extra_bufs = (uint32_t)extra_bufs(emu, nifp, reg->nr_extra_bufs);
	reg->nr_offset = (uint64_t)((char *)nifp - emu->mem);
	reg->nr_memsize = emu->memsize;
	reg->nr_tx_slots = reg->nr_rx_slots = port->slots;
	reg->nr_tx_rings = (uint16_t)port->ntx;
	reg->nr_rx_rings = (uint16_t)port->nrx;
	reg->nr_host_tx_rings = reg->nr_host_rx_rings = (uint16_t)port->nhost;
	reg->nr_mem_id = 1;
	if (port->kind == PK_TAP)
		tap_epoll(emu, f);
	return 0;
}

static void
emu_unregister(struct nm_emu *emu, struct emu_fd *f)
{
	struct emu_port *port = f->port;
	uint64_t both = f->txmask | f->rxmask;

	if (port == NULL)
		return;
	extra_bufs_free(emu, fd_nifp(emu, f));
	emu->ifobj_used[f->ifobj] = 0;
	for (unsigned k = 0; k < port->nkr; k++) {
		if (!(both & (1ULL << k)))
			continue;
		port->kr[k].users--;
		port->kr[k].excl = 0;
	}
	f->port = NULL;
	port->refs--;
	(void)port_put_unused(emu, port, 0);
	for (int i = 0; i < EMU_MAX_FDS; i++)
		if (emu->fds[i].used && emu->fds[i].port != NULL)
			return;
	/* Nobody is registered: whatever the users still hold is leaked
	 * (the kernel frees only the rings and the ni_bufs_head list). */
	for (uint32_t b = 2; b < emu->nbufs; b++) {
		if (emu->bstate[b] != BS_USER)
			continue;
		emu->leaked++;
		buf_free(emu, b);
	}
	if (emu->leaked && emu->verbose)
		fprintf(stderr, "nm_emu: %u buffers leaked so far\n", emu->leaked);
}

static int
emu_port_info(struct nm_emu *emu, struct nmreq_header *hdr, struct nmreq_port_info_get *pi)
{
	char name[NETMAP_REQ_IFNAMSIZ];
	struct emu_port *port;

	memcpy(name, hdr->nr_name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	port = port_find(emu, name);
	pi->nr_memsize = emu->memsize;
	pi->nr_mem_id = 1;
	if (port != NULL) {
		pi->nr_tx_slots = pi->nr_rx_slots = port->slots;
		pi->nr_tx_rings = (uint16_t)port->ntx;
		pi->nr_rx_rings = (uint16_t)port->nrx;
		pi->nr_host_tx_rings = pi->nr_host_rx_rings = (uint16_t)port->nhost;
		return 0;
	}
	/* What a register would make, without making it. */
	pi->nr_tx_slots = pi->nr_rx_slots = emu->cfg.num_slots;
	if (strpbrk(name, "{}") != NULL) {
		pi->nr_tx_rings = pi->nr_rx_rings = (uint16_t)emu->cfg.pipe_rings;
		pi->nr_host_tx_rings = pi->nr_host_rx_rings = 0;
	} else if (strncmp(name, "vale", 4) == 0 && strchr(name, ':') != NULL) {
		pi->nr_tx_rings = pi->nr_rx_rings = 1;
		pi->nr_host_tx_rings = pi->nr_host_rx_rings = 0;
	} else {
		if (name[0] == '\0' || strpbrk(name, ":^*") != NULL ||
		    (!emu->cfg.tap_create && if_nametoindex(name) == 0))
			return ENXIO;
		pi->nr_tx_rings = pi->nr_rx_rings = (uint16_t)emu->cfg.tap_rings;
		pi->nr_host_tx_rings = pi->nr_host_rx_rings = 1;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Sync.
 */

/* The kernel's check of what the user wrote (netmap(4)): head in
 * [hwcur, hwtail], cur in [head, hwtail]; the tail is the kernel's. */
static int
sync_prologue(struct nm_emu *emu, struct kring *kr)
{
	struct netmap_ring *r = kr->ring;
	uint32_t head = r->head, cur = r->cur;
	uint32_t span = rdist(kr, kr->hwcur, kr->hwtail);

	if (r->tail != kr->hwtail) {
		if (emu->cfg.strict)
			violate(emu, "%s %s ring %u: tail overwritten (%u, kernel's %u)",
			    kr->port->name, kr->tx ? "tx" : "rx", kr->id, r->tail, kr->hwtail);
		r->tail = kr->hwtail;
	}
	if (head >= kr->n || cur >= kr->n || rdist(kr, kr->hwcur, head) > span ||
	    rdist(kr, kr->hwcur, cur) > span ||
	    rdist(kr, head, cur) > rdist(kr, head, kr->hwtail)) {
		if (emu->cfg.strict)
			violate(emu,
			    "%s %s ring %u: head %u cur %u outside [%u, %u] (n %u): the "
			    "kernel would reinitialise the ring",
			    kr->port->name, kr->tx ? "tx" : "rx", kr->id, head, cur, kr->hwcur,
			    kr->hwtail, kr->n);
		return -1;
	}
	return 0;
}

/* netmap_ring_reinit: the user's view put back to the kernel's. */
static void
ring_reinit(struct kring *kr, uint32_t nbufs)
{
	struct netmap_ring *r = kr->ring;

	r->head = r->cur = kr->hwcur;
	r->tail = kr->hwtail;
	/* the kernel's part as the kernel knows it; bad indices in the
	 * user's part fixed, good ones (swaps not yet released) left */
	for (uint32_t i = kr->hwtail; i != kr->hwcur; i = rnext(kr, i))
		r->slot[i].buf_idx = kr->kbuf[i];
	for (uint32_t i = kr->hwcur; i != kr->hwtail; i = rnext(kr, i))
		if (r->slot[i].buf_idx < 2 || r->slot[i].buf_idx >= nbufs)
			r->slot[i].buf_idx = kr->kbuf[i];
}

/* The slots [hwcur, head) the user hands back: buffer swaps checked and
 * taken over.  -1 at the first bad slot (the ones before stand). */
static int
slots_release(struct nm_emu *emu, struct kring *kr, uint32_t head)
{
	struct netmap_ring *r = kr->ring;

	for (uint32_t i = kr->hwcur; i != head; i = rnext(kr, i)) {
		struct netmap_slot *s = &r->slot[i];
		uint32_t nb = s->buf_idx, ob = kr->kbuf[i];

		if (kr->tx && s->len > emu->bsz) {
			if (emu->cfg.strict)
				violate(emu, "%s tx ring %u slot %u: len %u > buffer size %u",
				    kr->port->name, kr->id, i, s->len, emu->bsz);
			return -1;
		}
		if (nb != ob) {
			if (nb < 2 || nb >= emu->nbufs || emu->bstate[nb] != BS_USER) {
				if (emu->cfg.strict)
					violate(emu,
					    "%s %s ring %u slot %u: buffer %u is not one the "
					    "user holds",
					    kr->port->name, kr->tx ? "tx" : "rx", kr->id, i, nb);
				return -1;
			}
			if (!(s->flags & NS_BUF_CHANGED) && emu->cfg.strict) {
				violate(emu,
				    "%s %s ring %u slot %u: buf_idx changed without NS_BUF_CHANGED",
				    kr->port->name, kr->tx ? "tx" : "rx", kr->id, i);
				return -1;
			}
			emu->bstate[ob] = BS_USER;
			emu->bstate[nb] = BS_RING;
			kr->kbuf[i] = nb;
		}
		s->flags &= (uint16_t)~NS_BUF_CHANGED;
	}
	return 0;
}

static uint32_t
rx_space(const struct kring *kr)
{
	/* free: [nxt, hwcur - 1), one slot always empty */
	uint32_t used = rdist(kr, kr->hwcur, kr->nxt);

	return kr->n - 1 - used;
}

static uint32_t
rx_chunk(const struct nm_emu *emu)
{
	uint32_t c = emu->bsz;

	if (emu->cfg.frag_size != 0 && emu->cfg.frag_size < c)
		c = emu->cfg.frag_size;
	return c;
}

/* The next free rx slot, with a different buffer than the user gave
 * back when swap_rx says so. */
static struct netmap_slot *
rx_take_slot(struct nm_emu *emu, struct kring *kr)
{
	uint32_t i = kr->nxt;
	struct netmap_slot *s = &kr->ring->slot[i];

	if (emu->cfg.swap_rx && (emu_rand(emu) & 1)) {
		uint32_t nb;

		if (buf_alloc(emu, &nb) == 0) {
			buf_free(emu, kr->kbuf[i]);
			emu->bstate[nb] = BS_RING;
			kr->kbuf[i] = nb;
		}
	}
	s->buf_idx = kr->kbuf[i];
	s->flags = 0;
	s->ptr = 0;
	kr->nxt = rnext(kr, i);
	return s;
}

/* Copies a frame into the rx ring as a chain of slots (frag_size bytes
 * each, or more to stay within NETMAP_MAX_FRAGS); 0, -1 when it does not
 * fit now, 1 when it never will (dropped). */
static int
rx_put(struct nm_emu *emu, struct kring *kr, const unsigned char *data, size_t len)
{
	uint32_t chunk = rx_chunk(emu);
	size_t nslots;

	/* split no further than NETMAP_MAX_FRAGS slots */
	if (len > (size_t)chunk * NETMAP_MAX_FRAGS)
		chunk = (uint32_t)((len + NETMAP_MAX_FRAGS - 1) / NETMAP_MAX_FRAGS);
	if (chunk > emu->bsz)
		chunk = emu->bsz;
	nslots = len == 0 ? 1 : (len + chunk - 1) / chunk;

	if (nslots > NETMAP_MAX_FRAGS || nslots >= kr->n)
		return 1;
	if (nslots > rx_space(kr))
		return -1;
	for (size_t k = 0; k < nslots; k++) {
		struct netmap_slot *s = rx_take_slot(emu, kr);
		size_t n = len - k * chunk < chunk ? len - k * chunk : chunk;

		memcpy(buf_addr(emu, s->buf_idx), data + k * chunk, n);
		s->len = (uint16_t)n;
		if (k + 1 < nslots)
			s->flags |= NS_MOREFRAG;
	}
	kr->ready = kr->nxt;
	return 0;
}

/* A complete NS_MOREFRAG chain from the tx ring's pending slots into
 * emu->scratch: slots used, 0 when the chain is not complete yet. */
static uint32_t
tx_gather(struct nm_emu *emu, struct kring *kr, size_t *len)
{
	struct netmap_ring *r = kr->ring;
	uint32_t i = kr->nxt, nslots = 0;
	size_t off = 0;

	while (i != kr->hwcur) {
		const struct netmap_slot *s = &r->slot[i];

		nslots++;
		if (off + s->len <= EMU_MAX_FRAME + (size_t)NETMAP_MAX_FRAGS * emu->bsz)
			memcpy(emu->scratch + off, buf_addr(emu, kr->kbuf[i]), s->len);
		off += s->len;
		i = rnext(kr, i);
		if (!(s->flags & NS_MOREFRAG)) {
			*len = off;
			if (nslots > NETMAP_MAX_FRAGS || off > EMU_MAX_FRAME) {
				if (emu->cfg.strict)
					violate(emu,
					    "%s tx ring %u: frame of %u slots, %zu bytes (max %u "
					    "slots)",
					    kr->port->name, kr->id, nslots, off, NETMAP_MAX_FRAGS);
				*len = 0; /* dropped */
			}
			return nslots;
		}
	}
	return 0;
}

static void
tx_skip(struct kring *kr, uint32_t nslots)
{
	while (nslots-- > 0)
		kr->nxt = rnext(kr, kr->nxt);
}

/* Pipe: pending tx slots of one end into the peer's rx ring, by swapping
 * buffers (netmap pipes move slots, not bytes), or the rest of the frame
 * copied, once the user has released all of it, when it is to be split
 * (frag_size) or given fresh buffers (swap_rx). */
static void
pipe_push(struct nm_emu *emu, struct kring *tx)
{
	struct kring *rx = tx->peer;

	while (tx->nxt != tx->hwcur) {
		uint32_t t = tx->nxt;
		struct netmap_slot *ts = &tx->ring->slot[t];
		int more = (ts->flags & NS_MOREFRAG) != 0;

		if (emu->cfg.frag_size != 0 || (emu->cfg.swap_rx && (emu_rand(emu) & 1))) {
			/* the rest of the frame, whole, copied into fresh slots */
			size_t len = 0;
			uint32_t used = tx_gather(emu, tx, &len);

			if (used == 0 || rx_put(emu, rx, emu->scratch, len) < 0)
				break; /* not all released yet, or no room yet */
			tx_skip(tx, used);
			continue;
		} else {
			uint32_t r = rx->nxt, tmp;
			struct netmap_slot *rs;

			if (rx_space(rx) < 1)
				break;
			rs = &rx->ring->slot[r];
			tmp = rx->kbuf[r];
			rx->kbuf[r] = tx->kbuf[t];
			tx->kbuf[t] = tmp;
			ts->buf_idx = tmp;
			rs->buf_idx = rx->kbuf[r];
			rs->len = ts->len;
			rs->flags = (uint16_t)(ts->flags & NS_MOREFRAG);
			rs->ptr = 0;
			rx->nxt = rnext(rx, r);
			if (!more)
				rx->ready = rx->nxt;
		}
		tx->nxt = rnext(tx, t);
	}
}

static void
vale_forward(struct nm_emu *emu, struct kring *tx)
{
	struct emu_vale *sw = tx->port->sw;
	int src = -1;

	for (int i = 0; i < EMU_VALE_PORTS; i++)
		if (sw->port[i] == tx->port)
			src = i;
	while (tx->nxt != tx->hwcur) {
		size_t len = 0;
		uint32_t used = tx_gather(emu, tx, &len);
		int dst = -1;
		unsigned m;

		if (used == 0)
			break;
		if (len >= 14) {
			const unsigned char *f = emu->scratch;

			/* learn the source, unless it is a group address */
			if (!(f[6] & 1)) {
				for (m = 0; m < sw->nmac && memcmp(sw->mac[m].mac, f + 6, 6) != 0;
				     m++)
					;
				if (m == sw->nmac && sw->nmac < EMU_VALE_MACS)
					memcpy(sw->mac[sw->nmac++].mac, f + 6, 6);
				if (m < EMU_VALE_MACS)
					sw->mac[m].port = src;
			}
			for (m = 0; !(f[0] & 1) && m < sw->nmac; m++)
				if (memcmp(sw->mac[m].mac, f, 6) == 0)
					dst = sw->mac[m].port;
			for (int p = 0; p < EMU_VALE_PORTS; p++) {
				struct emu_port *op = sw->port[p];

				if (op == NULL || p == src || op->refs == 0 ||
				    (dst >= 0 && p != dst))
					continue;
				/* a full rx ring drops, as a switch does */
				(void)rx_put(emu, &op->kr[op->ntx], emu->scratch, len);
			}
		}
		tx_skip(tx, used);
	}
}

static void tap_send(struct nm_emu *emu, struct kring *tx);
static void tap_recv(struct nm_emu *emu, struct kring *rx);

/* Completion: the tx tail moves over sent slots, lazily or partly when
 * the knobs say so. */
static void
tx_complete(struct nm_emu *emu, struct kring *kr)
{
	uint32_t done = rdist(kr, rnext(kr, kr->hwtail), kr->nxt);

	kr->syncs++;
	if (done == 0)
		return;
	if (emu->cfg.lazy_tx > 1 && kr->syncs % emu->cfg.lazy_tx != 0)
		return;
	if (emu->cfg.partial_tx)
		done = 1 + (uint32_t)(emu_rand(emu) % done);
	while (done-- > 0)
		kr->hwtail = rnext(kr, kr->hwtail);
}

static void
ring_stamp(struct kring *kr)
{
	gettimeofday(&kr->ring->ts, NULL);
	kr->ring->tail = kr->hwtail;
}

/* The prologue and the released slots: -1 when strict mode fails the
 * call; else the ring goes on (reinitialised if it was bad, as the
 * kernel does). */
static int
sync_begin(struct nm_emu *emu, struct kring *kr)
{
	uint32_t head = kr->ring->head;

	if (sync_prologue(emu, kr) == 0 && slots_release(emu, kr, head) == 0) {
		kr->hwcur = head;
		return 0;
	}
	ring_reinit(kr, emu->nbufs);
	return emu->cfg.strict ? -1 : 0;
}

static int
kring_txsync(struct nm_emu *emu, struct kring *kr)
{
	if (sync_begin(emu, kr) != 0)
		return -1;
	if (kr->port->kind == PK_PIPE)
		pipe_push(emu, kr);
	else if (kr->port->kind == PK_VALE)
		vale_forward(emu, kr);
	else
		tap_send(emu, kr);
	tx_complete(emu, kr);
	ring_stamp(kr);
	return 0;
}

static int
kring_rxsync(struct nm_emu *emu, struct kring *kr)
{
	if (sync_begin(emu, kr) != 0)
		return -1;
	if (kr->port->kind == PK_PIPE)
		pipe_push(emu, kr->peer);
	else if (kr->port->kind == PK_TAP)
		tap_recv(emu, kr);
	kr->hwtail = kr->ready;
	ring_stamp(kr);
	return 0;
}

static int
fd_sync(struct nm_emu *emu, struct emu_fd *f, int tx)
{
	uint64_t mask = tx ? f->txmask : f->rxmask;
	int err = 0;

	for (unsigned k = 0; k < f->port->nkr; k++) {
		if (!(mask & (1ULL << k)))
			continue;
		if ((tx ? kring_txsync(emu, &f->port->kr[k]) :
		          kring_rxsync(emu, &f->port->kr[k])) != 0)
			err = -1;
	}
	return err;
}

/* Each descriptor's eventfd: set while a bound rx ring has frames an
 * rxsync would publish (or a pipe peer has frames waiting to move). */
static void
events_refresh(struct nm_emu *emu)
{
	for (int i = 0; i < EMU_MAX_FDS; i++) {
		struct emu_fd *f = &emu->fds[i];
		int want = 0;

		if (!f->used || f->port == NULL)
			continue;
		for (unsigned k = 0; k < f->port->nkr && !want; k++) {
			const struct kring *kr = &f->port->kr[k];

			if (!(f->rxmask & (1ULL << k)))
				continue;
			want = kr->ready != kr->hwtail ||
			    (kr->peer != NULL && kr->peer->nxt != kr->peer->hwcur);
		}
		if (want && !f->ev_set) {
			uint64_t one = 1;

			if (write(f->evfd, &one, sizeof(one)) == (ssize_t)sizeof(one))
				f->ev_set = 1;
		} else if (!want && f->ev_set) {
			uint64_t v;

			if (read(f->evfd, &v, sizeof(v)) >= 0 || errno == EAGAIN)
				f->ev_set = 0;
		}
	}
}

static void
call_end(struct nm_emu *emu)
{
	events_refresh(emu);
	paranoid_apply(emu, 0);
	pthread_mutex_unlock(&emu->mtx);
}

/* ------------------------------------------------------------------------
 * TAP back end: NIC ring i is queue i of the TAP; the host rings read
 * and write the same TAP (its other side is the host stack).  Frames
 * move at the sync calls (no thread); the descriptor's epoll set holds
 * the TAP queues, so it is readable when the kernel sent a frame.
 */

static int
tap_open(struct nm_emu *emu, struct emu_port *port)
{
	struct ifreq ifr;
	int s;

	for (unsigned q = 0; q < port->ntx; q++) {
		int fd = emu->host.open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0)
			return -1;
		port->tapfd[q] = fd;
		memset(&ifr, 0, sizeof(ifr));
		name_copy(ifr.ifr_name, sizeof(ifr.ifr_name), port->name);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		if (port->ntx > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		if (emu->host.ioctl(fd, TUNSETIFF, &ifr) != 0) {
			/* not a TAP of ours (a real interface): no such port here */
			errno = ENXIO;
			return -1;
		}
	}
	if (!emu->cfg.tap_up)
		return 0;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	name_copy(ifr.ifr_name, sizeof(ifr.ifr_name), port->name);
	if (emu->host.ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		(void)emu->host.ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	emu->host.close(s);
	return 0;
}

static int
tap_host_rx_bound(const struct emu_port *port)
{
	return port->kr[2 * port->ntx + 1].users > 0;
}

static void
tap_epoll(struct nm_emu *emu, struct emu_fd *f)
{
	struct emu_port *port = f->port;
	unsigned half = port->ntx + 1;

	(void)emu;
	for (unsigned q = 0; q < port->ntx; q++) {
		struct epoll_event ev;

		if (!(f->rxmask & ((1ULL << (half + q)) | (1ULL << (half + port->ntx)))))
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = port->tapfd[q];
		(void)epoll_ctl(f->fd, EPOLL_CTL_ADD, port->tapfd[q], &ev);
	}
}

static void
tap_send(struct nm_emu *emu, struct kring *tx)
{
	struct emu_port *port = tx->port;
	int fd = port->tapfd[tx->host ? 0 : tx->id];

	while (tx->nxt != tx->hwcur) {
		size_t len = 0;
		uint32_t used = tx_gather(emu, tx, &len);

		if (used == 0)
			break;
		/* a frame the TAP refuses is lost, as on a wire */
		if (len > 0 && write(fd, emu->scratch, len) < 0 && emu->verbose)
			perror("nm_emu: tap write");
		tx_skip(tx, used);
	}
}

static void
tap_recv(struct nm_emu *emu, struct kring *rx)
{
	struct emu_port *port = rx->port;
	unsigned q0, q1;

	if (rx->host) {
		q0 = 0;
		q1 = port->ntx;
	} else {
		if (tap_host_rx_bound(port))
			return; /* the host rings take what the kernel sends */
		q0 = rx->id;
		q1 = rx->id + 1;
	}
	for (unsigned q = q0; q < q1; q++) {
		for (;;) {
			ssize_t n;
			int rc;

			if (rx->stash_len == 0) {
				n = read(port->tapfd[q], rx->stash, EMU_MAX_FRAME);
				if (n <= 0)
					break;
				rx->stash_len = (size_t)n;
			}
			rc = rx_put(emu, rx, rx->stash, rx->stash_len);
			if (rc < 0)
				return; /* ring full: the frame waits */
			rx->stash_len = 0;
		}
	}
}

/* ------------------------------------------------------------------------
 * The system calls.
 */

static int
emu_open(struct nm_emu *emu)
{
	struct emu_fd *f = NULL;
	struct epoll_event ev;

	pthread_mutex_lock(&emu->mtx);
	for (int i = 0; i < EMU_MAX_FDS && f == NULL; i++)
		if (!emu->fds[i].used)
			f = &emu->fds[i];
	if (f == NULL) {
		pthread_mutex_unlock(&emu->mtx);
		errno = EMFILE;
		return -1;
	}
	memset(f, 0, sizeof(*f));
	f->fd = epoll_create1(EPOLL_CLOEXEC);
	f->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = f->evfd;
	if (f->fd < 0 || f->evfd < 0 || epoll_ctl(f->fd, EPOLL_CTL_ADD, f->evfd, &ev) != 0) {
		int e = errno;

		if (f->fd >= 0)
			emu->host.close(f->fd);
		if (f->evfd >= 0)
			emu->host.close(f->evfd);
		pthread_mutex_unlock(&emu->mtx);
		errno = e;
		return -1;
	}
	f->used = 1;
	pthread_mutex_unlock(&emu->mtx);
	return f->fd;
}

static int
sys_open(void *ctx, const char *path, int flags)
{
	struct nm_emu *emu = ctx;

	if (strcmp(path, emu->cfg.device) == 0)
		return emu_open(emu);
	return emu->host.open(path, flags);
}

static int
sys_close(void *ctx, int fd)
{
	struct nm_emu *emu = ctx;
	struct emu_fd *f;

	pthread_mutex_lock(&emu->mtx);
	f = fd_find(emu, fd);
	if (f == NULL) {
		pthread_mutex_unlock(&emu->mtx);
		return emu->host.close(fd);
	}
	emu_unregister(emu, f);
	emu->host.close(f->evfd);
	emu->host.close(f->fd);
	f->used = 0;
	call_end(emu);
	return 0;
}

static int
emu_ctrl(struct nm_emu *emu, struct emu_fd *f, struct nmreq_header *hdr)
{
	uint16_t asked = hdr->nr_version;

	/* netmap(4): the version must match, and the kernel's is returned;
	 * nr_reserved is the kernel's own and must be 0 from user space */
	hdr->nr_version = NETMAP_API;
	if (asked < NETMAP_MIN_API || asked > NETMAP_MAX_API || hdr->nr_reserved != 0)
		return EINVAL;
	if (hdr->nr_options != 0) {
		/* no option is known here: each says so, as the kernel does */
		struct nmreq_option *o = (struct nmreq_option *)(uintptr_t)hdr->nr_options;

		for (int n = 0; o != NULL && n < 16; n++) {
			o->nro_status = EOPNOTSUPP;
			o = (struct nmreq_option *)(uintptr_t)o->nro_next;
		}
		return EOPNOTSUPP;
	}
	if (hdr->nr_body == 0)
		return EINVAL;
	switch (hdr->nr_reqtype) {
	case NETMAP_REQ_REGISTER:
		return emu_register(emu, f, hdr, (struct nmreq_register *)(uintptr_t)hdr->nr_body);
	case NETMAP_REQ_PORT_INFO_GET:
		return emu_port_info(emu, hdr,
		    (struct nmreq_port_info_get *)(uintptr_t)hdr->nr_body);
	default:
		return EOPNOTSUPP;
	}
}

static int
sys_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct nm_emu *emu = ctx;
	struct emu_fd *f;
	int err = 0;

	pthread_mutex_lock(&emu->mtx);
	f = fd_find(emu, fd);
	if (f == NULL) {
		pthread_mutex_unlock(&emu->mtx);
		return emu->host.ioctl(fd, req, arg);
	}
	if (req == NIOCCTRL) {
		err = arg == NULL ? EFAULT : emu_ctrl(emu, f, arg);
	} else if (req == NIOCTXSYNC || req == NIOCRXSYNC) {
		if (f->port == NULL)
			err = ENXIO;
		else if (fd_sync(emu, f, req == NIOCTXSYNC) != 0)
			err = EINVAL;
	} else if (req == NIOCREGIF) {
		err = EINVAL; /* the legacy API (struct nmreq) is not served: API 14 only */
	} else {
		err = ENOTTY;
	}
	call_end(emu);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

static void *
sys_mmap(void *ctx, void *addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	struct nm_emu *emu = ctx;
	struct emu_fd *f;
	struct emu_map *m = NULL;
	void *p;

	pthread_mutex_lock(&emu->mtx);
	f = fd_find(emu, fd);
	if (f == NULL) {
		pthread_mutex_unlock(&emu->mtx);
		return emu->host.mmap(addr, len, prot, flags, fd, (off_t)off);
	}
	if (f->port == NULL || off < 0 || (size_t)off + len > emu->memsize || len == 0 ||
	    !(flags & MAP_SHARED)) {
		pthread_mutex_unlock(&emu->mtx);
		errno = f->port == NULL ? EINVAL : ENXIO;
		return MAP_FAILED;
	}
	for (int i = 0; i < EMU_MAX_MAPS && m == NULL; i++)
		if (emu->maps[i].addr == NULL)
			m = &emu->maps[i];
	if (m == NULL) {
		pthread_mutex_unlock(&emu->mtx);
		errno = ENOMEM;
		return MAP_FAILED;
	}
	p = emu->host.mmap(addr, len, prot, flags, emu->memfd, (off_t)off);
	if (p == MAP_FAILED) {
		pthread_mutex_unlock(&emu->mtx);
		return MAP_FAILED;
	}
	m->addr = p;
	m->len = len;
	m->off = off;
	m->prot = prot;
	paranoid_apply(emu, 1);
	call_end(emu);
	return p;
}

static int
sys_munmap(void *ctx, void *addr, size_t len)
{
	struct nm_emu *emu = ctx;

	pthread_mutex_lock(&emu->mtx);
	/* a map partly unmapped is forgotten whole: paranoid mode must never
	 * mprotect pages that may be someone else's by now */
	for (int i = 0; i < EMU_MAX_MAPS; i++) {
		struct emu_map *m = &emu->maps[i];

		if (m->addr != NULL && (char *)addr < m->addr + m->len &&
		    (char *)addr + len > m->addr)
			memset(m, 0, sizeof(*m));
	}
	pthread_mutex_unlock(&emu->mtx);
	return emu->host.munmap(addr, len);
}

static int
ring_has_room(const struct kring *kr)
{
	return kr->ring->cur != kr->ring->tail;
}

/* One look at the descriptors: syncs as netmap_poll does them, revents
 * filled; how many are ready. */
static int
poll_scan(struct nm_emu *emu, struct pollfd *fds, unsigned long nfds)
{
	int ready = 0;

	for (unsigned long i = 0; i < nfds; i++) {
		struct emu_fd *f = fd_find(emu, fds[i].fd);
		short ev = fds[i].events, rev = 0;
		int want_tx = (ev & (POLLOUT | POLLWRNORM)) != 0;
		int want_rx = (ev & (POLLIN | POLLRDNORM)) != 0;

		if (f == NULL)
			continue;
		if (f->port == NULL) {
			rev = POLLERR;
		} else {
			if (want_tx || !(f->flags & NR_NO_TX_POLL)) {
				if (fd_sync(emu, f, 1) != 0)
					rev |= POLLERR;
			}
			if ((want_rx || (f->flags & NR_DO_RX_POLL)) && fd_sync(emu, f, 0) != 0)
				rev |= POLLERR;
			for (unsigned k = 0; k < f->port->nkr; k++) {
				const struct kring *kr = &f->port->kr[k];

				if (want_tx && (f->txmask & (1ULL << k)) && ring_has_room(kr))
					rev |= (short)(ev & (POLLOUT | POLLWRNORM));
				if (want_rx && (f->rxmask & (1ULL << k)) && ring_has_room(kr))
					rev |= (short)(ev & (POLLIN | POLLRDNORM));
			}
		}
		fds[i].revents = rev;
		ready += rev != 0;
	}
	return ready;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* netmap_poll for the emulator's descriptors, poll(2) for the others;
 * waits on the real descriptors plus the emulator's (readable when a
 * frame arrived) in rounds of at most 5 ms, since tx room appearing is
 * not signalled. */
static int
sys_poll(void *ctx, struct pollfd *fds, unsigned long nfds, int timeout_ms)
{
	struct nm_emu *emu = ctx;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pollfd *w;
	int ready;

	if (!nm_emu_any_fd(emu, fds, nfds))
		return emu->host.poll(fds, (nfds_t)nfds, timeout_ms);
	w = calloc(nfds ? nfds : 1, sizeof(*w));
	if (w == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		int real = 0, left;

		pthread_mutex_lock(&emu->mtx);
		ready = poll_scan(emu, fds, nfds);
		for (unsigned long i = 0; i < nfds; i++) {
			w[i] = fds[i];
			w[i].revents = 0;
			if (fd_find(emu, fds[i].fd) != NULL) {
				w[i].events = POLLIN;
				if (fds[i].revents || !(fds[i].events & (POLLIN | POLLRDNORM)))
					w[i].fd = -1;
			} else {
				real = 1;
			}
		}
		call_end(emu);
		if (real) {
			int r;

			for (unsigned long i = 0; i < nfds; i++)
				if (!nm_emu_owns_fd(emu, fds[i].fd))
					fds[i].revents = 0;
			r = emu->host.poll(w, (nfds_t)nfds, 0);
			if (r < 0)
				break;
			for (unsigned long i = 0; i < nfds; i++) {
				if (nm_emu_owns_fd(emu, fds[i].fd))
					continue;
				fds[i].revents = w[i].revents;
				ready += w[i].revents != 0;
			}
		}
		if (ready > 0 || timeout_ms == 0)
			break;
		left = 5;
		if (deadline >= 0) {
			int64_t rem = deadline - now_ms();

			if (rem <= 0)
				break;
			if (rem < left)
				left = (int)rem;
		}
		for (unsigned long i = 0; i < nfds; i++)
			w[i].revents = 0;
		if (emu->host.poll(w, (nfds_t)nfds, left) < 0 && errno != EINTR)
			break;
	}
	free(w);
	return ready;
}

static const struct ust_netmap_sys emu_sys_template = {
	.ctx = NULL,
	.open = sys_open,
	.close = sys_close,
	.ioctl = sys_ioctl,
	.mmap = sys_mmap,
	.munmap = sys_munmap,
	.poll = sys_poll,
};

void
nm_emu_destroy(struct nm_emu *emu)
{
	if (emu == NULL)
		return;
	for (int i = 0; i < EMU_MAX_FDS; i++)
		if (emu->fds[i].used)
			sys_close(emu, emu->fds[i].fd);
	for (int i = 0; i < EMU_MAX_PORTS; i++)
		if (emu->ports[i].used)
			port_free(emu, &emu->ports[i]);
	if (emu->mem != NULL)
		emu->host.munmap(emu->mem, emu->memsize);
	if (emu->memfd >= 0)
		emu->host.close(emu->memfd);
	free(emu->bstate);
	free(emu->bprot);
	free(emu->freel);
	free(emu->scratch);
	pthread_mutex_destroy(&emu->mtx);
	free(emu);
}
