/*
 * netmap.c - the netmap driver: a stack on the rings of a netmap port
 * (netmap(4), API 14; ustack_netmap.h says what it offers).
 *
 * ust_netmap_open() opens the control device, registers the port
 * (NIOCCTRL with nmreq_header + nmreq_register), maps the region
 * (nr_memsize bytes at file offset 0; the netmap_if sits at nr_offset in
 * it) and takes the extra buffers the kernel gave (nr_extra_bufs, a list
 * through ni_bufs_head whose buffers each hold the next index).  Every
 * bound ring pair (a tx ring and the rx ring of the same number; NIC
 * pairs first, then host pairs) can be one interface.
 *
 * Ownership follows netmap(4): of each ring, the slots [head, tail)
 * belong to the user and the rest to the kernel; head and cur only move
 * forward modulo num_slots (any value, not only powers of two); tail is
 * the kernel's and never written here.  A buffer is touched only while
 * its slot is the user's, or while it is one of ours (a spare or lent).
 *
 *   ust_stack_poll -> nm_rx_burst -> [NIOCRXSYNC when the ring is empty:
 *       releases the slots consumed so far, publishes new ones] -> per
 *       frame: one slot lent (ust_mbuf_attach_ext, a spare swapped into
 *       the slot with NS_BUF_CHANGED; nm_buf_free puts it back on the
 *       spare list) or copied (a NS_MOREFRAG chain, zero_copy 0, or fewer
 *       than lend_min_free spares)
 *   ust_stack_poll -> nm_tx_burst -> the mbuf chain copied into tx slots
 *       (ust_mbuf_sglist; NS_MOREFRAG on every slot of a frame but its
 *       last when it is longer than a buffer) -> NIOCTXSYNC once per burst
 *
 * Lent buffers may outlive the interfaces and the port (data in a socket
 * buffer): ust_netmap_close keeps the descriptor and the mapping until the
 * last one comes back (nm_buf_free), then hands every extra buffer back
 * through ni_bufs_head, unmaps and closes.  All calls on one port come
 * from one thread (its interfaces belong to one stack).
 */
#if defined(__linux__)
#define _DEFAULT_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_errno.h>
#include <ustack/ustack_netmap.h>

#include "netmap_abi.h"

#if defined(__linux__)
#include <net/if.h>
#elif defined(__FreeBSD__)
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_dl.h>
#endif

#define NM_FRAME_EXTRA 18u /* Ethernet header and one VLAN tag over the MTU */
#define NM_MAX_FRAGS 64u   /* slots of one frame (netmap's NETMAP_MAX_FRAGS) */
#define NM_SG_MAX 64       /* gather entries listed at once */
#define NM_MAX_PAIRS 64u

struct ust_netmap_port;

/* A lent buffer: the free callback's argument. */
struct nm_lend {
	struct ust_netmap_port *l_port;
	uint32_t l_buf;
	uint32_t l_next_free; /* index of the next unused record */
};

/* One ring pair: one interface. */
struct nm_pair {
	struct ust_netmap_port *q_port;
	struct netmap_ring *q_tx;
	struct netmap_ring *q_rx;
	struct ust_if *q_ifp;
	unsigned q_id;
	int q_attached;
	int q_rx_skip; /* dropping the rest of a bad NS_MOREFRAG chain */
	int q_rx_wait; /* an incomplete chain waits at head: sync again */
};

struct ust_netmap_port {
	struct ust_netmap_config p_cfg;
	const struct ust_netmap_sys *p_sys;
	int p_fd;
	void *p_mem;
	size_t p_memsize;
	struct netmap_if *p_nifp;
	uint32_t p_bufsize;
	uint64_t p_nbufs_mapped; /* buffer indices below this lie inside the mapping */
	struct nm_pair p_pair[NM_MAX_PAIRS];
	unsigned p_npairs;
	uint32_t *p_spare; /* extra buffers held (a stack) */
	uint32_t p_nspare;
	uint32_t p_nextra; /* extra buffers the kernel gave */
	struct nm_lend *p_lend;
	uint8_t *p_scratch;   /* a whole chain, for frames over the largest cluster */
	uint32_t p_lend_free; /* first unused lend record, p_nextra: none */
	uint32_t p_lent;
	int p_dying; /* closed while buffers were lent */
	uint8_t p_mac[6];
	struct ust_netmap_stats p_st;
};

