/*
 * in_pcb.c - Internet PCBs (FreeBSD netinet/in_pcb.c): allocation, bind
 * with FreeBSD's SO_REUSEADDR / SO_REUSEPORT rules, ephemeral ports per
 * RFC 6056, connect with source selection by route, and O(1) lookup of
 * the PCB an arriving packet belongs to.  Shared by UDP now and TCP next.
 *
 *   pru_attach -> in_pcballoc          pru_detach -> in_pcbfree
 *   pru_bind -> in_pcbbind -> [in_pcb_lport: RFC 6056 3.3.1]
 *   pru_connect -> in_pcbconnect -> rt_lookup (source) -> [in_pcb_lport4:
 *                  in a group of stacks, a port whose replies hash home]
 *   udp_input / tcp_input -> in_pcblookup (4-tuple, then wildcard; in an
 *                  SO_REUSEPORT_LB group, one member by the 4-tuple's hash)
 *
 * Invariants (UST_DEBUG, in_pcbcheck()): INP_INHASH / INP_INWILD /
 * INP_INPORT say exactly which chains a PCB is on; on each it sits in the
 * bucket its addresses and port hash to, its predecessor points at it; a
 * PCB that leaves the tables is unlinked from all of them.
 */
#include <string.h>

#include "kern/kassert.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_route.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "kern/kern_hash.h"
#include "net/rss_config.h"
#include "netinet/tcp_var.h"

/*
 * The connected-table hash of an IPv4 4-tuple (every IPv4 bucket, and so
 * every seeded test's table walk, as before IPv6).  IPv6 PCBs use
 * in6_pcbhash (the same keyed mixer over all 32 address bytes), chosen
 * by INP_IPV6 (inp_hashof); folding the addresses into one
 * 32-bit word first would hand a remote sender cheap collisions
 * (HashDoS).
 */
static uint64_t
in_pcbmix4(const struct inpcbinfo *info, struct in_addr faddr, uint16_t fport, struct in_addr laddr,
    uint16_t lport)
{
	uint64_t h;

	h = mix64(info->ipi_key[0] ^ ((uint64_t)faddr.s_addr << 32 | laddr.s_addr));
	return (mix64(h ^ info->ipi_key[1] ^ ((uint64_t)fport << 16 | lport)));
}

static uint32_t
in_pcbhash4(const struct inpcbinfo *info, struct in_addr faddr, uint16_t fport,
    struct in_addr laddr, uint16_t lport)
{
	return ((uint32_t)in_pcbmix4(info, faddr, fport, laddr, lport) & info->ipi_hashmask);
}

uint32_t
in_pcbhashport(const struct inpcbinfo *info, uint16_t lport)
{
	return ((uint32_t)mix64(info->ipi_key[1] ^ lport) & info->ipi_hashmask);
}

#if UST_INET6
/* The connected-table hash of an IPv6 4-tuple: the keyed mixer of IPv4's
 * hash chained over every 64-bit word of both addresses, then the ports,
 * so that no address bit is folded away before the secret is mixed in (a
 * remote sender cannot aim at one bucket).  SipHash over the 36 bytes
 * cost about 360 instructions per received segment; this costs about 60,
 * and its strength is IPv4's. */
static uint64_t
in6_pcbmix(const struct inpcbinfo *info, const struct in6_addr *faddr, uint16_t fport,
    const struct in6_addr *laddr, uint16_t lport)
{
	uint64_t w[4], h;

	memcpy(w, faddr->s6_addr8, 16);
	memcpy(w + 2, laddr->s6_addr8, 16);
	h = mix64(info->ipi_key[0] ^ w[0]);
	h = mix64(h ^ w[1]);
	h = mix64(h ^ info->ipi_key[1] ^ w[2]);
	h = mix64(h ^ w[3]);
	return (mix64(h ^ info->ipi_key[0] ^ ((uint64_t)fport << 16 | lport)));
}

uint32_t
in6_pcbhash(const struct inpcbinfo *info, const struct in6_addr *faddr, uint16_t fport,
    const struct in6_addr *laddr, uint16_t lport)
{
	return ((uint32_t)in6_pcbmix(info, faddr, fport, laddr, lport) & info->ipi_hashmask);
}

/* The hash that picks a load-balancing group's member for a flow: the
 * bits of the connected-table hash above the bucket's. */
