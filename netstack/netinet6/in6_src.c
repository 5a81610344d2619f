/*
 * in6_src.c - source address selection (RFC 6724 5; FreeBSD
 * netinet6/in6_src.c).
 *
 * Candidates are usable addresses only (not tentative, duplicated,
 * detached or anycast; deprecated ones unless
 * net.inet6.ip6.use_deprecated is 0), of the destination's zone for a
 * scoped destination.  Among them, in order: rule 1 (the destination
 * itself), rule 2 (appropriate scope), rule 3 (avoid deprecated), rule 5
 * (the outgoing interface), rule 6 (matching label of RFC 6724's default
 * policy table, 2.1), rule 8 (longest matching prefix).  Rule 4 (home
 * addresses) and rule 7 (temporary addresses) have nothing to act on:
 * ustack has neither.
 */
#include <string.h>

#include "kern/stack_var.h"
#include "netinet6/in6_var.h"
#include "netinet6/nd6.h"

/* The length of the prefix a and b share (0..128). */
static unsigned
in6_matchlen(const struct in6_addr *a, const struct in6_addr *b)
{
	unsigned i, n = 0;
	uint8_t x;

	for (i = 0; i < 16; i++, n += 8) {
		if ((x = (uint8_t)(a->s6_addr8[i] ^ b->s6_addr8[i])) == 0)
			continue;
		while (!(x & 0x80)) {
			x = (uint8_t)(x << 1);
			n++;
		}
		return (n);
	}
	return (128);
}

/* The label of a in RFC 6724's default policy table (2.1): the longest
 * matching prefix's. */
static unsigned
in6_label(const struct in6_addr *a)
{
	static const struct {
		uint8_t pfx[4];
		uint8_t plen;
		uint8_t label;
	} tbl[] = {
		{ { 0x20, 0x02, 0, 0 }, 16, 2 },  /* 2002::/16 6to4 */
		{ { 0x20, 0x01, 0, 0 }, 32, 5 },  /* 2001::/32 Teredo */
		{ { 0xfc, 0, 0, 0 }, 7, 13 },     /* fc00::/7 ULA */
		{ { 0xfe, 0xc0, 0, 0 }, 10, 11 }, /* fec0::/10 site-local */
		{ { 0x3f, 0xfe, 0, 0 }, 16, 12 }, /* 3ffe::/16 6bone */
	};
	struct in6_addr p;
	unsigned i;

	if (IN6_IS_ADDR_LOOPBACK(a))
		return (0);
	if (IN6_IS_ADDR_V4MAPPED(a))
		return (4);
	if (in6_word(a, 0) == 0 && in6_word(a, 1) == 0 && in6_word(a, 2) == 0)
		return (3); /* ::/96 */
	for (i = 0; i < sizeof(tbl) / sizeof(tbl[0]); i++) {
		memset(&p, 0, sizeof(p));
		memcpy(p.s6_addr8, tbl[i].pfx, sizeof(tbl[i].pfx));
		if (in6_prefix_match(a, &p, tbl[i].plen))
			return (tbl[i].label);
	}
	return (1); /* ::/0 */
}

/* Nonzero when a is the better source than b for dst (RFC 6724 5). */
static int
in6_src_better(const struct in6_ifaddr *a, const struct in6_ifaddr *b, const struct in6_addr *dst,
    const struct ifnet *ifp)
{
	unsigned ds = in6_addrscope(dst), as = in6_addrscope(&a->ia_addr),
	         bs = in6_addrscope(&b->ia_addr);
	int ad = (a->ia6_flags & IN6_IFF_DEPRECATED) != 0,
	    bd = (b->ia6_flags & IN6_IFF_DEPRECATED) != 0;

	/* Rule 1: the destination itself. */
	if (in6_are_addr_equal(&a->ia_addr, dst) != in6_are_addr_equal(&b->ia_addr, dst))
		return (in6_are_addr_equal(&a->ia_addr, dst));
	/* Rule 2: the smallest scope at least the destination's, else the
	 * largest. */
	if (as != bs) {
		if (as < bs)
			return (as >= ds);
		return (bs < ds);
	}
	/* Rule 3: avoid deprecated addresses. */
	if (ad != bd)
		return (!ad);
	/* Rule 5: the outgoing interface's. */
	if (ifp != NULL && (a->ia_ifp == ifp) != (b->ia_ifp == ifp))
		return (a->ia_ifp == ifp);
	/* Rule 6: a label matching the destination's. */
	if ((in6_label(&a->ia_addr) == in6_label(dst)) !=
	    (in6_label(&b->ia_addr) == in6_label(dst)))
		return (in6_label(&a->ia_addr) == in6_label(dst));
	/* Rule 8: longest matching prefix. */
	return (in6_matchlen(&a->ia_addr, dst) > in6_matchlen(&b->ia_addr, dst));
}

int
in6_selectsrc(struct ust_stack *st, const struct in6_addr *dst, uint32_t zoneid, struct ifnet *ifp,
    struct in6_addr *src)
{
	struct in6_ifaddr *ia, *best = NULL;
	int scoped = in6_is_scoped(dst);

	for (ia = st->st_in6_ifaddrs; ia != NULL; ia = ia->ia_next) {
		if (ia->ia6_flags & (IN6_IFF_NOTREADY | IN6_IFF_ANYCAST | IN6_IFF_DETACHED))
			continue;
		if (ia->ia6_flags & IN6_IFF_DEPRECATED && !V(st, ip6_use_deprecated))
			continue;
		/* A scoped destination's packets leave on its zone's link:
		 * only that interface's addresses make sense. */
		if (scoped &&
		    ((zoneid != 0 && ia->ia_ifp->if_index != zoneid) ||
		        (ifp != NULL && ia->ia_ifp != ifp)))
			continue;
		/* A link-local source never leaves its link. */
		if (IN6_IS_ADDR_LINKLOCAL(&ia->ia_addr) && ifp != NULL && ia->ia_ifp != ifp)
			continue;
		if (best == NULL || in6_src_better(ia, best, dst, ifp))
			best = ia;
	}
	if (best == NULL)
		return (UST_EADDRNOTAVAIL);
	*src = best->ia_addr;
	return (0);
}