static void nm_port_free(struct ust_netmap_port *p);

/* ------------------------------------------------------------------------
 * libc's system calls (the default table).
 */

static int
nm_libc_open(void *ctx, const char *path, int flags)
{
	(void)ctx;
	return (open(path, flags));
}

static int
nm_libc_close(void *ctx, int fd)
{
	(void)ctx;
	return (close(fd));
}

static int
nm_libc_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	(void)ctx;
	return (ioctl(fd, request, arg));
}

static void *
nm_libc_mmap(void *ctx, void *addr, size_t len, int prot, int flags, int fd, int64_t off)
{
	(void)ctx;
	return (mmap(addr, len, prot, flags, fd, (off_t)off));
}

static int
nm_libc_munmap(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	return (munmap(addr, len));
}

static int
nm_libc_poll(void *ctx, struct pollfd *fds, unsigned long nfds, int timeout_ms)
{
	(void)ctx;
	return (poll(fds, (nfds_t)nfds, timeout_ms));
}

static const struct ust_netmap_sys nm_libc = {
	.ctx = NULL,
	.open = nm_libc_open,
	.close = nm_libc_close,
	.ioctl = nm_libc_ioctl,
	.mmap = nm_libc_mmap,
	.munmap = nm_libc_munmap,
	.poll = nm_libc_poll,
};

const struct ust_netmap_sys *
ust_netmap_libc(void)
{
	return (&nm_libc);
}

/* ------------------------------------------------------------------------
 * Port names.
 */

/* What a port name asks to register: nr_name, nr_mode and nr_ringid as
 * netmap's own library derives them ("netmap:" is dropped; a pipe's
 * "{N" / "}N" and a VALE port's "vale0:" stay in the name, in ALL_NIC
 * mode; "-N", "^" and "*" select the rings). */
struct nm_name {
	char n_name[NETMAP_REQ_IFNAMSIZ];
	uint32_t n_mode;
	uint16_t n_ringid;
	int n_nic; /* names a NIC (its MAC can be asked for) */
};

static int
nm_parse_name(const char *port, struct nm_name *out)
{
	const char *s = port;
	size_t len;

	memset(out, 0, sizeof(*out));
	out->n_mode = NR_REG_ALL_NIC;
	if (strncmp(s, "netmap:", 7) == 0)
		s += 7;
	else if (strncmp(s, "vale", 4) != 0 || strchr(s, ':') == NULL)
		return (-UST_EINVAL);
	len = strlen(s);
	if (len == 0 || len >= sizeof(out->n_name))
		return (-UST_EINVAL);
	memcpy(out->n_name, s, len + 1);
	if (s != port + 7 || strpbrk(s, "{}") != NULL)
		return (0); /* VALE port or pipe end: the whole name */
	out->n_nic = 1;
	if (out->n_name[len - 1] == '^') {
		out->n_mode = NR_REG_SW;
		out->n_name[--len] = '\0';
	} else if (out->n_name[len - 1] == '*') {
		out->n_mode = NR_REG_NIC_SW;
		out->n_name[--len] = '\0';
	} else {
		char *dash = strrchr(out->n_name, '-');

		if (out->n_name[len - 1] == '-')
			return (-UST_EINVAL); /* "-" without a ring number */
		if (dash != NULL && dash != out->n_name && dash[1] != '\0' &&
		    strspn(dash + 1, "0123456789") == strlen(dash + 1)) {
			unsigned long r = strtoul(dash + 1, NULL, 10);

			if (r >= 4096)
				return (-UST_EINVAL);
			out->n_mode = NR_REG_ONE_NIC;
			out->n_ringid = (uint16_t)r;
			*dash = '\0';
			len = (size_t)(dash - out->n_name);
		}
	}
	return (len == 0 ? -UST_EINVAL : 0);
}

/* The interface's own MAC address, if the system tells it; 0 or -1. */
static int
nm_if_mac(const char *ifname, uint8_t mac[6])
{
#if defined(__linux__)
	struct ifreq ifr;
	int s, rc = -1;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return (-1);
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return (-1);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
		rc = 0;
	}
	close(s);
	return (rc);