uint32_t
in6_pcblbhash(const struct inpcbinfo *info, const struct in6_addr *faddr, uint16_t fport,
    const struct in6_addr *laddr, uint16_t lport)
{
	return ((uint32_t)(in6_pcbmix(info, faddr, fport, laddr, lport) >> 32));
}
#endif

/* Whether inp has a foreign address (IPv6 PCBs by their IPv6 one). */
static int
inp_isconnected(const struct inpcb *inp)
{
#if UST_INET6
	if (inp->inp_vflag & INP_IPV6)
		return (!IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_faddr));
#endif
	return (inp->inp_faddr.s_addr != INADDR_ANY);
}

/* The connected-table bucket of inp's addresses. */
static uint32_t
inp_hashof(const struct inpcbinfo *info, const struct inpcb *inp)
{
#if UST_INET6
	if (inp->inp_vflag & INP_IPV6)
		return (in6_pcbhash(info, &inp->in6p_faddr, inp->inp_fport, &inp->in6p_laddr,
		    inp->inp_lport));
#endif
	return (in_pcbhash4(info, inp->inp_faddr, inp->inp_fport, inp->inp_laddr, inp->inp_lport));
}

static void
inp_link(struct inpcb_link *l, struct inpcb **head, struct inpcb *inp,
    struct inpcb_link *(*linkof)(struct inpcb *))
{
	l->next = *head;
	if (l->next != NULL)
		linkof(l->next)->prevp = &l->next;
	l->prevp = head;
	*head = inp;
}

static void
inp_unlink(struct inpcb_link *l, struct inpcb_link *(*linkof)(struct inpcb *))
{
	*l->prevp = l->next;
	if (l->next != NULL)
		linkof(l->next)->prevp = l->prevp;
	l->next = NULL;
	l->prevp = NULL;
}

static struct inpcb_link *
link_hash(struct inpcb *inp)
{
	return (&inp->inp_hash);
}

static struct inpcb_link *
link_port(struct inpcb *inp)
{
	return (&inp->inp_portlist);
}

static struct inpcb_link *
link_list(struct inpcb *inp)
{
	return (&inp->inp_list);
}

#if UST_DEBUG
/* Whether inp is on the chain that starts at head. */
static int
inp_onchain(struct inpcb *const *head, const struct inpcb *inp,
    struct inpcb_link *(*linkof)(struct inpcb *))
{
	struct inpcb *t;

	for (t = *head; t != NULL; t = linkof(t)->next)
		if (t == inp)
			return (1);
	return (0);
}

/* The PCB's links agree with its flags, and each chain it is on is the
 * bucket its addresses hash to (a PCB whose address or port changed
 * without in_pcbrehash() sits in the wrong bucket and is never found). */
static void
in_pcbcheck(const struct inpcb *inp)
{
	const struct inpcbinfo *info = inp->inp_pcbinfo;
	struct inpcb **head = NULL;

	KASSERT((inp->inp_flags & (INP_INHASH | INP_INWILD)) != (INP_INHASH | INP_INWILD),
	    ("inp %p on both the connected and the wildcard hash", (const void *)inp));
	if (inp->inp_flags & INP_INHASH) {
		KASSERT(inp_isconnected(inp),
		    ("inp %p on the connected hash without a foreign address", (const void *)inp));
		head = &info->ipi_hash[inp_hashof(info, inp)];
	} else if (inp->inp_flags & INP_INWILD) {
		KASSERT(!inp_isconnected(inp) && inp->inp_lport != 0,
		    ("inp %p on the wildcard hash connected or unbound", (const void *)inp));
		head = &info->ipi_wildhash[in_pcbhashport(info, inp->inp_lport)];
	}
	if (head != NULL)
		KASSERT(*inp->inp_hash.prevp == inp && inp_onchain(head, inp, link_hash),
		    ("inp %p (port %u) is not in the bucket its hash says", (const void *)inp,
		        ntohs(inp->inp_lport)));
	else
		KASSERT(inp->inp_hash.prevp == NULL && inp->inp_hash.next == NULL,
		    ("inp %p linked on a hash chain without INP_INHASH/INP_INWILD",
		        (const void *)inp));
	if (inp->inp_flags & INP_INPORT)
		KASSERT(*inp->inp_portlist.prevp == inp &&
		        inp_onchain(&info->ipi_porthash[in_pcbhashport(info, inp->inp_lport)], inp,
		            link_port),
		    ("inp %p (port %u) is not in the port bucket its hash says", (const void *)inp,
		        ntohs(inp->inp_lport)));
	else
		KASSERT(inp->inp_portlist.prevp == NULL && inp->inp_portlist.next == NULL,
		    ("inp %p on a port chain without INP_INPORT", (const void *)inp));
}
#define IN_PCBCHECK(inp) in_pcbcheck(inp)
#else
#define IN_PCBCHECK(inp) ((void)sizeof(inp))
#endif

