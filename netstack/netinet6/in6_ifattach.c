/*
 * in6_ifattach.c - an interface's IPv6 start (FreeBSD
 * netinet6/in6_ifattach.c): its link-local address (RFC 4862 5.3) with an
 * interface identifier that is either the modified EUI-64 of the MAC (RFC
 * 4291 appendix A) or, with net.inet6.ip6.use_stableaddr, a stable
 * semantically opaque one (RFC 7217), then the first router
 * solicitations (nd6_rtr.c) and, on the way out, MLD's state.
 *
 * RFC 7217 5: RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter,
 * secret_key), here SipHash-2-4 keyed with the stack's 128-bit secret
 * (nd6_init, from the stack's seed) over the 64-bit prefix, the interface
 * name and the DAD counter (no Network_ID).  When IPv6 starts on an
 * interface: see in6_ifattach.  Identifiers RFC 5453 reserves
 * are skipped by counting on.
 */
#include <stddef.h>
#include <string.h>

#include "kern/stack_var.h"
#include "netinet/tcp_var.h"
#include "netinet6/in6_var.h"
#include "netinet6/nd6.h"
#include "netinet6/nd6_var.h"

void
in6_eui64_iid(const struct ifnet *ifp, const struct in6_addr *prefix, struct in6_addr *out)
{
	const uint8_t *mac = ifp->if_hwaddr;

	*out = *prefix;
	out->s6_addr8[8] = (uint8_t)(mac[0] ^ 0x02); /* the universal/local bit */
	out->s6_addr8[9] = mac[1];
	out->s6_addr8[10] = mac[2];
	out->s6_addr8[11] = 0xff;
	out->s6_addr8[12] = 0xfe;
	out->s6_addr8[13] = mac[3];
	out->s6_addr8[14] = mac[4];
	out->s6_addr8[15] = mac[5];
}

/* RFC 5453: identifiers not to be used (all zeros is the subnet-router
 * anycast, RFC 4291 2.6.1; fdff:ffff:ffff:ff80 and up the reserved
 * subnet anycasts, RFC 2526; 0200:5eff:fe00:0000-5212 proxy mobile). */
static int
in6_iid_reserved(const uint8_t *iid)
{
	static const uint8_t anyc[7] = { 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t pmip[6] = { 0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00 };
	unsigned i, zero = 1;

	for (i = 0; i < 8; i++)
		if (iid[i] != 0)
			zero = 0;
	if (zero)
		return (1);
	if (memcmp(iid, anyc, sizeof(anyc)) == 0 && iid[7] >= 0x80)
		return (1);
	if (memcmp(iid, pmip, sizeof(pmip)) == 0 && ((uint32_t)iid[6] << 8 | iid[7]) <= 0x5212)
		return (1);
	return (0);
}

void
in6_stable_iid(struct ifnet *ifp, const struct in6_addr *prefix, uint32_t dad, struct in6_addr *out)
{
	struct ust_stack *st = ifp->if_stack;
	uint8_t in[8 + IFNAMSIZ + 4];
	size_t nlen = 0, n;
	uint64_t h;
	unsigned i, tries;

	while (nlen < IFNAMSIZ && ifp->if_xname[nlen] != '\0')
		nlen++;
	*out = *prefix;
	for (tries = 0; tries < 16; tries++, dad++) {
		memcpy(in, prefix->s6_addr8, 8);
		memcpy(in + 8, ifp->if_xname, nlen);
		n = 8 + nlen;
		in[n++] = (uint8_t)(dad >> 24);
		in[n++] = (uint8_t)(dad >> 16);
		in[n++] = (uint8_t)(dad >> 8);
		in[n++] = (uint8_t)dad;
		h = tcp_siphash24(st->st_nd6->nd_secret, in, n);
		for (i = 0; i < 8; i++)
			out->s6_addr8[8 + i] = (uint8_t)(h >> (56 - 8 * i));
		if (!in6_iid_reserved(out->s6_addr8 + 8))
			return;
	}
}

void
in6_make_iid(struct ifnet *ifp, const struct in6_addr *prefix, uint32_t dad, struct in6_addr *out)
{
	if (V(ifp->if_stack, ip6_use_stableaddr) && ifp->if_stack->st_nd6 != NULL)
		in6_stable_iid(ifp, prefix, dad, out);
	else
		in6_eui64_iid(ifp, prefix, out);
}

void
in6_ifattach_linklocal(struct ifnet *ifp)
{
	struct in6_addr ll;
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);

	if (ext == NULL || (ext->nd_ifinfo.flags & ND6_IFF_IFDISABLED) ||
	    !(ext->nd_ifinfo.flags & ND6_IFF_AUTO_LINKLOCAL) ||
	    in6ifa_ifpforlinklocal(ifp, 0) != NULL)
		return;
	memset(&ll, 0, sizeof(ll));
	ll.s6_addr8[0] = 0xfe;
	ll.s6_addr8[1] = 0x80;
	in6_make_iid(ifp, &ll, 0, &ll);
	(void)in6_addr_add(ifp, &ll, 64, 0, NULL);
}

/*
 * IPv6 starts on an interface when it is configured for it, as on a
 * FreeBSD system with rc.conf's ipv6_activate_all_interfaces="NO": an
 * interface that accepts router advertisements gets its link-local
 * address and solicits routers at attach; any other gets its link-local
 * address with its first configured address (in6_addr_add).  An
 * interface used for IPv4 only stays silent on IPv6 (no DAD, no MLD, no
 * RS); it still listens to all-nodes.
 */
void
in6_ifattach(struct ifnet *ifp)
{
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);

	if (ext == NULL || (ext->nd_ifinfo.flags & ND6_IFF_IFDISABLED))
		return;
	if (!(ext->nd_ifinfo.flags & ND6_IFF_ACCEPT_RTADV))
		return;
	in6_ifattach_linklocal(ifp);
	nd6_rtr_ifattach(ifp);
}

void
in6_ifdetach(struct ifnet *ifp)
{
	nd6_rtr_ifdetach(ifp);
	mld_ifdetach(ifp);
}

/*
 * A knob of netinet6 changed (DOMAIN_KNOB_CHANGED).  An interface takes
 * net.inet6.ip6.accept_rtadv at attach, as FreeBSD's ND6_IFF_ACCEPT_RTADV
 * does; one that has no IPv6 configuration yet (no address) also takes a
 * later change to 1 and starts as if attached with it (link-local
 * address, router solicitation), so that the knob set just after an
 * interface came up (ustack serve --sysctl) turns SLAAC on.  Turning it
 * off leaves running interfaces as they are (FreeBSD: ndp -i).
 */
void
in6_knob_changed(struct ust_stack *st, size_t off)
{
	const struct in6_ifaddr *ia;
	struct in6_ifextra *ext;
	struct ifnet *ifp;
	unsigned i;

	if (off != offsetof(struct ust_knobs, ip6_accept_rtadv) || !V(st, ip6_accept_rtadv))
		return;
	for (i = 0; i < st->st_nifnet; i++) {
		ifp = st->st_ifnet[i];
		ext = IN6_IFEXTRA(ifp);
		if (ext == NULL ||
		    (ext->nd_ifinfo.flags & (ND6_IFF_ACCEPT_RTADV | ND6_IFF_IFDISABLED)))
			continue;
		for (ia = st->st_in6_ifaddrs; ia != NULL && ia->ia_ifp != ifp; ia = ia->ia_next)
			;
		if (ia != NULL)
			continue;
		ext->nd_ifinfo.flags |= ND6_IFF_ACCEPT_RTADV;
		in6_ifattach(ifp);
	}
}