#elif defined(__FreeBSD__)
	struct ifaddrs *ifa0, *ifa;
	int rc = -1;

	if (getifaddrs(&ifa0) != 0)
		return (-1);
	for (ifa = ifa0; ifa != NULL; ifa = ifa->ifa_next) {
		const struct sockaddr_dl *sdl = (const void *)ifa->ifa_addr;

		if (sdl != NULL && sdl->sdl_family == AF_LINK && sdl->sdl_alen == 6 &&
		    strcmp(ifa->ifa_name, ifname) == 0) {
			memcpy(mac, LLADDR(sdl), 6);
			rc = 0;
			break;
		}
	}
	freeifaddrs(ifa0);
	return (rc);
#else
	(void)ifname;
	(void)mac;
	return (-1);
#endif
}

/* A locally administered unicast address (IEEE 802: bit 1 of the first
 * octet set, bit 0 clear) derived from the port name (FNV-1a), so that the
 * two ends of a pipe differ and a name always gets the same address. */
static void
nm_name_mac(const char *port, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;
	int i;

	for (; *port != '\0'; port++)
		h = (h ^ (uint8_t)*port) * 0x100000001b3ull;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

/* ------------------------------------------------------------------------
 * Buffers.
 */

static uint8_t *
nm_buf(struct netmap_ring *r, uint32_t idx)
{
	return ((uint8_t *)NETMAP_BUF(r, idx));
}

/* A buffer index the kernel handed over lies inside the mapping, and
 * buffers 0 and 1 are reserved (never a frame's). */
static int
nm_buf_ok(const struct ust_netmap_port *p, uint32_t idx)
{
	return (idx >= 2 && idx < p->p_nbufs_mapped);
}

static uint32_t
nm_slot_add(const struct netmap_ring *r, uint32_t i, uint32_t n)
{
	uint32_t ns = r->num_slots;

	/* i < ns and n <= ns: no overflow, any ring size. */
	return (i + n >= ns ? i + n - ns : i + n);
}

/*
 * The free routine of a lent buffer: the stack let go of its last
 * reference.  The buffer joins the spare list (it left its ring when a
 * spare took its slot); the port's last lent buffer back after close ends
 * the port.
 */
static void
nm_buf_free(void *arg, void *buf)
{
	struct nm_lend *l = arg;
	struct ust_netmap_port *p = l->l_port;

	(void)buf;
	p->p_spare[p->p_nspare++] = l->l_buf;
	l->l_next_free = p->p_lend_free;
	p->p_lend_free = (uint32_t)(l - p->p_lend);
	p->p_lent--;
	if (p->p_dying && p->p_lent == 0)
		nm_port_free(p);
}

/* The one-slot frame in slot s of rx ring r as an mbuf of ifp: lent (a
 * spare takes the slot) while enough spares are left, else copied. */
static struct ust_mbuf *
nm_rx_one(struct ust_netmap_port *p, struct ust_if *ifp, struct netmap_ring *r,
    struct netmap_slot *s)
{
	struct ust_mbuf *m;
	struct nm_lend *l;

	if (p->p_cfg.zero_copy && p->p_nspare > 0 && p->p_nspare >= p->p_cfg.lend_min_free &&
	    p->p_lend_free < p->p_nextra) {
		l = &p->p_lend[p->p_lend_free];
		m = ust_mbuf_attach_ext(ifp, nm_buf(r, s->buf_idx), p->p_bufsize, 0, s->len,
		    nm_buf_free, l);
		if (m != NULL) {
			p->p_lend_free = l->l_next_free;
			l->l_buf = s->buf_idx;
			s->buf_idx = p->p_spare[--p->p_nspare];
			s->flags |= NS_BUF_CHANGED;
			p->p_lent++;
			p->p_st.rx_lent++;
			return (m);
		}
		return (NULL);
	}
	m = ust_mbuf_from_buf(ifp, nm_buf(r, s->buf_idx), s->len);
	if (m != NULL)
		p->p_st.rx_copied++;
	return (m);
}

/* The NS_MOREFRAG chain of n slots from slot i, copied into one mbuf, or
 * through the port's scratch buffer into a chain of clusters when it is
 * longer than the largest cluster. */
static struct ust_mbuf *
nm_rx_chain(struct ust_netmap_port *p, struct ust_if *ifp, struct netmap_ring *r, uint32_t i,
    uint32_t n, size_t total)
{
	struct ust_mbuf *m = ust_mbuf_alloc(ifp, total);
	uint8_t *d;
	uint32_t k;

	if (m != NULL)
		d = ust_mbuf_data(m);
	else if (p->p_scratch != NULL)
		d = p->p_scratch;
	else
		return (NULL);
	for (k = 0; k < n; k++, i = nm_ring_next(r, i)) {
		memcpy(d, nm_buf(r, r->slot[i].buf_idx), r->slot[i].len);
		d += r->slot[i].len;
	}
	if (m == NULL && (m = ust_mbuf_from_buf(ifp, p->p_scratch, total)) == NULL)
		return (NULL);
	p->p_st.rx_frags++;
	p->p_st.rx_copied++;
	return (m);
}

/*
 * Receive: the frames between head and tail, whole NS_MOREFRAG chains
 * only.  An incomplete chain at the tail waits for the rest, unless the
 * ring holds nothing else (it can never complete) or it has grown past
 * NM_MAX_FRAGS slots: such chains are dropped and counted, slot by slot.
 */
static int
nm_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct nm_pair *q = softc;
	struct ust_netmap_port *p = q->q_port;
	struct netmap_ring *r = q->q_rx;
	size_t maxlen = (size_t)p->p_cfg.mtu + NM_FRAME_EXTRA;
	uint32_t head, tail, ns = r->num_slots;
	int got = 0;

	q->q_ifp = ifp;
	if (r->head == r->tail || q->q_rx_wait) {
		/* Everything taken (or only part of a chain): give the slots
		 * back, ask for more. */
		if (p->p_sys->ioctl(p->p_sys->ctx, p->p_fd, NIOCRXSYNC, NULL) != 0)
			return (0);
		p->p_st.rxsync++;
	}
	head = r->head;
	tail = r->tail;
	q->q_rx_wait = 0;
	if (head >= ns || tail >= ns)
		return (0);
	while (got < max && head != tail) {
		struct netmap_slot *s = &r->slot[head];
		uint32_t n = 0, i = head, avail;
		size_t total = 0;
		int bad = 0;
		struct ust_mbuf *m;

		if (q->q_rx_skip) {
			/* The rest of a chain already dropped. */
			q->q_rx_skip = (s->flags & NS_MOREFRAG) != 0;
			head = nm_ring_next(r, head);
			continue;
		}
		avail = head <= tail ? tail - head : tail + ns - head;
		/* Find the frame's last slot. */
		for (;;) {
			const struct netmap_slot *t = &r->slot[i];

			n++;
			total += t->len;
			if (!nm_buf_ok(p, t->buf_idx) || t->len > p->p_bufsize)
				bad = 1;
			if (!(t->flags & NS_MOREFRAG) || n == avail || n > NM_MAX_FRAGS)
				break;
			i = nm_ring_next(r, i);
		}
		if (n > NM_MAX_FRAGS) {
			/* Too long: drop what is here, skip the rest as it comes. */
			q->q_rx_skip = (r->slot[i].flags & NS_MOREFRAG) != 0;
			p->p_st.rx_dropped++;
			head = nm_slot_add(r, head, n);
			continue;
		}
		if (r->slot[i].flags & NS_MOREFRAG) {
			/* Incomplete: wait for the rest, unless it fills the
			 * ring (nothing more can arrive). */
			if (avail + 1 < ns) {
				q->q_rx_wait = 1;
				break;
			}
			p->p_st.rx_dropped++;
			q->q_rx_skip = 1;
			head = nm_slot_add(r, head, n);
			continue;
		}
		if (bad || total == 0 || total > maxlen) {
			p->p_st.rx_dropped++;
			m = NULL;
		} else if (n == 1) {
			m = nm_rx_one(p, ifp, r, s);
		} else {
			m = nm_rx_chain(p, ifp, r, head, n, total);
		}
		head = nm_slot_add(r, head, n);
		if (m == NULL) {
			if (!bad && total != 0 && total <= maxlen)
				p->p_st.rx_dropped++; /* no mbuf: the stack counted iqdrops */
			continue;
		}
		p->p_st.rx_frames++;
		p->p_st.rx_bytes += total;
		pkts[got++] = m;
	}
	r->head = r->cur = head;
	return (got);
}