/* Puts inp on ipi_hash (connected) or ipi_wildhash (bound) as its
 * addresses say; takes it off first. */
void
in_pcbrehash(struct inpcb *inp)
{
	struct inpcbinfo *info = inp->inp_pcbinfo;
	uint32_t h;

	if (inp->inp_flags & (INP_INHASH | INP_INWILD)) {
		inp_unlink(&inp->inp_hash, link_hash);
		inp->inp_flags &= ~(uint32_t)(INP_INHASH | INP_INWILD);
	}
	if (inp_isconnected(inp)) {
		h = inp_hashof(info, inp);
		inp_link(&inp->inp_hash, &info->ipi_hash[h], inp, link_hash);
		inp->inp_flags |= INP_INHASH;
	} else if (inp->inp_lport != 0) {
		h = in_pcbhashport(info, inp->inp_lport);
		inp_link(&inp->inp_hash, &info->ipi_wildhash[h], inp, link_hash);
		inp->inp_flags |= INP_INWILD;
	}
	IN_PCBCHECK(inp);
}

void
in_pcbinsport(struct inpcb *inp)
{
	struct inpcbinfo *info = inp->inp_pcbinfo;

	inp_link(&inp->inp_portlist, &info->ipi_porthash[in_pcbhashport(info, inp->inp_lport)], inp,
	    link_port);
	inp->inp_flags |= INP_INPORT;
	IN_PCBCHECK(inp);
}

/* ---------------------------------------------------------------------
 * Tables.
 * ------------------------------------------------------------------- */

int
in_pcbinfo_init(struct inpcbinfo *info, struct ust_stack *st, const char *name, uint32_t hashsize,
    uint32_t maxpcb)
{
	uint32_t size = 16;
	size_t bytes;

	memset(info, 0, sizeof(*info));
	info->ipi_stack = st;
	info->ipi_name = name;
	while (size < hashsize && size < (1u << 24))
		size <<= 1;
	info->ipi_hashmask = size - 1;
	bytes = (size_t)size * sizeof(struct inpcb *);
	info->ipi_hash = st_malloc(st, bytes);
	info->ipi_wildhash = st_malloc(st, bytes);
	info->ipi_porthash = st_malloc(st, bytes);
	info->ipi_zone = ust_zone_create(&st->st_mem, name, sizeof(struct inpcb), maxpcb, 0);
	if (info->ipi_hash == NULL || info->ipi_wildhash == NULL || info->ipi_porthash == NULL ||
	    info->ipi_zone == NULL) {
		in_pcbinfo_destroy(info);
		return (UST_ENOMEM);
	}
	/* The hash secret: from the stack's PRNG (entropy-seeded unless a
	 * test fixed the seed). */
	info->ipi_key[0] = ust_rng_u64(&st->st_rng);
	info->ipi_key[1] = ust_rng_u64(&st->st_rng);
	info->ipi_lastport = (uint16_t)(V(st, ip_portrange_first) - 1);
	return (0);
}

void
in_pcbinfo_destroy(struct inpcbinfo *info)
{
	struct ust_stack *st = info->ipi_stack;
	size_t bytes = ((size_t)info->ipi_hashmask + 1) * sizeof(struct inpcb *);

	if (st == NULL)
		return;
	while (info->ipi_list != NULL)
		in_pcbfree(info->ipi_list);
	if (info->ipi_hash != NULL)
		st_free(st, info->ipi_hash, bytes);
	if (info->ipi_wildhash != NULL)
		st_free(st, info->ipi_wildhash, bytes);
	if (info->ipi_porthash != NULL)
		st_free(st, info->ipi_porthash, bytes);
	if (info->ipi_zone != NULL)
		ust_zone_destroy(info->ipi_zone);
	memset(info, 0, sizeof(*info));
}

