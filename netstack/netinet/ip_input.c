/*
 * ip_input.c - IPv4 input for a host (RFC 791, RFC 1122 3.2.1): strict
 * header validation, source and destination address checks, reassembly of
 * fragments, and dispatch through the protocol switch.  We are a host and
 * never forward (RFC 1122 3.3.1).
 *
 *   ether_input() -> ip_input() -> [ip_reass()] -> st_ip_protox[p]: inetsw[i].pr_input()
 *                                  (in_proto.c)
 *                                 -> icmp_error(PROTOCOL) for unknown protocols
 *   ip_output() (destination ours) -> ip_input_loop() -> same path
 *
 * Every check drops the datagram and bumps the ipstat counter that says
 * why; nothing from the wire is an error to anyone.
 */
/* The one out-of-line copy of the IPv4 header codec in a build for size (ip.h). */
#define IP_HDR_DEFINE
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/icmp_var.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet/tcp_lro.h"

/*
 * RFC 1122 3.2.1.3: a host silently discards a datagram whose source is
 * not a unicast address of someone else: 0 (no host may claim it here:
 * we do not run DHCP servers), limited or directed broadcast, multicast,
 * class E, loopback (127/8 never appears on a wire), or one of our own
 * addresses (LAND attacks and spoofing: src == dst == ours is the classic
 * case, but any source of ours arriving from the wire is forged).
 */
static int
ip_badsrc(struct ust_stack *st, struct ifnet *ifp, struct in_addr src, int local)
{
	uint32_t hs = ntohl(src.s_addr);

	if (hs == INADDR_ANY || hs == INADDR_BROADCAST || IN_MULTICAST(hs) || IN_BADCLASS(hs) ||
	    IN_LOOPBACK(hs))
		return (1);
	if (in_broadcast(src, ifp))
		return (1);
	if (!local && in_localip(st, src))
		return (1);
	return (0);
}

/* Length and header checks (RFC 791 3.1, RFC 1122 3.2.1.1-2).  Returns the
 * (possibly new) chain with the whole header contiguous and the frame
 * trimmed to the total length, or NULL having freed and counted it. */
static struct mbuf *
ip_validate(struct ust_stack *st, struct mbuf *m, struct ip *ip)
{
	uint32_t hlen;

	if (m->m_pkthdr.len < IP_HDRLEN) {
		IPSTAT_INC(st, ips_toosmall);
		goto drop;
	}
	if ((m = m_pullup(m, IP_HDRLEN)) == NULL) {
		/* m_pullup freed it; the packet was long enough, so the
		 * only failure is running out of buffers. */
		IPSTAT_INC(st, ips_toosmall);
		return (NULL);
	}
	(void)ip_hdr_parse(mtod(m, const uint8_t *), m->m_len, ip);
	if (ip->ip_v != IPVERSION) {
		IPSTAT_INC(st, ips_badvers);
		goto drop;
	}
	hlen = (uint32_t)ip->ip_hl << 2;
	if (hlen < IP_HDRLEN || hlen > m->m_pkthdr.len) {
		IPSTAT_INC(st, ips_badhlen);
		goto drop;
	}
	if (hlen > ip->ip_len) {
		IPSTAT_INC(st, ips_badlen);
		goto drop;
	}
	if ((m = m_pullup(m, hlen)) == NULL) {
		IPSTAT_INC(st, ips_badhlen);
		return (NULL);
	}
	if (!(m->m_pkthdr.csum_flags & UST_CSUM_L3_VALID) &&
	    in_cksum_buf(mtod(m, const uint8_t *), hlen, 0) != 0) {
		IPSTAT_INC(st, ips_badsum);
		goto drop;
	}
	if (ip->ip_len > m->m_pkthdr.len) {
		IPSTAT_INC(st, ips_tooshort);
		goto drop;
	}
	/* Ethernet pads short frames to 60 bytes: the total length says
	 * where the datagram ends. */
	if (m->m_pkthdr.len > ip->ip_len)
		m_adj(m, -(int32_t)(m->m_pkthdr.len - ip->ip_len));
	/* RFC 791 3.2: a datagram whose TTL reached 0 must be destroyed by
	 * whoever decremented it; one that arrives with TTL 0 cannot
	 * legally exist on the wire, so we drop it rather than accept it. */
	if (ip->ip_ttl == 0) {
		IPSTAT_INC(st, ips_badttl);
		goto drop;
	}
	if (hlen > IP_HDRLEN && ip_opts_check(mtod(m, const uint8_t *), hlen) != 0) {
		IPSTAT_INC(st, ips_badoptions);
		goto drop;
	}
	return (m);
drop:
	m_freem(m);
	return (NULL);
}

/* ip_addr_verdict's bits. */
#define IPC_BADSRC 0x01 /* ip_badsrc */
#define IPC_BCAST 0x02  /* the destination is a broadcast of the interface */
#define IPC_OURS 0x04   /* the destination is one of our addresses */