/* ------------------------------------------------------------------------
 * Transmit.
 */

/* Copies frame m (len bytes, the caller checked its slots are free) into
 * the tx slots from head; returns the slot after its last. */
static uint32_t
nm_tx_put(struct ust_netmap_port *p, struct netmap_ring *r, uint32_t head, struct ust_mbuf *m,
    size_t len)
{
	struct ust_iovec v[NM_SG_MAX];
	struct netmap_slot *s = &r->slot[head];
	uint8_t *b = nm_buf(r, s->buf_idx);
	size_t room = p->p_bufsize, off = 0;
	int nv, k;

	nv = ust_mbuf_sglist(m, v, NM_SG_MAX);
	if (nv > NM_SG_MAX) {
		/* More pieces than listed: read the rest with copydata. */
		nv = 0;
	}
	s->len = 0;
	s->flags = 0;
	for (k = 0; off < len; k++) {
		const uint8_t *src;
		size_t piece;

		if (nv > 0) {
			src = v[k].iov_base;
			piece = v[k].iov_len;
		} else {
			src = NULL;
			piece = len - off;
		}
		while (piece > 0) {
			size_t c;

			if (room == 0) {
				s->flags = NS_MOREFRAG;
				head = nm_ring_next(r, head);
				s = &r->slot[head];
				s->len = 0;
				s->flags = 0;
				b = nm_buf(r, s->buf_idx);
				room = p->p_bufsize;
			}
			c = piece < room ? piece : room;
			if (src != NULL) {
				memcpy(b + s->len, src, c);
				src += c;
			} else
				(void)ust_mbuf_copydata(m, off, c, b + s->len);
			s->len = (uint16_t)(s->len + c);
			room -= c;
			piece -= c;
			off += c;
		}
	}
	return (nm_ring_next(r, head));
}