int
in_pcballoc(struct socket *so, struct inpcbinfo *info)
{
	struct inpcb *inp;

	inp = ust_zone_alloc(info->ipi_zone);
	if (inp == NULL)
		return (UST_ENOBUFS);
	memset(inp, 0, sizeof(*inp));
	inp->inp_pcbinfo = info;
	inp->inp_socket = so;
	inp->inp_stack = info->ipi_stack;
	inp->inp_vflag = INP_IPV4; /* every PCB is IPv4 until inet6sw exists */
	inp->inp_ip_ttl = (uint8_t)V(info->ipi_stack, ip_ttl);
	inp_link(&inp->inp_list, &info->ipi_list, inp, link_list);
	info->ipi_count++;
	so->so_pcb = inp;
	return (0);
}

void
in_pcbfree(struct inpcb *inp)
{
	struct inpcbinfo *info = inp->inp_pcbinfo;

	IN_PCBCHECK(inp);
	KASSERT(info->ipi_count > 0, ("in_pcbfree: %s table already empty", info->ipi_name));
	if (inp->inp_flags & (INP_INHASH | INP_INWILD))
		inp_unlink(&inp->inp_hash, link_hash);
	if (inp->inp_flags & INP_INPORT)
		inp_unlink(&inp->inp_portlist, link_port);
	inp_unlink(&inp->inp_list, link_list);
	info->ipi_count--;
	if (inp->inp_socket != NULL && inp->inp_socket->so_pcb == inp)
		inp->inp_socket->so_pcb = NULL;
	ust_zone_free(info->ipi_zone, inp);
}

/* ---------------------------------------------------------------------
 * Binding.
 * ------------------------------------------------------------------- */

static uint32_t
inp_options(const struct inpcb *inp)
{
	return (inp->inp_socket != NULL ? inp->inp_socket->so_options : 0);
}

/*
 * Whether binding inp to laddr with options opts clashes with t, which
 * holds the same local port (FreeBSD's rules):
 *  - different specific local addresses never clash;
 *  - SO_REUSEPORT on both sockets shares any overlap, and so does
 *    SO_REUSEPORT_LB on both (a load-balancing group: see in_pcblbpick);
 *  - with SO_REUSEADDR only an identical, unconnected binding clashes
 *    (a wildcard next to a specific address is fine, and so is a port
 *    that connected sockets use);
 *  - otherwise any overlap (wildcard against anything, same address,
 *    or a connected socket on the port) is EADDRINUSE.
 */
static int
in_pcbconflict(const struct inpcb *inp, uint32_t opts, struct in_addr laddr, const struct inpcb *t)
{
	uint32_t topts = inp_options(t);

	if (t == inp)
		return (0);
	/* An IPv6-only PCB (IPV6_V6ONLY, or bound to an IPv6 address)
	 * holds no IPv4 address. */
	if ((t->inp_vflag & INP_IPV4) == 0)
		return (0);
	if (laddr.s_addr != INADDR_ANY && t->inp_laddr.s_addr != INADDR_ANY &&
	    laddr.s_addr != t->inp_laddr.s_addr)
		return (0);
	if ((opts & SO_REUSEPORT) && (topts & SO_REUSEPORT))
		return (0);
	if ((opts & SO_REUSEPORT_LB) && (topts & SO_REUSEPORT_LB))
		return (0);
	if (opts & SO_REUSEADDR) {
		if (inp_isconnected(t))
			return (0);
		return (t->inp_laddr.s_addr == laddr.s_addr);
	}
	return (1);
}

#if UST_INET6
/*
 * in_pcbconflict for an IPv6 bind: inp (INP_IPV6) already holds the
 * address it wants in in6p_laddr/in6p_zoneid.  IPv6 PCBs compare IPv6
 * addresses (a link-local one with its zone); an IPv4 PCB matters only to
 * a dual-stack [::] (v6only 0), whose wildcard covers 0.0.0.0 too.
 */
int
in6_pcbconflict(const struct inpcb *inp, uint32_t opts, const struct inpcb *t)
{
	uint32_t topts = inp_options(t);
	int same;

	if (t == inp)
		return (0);
	if (t->inp_vflag & INP_IPV6) {
		int iany = IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_laddr),
		    tany = IN6_IS_ADDR_UNSPECIFIED(&t->in6p_laddr);

		same = in6_are_addr_equal(&inp->in6p_laddr, &t->in6p_laddr) &&
		    inp->in6p_zoneid == t->in6p_zoneid;
		if (!iany && !tany && !same)
			return (0);
	} else {
		if ((inp->inp_vflag & INP_IPV4) == 0)
			return (0);
		same = t->inp_laddr.s_addr == INADDR_ANY;
	}
	if ((opts & SO_REUSEPORT) && (topts & SO_REUSEPORT))
		return (0);
	if ((opts & SO_REUSEPORT_LB) && (topts & SO_REUSEPORT_LB))
		return (0);
	if (opts & SO_REUSEADDR) {
		if (inp_isconnected(t))
			return (0);
		return (same);
	}
	return (1);
}
#endif