/* The address checks of a datagram from src to dst arriving on ifp. */
static uint8_t
ip_addr_verdict(struct ust_stack *st, struct ifnet *ifp, struct in_addr src, struct in_addr dst,
    int local)
{
	uint32_t hdst = ntohl(dst.s_addr);
	uint8_t v = 0;

	if (ip_badsrc(st, ifp, src, local))
		return (IPC_BADSRC);
	if (hdst != INADDR_ANY && in_broadcast(dst, ifp))
		v |= IPC_BCAST;
	else if (hdst != INADDR_ANY && in_localip(st, dst))
		v |= IPC_OURS;
	return (v);
}

/*
 * ip_addr_verdict through the interface's one-entry cache (if_var.h):
 * a burst of one flow walks the address list once.  Every change that
 * could alter a verdict (addresses, routes, interfaces) bumps
 * st_route_gen.  Loopback (local) is not cached: its source rule differs.
 */
static uint8_t
ip_addr_check(struct ust_stack *st, struct ifnet *ifp, const struct ip *ip, int local)
{
	uint8_t v;

	if (local)
		return (ip_addr_verdict(st, ifp, ip->ip_src, ip->ip_dst, local));
	if (ifp->if_ipcache.ic_gen == st->st_route_gen &&
	    ifp->if_ipcache.ic_src == ip->ip_src.s_addr &&
	    ifp->if_ipcache.ic_dst == ip->ip_dst.s_addr)
		return (ifp->if_ipcache.ic_verdict);
	v = ip_addr_verdict(st, ifp, ip->ip_src, ip->ip_dst, local);
	ifp->if_ipcache.ic_gen = st->st_route_gen;
	ifp->if_ipcache.ic_src = ip->ip_src.s_addr;
	ifp->if_ipcache.ic_dst = ip->ip_dst.s_addr;
	ifp->if_ipcache.ic_verdict = v;
	return (v);
}

static void
ip_input1(struct ifnet *ifp, struct mbuf *m, int local)
{
	struct ust_stack *st = ifp->if_stack;
	const struct protosw *pr;
	struct ip ip;
	uint8_t v;
	int bcast, frag;

	M_SANITY(m);
	IPSTAT_INC(st, ips_total);
	m->m_pkthdr.rcvif = ifp;
	if ((m = ip_validate(st, m, &ip)) == NULL)
		return;
	v = ip_addr_check(st, ifp, &ip, local);
	if (v & IPC_BADSRC) {
		IPSTAT_INC(st, ips_badaddr);
		goto drop;
	}
	/* RFC 1122 3.2.1.3: accept our addresses (any interface: the weak
	 * host model, as FreeBSD) and the broadcasts of the interface; we
	 * join no multicast group. */
	bcast = (v & IPC_BCAST) != 0;
	if (!(v & (IPC_BCAST | IPC_OURS))) {
		IPSTAT_INC(st, ips_notforus);
		goto drop;
	}
	frag = ip_is_fragment(&ip);
	if (frag) {
		IPSTAT_INC(st, ips_fragments);
		if ((m = ip_reass(st, m)) == NULL)
			return;
		(void)ip_hdr_parse(mtod(m, const uint8_t *), m->m_len, &ip);
	}
	pr = ip_protosw_find(st, ip.ip_p);
	if (pr == NULL || pr->pr_input == NULL) {
		IPSTAT_INC(st, ips_noproto);
		/* RFC 1122 3.2.2.1: protocol unreachable, but never about a
		 * broadcast (icmp_error also checks link-layer broadcast). */
		if (bcast)
			goto drop;
		icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0);
		return;
	}
	IPSTAT_INC(st, ips_delivered);
	/* Software LRO (tcp_lro.c): a unicast TCP segment without options
	 * or fragments, inside a receive burst of its interface. */
	if (ip.ip_p == IPPROTO_TCP && ifp->if_lro_burst && !local && !bcast && !frag &&
	    ip.ip_hl == IP_HDRLEN / 4 && !(m->m_flags & (M_BCAST | M_MCAST)) &&
	    V(st, tcp_lro_enable) && tcp_lro_rx(ifp, m, IP_HDRLEN) == 0)
		return;
	pr->pr_input(m, (uint32_t)ip.ip_hl << 2);
	return;
drop:
	m_freem(m);
}

void
ip_input(struct ifnet *ifp, struct mbuf *m)
{
	if (m == NULL)
		return;
	if (ifp == NULL || ifp->if_stack == NULL) {
		m_freem(m);
		return;
	}
	ip_input1(ifp, m, 0);
}

void
ip_input_loop(struct ifnet *ifp, struct mbuf *m)
{
	if (m == NULL)
		return;
	if (ifp == NULL || ifp->if_stack == NULL) {
		m_freem(m);
		return;
	}
	ip_input1(ifp, m, 1);
}

int
ip_init(struct ust_stack *st)
{
	/* RFC 6864 4.1: IDs need only be unique per source, destination and
	 * protocol within the datagram's lifetime; start at a random value
	 * so that restarts do not repeat the last run's IDs. */
	st->st_ip_id = (uint16_t)ust_rng_u32(&st->st_rng);
	return (ipq_init(st));
}

void
ip_fini(struct ust_stack *st)
{
	ipq_fini(st);
}
