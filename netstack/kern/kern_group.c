/*
 * kern_group.c - a group of stacks, one per core (ustack_group.h,
 * docs/multicore.md): creation with one creation seed, multi-queue
 * interfaces (queue i on stack i), steering of frames to the stack that
 * owns their flow, replication of ARP and ND frames.  Configuration
 * applied to every stack and the counters are kern/kern_group_config.c;
 * threads, the lock kick and ust_stack_exec() kern/kern_group_thread.c.
 *
 * Receive path of stack i (ust_stack_poll, under i's lock):
 *   grp_poll_start(): for every other stack j,
 *       g_ret[i][j] -> m_freem            (i's own mbufs j is done with)
 *       g_fwd[j][i] -> copy into i's zones, original -> g_ret[j][i],
 *                      copy -> ether_input on i's queue of the interface
 *   if_poll_rx() -> if_input() -> grp_if_input():
 *       ARP, ND (ICMPv6 133-137)  -> m_dup -> g_fwd[i][j] for every j
 *                                    (M_RSSCOPY), then ether_input here
 *       hash (driver's or Toeplitz) owner == i -> ether_input here
 *                                   owner j    -> g_fwd[i][j] (full: drop)
 *   grp_poll_end(): wake the sleeping threads of the owners handed frames.
 *
 * No stack ever waits for another: a full ring drops and counts, and an
 * owner takes a frame only while the ring back to its origin has room for
 * the original, so each mbuf is freed by the stack whose zones it came
 * from, on that stack's thread.
 */
#include <string.h>

#include "kern/kern_group_var.h"
#include "kern/kern_hash.h"
#include "kern/socketvar.h"
#include "net/ethernet.h"

#define GRP_RING_DEFAULT 1024u

/* The documented defaults, with or without UST_SMP (a caller fills a
 * config before it learns that groups are compiled out). */
void
ust_group_config_init(struct ust_group_config *cfg)
{
	unsigned i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->nstacks = 1;
	ust_stack_config_init(&cfg->stack);
	ust_rss_default_key(cfg->rss_key);
	cfg->threads = 1;
	for (i = 0; i < UST_GROUP_MAX; i++)
		cfg->cpus[i] = -1;
	cfg->ring_size = GRP_RING_DEFAULT;
}

#if UST_SMP

#define GRP_RING_MAX (1u << 24)
/* Bytes of a frame read to classify and hash it: Ethernet, a VLAN tag,
 * an IPv4 header with options or an IPv6 header, and the ports. */
#define GRP_PEEK 160u
/* What replication and ICMP error steering look for (kern/ names
 * protocols only by number). */
#define GRP_ETHERTYPE_ARP 0x0806u
#define GRP_ETHERTYPE_IP 0x0800u
#define GRP_ETHERTYPE_IPV6 0x86ddu
#define GRP_PROTO_ICMP 1u
#define GRP_PROTO_TCP 6u
#define GRP_PROTO_UDP 17u
#define GRP_NH_ICMPV6 58u
#define GRP_ND_FIRST 133u /* router solicitation */
#define GRP_ND_LAST 137u  /* redirect */

static void *
grp_zalloc(size_t size)
{
	void *p = ust_osal_mem_alloc(size);

	if (p != NULL)
		memset(p, 0, size);
	return (p);
}

static void
grp_noop(void *arg)
{
	(void)arg;
}

/* Does the OSAL have threads?  (bare metal: no) */
static int
grp_osal_threads(void)
{
	struct ust_osal_thread *t;

	if (ust_osal_thread_create(&t, grp_noop, NULL, -1, "ustack-probe") != 0)
		return (0);
	ust_osal_thread_join(t);
	return (1);
}

static int
grp_config_valid(const struct ust_group_config *cfg, uint32_t ring)
{
	unsigned i, ncpu;

	if (cfg->nstacks < 1 || cfg->nstacks > UST_GROUP_MAX)
		return (0);
	if (ring < 2 || ring > GRP_RING_MAX || (ring & (ring - 1)) != 0)
		return (0);
	if (cfg->threads) {
		/* Threads sleep until deadlines on the OSAL clock. */
		if (cfg->stack.clock.now_ns != ust_clock_monotonic().now_ns)
			return (0);
		if (cfg->pin) {
			ncpu = ust_osal_ncpus();
			for (i = 0; i < cfg->nstacks; i++)
				if (cfg->cpus[i] >= (int)ncpu)
					return (0);
		}
	}
	return (1);
}