int
in_pcbport_inuse(struct inpcbinfo *info, const struct inpcb *inp, uint32_t opts,
    struct in_addr laddr, uint16_t lport, int any)
{
	struct inpcb *t;

	for (t = info->ipi_porthash[in_pcbhashport(info, lport)]; t != NULL;
	     t = t->inp_portlist.next) {
		if (t->inp_lport != lport || t == inp)
			continue;
		if (any)
			return (1);
#if UST_INET6
		if ((inp->inp_vflag & INP_IPV6) && in6_pcbconflict(inp, opts, t))
			return (1);
		if (inp->inp_vflag & INP_IPV6)
			continue;
#endif
		if (in_pcbconflict(inp, opts, laddr, t))
			return (1);
	}
	return (0);
}

/* The flow an outgoing connection's ephemeral port must serve in a group
 * of stacks (Decision 4): the replies, from faddr:fport to laddr:lport,
 * must hash to this stack.  Addresses and ports in network order. */
struct in_pcb_rssflow {
	int v6;
	struct in_addr faddr, laddr;
#if UST_INET6
	const struct in6_addr *faddr6, *laddr6;
#endif
	uint16_t fport;
};

/* Whether the replies to fl from local port lport come back here. */
static int
in_pcb_rss_owns(const struct ust_stack *st, const struct in_pcb_rssflow *fl, uint16_t lport)
{
#if UST_INET6
	if (fl->v6)
		return (rss_owns_v6(st, fl->faddr6, fl->laddr6, fl->fport, lport));
#endif
	return (rss_owns_v4(st, fl->faddr.s_addr, fl->laddr.s_addr, fl->fport, lport));
}

/*
 * An ephemeral port for inp (network order in *lportp).  RFC 6056 3.3.1
 * (Algorithm 1, "simple port randomization"): start at a random point of
 * [first, last] and walk up to the first port nobody holds; with
 * net.inet.ip.portrange.randomized=0, the traditional BSD sequence from
 * the last port handed out.  A port in use by any PCB of the table is
 * skipped, so that no two sockets share an ephemeral port.
 *
 * With fl (a connect on a stack of a group, rss_active), the walk also
 * skips free ports whose replies would hash to another stack, counting
 * each free port it hashes (lport_tries); the random start and the walk
 * are the same, so a lone stack (fl NULL) draws exactly the ports it
 * always did.  When no free port of the range hashes back here, the
 * first free port is taken anyway: the connection works, its replies are
 * steered here through the group's rings.
 */
static int
in_pcb_lport_flow(struct inpcb *inp, const struct in_pcb_rssflow *fl, uint16_t *lportp)
{
	struct inpcbinfo *info = inp->inp_pcbinfo;
	struct ust_stack *st = inp->inp_stack;
	uint32_t first, last, num, offset, count, port, fallback = UINT32_MAX;

	first = (uint32_t)V(st, ip_portrange_first);
	last = (uint32_t)V(st, ip_portrange_last);
	if (first > last) {
		port = first;
		first = last;
		last = port;
	}
	num = last - first + 1;
	if (V(st, ip_portrange_randomized))
		offset = ust_rng_uniform(&st->st_rng, num);
	else
		offset = ((uint32_t)info->ipi_lastport + 1u - first) % num;
	for (count = 0; count < num; count++) {
		port = first + (offset + count) % num;
		if (in_pcbport_inuse(info, inp, 0, inp->inp_laddr, htons((uint16_t)port), 1))
			continue;
		if (fl != NULL) {
			RSSSTAT_INC(st, lport_tries);
			if (!in_pcb_rss_owns(st, fl, htons((uint16_t)port))) {
				if (fallback == UINT32_MAX)
					fallback = port;
				continue;
			}
		}
		goto found;
	}
	if (fallback == UINT32_MAX)
		return (UST_EADDRNOTAVAIL);
	port = fallback; /* no free port hashes here: any free one */
found:
	info->ipi_lastport = (uint16_t)port;
	*lportp = htons((uint16_t)port);
	return (0);
}