/* The buffers of the n slots from head lie in the mapping. */
static int
nm_tx_slots_ok(const struct ust_netmap_port *p, const struct netmap_ring *r, uint32_t head,
    uint32_t n)
{
	for (; n > 0; n--, head = nm_ring_next(r, head))
		if (!nm_buf_ok(p, r->slot[head].buf_idx))
			return (0);
	return (1);
}

static int
nm_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct nm_pair *q = softc;
	struct ust_netmap_port *p = q->q_port;
	struct netmap_ring *r = q->q_tx;
	uint32_t head = r->head, space, need;
	int i, synced = 0;

	if (head >= r->num_slots)
		return (0);
	space = nm_ring_space(r);
	for (i = 0; i < n; i++) {
		size_t len = ust_mbuf_pktlen(pkts[i]);

		need = len == 0 ? 1 : (uint32_t)((len + p->p_bufsize - 1) / p->p_bufsize);
		if (need > space && !synced) {
			/* Publish what is queued and reclaim completed slots. */
			r->head = r->cur = head;
			if (p->p_sys->ioctl(p->p_sys->ctx, p->p_fd, NIOCTXSYNC, NULL) == 0)
				p->p_st.txsync++;
			synced = 1;
			head = r->head;
			space = nm_ring_space(r);
		}
		if (need > space) {
			/* Full: the stack keeps this frame and the rest. */
			p->p_st.tx_full++;
			break;
		}
		if (!nm_tx_slots_ok(p, r, head, need)) {
			/* The kernel handed a buffer outside the mapping. */
			p->p_st.tx_full++;
			break;
		}
		head = nm_tx_put(p, r, head, pkts[i], len);
		space -= need;
		p->p_st.tx_frames++;
		p->p_st.tx_bytes += len;
		if (need > 1)
			p->p_st.tx_frags++;
		ust_mbuf_free(pkts[i]);
	}
	if (head != r->head) {
		r->head = r->cur = head;
		if (p->p_sys->ioctl(p->p_sys->ctx, p->p_fd, NIOCTXSYNC, NULL) == 0)
			p->p_st.txsync++;
	}
	return (i);
}

/* ------------------------------------------------------------------------
 * The rest of the ops.
 */

static void
nm_get_mac(void *softc, uint8_t mac[6])
{
	const struct nm_pair *q = softc;

	memcpy(mac, q->q_port->p_mac, 6);
}

static uint32_t
nm_get_mtu(void *softc)
{
	const struct nm_pair *q = softc;

	return (q->q_port->p_cfg.mtu);
}

/* Real netmap NIC ports give no offloads: the stack checksums in
 * software, and the driver advertises nothing it would have to emulate. */
static uint32_t
nm_get_caps(void *softc)
{
	(void)softc;
	return (0);
}

static int
nm_get_fd(void *softc)
{
	const struct nm_pair *q = softc;

	return (q->q_port->p_fd);
}