/* Every ring empty, their mbufs freed by their own stacks' zones (no
 * thread runs: destroy, or a failed create). */
static void
grp_rings_flush(struct ust_group *g)
{
	unsigned i, j, n = g->g_n;
	struct mbuf *m;

	if (g->g_fwd == NULL)
		return;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			if (i == j)
				continue;
			while ((m = spsc_pop(&g->g_fwd[i * n + j])) != NULL)
				m_freem(m);
			while ((m = spsc_pop(&g->g_ret[i * n + j])) != NULL)
				m_freem(m);
		}
	}
}

static void
grp_free(struct ust_group *g)
{
	unsigned i, n = g->g_n;
	struct ust_stack *st;

	grp_rings_flush(g);
	for (i = 0; g->g_thr != NULL && i < n; i++) {
		st = g->g_thr[i].gt_stack;
		if (st == NULL)
			continue;
		st->st_rss = NULL;
		st->st_grp = NULL;
		ust_stack_destroy(st);
	}
	grp_threads_fini(g);
	if (g->g_slots != NULL)
		ust_osal_mem_free(g->g_slots, g->g_nslots * sizeof(void *));
	if (g->g_fwd != NULL)
		ust_osal_mem_free(g->g_fwd, (size_t)n * n * sizeof(struct spsc));
	if (g->g_ret != NULL)
		ust_osal_mem_free(g->g_ret, (size_t)n * n * sizeof(struct spsc));
	if (g->g_thr != NULL)
		ust_osal_mem_free(g->g_thr, n * sizeof(struct group_thr));
	ust_osal_mem_free(g, sizeof(*g));
}

static int
grp_rings_init(struct ust_group *g, uint32_t ring)
{
	unsigned i, j, n = g->g_n;
	void **slot;

	if (n < 2)
		return (0);
	g->g_fwd = grp_zalloc((size_t)n * n * sizeof(struct spsc));
	g->g_ret = grp_zalloc((size_t)n * n * sizeof(struct spsc));
	g->g_nslots = (size_t)2 * n * (n - 1) * ring;
	g->g_slots = ust_osal_mem_alloc(g->g_nslots * sizeof(void *));
	if (g->g_fwd == NULL || g->g_ret == NULL || g->g_slots == NULL)
		return (-UST_ENOMEM);
	slot = g->g_slots;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			if (i == j)
				continue;
			spsc_init(&g->g_fwd[i * n + j], slot, ring);
			slot += ring;
			spsc_init(&g->g_ret[i * n + j], slot, ring);
			slot += ring;
		}
	}
	return (0);
}

int
ust_group_create(const struct ust_group_config *cfg, struct ust_group **out)
{
	struct ust_stack_config scfg;
	struct ust_group *g;
	struct group_thr *gt;
	uint64_t seed;
	uint32_t ring;
	unsigned i;
	int error;

	if (out == NULL)
		return (-UST_EINVAL);
	*out = NULL;
	if (cfg == NULL)
		return (-UST_EINVAL);
	ring = cfg->ring_size != 0 ? cfg->ring_size : GRP_RING_DEFAULT;
	if (!grp_config_valid(cfg, ring))
		return (-UST_EINVAL);
	if (cfg->threads && !grp_osal_threads())
		return (-UST_EOPNOTSUPP);
	g = grp_zalloc(sizeof(*g));
	if (g == NULL)
		return (-UST_ENOMEM);
	g->g_cfg = *cfg;
	g->g_cfg.ring_size = ring;
	g->g_n = cfg->nstacks;
	if (!cfg->rss_key_set)
		ust_rss_default_key(g->g_cfg.rss_key);
	g->g_thr = grp_zalloc(g->g_n * sizeof(struct group_thr));
	if (g->g_thr == NULL || grp_rings_init(g, ring) != 0) {
		grp_free(g);
		return (-UST_ENOMEM);
	}
	/* One creation seed: every creation-time secret (the ND stable
	 * address secret, ISN and cookie keys, PCB hash keys) agrees across
	 * the group; then each PRNG is reseeded so that draws differ. */
	seed = cfg->stack.seed_set ? cfg->stack.seed : stack_entropy_seed();
	scfg = cfg->stack;
	scfg.seed_set = 1;
	scfg.seed = mix64(seed); /* the creation seed, unrelated to seed + i */
	for (i = 0; i < g->g_n; i++) {
		gt = &g->g_thr[i];
		gt->gt_group = g;
		gt->gt_index = i;
		error = ust_stack_create(&scfg, &gt->gt_stack);
		if (error != 0) {
			grp_free(g);
			return (error);
		}
		ust_rng_seed(&gt->gt_stack->st_rng,
		    cfg->stack.seed_set ? seed + i : stack_entropy_seed());
		gt->gt_stack->st_cfg.seed_set = cfg->stack.seed_set;
		gt->gt_stack->st_cfg.seed = cfg->stack.seed_set ? seed + i : 0;
		memcpy(gt->gt_rss.rs_key, g->g_cfg.rss_key, UST_RSS_KEYLEN);
		gt->gt_rss.rs_n = g->g_n;
		gt->gt_rss.rs_self = i;
		gt->gt_rss.rs_group = g;
		gt->gt_stack->st_rss = &gt->gt_rss;
		gt->gt_stack->st_grp = gt;
	}
	error = grp_threads_init(g);
	if (error != 0) {
		grp_free(g);
		return (error);
	}
	*out = g;
	return (0);
}