int
in_pcb_lport(struct inpcb *inp, uint16_t *lportp)
{
	return (in_pcb_lport_flow(inp, NULL, lportp));
}

int
in_pcb_lport4(struct inpcb *inp, struct in_addr faddr, uint16_t fport, struct in_addr laddr,
    uint16_t *lportp)
{
	struct in_pcb_rssflow fl;

	/* A lone stack (or a build without groups): the ports it always drew. */
	if (!UST_SMP || !rss_active(inp->inp_stack))
		return (in_pcb_lport_flow(inp, NULL, lportp));
	memset(&fl, 0, sizeof(fl));
	fl.faddr = faddr;
	fl.laddr = laddr;
	fl.fport = fport;
	return (in_pcb_lport_flow(inp, &fl, lportp));
}

#if UST_INET6
int
in_pcb_lport6(struct inpcb *inp, const struct in6_addr *faddr, uint16_t fport,
    const struct in6_addr *laddr, uint16_t *lportp)
{
	struct in_pcb_rssflow fl;

	/* A lone stack (or a build without groups): the ports it always drew. */
	if (!UST_SMP || !rss_active(inp->inp_stack))
		return (in_pcb_lport_flow(inp, NULL, lportp));
	memset(&fl, 0, sizeof(fl));
	fl.v6 = 1;
	fl.faddr6 = faddr;
	fl.laddr6 = laddr;
	fl.fport = fport;
	return (in_pcb_lport_flow(inp, &fl, lportp));
}
#endif

int
in_pcbbind(struct inpcb *inp, const struct sockaddr_in *nam)
{
	struct ust_stack *st = inp->inp_stack;
	struct in_addr laddr = { INADDR_ANY };
	uint16_t lport = 0;
	int error;

	if (inp->inp_lport != 0 || inp->inp_laddr.s_addr != INADDR_ANY)
		return (UST_EINVAL);
	if (nam != NULL) {
		laddr.s_addr = nam->sin_addr;
		lport = nam->sin_port;
	}
	/* Only our own addresses (ports below 1024 need no privilege here). */
	if (laddr.s_addr != INADDR_ANY && !in_localip(st, laddr))
		return (UST_EADDRNOTAVAIL);
	if (lport == 0) {
		inp->inp_laddr = laddr;
		error = in_pcb_lport(inp, &lport);
		if (error != 0) {
			inp->inp_laddr.s_addr = INADDR_ANY;
			return (error);
		}
		inp->inp_flags |= INP_ANONPORT;
	} else if (in_pcbport_inuse(inp->inp_pcbinfo, inp, inp_options(inp), laddr, lport, 0))
		return (UST_EADDRINUSE);
	inp->inp_laddr = laddr;
	inp->inp_lport = lport;
	in_pcbinsport(inp);
	in_pcbrehash(inp);
	return (0);
}

int
in_pcbladdr(struct inpcb *inp, struct in_addr faddr, struct in_addr *src)
{
	struct ust_stack *st = inp->inp_stack;
	struct nhop4 nh;
	int error;

	error = rt_lookup(st, faddr, &nh);
	if (error == 0) {
		*src = nh.nh_src;
		return (src->s_addr != INADDR_ANY ? 0 : UST_EADDRNOTAVAIL);
	}
	if (faddr.s_addr == INADDR_BROADCAST && st->st_in_ifaddrs != NULL) {
		*src = st->st_in_ifaddrs->ia_addr;
		return (0);
	}
	return (error);
}

int
in_pcbconnect(struct inpcb *inp, struct in_addr faddr, uint16_t fport)
{
	struct in_addr laddr = inp->inp_laddr;
	uint16_t lport = inp->inp_lport;
	int error;

	if (fport == 0 || faddr.s_addr == INADDR_ANY)
		return (UST_EADDRNOTAVAIL);
	if (inp->inp_faddr.s_addr != INADDR_ANY)
		return (UST_EISCONN);
	if (laddr.s_addr == INADDR_ANY) {
		error = in_pcbladdr(inp, faddr, &laddr);
		if (error != 0)
			return (error);
	}
	if (lport != 0 && in_pcblookup(inp->inp_pcbinfo, faddr, fport, laddr, lport, 0) != NULL)
		return (UST_EADDRINUSE);
	if (lport == 0) {
		/* Implicit bind: a port whose replies come back to this
		 * stack (Decision 4). */
		error = in_pcb_lport4(inp, faddr, fport, laddr, &lport);
		if (error != 0)
			return (error);
		inp->inp_lport = lport;
		inp->inp_flags |= INP_ANONPORT;
		in_pcbinsport(inp);
	}
	inp->inp_laddr = laddr;
	inp->inp_faddr = faddr;
	inp->inp_fport = fport;
	in_pcbrehash(inp);
	return (0);
}