/* Transmit copies and receive hands every frame up at once: the driver
 * holds no mbuf of the stack; lent buffers stay lent until it lets go. */
static void
nm_detach(void *softc)
{
	struct nm_pair *q = softc;

	q->q_attached = 0;
	q->q_ifp = NULL;
	q->q_rx_skip = 0;
	q->q_rx_wait = 0;
}

static const struct ust_driver_ops nm_ops = {
	.name = "netmap",
	.rx_burst = nm_rx_burst,
	.tx_burst = nm_tx_burst,
	.get_mac = nm_get_mac,
	.get_mtu = nm_get_mtu,
	.get_caps = nm_get_caps,
	.get_fd = nm_get_fd,
	.detach = nm_detach,
};

const struct ust_driver_ops *
ust_netmap_ops(void)
{
	return (&nm_ops);
}

/* ------------------------------------------------------------------------
 * Port.
 */

void
ust_netmap_config_init(struct ust_netmap_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->extra_bufs = 1024;
	cfg->zero_copy = 1;
	cfg->lend_min_free = 64;
	cfg->mtu = 1500;
	cfg->caps_mask = 0;
}

/* Takes the extra buffers off ni_bufs_head (each holds the next index, 0
 * ends the list) and checks that each lies in the mapping. */
static int
nm_take_extra(struct ust_netmap_port *p, struct netmap_ring *r, uint32_t given)
{
	uint32_t idx = p->p_nifp->ni_bufs_head, n = 0;

	while (idx != 0 && n < given) {
		if (!nm_buf_ok(p, idx))
			return (-UST_EINVAL);
		p->p_spare[n++] = idx;
		memcpy(&idx, nm_buf(r, idx), sizeof(idx));
	}
	p->p_nifp->ni_bufs_head = 0;
	p->p_nspare = n;
	p->p_nextra = n;
	return (0);
}

/* Hands the spare buffers back to the kernel (freed at unregister). */
static void
nm_give_extra(struct ust_netmap_port *p)
{
	struct netmap_ring *r;
	uint32_t next = 0, k;

	if (p->p_nifp == NULL || p->p_npairs == 0)
		return;
	r = p->p_pair[0].q_rx;
	for (k = 0; k < p->p_nspare; k++) {
		memcpy(nm_buf(r, p->p_spare[k]), &next, sizeof(next));
		next = p->p_spare[k];
	}
	p->p_nifp->ni_bufs_head = next;
	p->p_nspare = 0;
}

static void
nm_port_free(struct ust_netmap_port *p)
{
	/* A last rxsync tells the kernel about the buffers swapped into rx
	 * slots since the previous one (NS_BUF_CHANGED): until then it counts
	 * the buffers they replaced as its own, and would free them twice. */
	if (p->p_npairs > 0 && p->p_nextra > 0 &&
	    p->p_sys->ioctl(p->p_sys->ctx, p->p_fd, NIOCRXSYNC, NULL) == 0)
		p->p_st.rxsync++;
	nm_give_extra(p);
	if (p->p_mem != NULL)
		(void)p->p_sys->munmap(p->p_sys->ctx, p->p_mem, p->p_memsize);
	if (p->p_fd >= 0)
		(void)p->p_sys->close(p->p_sys->ctx, p->p_fd);
	free(p->p_spare);
	free(p->p_lend);
	free(p->p_scratch);
	free(p);
}

/* The bound ring pairs: NIC pairs, then host pairs; a ring the descriptor
 * did not bind has ring_ofs 0. */