void
ust_group_destroy(struct ust_group *g)
{
	if (g == NULL)
		return;
	ust_group_stop(g);
	grp_free(g);
}

unsigned
ust_group_size(const struct ust_group *g)
{
	return (g->g_n);
}

struct ust_stack *
ust_group_stack(struct ust_group *g, unsigned i)
{
	return (i < g->g_n ? g->g_thr[i].gt_stack : NULL);
}

struct ust_group *
ust_stack_group(const struct ust_stack *st)
{
	return (st->st_grp != NULL ? st->st_grp->gt_group : NULL);
}

unsigned
ust_stack_group_index(const struct ust_stack *st)
{
	return (st->st_grp != NULL ? st->st_grp->gt_index : 0);
}

/* ---------------------------------------------------------------------
 * Interfaces.
 * ------------------------------------------------------------------- */

int
ust_group_if_attach(struct ust_group *g, const char *name, const struct ust_driver_ops *ops,
    void *const *softcs, struct ust_if **ifps)
{
	struct ust_if *u[UST_GROUP_MAX];
	struct ust_stack *st;
	struct grp_if *gi;
	uint8_t mac0[6], mac[6];
	unsigned i, k;
	size_t len;
	int error = 0;

	if (g == NULL || name == NULL || ops == NULL || softcs == NULL)
		return (-UST_EINVAL);
	len = strlen(name);
	if (len == 0 || len >= IFNAMSIZ)
		return (-UST_EINVAL);
	if (g->g_started)
		return (-UST_EBUSY);
	if (g->g_nif >= UST_MAX_IFNET)
		return (-UST_ENOSPC);
	for (i = 0; i < g->g_n; i++) {
		st = g->g_thr[i].gt_stack;
		ust_stack_lock(st);
		error = ust_if_attach(st, name, ops, softcs[i], &u[i]);
		if (error == 0 && i > 0) {
			ust_if_get_mac(u[0], mac0);
			ust_if_get_mac(u[i], mac);
			/* One device: its queues share the MAC and the MTU. */
			if (memcmp(mac0, mac, sizeof(mac)) != 0 ||
			    ust_if_mtu(u[0]) != ust_if_mtu(u[i])) {
				ust_if_detach(u[i]);
				error = -UST_EINVAL;
			}
		}
		ust_stack_unlock(st);
		if (error != 0)
			break;
	}
	if (error != 0) {
		for (k = 0; k < i; k++) {
			st = g->g_thr[k].gt_stack;
			ust_stack_lock(st);
			ust_if_detach(u[k]);
			ust_stack_unlock(st);
		}
		return (error);
	}
	gi = &g->g_if[g->g_nif++];
	memcpy(gi->gi_name, name, len + 1);
	for (i = 0; i < g->g_n; i++) {
		gi->gi_ifp[i] = IFP_FROM_UST(u[i]);
		if (ifps != NULL)
			ifps[i] = u[i];
	}
	return (0);
}

struct ust_if *
ust_group_if(struct ust_group *g, unsigned i, const char *name)
{
	unsigned k;

	if (g == NULL || i >= g->g_n || name == NULL)
		return (NULL);
	for (k = 0; k < g->g_nif; k++)
		if (strcmp(g->g_if[k].gi_name, name) == 0)
			return (IFP_TO_UST(g->g_if[k].gi_ifp[i]));
	return (NULL);
}