void
in_pcbdisconnect(struct inpcb *inp, int keep_laddr)
{
	inp->inp_faddr.s_addr = INADDR_ANY;
	inp->inp_fport = 0;
	if (!keep_laddr)
		inp->inp_laddr.s_addr = INADDR_ANY;
	in_pcbrehash(inp);
}

/* ---------------------------------------------------------------------
 * Lookup.
 * ------------------------------------------------------------------- */

struct inpcb *
in_pcblookup(struct inpcbinfo *info, struct in_addr faddr, uint16_t fport, struct in_addr laddr,
    uint16_t lport, int wildcard)
{
	struct inpcb *inp, *any = NULL, *mapped = NULL;

	for (inp = info->ipi_hash[in_pcbhash4(info, faddr, fport, laddr, lport)]; inp != NULL;
	     inp = inp->inp_hash.next) {
		KASSERT(inp->inp_flags & INP_INHASH,
		    ("inp %p on the connected hash without INP_INHASH", (void *)inp));
		if ((inp->inp_vflag & INP_IPV4) == 0)
			continue;
		if (inp->inp_faddr.s_addr == faddr.s_addr && inp->inp_fport == fport &&
		    inp->inp_laddr.s_addr == laddr.s_addr && inp->inp_lport == lport) {
			IN_PCBCHECK(inp);
			return (inp);
		}
	}
	if (!wildcard)
		return (NULL);
	for (inp = info->ipi_wildhash[in_pcbhashport(info, lport)]; inp != NULL;
	     inp = inp->inp_hash.next) {
		KASSERT(inp->inp_flags & INP_INWILD,
		    ("inp %p on the wildcard hash without INP_INWILD", (void *)inp));
		if (inp->inp_lport != lport || (inp->inp_vflag & INP_IPV4) == 0)
			continue;
		if (inp->inp_laddr.s_addr == laddr.s_addr) {
			IN_PCBCHECK(inp);
			/* A specific address wins. */
			if (INP_LBGROUP(inp))
				inp = in_pcblbpick(info, inp,
				    (uint32_t)(in_pcbmix4(info, faddr, fport, laddr, lport) >> 32));
			return (inp);
		}
		if (inp->inp_laddr.s_addr != INADDR_ANY)
			continue;
		/* FreeBSD: an IPv4 wildcard before a dual-stack [::] one. */
		if (inp->inp_vflag & INP_IPV6) {
			if (mapped == NULL)
				mapped = inp;
		} else if (any == NULL)
			any = inp;
	}
	if (any == NULL)
		any = mapped;
	if (any != NULL) {
		IN_PCBCHECK(any);
		if (INP_LBGROUP(any))
			any = in_pcblbpick(info, any,
			    (uint32_t)(in_pcbmix4(info, faddr, fport, laddr, lport) >> 32));
	}
	return (any);
}

/* ---------------------------------------------------------------------
 * Load-balancing groups (SO_REUSEPORT_LB; FreeBSD's in_pcblbgroup).
 *
 * Sockets with SO_REUSEPORT_LB bound to the same local address and port
 * (and speaking the same families) form a group; a packet that falls
 * back on the wildcard lookup and finds a member is given to one member
 * chosen by a keyed hash of its 4-tuple, so that all packets of a flow
 * (a SYN and the ACK that completes it) reach the same member while the
 * group stays the same.  TCP members take part while listening (a bound
 * socket that is not listening yet takes no connections), UDP ones while
 * bound.  The group is the members' order on their wildcard chain, so
 * nothing needs to be kept: a closed or connected socket leaves its chain
 * and so the group.  Picking one costs two walks of the port's wildcard
 * chain, which the lookup walks anyway.
 * ------------------------------------------------------------------- */