static int
nm_find_pairs(struct ust_netmap_port *p)
{
	const struct netmap_if *nifp = p->p_nifp;
	uint32_t ntx = nifp->ni_tx_rings, nrx = nifp->ni_rx_rings;
	uint32_t nhtx = nifp->ni_host_tx_rings, nhrx = nifp->ni_host_rx_rings;
	uint32_t i, npair;

	/* Host ring counts are 0 or 1 per direction before netmap 14's
	 * multi-host-ring support: treat absent as 1 only if bound. */
	npair = (ntx < nrx ? ntx : nrx) + (nhtx < nhrx ? nhtx : nhrx);
	if (ntx + nhtx + nrx + nhrx > 4 * 4096u)
		return (-UST_EINVAL);
	for (i = 0; i < npair && p->p_npairs < NM_MAX_PAIRS; i++) {
		uint32_t ti, ri;
		int64_t tofs, rofs;
		struct nm_pair *q;

		if (i < (ntx < nrx ? ntx : nrx)) {
			ti = i;
			ri = ntx + nhtx + i;
		} else {
			uint32_t h = i - (ntx < nrx ? ntx : nrx);

			ti = ntx + h;
			ri = ntx + nhtx + nrx + h;
		}
		tofs = nifp->ring_ofs[ti];
		rofs = nifp->ring_ofs[ri];
		if (tofs == 0 || rofs == 0)
			continue;
		q = &p->p_pair[p->p_npairs];
		q->q_port = p;
		q->q_id = p->p_npairs++;
		q->q_tx = (struct netmap_ring *)(void *)((char *)p->p_nifp + tofs);
		q->q_rx = (struct netmap_ring *)(void *)((char *)p->p_nifp + rofs);
		/* The rings must lie in the mapping. */
		if ((char *)q->q_tx < (char *)p->p_mem || (char *)q->q_rx < (char *)p->p_mem ||
		    (char *)q->q_tx + sizeof(struct netmap_ring) >
		        (char *)p->p_mem + p->p_memsize ||
		    (char *)q->q_rx + sizeof(struct netmap_ring) >
		        (char *)p->p_mem + p->p_memsize ||
		    q->q_tx->num_slots < 2 || q->q_rx->num_slots < 2)
			return (-UST_EINVAL);
	}
	return (p->p_npairs == 0 ? -UST_ENODEV : 0);
}

static int
nm_register(struct ust_netmap_port *p, const struct nm_name *nn)
{
	struct nmreq_header hdr;
	struct nmreq_register reg;
	const struct ust_netmap_config *cfg = &p->p_cfg;
	struct netmap_ring *r;
	void *mem;
	int64_t bufofs;
	int err;

	memset(&hdr, 0, sizeof(hdr));
	memset(&reg, 0, sizeof(reg));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	memcpy(hdr.nr_name, nn->n_name, strlen(nn->n_name) + 1);
	hdr.nr_body = (uint64_t)(uintptr_t)&reg;
	reg.nr_mode = nn->n_mode;
	reg.nr_ringid = nn->n_ringid;
	reg.nr_tx_slots = reg.nr_rx_slots = cfg->slots;
	reg.nr_extra_bufs = cfg->zero_copy ? cfg->extra_bufs : 0;
	if (p->p_sys->ioctl(p->p_sys->ctx, p->p_fd, NIOCCTRL, &hdr) != 0)
		return (ust_errno_neg(errno));
	if (reg.nr_memsize == 0 || reg.nr_offset >= reg.nr_memsize)
		return (-UST_EINVAL);
	mem = p->p_sys->mmap(p->p_sys->ctx, NULL, (size_t)reg.nr_memsize, PROT_READ | PROT_WRITE,
	    MAP_SHARED, p->p_fd, 0);
	if (mem == MAP_FAILED || mem == NULL)
		return (ust_errno_neg(errno));
	p->p_mem = mem;
	p->p_memsize = (size_t)reg.nr_memsize;
	p->p_nifp = NETMAP_IF(mem, reg.nr_offset);
	if ((err = nm_find_pairs(p)) != 0)
		return (err);
	r = p->p_pair[0].q_rx;
	p->p_bufsize = r->nr_buf_size;
	bufofs = (int64_t)((const char *)r - (const char *)mem) + r->buf_ofs;
	if (p->p_bufsize < 64 || bufofs < 0 || (uint64_t)bufofs >= p->p_memsize)
		return (-UST_EINVAL);
	p->p_nbufs_mapped = (p->p_memsize - (uint64_t)bufofs) / p->p_bufsize;
	/* A frame at the MTU must fit the ring's slots. */
	if ((cfg->mtu + NM_FRAME_EXTRA + p->p_bufsize - 1) / p->p_bufsize >
	    (NM_MAX_FRAGS < r->num_slots - 1 ? NM_MAX_FRAGS : r->num_slots - 1))
		return (-UST_EINVAL);
	if (cfg->mtu + NM_FRAME_EXTRA > p->p_bufsize &&
	    (p->p_scratch = malloc((size_t)cfg->mtu + NM_FRAME_EXTRA)) == NULL)
		return (-UST_ENOMEM);
	p->p_nextra = reg.nr_extra_bufs;
	if (p->p_nextra > 0) {
		uint32_t k;

		p->p_spare = calloc(p->p_nextra, sizeof(*p->p_spare));
		p->p_lend = calloc(p->p_nextra, sizeof(*p->p_lend));
		if (p->p_spare == NULL || p->p_lend == NULL)
			return (-UST_ENOMEM);
		if ((err = nm_take_extra(p, r, reg.nr_extra_bufs)) != 0)
			return (err);
		for (k = 0; k < p->p_nextra; k++) {
			p->p_lend[k].l_port = p;
			p->p_lend[k].l_next_free = k + 1;
		}
		p->p_lend_free = 0;
	}
	return (0);
}

