/*
 * if_ether.c - ARP for IPv4 over Ethernet (RFC 826; FreeBSD
 * netinet/if_ether.c): the neighbour cache, requests, replies, gratuitous
 * announcements and probes (RFC 5227), and static entries.
 *
 *   ip_output() -> ether_output() -> [broadcast | RFC 1112 multicast map |
 *                   arpresolve() -> hold m, arprequest()] -> ether_output_frame()
 *   ether_input() -> arp_input() -> [merge, create, reply, flush holds
 *                                    through ether_output_frame()]
 *
 * In a group of stacks (ustack_group.h) every ARP frame one stack receives
 * is also given to the others as a copy (M_RSSCOPY): a copy merges and
 * creates entries exactly as the frame does (and so flushes held packets),
 * but never answers, defends an address or replies to a probe; the
 * counters count it as received.
 *   callout -> arptimer() -> [retransmit every 1 s | give up | expire]
 *   ust_if_addr_add() -> arp_announce() -> callout -> arp_garp_timer()
 *
 * The cache (struct arp_table, st->st_arp) is a hash table keyed by
 * (interface, address), sized at init from net.link.ether.inet.max_entries,
 * plus a list of every entry in order of creation, which gives the
 * eviction order and ust_arp_get()'s order.  Entries come from a zone; at
 * most V(st, arp_max_entries) live at once.  When the cache is full a new
 * entry takes the place of the oldest unresolved (or already expired)
 * entry; our own resolutions may also displace the oldest resolved entry,
 * but a received packet never displaces a resolved one (a spoofed request
 * flood must not flush the cache).  Static entries are never evicted.
 * A refused entry counts `cachefull`.
 *
 * States (RFC 1122 2.3.2.1):
 *   INCOMPLETE: a request is out; packets wait in a hold queue of at most
 *     V(st, arp_maxhold) (the oldest is dropped, counted `dropped`).  A
 *     request goes out every second up to V(st, arp_maxtries); then the
 *     held packets are dropped (counted `dropped`), `timeouts` counts, and
 *     for V(st, arp_wait) seconds arpresolve() answers UST_EHOSTDOWN
 *     without asking again (RFC 1122 2.3.2.1 flood prevention).  A reply
 *     in that time still resolves the entry.
 *   REACHABLE: resolved; expires V(st, arp_max_age) seconds after the
 *     last update (counted `expired`), after which traffic asks again.
 *   STATIC: set through the API; never expires, never changed by the wire.
 *
 * Timers: one callout per entry on the stack's wheel (la_timer).  The wheel
 * makes arming and cancelling O(1), each entry's deadline is exact (the 1 s
 * retransmission, the expiry), an idle cache costs nothing and does not
 * wake the stack, and there is no sweep whose cost grows with the cache.
 *
 * Not done (noted): no re-request before expiry of an entry in use (the
 * next packet after expiry waits one round trip); held packets dropped on
 * timeout are not answered with ICMP host unreachable; conflicts are
 * defended per RFC 5227 2.4 (b) with at most one announcement per
 * DEFEND_INTERVAL per stack, not per address.
 */
#include <string.h>

#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "netinet/if_ether.h"
#include "netinet/in_var.h"

/* The ARP packet for IPv4 over Ethernet (RFC 826 "Packet format"). */
#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2
#define ARP_HDR_LEN 8
#define ARP_ETHER_IP_LEN 28 /* header + 2 * (6 + 4) */
#define AR_HRD 0
#define AR_PRO 2
#define AR_HLN 4
#define AR_PLN 5
#define AR_OP 6
#define AR_SHA 8
#define AR_SPA 14
#define AR_THA 18
#define AR_TPA 24

#define ARP_REXMT_NS 1000000000ull /* RFC 1122 2.3.2.1: 1 per second */
#define NS_PER_S 1000000000ull
#define ARP_ANNOUNCE_INTERVAL_NS (2 * NS_PER_S) /* RFC 5227 1.1 */
#define ARP_DEFEND_INTERVAL_NS (10 * NS_PER_S)  /* RFC 5227 1.1 */

enum arp_state { LLE_INCOMPLETE = 0, LLE_REACHABLE, LLE_STATIC };