/* Whether t is a member of lead's group that takes packets now. */
static int
inp_lbmember(const struct inpcb *lead, const struct inpcb *t)
{
	const struct socket *so = t->inp_socket;

	if (so == NULL || (so->so_options & SO_REUSEPORT_LB) == 0 ||
	    t->inp_lport != lead->inp_lport ||
	    (t->inp_vflag & (INP_IPV4 | INP_IPV6)) != (lead->inp_vflag & (INP_IPV4 | INP_IPV6)))
		return (0);
	if (so->so_type == UST_SOCK_STREAM && (so->so_options & SO_ACCEPTCONN) == 0)
		return (0);
#if UST_INET6
	if (lead->inp_vflag & INP_IPV6)
		return (in6_are_addr_equal(&t->in6p_laddr, &lead->in6p_laddr) &&
		    t->in6p_zoneid == lead->in6p_zoneid);
#endif
	return (t->inp_laddr.s_addr == lead->inp_laddr.s_addr);
}

struct inpcb *
in_pcblbpick(struct inpcbinfo *info, struct inpcb *lead, uint32_t hash)
{
	struct inpcb *head = info->ipi_wildhash[in_pcbhashport(info, lead->inp_lport)], *t;
	uint32_t n = 0, k;

	for (t = head; t != NULL; t = t->inp_hash.next)
		n += (uint32_t)inp_lbmember(lead, t);
	if (n == 0)
		return (lead); /* nobody listens yet: the lookup's own answer */
	k = hash % n;
	for (t = head; t != NULL; t = t->inp_hash.next)
		if (inp_lbmember(lead, t) && k-- == 0)
			break;
	KASSERT(t != NULL, ("in_pcblbpick: %u members, none found", (unsigned)n));
	return (t);
}

void
in_pcbforeach_port(struct inpcbinfo *info, uint16_t lport, in_pcb_iter_t *fn, void *arg)
{
	struct inpcb *inp, *next;

	for (inp = info->ipi_porthash[in_pcbhashport(info, lport)]; inp != NULL; inp = next) {
		next = inp->inp_portlist.next;
		if (inp->inp_lport == lport && fn(inp, arg) != 0)
			return;
	}
}

/* ---------------------------------------------------------------------
 * Names and options.
 * ------------------------------------------------------------------- */

static void
in_sockaddr(struct sockaddr *nam, struct in_addr a, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)nam;

	memset(sin, 0, sizeof(*sin));
	sin->sin_len = (uint8_t)sizeof(*sin);
	sin->sin_family = UST_AF_INET;
	sin->sin_port = port;
	sin->sin_addr = a.s_addr;
}

int
in_getsockaddr(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL)
		return (UST_EINVAL);
	in_sockaddr(nam, inp->inp_laddr, inp->inp_lport);
	return (0);
}

int
in_getpeeraddr(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL || inp->inp_faddr.s_addr == INADDR_ANY)
		return (UST_ENOTCONN);
	in_sockaddr(nam, inp->inp_faddr, inp->inp_fport);
	return (0);
}

int
in_pcbctloutput_ip(struct socket *so, struct sockopt *sopt)
{
	struct inpcb *inp = sotoinpcb(so);
	int v;

	if (inp == NULL)
		return (UST_EINVAL);
	if (sopt->sopt_level != UST_IPPROTO_IP ||
	    (sopt->sopt_name != UST_IP_TTL && sopt->sopt_name != UST_IP_TOS))
		return (UST_ENOPROTOOPT);
	if (sopt->sopt_valsize < sizeof(int))
		return (UST_EINVAL);
	if (sopt->sopt_dir == SOPT_GET) {
		v = sopt->sopt_name == UST_IP_TTL ? inp->inp_ip_ttl : inp->inp_ip_tos;
		memcpy(sopt->sopt_val, &v, sizeof(v));
		sopt->sopt_valsize = sizeof(v);
		return (0);
	}
	memcpy(&v, sopt->sopt_val, sizeof(v));
	if (sopt->sopt_name == UST_IP_TTL) {
		/* -1 restores net.inet.ip.ttl; 0 would never leave the host. */
		if (v == -1)
			v = (int)V(inp->inp_stack, ip_ttl);
		if (v < 1 || v > 255)
			return (UST_EINVAL);
		inp->inp_ip_ttl = (uint8_t)v;
	} else {
		if (v < 0 || v > 255)
			return (UST_EINVAL);
		inp->inp_ip_tos = (uint8_t)v;
	}
	return (0);
}