/* The group interface ifp of stack self is queue self of: its index. */
static int
grp_if_find(const struct ust_group *g, unsigned self, const struct ifnet *ifp)
{
	unsigned k;

	for (k = 0; k < g->g_nif; k++)
		if (g->g_if[k].gi_ifp[self] == ifp)
			return ((int)k);
	return (-1);
}

/* ---------------------------------------------------------------------
 * Steering.
 * ------------------------------------------------------------------- */

/* An ARP frame, or an ICMPv6 neighbour discovery message (RFC 4861:
 * router and neighbour solicitations and advertisements, redirects)
 * right after the IPv6 header. */
static int
grp_is_neighbor(const uint8_t *p, uint32_t len)
{
	uint16_t type;

	if (len < ETHER_HDR_LEN)
		return (0);
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == GRP_ETHERTYPE_ARP)
		return (1);
	return (type == GRP_ETHERTYPE_IPV6 && len > ETHER_HDR_LEN + 40 &&
	    p[ETHER_HDR_LEN + 6] == GRP_NH_ICMPV6 && p[ETHER_HDR_LEN + 40] >= GRP_ND_FIRST &&
	    p[ETHER_HDR_LEN + 40] <= GRP_ND_LAST);
}

/*
 * An ICMP or ICMPv6 error (unreachable, fragmentation needed / packet too
 * big, time exceeded, parameter problem, source quench) belongs to the
 * flow it quotes, not to the addresses it travels between: its owner is
 * the stack whose flow the quoted TCP or UDP header names, so that path
 * MTU discovery and errors reach the connection.  The quoted packet left
 * us, so the flow's packets arrive from its destination to its source.
 * Returns 1 with *hash set, 0 when m is not such an error.
 */
static int
grp_icmp_error_hash(const uint8_t *key, const uint8_t *p, uint32_t len, uint32_t *hash)
{
	const uint8_t *ip = p + ETHER_HDR_LEN, *in, *ports;
	uint32_t a[2];
	struct ust_in6_addr s6, d6;
	uint16_t pt[2], type = (uint16_t)(p[12] << 8 | p[13]);
	size_t hl, ihl;

	if (type == GRP_ETHERTYPE_IP && len >= ETHER_HDR_LEN + 20 && ip[9] == GRP_PROTO_ICMP &&
	    (ip[6] & 0x3f) == 0 && ip[7] == 0) {
		hl = (size_t)(ip[0] & 0x0f) * 4;
		if (hl < 20 || len < ETHER_HDR_LEN + hl + 8 + 20)
			return (0);
		if (ip[hl] != 3 && ip[hl] != 4 && ip[hl] != 5 && ip[hl] != 11 && ip[hl] != 12)
			return (0);
		in = ip + hl + 8;
		ihl = (size_t)(in[0] & 0x0f) * 4;
		if ((in[0] >> 4) != 4 || ihl < 20 ||
		    (in[9] != GRP_PROTO_TCP && in[9] != GRP_PROTO_UDP) ||
		    len < ETHER_HDR_LEN + hl + 8 + ihl + 4)
			return (0);
		ports = in + ihl;
		memcpy(&a[0], in + 12, 4);
		memcpy(&a[1], in + 16, 4);
		memcpy(pt, ports, 4);
		*hash = ust_rss_hash_v4(key, a[1], a[0], pt[1], pt[0], 1);
		return (1);
	}
	if (type == GRP_ETHERTYPE_IPV6 && len >= ETHER_HDR_LEN + 40 + 8 + 40 + 4 &&
	    ip[6] == GRP_NH_ICMPV6 && ip[40] >= 1 && ip[40] <= 4) {
		in = ip + 48;
		if ((in[0] >> 4) != 6 || (in[6] != GRP_PROTO_TCP && in[6] != GRP_PROTO_UDP))
			return (0);
		memcpy(s6.s6_addr8, in + 8, 16);
		memcpy(d6.s6_addr8, in + 24, 16);
		memcpy(pt, in + 40, 4);
		*hash = ust_rss_hash_v6(key, &d6, &s6, pt[1], pt[0], 1);
		return (1);
	}
	return (0);
}

/* Decision 2 (docs/multicore.md): every other stack gets a copy, flagged
 * M_RSSCOPY, to learn from without answering. */