struct llentry {
	struct llentry *la_hnext; /* hash chain */
	struct llentry *la_lnext; /* creation order */
	struct llentry **la_lprev;
	struct ifnet *la_ifp;
	struct in_addr la_addr;
	uint8_t la_mac[ETHER_ADDR_LEN];
	uint8_t la_state;     /* enum arp_state */
	uint8_t la_rejecting; /* INCOMPLETE after maxtries */
	uint32_t la_asked;    /* requests sent */
	uint64_t la_expire;   /* REACHABLE: expiry; else next event */
	struct mbuf *la_hold; /* packets waiting, via m_nextpkt */
	struct mbuf *la_hold_tail;
	uint32_t la_numheld;
	struct callout la_timer;
	struct ust_stack *la_stack;
};

/* A series of gratuitous announcements of one address (RFC 5227 2.3). */
struct arp_garp {
	struct arp_garp *ag_next;
	struct ifnet *ag_ifp;
	struct in_addr ag_addr;
	uint32_t ag_left;
	struct callout ag_timer;
	struct ust_stack *ag_stack;
};

struct arp_table {
	struct llentry **at_buckets;
	uint32_t at_nbuckets;    /* power of two */
	struct llentry *at_list; /* oldest first */
	struct llentry **at_tail;
	uint32_t at_count;
	struct ust_zone *at_zone;
	struct arp_garp *at_garps;
	uint64_t at_last_defend; /* RFC 5227 2.4 (b) */
	int at_defended;
};

static void arptimer(void *arg);