int
ust_netmap_open(const struct ust_netmap_config *cfg, struct ust_netmap_port **out)
{
	struct ust_netmap_port *p;
	struct nm_name nn;
	int err;

	if (out == NULL)
		return (-UST_EINVAL);
	*out = NULL;
	if (cfg == NULL || cfg->port == NULL ||
	    (cfg->mtu != 0 && (cfg->mtu < 68 || cfg->mtu > 65535)))
		return (-UST_EINVAL);
	if ((err = nm_parse_name(cfg->port, &nn)) != 0)
		return (err);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (-UST_ENOMEM);
	p->p_cfg = *cfg;
	p->p_cfg.port = NULL; /* not kept: the caller's string */
	if (p->p_cfg.mtu == 0)
		p->p_cfg.mtu = 1500;
	p->p_sys = cfg->sys != NULL ? cfg->sys : &nm_libc;
	p->p_fd = p->p_sys->open(p->p_sys->ctx, cfg->device != NULL ? cfg->device : "/dev/netmap",
	    O_RDWR | O_CLOEXEC);
	if (p->p_fd < 0) {
		err = ust_errno_neg(errno);
		free(p);
		return (err == -UST_EINVAL ? -UST_ENODEV : err);
	}
	if ((err = nm_register(p, &nn)) != 0) {
		p->p_nspare = 0; /* half-taken: the kernel frees them at close */
		nm_port_free(p);
		return (err);
	}
	if (cfg->mac[0] | cfg->mac[1] | cfg->mac[2] | cfg->mac[3] | cfg->mac[4] | cfg->mac[5])
		memcpy(p->p_mac, cfg->mac, 6);
	else if (!nn.n_nic || nm_if_mac(nn.n_name, p->p_mac) != 0)
		nm_name_mac(cfg->port, p->p_mac);
	p->p_st.spare_bufs = p->p_nspare;
	*out = p;
	return (0);
}

unsigned
ust_netmap_rings(const struct ust_netmap_port *p)
{
	return (p == NULL ? 0 : p->p_npairs);
}

void *
ust_netmap_softc(struct ust_netmap_port *p, unsigned ring)
{
	if (p == NULL || ring >= p->p_npairs)
		return (NULL);
	return (&p->p_pair[ring]);
}

int
ust_netmap_attach(struct ust_stack *st, struct ust_netmap_port *p, unsigned ring, const char *name,
    struct ust_if **ifp)
{
	struct nm_pair *q;
	int rc;

	if (p == NULL || ring >= p->p_npairs || ifp == NULL)
		return (-UST_EINVAL);
	q = &p->p_pair[ring];
	if (q->q_attached)
		return (-UST_EBUSY);
	rc = ust_if_attach(st, name, &nm_ops, q, ifp);
	if (rc == 0) {
		q->q_attached = 1;
		q->q_ifp = *ifp;
	}
	return (rc);
}

int
ust_netmap_fd(const struct ust_netmap_port *p)
{
	return (p == NULL ? -1 : p->p_fd);
}

void
ust_netmap_get_stats(const struct ust_netmap_port *p, struct ust_netmap_stats *out)
{
	if (p == NULL || out == NULL)
		return;
	*out = p->p_st;
	out->spare_bufs = p->p_nspare;
	out->lent_now = p->p_lent;
}

void
ust_netmap_close(struct ust_netmap_port *p)
{
	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; i < p->p_npairs; i++)
		if (p->p_pair[i].q_attached && p->p_pair[i].q_ifp != NULL)
			ust_if_detach(p->p_pair[i].q_ifp);
	if (p->p_lent != 0)
		p->p_dying = 1; /* nm_buf_free ends it */
	else
		nm_port_free(p);
}