static void
grp_replicate(struct group_thr *gt, struct ifnet *ifp, struct mbuf *m)
{
	struct ust_group *g = gt->gt_group;
	struct ust_stack *st = gt->gt_stack;
	unsigned j, n = g->g_n, self = gt->gt_index;
	struct mbuf *c;

	for (j = 0; j < n; j++) {
		if (j == self)
			continue;
		c = m_dup(m);
		if (c == NULL) {
			ifp->if_data.iqdrops++;
			continue;
		}
		c->m_flags |= M_RSSCOPY;
		if (spsc_push(&g->g_fwd[self * n + j], c) != 0) {
			RSSSTAT_INC(st, rss_ring_full);
			m_freem(c);
			continue;
		}
		gt->gt_kick |= 1ull << j;
	}
	RSSSTAT_INC(st, rss_replicated);
}

int
grp_if_input(struct ifnet *ifp, struct mbuf *m)
{
	struct ust_stack *st = ifp->if_stack;
	struct group_thr *gt = grp_thr(st);
	struct rss_state *rs = st->st_rss;
	struct ust_group *g = gt->gt_group;
	uint8_t buf[GRP_PEEK];
	const uint8_t *p;
	uint32_t len, hash;
	unsigned owner, self = rs->rs_self;
	int type;

	if (rs->rs_n < 2 || (m->m_flags & M_RSSCOPY) || grp_if_find(g, self, ifp) < 0)
		return (0);
	len = m->m_pkthdr.len < GRP_PEEK ? m->m_pkthdr.len : GRP_PEEK;
	if (m->m_len >= len) {
		p = mtod(m, const uint8_t *);
	} else {
		if (m_copydata(m, 0, len, buf) != 0)
			return (0);
		p = buf;
	}
	if (grp_is_neighbor(p, len)) {
		grp_replicate(gt, ifp, m);
		return (0);
	}
	hash = m->m_pkthdr.flowid;
	type = m->m_pkthdr.rsstype;
	if (grp_icmp_error_hash(rs->rs_key, p, len, &hash)) {
		type = UST_RSS_IPV4; /* any type but none: the hash is set */
	} else if (type == UST_RSS_NONE) {
		type = ust_rss_hash_frame(rs->rs_key, p, len, &hash);
		m->m_pkthdr.flowid = hash;
		m->m_pkthdr.rsstype = (uint8_t)type;
	}
	if (type == UST_RSS_NONE || (owner = ust_rss_queue(hash, rs->rs_n)) == self) {
		RSSSTAT_INC(st, rss_local);
		return (0);
	}
	if (spsc_push(&g->g_fwd[self * rs->rs_n + owner], m) != 0) {
		RSSSTAT_INC(st, rss_ring_full);
		ifp->if_data.iqdrops++;
		m_freem(m);
		return (1);
	}
	RSSSTAT_INC(st, rss_steered_out);
	gt->gt_kick |= 1ull << owner;
	return (1);
}

/* The owner's own copy of a frame another stack received (its zones are
 * not ours to take from or free into). */
static struct mbuf *
grp_copy(struct ifnet *ifp, const struct mbuf *m)
{
	const struct mbuf *s;
	struct mbuf *c;

	c = m_devget(ifp, m->m_data, m->m_len);
	if (c == NULL)
		return (NULL);
	for (s = m->m_next; s != NULL; s = s->m_next) {
		if (s->m_len > 0 && m_append(c, s->m_len, s->m_data) != 0) {
			m_freem(c);
			return (NULL);
		}
	}
	c->m_flags |= (uint16_t)(m->m_flags & M_RSSCOPY);
	c->m_pkthdr.csum_flags = m->m_pkthdr.csum_flags;
	c->m_pkthdr.csum_data = m->m_pkthdr.csum_data;
	c->m_pkthdr.tso_segsz = m->m_pkthdr.tso_segsz;
	c->m_pkthdr.flowid = m->m_pkthdr.flowid;
	c->m_pkthdr.rsstype = m->m_pkthdr.rsstype;
	return (c);
}

/* A frame stack `from` handed us: our copy goes up, the original back. */
static void
grp_deliver(struct group_thr *gt, unsigned from, struct mbuf *m)
{
	struct ust_group *g = gt->gt_group;
	struct ust_stack *st = gt->gt_stack;
	unsigned n = g->g_n, self = gt->gt_index;
	struct ifnet *ifp = NULL;
	struct mbuf *c = NULL;
	int k = grp_if_find(g, from, m->m_pkthdr.rcvif);

	if (k >= 0) {
		ifp = g->g_if[k].gi_ifp[self];
		c = grp_copy(ifp, m);
		if (c == NULL)
			ifp->if_data.iqdrops++;
	}
	if (m->m_flags & M_RSSCOPY)
		RSSSTAT_INC(st, rss_copies_in);
	else
		RSSSTAT_INC(st, rss_steered_in);
	/* Room was checked by the caller: this cannot fail. */
	(void)spsc_push(&g->g_ret[from * n + self], m);
	if (c != NULL)
		ether_input(ifp, c);
}