static const uint8_t ether_bcast[ETHER_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ether_zero[ETHER_ADDR_LEN] = { 0, 0, 0, 0, 0, 0 };

static unsigned
arp_hash(const struct arp_table *at, const struct ifnet *ifp, struct in_addr a)
{
	uint32_t h = (a.s_addr ^ (ifp->if_index * 0x9e3779b9u)) * 0x85ebca6bu;

	h ^= h >> 16;
	return (h & (at->at_nbuckets - 1));
}

static struct llentry *
arp_find(const struct arp_table *at, const struct ifnet *ifp, struct in_addr a)
{
	struct llentry *la;

	for (la = at->at_buckets[arp_hash(at, ifp, a)]; la != NULL; la = la->la_hnext)
		if (la->la_addr.s_addr == a.s_addr && la->la_ifp == ifp)
			return (la);
	return (NULL);
}

/* Frees the hold queue; returns how many packets it held. */
static uint32_t
arp_hold_purge(struct llentry *la)
{
	uint32_t n = la->la_numheld;
	struct mbuf *m, *next;

	for (m = la->la_hold; m != NULL; m = next) {
		next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
	}
	la->la_hold = la->la_hold_tail = NULL;
	la->la_numheld = 0;
	return (n);
}

static void
arp_hold_add(struct ust_stack *st, struct llentry *la, struct mbuf *m)
{
	struct mbuf *old;

	/* RFC 1122 2.3.2.2 asks for at least one; we keep arp_maxhold and
	 * drop the oldest when a new one arrives. */
	while (la->la_numheld >= (uint32_t)V(st, arp_maxhold) && la->la_hold != NULL) {
		old = la->la_hold;
		la->la_hold = old->m_nextpkt;
		if (la->la_hold == NULL)
			la->la_hold_tail = NULL;
		old->m_nextpkt = NULL;
		m_freem(old);
		la->la_numheld--;
		ARPSTAT_INC(st, dropped);
	}
	m->m_nextpkt = NULL;
	if (la->la_hold_tail != NULL)
		la->la_hold_tail->m_nextpkt = m;
	else
		la->la_hold = m;
	la->la_hold_tail = m;
	la->la_numheld++;
}

/* Sends the held packets, oldest first, now that la has a MAC. */
static void
arp_hold_flush(struct llentry *la)
{
	struct mbuf *m, *next;

	m = la->la_hold;
	la->la_hold = la->la_hold_tail = NULL;
	la->la_numheld = 0;
	for (; m != NULL; m = next) {
		next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		(void)ether_output_frame(la->la_ifp, m, la->la_mac, ETHERTYPE_IP);
	}
}

static void
arp_free_entry(struct ust_stack *st, struct llentry *la)
{
	struct arp_table *at = st->st_arp;
	struct llentry **pp;

	callout_stop(&st->st_wheel, &la->la_timer);
	ARPSTAT_ADD(st, dropped, arp_hold_purge(la));
	for (pp = &at->at_buckets[arp_hash(at, la->la_ifp, la->la_addr)]; *pp != NULL;
	     pp = &(*pp)->la_hnext) {
		if (*pp == la) {
			*pp = la->la_hnext;
			break;
		}
	}
	*la->la_lprev = la->la_lnext;
	if (la->la_lnext != NULL)
		la->la_lnext->la_lprev = la->la_lprev;
	else
		at->at_tail = la->la_lprev;
	at->at_count--;
	ust_zone_free(at->at_zone, la);
}

/* The entry to give up for a new one when the cache is full: the oldest
 * unresolved or expired entry; with may_evict_resolved, else the oldest
 * resolved one.  Never a static entry. */
static struct llentry *
arp_victim(struct ust_stack *st, int may_evict_resolved)
{
	struct llentry *la, *oldest_resolved = NULL;
	uint64_t now = stack_now(st);

	for (la = st->st_arp->at_list; la != NULL; la = la->la_lnext) {
		if (la->la_state == LLE_INCOMPLETE)
			return (la);
		if (la->la_state == LLE_REACHABLE) {
			if (la->la_expire <= now)
				return (la);
			if (oldest_resolved == NULL)
				oldest_resolved = la;
		}
	}
	return (may_evict_resolved ? oldest_resolved : NULL);
}

static struct llentry *
arp_new_entry(struct ust_stack *st, struct ifnet *ifp, struct in_addr a, int may_evict_resolved)
{
	struct arp_table *at = st->st_arp;
	struct llentry *la, *victim;
	unsigned b;

	if (at->at_count >= (uint32_t)V(st, arp_max_entries)) {
		victim = arp_victim(st, may_evict_resolved);
		if (victim == NULL) {
			ARPSTAT_INC(st, cachefull);
			return (NULL);
		}
		arp_free_entry(st, victim);
		if (at->at_count >= (uint32_t)V(st, arp_max_entries)) {
			/* The knob shrank below the population: one out, none in. */
			ARPSTAT_INC(st, cachefull);
			return (NULL);
		}
	}
	la = ust_zone_alloc(at->at_zone);
	if (la == NULL) {
		ARPSTAT_INC(st, cachefull);
		return (NULL);
	}
	memset(la, 0, sizeof(*la));
	la->la_ifp = ifp;
	la->la_addr = a;
	la->la_stack = st;
	la->la_state = LLE_INCOMPLETE;
	callout_init(&la->la_timer);
	b = arp_hash(at, ifp, a);
	la->la_hnext = at->at_buckets[b];
	at->at_buckets[b] = la;
	la->la_lprev = at->at_tail;
	*at->at_tail = la;
	at->at_tail = &la->la_lnext;
	at->at_count++;
	return (la);
}

/* Builds and sends one ARP packet for IPv4 over Ethernet. */
static int
arp_send(struct ifnet *ifp, uint16_t op, const uint8_t *edst, struct in_addr spa,
    const uint8_t *tha, struct in_addr tpa)
{
	struct ust_stack *st = ifp->if_stack;
	uint8_t ah[ARP_ETHER_IP_LEN];
	struct mbuf *m;

	be16enc(ah + AR_HRD, ARPHRD_ETHER);
	be16enc(ah + AR_PRO, ETHERTYPE_IP);
	ah[AR_HLN] = ETHER_ADDR_LEN;
	ah[AR_PLN] = 4;
	be16enc(ah + AR_OP, op);
	memcpy(ah + AR_SHA, ifp->if_hwaddr, ETHER_ADDR_LEN);
	memcpy(ah + AR_SPA, &spa.s_addr, 4);
	memcpy(ah + AR_THA, tha, ETHER_ADDR_LEN);
	memcpy(ah + AR_TPA, &tpa.s_addr, 4);
	m = m_gethdr(&st->st_mbz, MT_DATA);
	if (m == NULL)
		return (UST_ENOBUFS);
	/* All the room in front: the Ethernet header goes there. */
	m_reserve(m, M_SIZE(m) - (uint32_t)sizeof(ah));
	if (m_append(m, sizeof(ah), ah) != 0) {
		m_freem(m);
		return (UST_ENOBUFS);
	}
	return (ether_output_frame(ifp, m, edst, ETHERTYPE_ARP));
}

/* RFC 826: a broadcast request for tpa from our address on ifp (the one
 * on tpa's subnet, else the first; 0.0.0.0 if ifp has none). */
static void
arprequest(struct ifnet *ifp, struct in_addr tpa)
{
	struct ust_stack *st = ifp->if_stack;
	struct in_ifaddr *ia;
	struct in_addr spa = { INADDR_ANY };

	for (ia = st->st_in_ifaddrs; ia != NULL; ia = ia->ia_next) {
		if (ia->ia_ifp == ifp &&
		    ((ia->ia_addr.s_addr ^ tpa.s_addr) & ia->ia_netmask.s_addr) == 0) {
			spa = ia->ia_addr;
			break;
		}
	}
	if (ia == NULL && (ia = in_ifaddr_first(st, ifp)) != NULL)
		spa = ia->ia_addr;
	if (arp_send(ifp, ARPOP_REQUEST, ether_bcast, spa, ether_zero, tpa) == 0)
		ARPSTAT_INC(st, txrequests);
}

static void
arp_set_reachable(struct ust_stack *st, struct llentry *la, const uint8_t *mac)
{
	uint64_t now = stack_now(st), age = (uint64_t)V(st, arp_max_age) * NS_PER_S;

	memcpy(la->la_mac, mac, ETHER_ADDR_LEN);
	la->la_state = LLE_REACHABLE;
	la->la_rejecting = 0;
	la->la_asked = 0;
	la->la_expire = now + age;
	callout_reset(&st->st_wheel, &la->la_timer, now, age, arptimer, la);
	arp_hold_flush(la);
}

static void
arptimer(void *arg)
{
	struct llentry *la = arg;
	struct ust_stack *st = la->la_stack;
	uint64_t due = la->la_expire; /* when this event was due */

	/* Deadlines follow from the previous one, not from when the callout
	 * happened to run, so requests are exactly 1 s apart on the stack
	 * clock however late a poll comes. */
	switch (la->la_state) {
	case LLE_INCOMPLETE:
		if (la->la_rejecting) {
			/* arp_wait is over: forget it, the next packet asks again. */
			arp_free_entry(st, la);
			return;
		}
		if (la->la_asked < (uint32_t)V(st, arp_maxtries)) {
			arprequest(la->la_ifp, la->la_addr);
			la->la_asked++;
			la->la_expire = due + ARP_REXMT_NS;
			callout_reset_at(&st->st_wheel, &la->la_timer, la->la_expire, arptimer, la);
			return;
		}
		/* RFC 1122 2.3.2.1: give up, and do not ask again for a while. */
		ARPSTAT_INC(st, timeouts);
		ARPSTAT_ADD(st, dropped, arp_hold_purge(la));
		la->la_rejecting = 1;
		la->la_expire = due + (uint64_t)V(st, arp_wait) * NS_PER_S;
		callout_reset_at(&st->st_wheel, &la->la_timer, la->la_expire, arptimer, la);
		return;
	case LLE_REACHABLE:
		ARPSTAT_INC(st, expired);
		arp_free_entry(st, la);
		return;
	default:
		return;
	}
}

int
arpresolve(struct ifnet *ifp, struct mbuf *m, struct in_addr dst, uint8_t mac[ETHER_ADDR_LEN])
{
	struct ust_stack *st = ifp->if_stack;
	struct arp_table *at = st->st_arp;
	struct llentry *la;
	uint64_t now;

	if (at == NULL) {
		m_freem(m);
		return (UST_EHOSTDOWN);
	}
	la = arp_find(at, ifp, dst);
	/* The common case without reading the clock: a resolved entry
	 * still fresh at the poll's time (FreeBSD compares with the coarse
	 * time_uptime).  Inside a poll that is the stack clock; outside, the
	 * last poll's, so an entry that ran out since is used until the
	 * next poll runs its callout. */
	if (la != NULL &&
	    (la->la_state == LLE_STATIC ||
	        (la->la_state == LLE_REACHABLE && la->la_expire > st->st_poll_now))) {
		memcpy(mac, la->la_mac, ETHER_ADDR_LEN);
		return (0);
	}
	now = stack_now(st);
	if (la != NULL && la->la_state == LLE_REACHABLE && la->la_expire <= now) {
		/* Past its time; the callout has not run yet this tick. */
		ARPSTAT_INC(st, expired);
		arp_free_entry(st, la);
		la = NULL;
	}
	if (la != NULL && la->la_state != LLE_INCOMPLETE) {
		memcpy(mac, la->la_mac, ETHER_ADDR_LEN);
		return (0);
	}
	if (la == NULL) {
		la = arp_new_entry(st, ifp, dst, 1);
		if (la == NULL) {
			m_freem(m);
			return (UST_ENOBUFS);
		}
		if (m != NULL)
			arp_hold_add(st, la, m);
		arprequest(ifp, dst);
		la->la_asked = 1;
		la->la_expire = now + ARP_REXMT_NS;
		callout_reset(&st->st_wheel, &la->la_timer, now, ARP_REXMT_NS, arptimer, la);
		return (UST_EWOULDBLOCK);
	}
	if (la->la_rejecting) {
		m_freem(m);
		return (UST_EHOSTDOWN);
	}
	/* A request is out; the timer asks again each second. */
	if (m != NULL)
		arp_hold_add(st, la, m);
	return (UST_EWOULDBLOCK);
}

/* Someone uses one of our addresses (RFC 5227 2.4): log, and defend it
 * with one announcement at most every DEFEND_INTERVAL. */
static void
arp_conflict(struct ifnet *ifp, struct in_addr spa, const uint8_t *sha)
{
	struct ust_stack *st = ifp->if_stack;
	struct arp_table *at = st->st_arp;
	uint32_t a = ntohl(spa.s_addr);
	uint64_t now = stack_now(st);

	ARPSTAT_INC(st, dupips);
	ST_LOG(st, UST_LOG_WARNING,
	    "arp: %02x:%02x:%02x:%02x:%02x:%02x is using my IP address %u.%u.%u.%u on %s!", sha[0],
	    sha[1], sha[2], sha[3], sha[4], sha[5], (unsigned)(a >> 24),
	    (unsigned)((a >> 16) & 0xff), (unsigned)((a >> 8) & 0xff), (unsigned)(a & 0xff),
	    ifp->if_xname);
	if (!at->at_defended || now - at->at_last_defend >= ARP_DEFEND_INTERVAL_NS) {
		at->at_defended = 1;
		at->at_last_defend = now;
		if (arp_send(ifp, ARPOP_REQUEST, ether_bcast, spa, ether_zero, spa) == 0)
			ARPSTAT_INC(st, txannounces);
	}
}

/* Whether a sender protocol address can be a neighbour's: not multicast,
 * not a broadcast of ifp, not class E or loopback. */
static int
arp_spa_valid(const struct ifnet *ifp, struct in_addr spa)
{
	uint32_t a = ntohl(spa.s_addr);

	if (IN_MULTICAST(a) || IN_BADCLASS(a) || IN_LOOPBACK(a) || IN_ZERONET(a))
		return (0);
	return (!in_broadcast(spa, ifp));
}

void
arp_input(struct ifnet *ifp, struct mbuf *m, const uint8_t esrc[ETHER_ADDR_LEN])
{
	struct ust_stack *st = ifp->if_stack;
	uint8_t ah[ARP_ETHER_IP_LEN];
	const uint8_t *sha;
	struct in_addr spa, tpa;
	struct in_ifaddr *ia;
	struct llentry *la;
	uint16_t op;
	int merged = 0, copy = (m->m_flags & M_RSSCOPY) != 0;

	ARPSTAT_INC(st, received);
	if (st->st_arp == NULL)
		goto drop;
	/* One length check, then fixed offsets in a local copy (the pad
	 * after the 28 bytes is ignored). */
	if (m->m_pkthdr.len < ARP_HDR_LEN) {
		ARPSTAT_INC(st, rx_tooshort);
		goto drop;
	}
	memset(ah, 0, sizeof(ah));
	(void)m_copydata(m, 0, ARP_HDR_LEN, ah);
	if (be16dec(ah + AR_HRD) != ARPHRD_ETHER || be16dec(ah + AR_PRO) != ETHERTYPE_IP ||
	    ah[AR_HLN] != ETHER_ADDR_LEN || ah[AR_PLN] != 4) {
		ARPSTAT_INC(st, rx_badformat);
		goto drop;
	}
	if (m->m_pkthdr.len < ARP_ETHER_IP_LEN || m_copydata(m, 0, ARP_ETHER_IP_LEN, ah) != 0) {
		ARPSTAT_INC(st, rx_tooshort);
		goto drop;
	}
	op = be16dec(ah + AR_OP);
	if (op != ARPOP_REQUEST && op != ARPOP_REPLY) {
		ARPSTAT_INC(st, rx_badop);
		goto drop;
	}
	if (op == ARPOP_REQUEST)
		ARPSTAT_INC(st, rxrequests);
	else
		ARPSTAT_INC(st, rxreplies);
	sha = ah + AR_SHA;
	memcpy(&spa.s_addr, ah + AR_SPA, 4);
	memcpy(&tpa.s_addr, ah + AR_TPA, 4);
	ia = in_ifaddr_find(st, tpa);
	if (ia != NULL && ia->ia_ifp != ifp)
		ia = NULL; /* we answer on the interface that has it */

	/* A sender hardware address is a station's: never group, never zero,
	 * never ours (our own frame reflected back), and the station that
	 * sent the frame.  ARP carries no checksum: the last rule keeps a
	 * damaged or forged sender address, which would misdirect all our
	 * traffic to that host for max_age, out of the cache. */
	if ((sha[0] & 0x01) != 0 || memcmp(sha, ether_zero, ETHER_ADDR_LEN) == 0 ||
	    memcmp(sha, ifp->if_hwaddr, ETHER_ADDR_LEN) == 0 ||
	    memcmp(sha, esrc, ETHER_ADDR_LEN) != 0) {
		ARPSTAT_INC(st, rx_badaddr);
		goto drop;
	}
	if (spa.s_addr == htonl(INADDR_ANY)) {
		/* RFC 5227 2.1.1: a probe.  Answer if the address is ours (we
		 * defend it), but learn nothing from it. */
		if (op != ARPOP_REQUEST) {
			ARPSTAT_INC(st, rx_badaddr);
			goto drop;
		}
		if (ia != NULL && !copy && arp_send(ifp, ARPOP_REPLY, sha, tpa, sha, spa) == 0)
			ARPSTAT_INC(st, txreplies);
		goto drop;
	}
	if (!arp_spa_valid(ifp, spa)) {
		ARPSTAT_INC(st, rx_badaddr);
		goto drop;
	}
	if (in_localip(st, spa)) {
		/* Never poison our view of our own address.  The stack that
		 * received the frame defends the address, not its copies. */
		if (!copy)
			arp_conflict(ifp, spa, sha);
		goto drop;
	}

	/* RFC 826 "Packet Reception": merge if the sender is known ... */
	la = arp_find(st->st_arp, ifp, spa);
	if (la != NULL) {
		merged = 1;
		if (la->la_state != LLE_STATIC)
			arp_set_reachable(st, la, sha);
	}
	/* ... and only if we are the target go further. */
	if (ia == NULL)
		goto drop;
	if (!merged) {
		la = arp_new_entry(st, ifp, spa, 0);
		if (la != NULL)
			arp_set_reachable(st, la, sha);
	}
	/* A group's copy (M_RSSCOPY): the stack that received the request
	 * answers it; this one only learns. */
	if (op == ARPOP_REQUEST && !copy && arp_send(ifp, ARPOP_REPLY, sha, tpa, sha, spa) == 0)
		ARPSTAT_INC(st, txreplies);
drop:
	m_freem(m);
}

static void
arp_garp_free(struct ust_stack *st, struct arp_garp *ag)
{
	struct arp_garp **pp;

	callout_stop(&st->st_wheel, &ag->ag_timer);
	for (pp = &st->st_arp->at_garps; *pp != NULL; pp = &(*pp)->ag_next) {
		if (*pp == ag) {
			*pp = ag->ag_next;
			break;
		}
	}
	st_free(st, ag, sizeof(*ag));
}

/* RFC 5227 2.3: an announcement is a request with sender and target
 * protocol address both the announced address. */
static void
arp_garp_send(struct ifnet *ifp, struct in_addr addr)
{
	if (arp_send(ifp, ARPOP_REQUEST, ether_bcast, addr, ether_zero, addr) == 0)
		ARPSTAT_INC(ifp->if_stack, txannounces);
}

static void
arp_garp_timer(void *arg)
{
	struct arp_garp *ag = arg;
	struct ust_stack *st = ag->ag_stack;
	struct in_ifaddr *ia = in_ifaddr_find(st, ag->ag_addr);

	/* Stop announcing an address that has gone. */
	if (ia == NULL || ia->ia_ifp != ag->ag_ifp || ag->ag_left == 0) {
		arp_garp_free(st, ag);
		return;
	}
	arp_garp_send(ag->ag_ifp, ag->ag_addr);
	if (--ag->ag_left == 0) {
		arp_garp_free(st, ag);
		return;
	}
	callout_reset(&st->st_wheel, &ag->ag_timer, stack_now(st), ARP_ANNOUNCE_INTERVAL_NS,
	    arp_garp_timer, ag);
}

void
arp_announce(struct ifnet *ifp, struct in_addr addr)
{
	struct ust_stack *st = ifp->if_stack;
	struct arp_garp *ag;
	uint32_t count = (uint32_t)V(st, arp_garp_count);

	if (st->st_arp == NULL || count == 0)
		return;
	arp_garp_send(ifp, addr);
	if (count == 1)
		return;
	/* The rest ANNOUNCE_INTERVAL apart (RFC 5227 2.3). */
	ag = st_malloc(st, sizeof(*ag));
	if (ag == NULL)
		return;
	ag->ag_ifp = ifp;
	ag->ag_addr = addr;
	ag->ag_left = count - 1;
	ag->ag_stack = st;
	callout_init(&ag->ag_timer);
	ag->ag_next = st->st_arp->at_garps;
	st->st_arp->at_garps = ag;
	callout_reset(&st->st_wheel, &ag->ag_timer, stack_now(st), ARP_ANNOUNCE_INTERVAL_NS,
	    arp_garp_timer, ag);
}

int
ether_output(struct ifnet *ifp, struct mbuf *m, struct in_addr nexthop, int flags)
{
	uint8_t dst[ETHER_ADDR_LEN];
	uint32_t hn = ntohl(nexthop.s_addr);
	int error;

	if ((flags & ETHER_OUT_BCAST) != 0 ||
	    ((flags & ETHER_OUT_UNICAST) == 0 && in_broadcast(nexthop, ifp))) {
		memcpy(dst, etherbroadcastaddr, ETHER_ADDR_LEN);
	} else if (IN_MULTICAST(hn)) {
		/* RFC 1112 6.4: 01:00:5e and the low 23 bits of the group. */
		dst[0] = 0x01;
		dst[1] = 0x00;
		dst[2] = 0x5e;
		dst[3] = (uint8_t)((hn >> 16) & 0x7f);
		dst[4] = (uint8_t)(hn >> 8);
		dst[5] = (uint8_t)hn;
	} else {
		error = arpresolve(ifp, m, nexthop, dst);
		if (error == UST_EWOULDBLOCK)
			return (0); /* held; sent when the reply comes */
		if (error != 0) {
			ETHERSTAT_INC(ifp->if_stack, ether_noresolve);
			return (error); /* arpresolve freed m */
		}
	}
	return (ether_output_frame(ifp, m, dst, ETHERTYPE_IP));
}

void
arp_ifdetach(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct llentry *la, *next;
	struct arp_garp *ag, *agnext;

	if (st == NULL || st->st_arp == NULL)
		return;
	for (la = st->st_arp->at_list; la != NULL; la = next) {
		next = la->la_lnext;
		if (la->la_ifp == ifp)
			arp_free_entry(st, la);
	}
	for (ag = st->st_arp->at_garps; ag != NULL; ag = agnext) {
		agnext = ag->ag_next;
		if (ag->ag_ifp == ifp)
			arp_garp_free(st, ag);
	}
}

int
arp_init(struct ust_stack *st)
{
	struct arp_table *at;
	uint32_t nb, want;

	if (st->st_arp != NULL)
		return (0);
	/* About two entries per bucket at the configured maximum. */
	want = (uint32_t)V(st, arp_max_entries) / 2;
	nb = st_hash_buckets(st, want < 65536 ? want : 65536, sizeof(*at->at_buckets));
	at = st_malloc(st, sizeof(*at));
	if (at == NULL)
		return (UST_ENOMEM);
	at->at_buckets = st_malloc(st, nb * sizeof(*at->at_buckets));
	at->at_zone = ust_zone_create(&st->st_mem, "arp_entry", sizeof(struct llentry), 0, 0);
	if (at->at_buckets == NULL || at->at_zone == NULL) {
		if (at->at_buckets != NULL)
			st_free(st, at->at_buckets, nb * sizeof(*at->at_buckets));
		if (at->at_zone != NULL)
			ust_zone_destroy(at->at_zone);
		st_free(st, at, sizeof(*at));
		return (UST_ENOMEM);
	}
	at->at_nbuckets = nb;
	at->at_tail = &at->at_list;
	st->st_arp = at;
	return (0);
}

void
arp_fini(struct ust_stack *st)
{
	struct arp_table *at = st->st_arp;

	if (at == NULL)
		return;
	while (at->at_list != NULL)
		arp_free_entry(st, at->at_list);
	while (at->at_garps != NULL)
		arp_garp_free(st, at->at_garps);
	ust_zone_destroy(at->at_zone);
	st_free(st, at->at_buckets, at->at_nbuckets * sizeof(*at->at_buckets));
	st_free(st, at, sizeof(*at));
	st->st_arp = NULL;
}

/* Public API (called under the stack lock). */

int
ust_arp_add_static(struct ust_if *uifp, uint32_t addr, const uint8_t mac[6])
{
	struct ifnet *ifp;
	struct ust_stack *st;
	struct llentry *la;
	struct in_addr a;
	uint32_t ha = ntohl(addr);

	if (uifp == NULL || mac == NULL)
		return (-UST_EINVAL);
	ifp = IFP_FROM_UST(uifp);
	st = ifp->if_stack;
	if (st->st_arp == NULL)
		return (-UST_EINVAL);
	if (ha == INADDR_ANY || ha == INADDR_BROADCAST || IN_MULTICAST(ha) || IN_BADCLASS(ha) ||
	    (mac[0] & 0x01) != 0 || memcmp(mac, ether_zero, ETHER_ADDR_LEN) == 0)
		return (-UST_EINVAL);
	a.s_addr = addr;
	la = arp_find(st->st_arp, ifp, a);
	if (la == NULL) {
		la = arp_new_entry(st, ifp, a, 1);
		if (la == NULL)
			return (-UST_ENOSPC);
	}
	callout_stop(&st->st_wheel, &la->la_timer);
	memcpy(la->la_mac, mac, ETHER_ADDR_LEN);
	la->la_state = LLE_STATIC;
	la->la_rejecting = 0;
	la->la_expire = 0;
	arp_hold_flush(la);
	return (0);
}

int
ust_arp_del(struct ust_if *uifp, uint32_t addr)
{
	struct ifnet *ifp;
	struct llentry *la;
	struct in_addr a;

	if (uifp == NULL)
		return (-UST_EINVAL);
	ifp = IFP_FROM_UST(uifp);
	if (ifp->if_stack->st_arp == NULL)
		return (-UST_ENOENT);
	a.s_addr = addr;
	la = arp_find(ifp->if_stack->st_arp, ifp, a);
	if (la == NULL)
		return (-UST_ENOENT);
	arp_free_entry(ifp->if_stack, la);
	return (0);
}

static void
arp_to_entry(const struct llentry *la, struct ust_arp_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = la->la_addr.s_addr;
	out->ifindex = la->la_ifp->if_index;
	out->held = la->la_numheld;
	switch (la->la_state) {
	case LLE_STATIC:
		out->flags = UST_ARP_STATIC | UST_ARP_RESOLVED;
		memcpy(out->mac, la->la_mac, ETHER_ADDR_LEN);
		break;
	case LLE_REACHABLE:
		out->flags = UST_ARP_RESOLVED;
		memcpy(out->mac, la->la_mac, ETHER_ADDR_LEN);
		out->expire_ns = la->la_expire;
		break;
	default:
		out->expire_ns = la->la_expire; /* next retransmission / end of wait */
		break;
	}
}

int
ust_arp_lookup(struct ust_stack *st, uint32_t addr, struct ust_arp_entry *out)
{
	const struct llentry *la;
	struct in_addr a;
	unsigned i;

	if (st == NULL || out == NULL || st->st_arp == NULL)
		return (-UST_EINVAL);
	a.s_addr = addr;
	for (i = 0; i < st->st_nifnet; i++) {
		la = arp_find(st->st_arp, st->st_ifnet[i], a);
		if (la != NULL) {
			arp_to_entry(la, out);
			return (0);
		}
	}
	return (-UST_ENOENT);
}

int
ust_arp_get(struct ust_stack *st, unsigned idx, struct ust_arp_entry *out)
{
	const struct llentry *la;

	if (st == NULL || out == NULL || st->st_arp == NULL)
		return (-UST_EINVAL);
	for (la = st->st_arp->at_list; la != NULL; la = la->la_lnext)
		if (idx-- == 0) {
			arp_to_entry(la, out);
			return (0);
		}
	return (-UST_ENOENT);
}