int
grp_poll_start(struct ust_stack *st)
{
	struct group_thr *gt = grp_thr(st);
	struct ust_group *g = gt->gt_group;
	unsigned i, n = g->g_n, self = gt->gt_index;
	struct spsc *fwd, *ret;
	struct mbuf *m;
	uint32_t room;
	int work = 0;

	for (i = 0; i < n; i++) {
		if (i == self)
			continue;
		/* Ours, back from stack i. */
		ret = &g->g_ret[self * n + i];
		if ((m = spsc_pop(ret)) != NULL) {
			do
				m_freem(m);
			while ((m = spsc_pop(ret)) != NULL);
			/* Stack i may have stopped taking our frames for want of
			 * room to give them back: there is room now. */
			if (!spsc_empty_p(&g->g_fwd[self * n + i])) {
				spsc_publish_head_sc(ret);
				gt->gt_kick |= 1ull << i;
			}
		}
		/* Stack i's, for us: only while there is room to give back. */
		fwd = &g->g_fwd[i * n + self];
		if (spsc_empty(fwd))
			continue;
		ret = &g->g_ret[i * n + self];
		for (room = spsc_space(ret); room > 0; room--) {
			m = spsc_pop(fwd);
			if (m == NULL)
				break;
			grp_deliver(gt, i, m);
			work++;
		}
	}
	return (work);
}

void
grp_poll_end(struct ust_stack *st)
{
	struct group_thr *gt = grp_thr(st);
	struct ust_group *g = gt->gt_group;
	uint64_t kick = gt->gt_kick;
	unsigned j, n = g->g_n;

	if (kick == 0)
		return;
	gt->gt_kick = 0;
	if (!g->g_cfg.threads)
		return;
	while (kick != 0) {
		j = (unsigned)__builtin_ctzll(kick);
		kick &= kick - 1;
		/* The publish pairs with the sleeper's check (both seq_cst):
		 * either it sees the frames or we see it asleep. */
		spsc_publish_sc(&g->g_fwd[gt->gt_index * n + j]);
		grp_wake(&g->g_thr[j]);
	}
}

int
grp_input_pending(struct ust_stack *st)
{
	struct group_thr *gt = grp_thr(st);
	struct ust_group *g = gt->gt_group;
	unsigned i, n = g->g_n, self = gt->gt_index;

	/* Frames waiting that we may take: room to give them back too
	 * (their origin kicks us when it makes room). */
	for (i = 0; i < n; i++)
		if (i != self && spsc_nonempty_sc(&g->g_fwd[i * n + self]) &&
		    !spsc_full_sc(&g->g_ret[i * n + self]))
			return (1);
	return (0);
}

#else /* !UST_SMP (ustack_opts.h): no groups; the Toeplitz functions remain. */

int
ust_group_create(const struct ust_group_config *cfg, struct ust_group **out)
{
	(void)cfg;
	if (out != NULL)
		*out = NULL;
	return (-UST_EOPNOTSUPP);
}

void
ust_group_destroy(struct ust_group *g)
{
	(void)g;
}

unsigned
ust_group_size(const struct ust_group *g)
{
	(void)g;
	return (0);
}

struct ust_stack *
ust_group_stack(struct ust_group *g, unsigned i)
{
	(void)g, (void)i;
	return (NULL);
}

struct ust_group *
ust_stack_group(const struct ust_stack *st)
{
	(void)st;
	return (NULL);
}

unsigned
ust_stack_group_index(const struct ust_stack *st)
{
	(void)st;
	return (0);
}

int
ust_group_if_attach(struct ust_group *g, const char *name, const struct ust_driver_ops *ops,
    void *const *softcs, struct ust_if **ifps)
{
	(void)g, (void)name, (void)ops, (void)softcs, (void)ifps;
	return (-UST_EOPNOTSUPP);
}

struct ust_if *
ust_group_if(struct ust_group *g, unsigned i, const char *name)
{
	(void)g, (void)i, (void)name;
	return (NULL);
}

#endif /* UST_SMP */
