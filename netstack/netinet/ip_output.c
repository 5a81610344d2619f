/*
 * ip_output.c - IPv4 output for a host (RFC 791, RFC 1122 3.2.1): route
 * and source selection, the header, fragmentation by the interface MTU
 * (RFC 791 3.2 "Fragmentation"), local delivery of datagrams to our own
 * addresses, and the hand-off to the link layer.
 *
 *   udp/icmp -> ip_output() -> rt_lookup() -> ip_send() -> [checksums left to
 *       the interface: kept (UST_IFCAP_TXCSUM) or in_delayed_cksum()]
 *       -> [ip_fragment() | TSO: whole (UST_IFCAP_TSO4) or tcp_tso_segment()]
 *       -> ether_output()
 *                           -> ip_input_loop()   (destination is ours)
 *   tcp -> ip_output(args.ro) -> in_route_get() -> [cached: no lookup,
 *       no broadcast or address checks] -> ip_send() | ip_input_loop()
 */
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "netinet/if_ether.h"
#include "netinet/in_pcb.h"
#include "netinet/in_route.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"

/* Leading space to leave in a new header mbuf: as much as fits after hlen
 * bytes of header, aligned, for the link header in front. */
static uint32_t
ip_hdr_room(uint32_t hlen)
{
	uint32_t room = MLEN - hlen;

	if (room > UST_MAX_HDR)
		room = UST_MAX_HDR;
	return (room & ~(uint32_t)7);
}

/*
 * Cuts the datagram m (header h, hlen bytes, already in the first mbuf)
 * into fragments of at most mtu bytes, each with a full copy of the header
 * and its offset (RFC 791 3.2): payload per fragment is (mtu - hlen)
 * rounded down to a multiple of 8, every fragment but the last has MF.
 * Returns the fragments linked through m_nextpkt, or NULL (everything
 * freed, counted).  Consumes m.
 */
static struct mbuf *
ip_fragment(struct ust_stack *st, struct mbuf *m, const struct ip *h, uint32_t mtu)
{
	struct mbuf *head = NULL, **tail = &head, *f;
	uint32_t hlen = (uint32_t)h->ip_hl << 2, total, off, chunk, fraglen;
	uint8_t hdr[IP_MAXHDRLEN];
	struct ip fh;

	fraglen = (mtu - hlen) & ~(uint32_t)7;
	total = h->ip_len - hlen;
	memcpy(hdr, mtod(m, const uint8_t *), hlen);
	for (off = 0; off < total; off += chunk) {
		chunk = total - off < fraglen ? total - off : fraglen;
		f = m_gethdr(&st->st_mbz, MT_HEADER);
		if (f == NULL)
			goto fail;
		*tail = f;
		tail = &f->m_nextpkt;
		m_reserve(f, ip_hdr_room(hlen));
		f->m_len = hlen;
		f->m_pkthdr.len = hlen;
		/* The header checksum is computed here; a transport checksum
		 * cannot be offloaded for a fragmented datagram: ip_send
		 * completed it before cutting. */
		f->m_pkthdr.csum_flags =
		    m->m_pkthdr.csum_flags & ~(uint32_t)(UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP);
		f->m_next = m_copym(m, hlen + off, chunk);
		if (f->m_next == NULL)
			goto fail;
		f->m_pkthdr.len += chunk;
		fh = *h;
		fh.ip_len = (uint16_t)(hlen + chunk);
		fh.ip_off = (uint16_t)((h->ip_off & ~IP_OFFMASK) | (off >> 3));
		if (off + chunk < total)
			fh.ip_off |= IP_MF;
		memcpy(mtod(f, uint8_t *), hdr, hlen);
		ip_hdr_write(mtod(f, uint8_t *), &fh);
		IPSTAT_INC(st, ips_ofragments);
	}
	IPSTAT_INC(st, ips_fragmented);
	m_freem(m);
	return (head);
fail:
	while (head != NULL) {
		f = head->m_nextpkt;
		head->m_nextpkt = NULL;
		m_freem(head);
		head = f;
	}
	m_freem(m);
	IPSTAT_INC(st, ips_odropped);
	return (NULL);
}

/* Prepends and writes the header.  Returns m, or NULL (freed, counted). */
static struct mbuf *
ip_prepend_hdr(struct ust_stack *st, struct mbuf *m, const struct ip_out_args *args,
    struct in_addr src, struct in_addr dst, struct ip *h)
{
	M_PREPEND(m, IP_HDRLEN);
	if (m == NULL) {
		IPSTAT_INC(st, ips_odropped);
		return (NULL);
	}
	memset(h, 0, sizeof(*h));
	h->ip_v = IPVERSION;
	h->ip_hl = IP_HDRLEN >> 2;
	h->ip_tos = args->tos;
	h->ip_len = (uint16_t)m->m_pkthdr.len;
	/* RFC 6864 4.2: a DF datagram's ID may be anything; using the one
	 * counter for all is simplest. */
	h->ip_id = st->st_ip_id++;
	h->ip_off = (args->flags & IP_DF) ? IP_OFF_DF : 0;
	h->ip_ttl = args->ttl != 0 ? args->ttl : (uint8_t)V(st, ip_ttl);
	h->ip_p = args->proto;
	h->ip_src = src;
	h->ip_dst = dst;
	ip_hdr_write(mtod(m, uint8_t *), h);
	/* The segments of a TSO packet take consecutive IDs (tcp_tso.c),
	 * as the datagrams TCP would have sent one by one. */
	if (UST_TCP_TSO && (m->m_pkthdr.csum_flags & UST_CSUM_TSO))
		st->st_ip_id = (uint16_t)(st->st_ip_id + tcp_tso_nsegs(m, 0) - 1);
	return (m);
}

#if UST_IP_LOOPBACK
/*
 * A datagram to one of our own addresses never reaches a wire: it goes
 * straight to ip_input on the interface that holds the address, with
 * checksums taken as verified (they were computed here, or are left to an
 * offload that a loopback has not).  Nesting is bounded by
 * ip_loop_enter(); a transport that answers from its input path
 * therefore cannot recurse without end.
 */
static int
ip_output_local(struct ust_stack *st, struct mbuf *m, struct ifnet *ifp)
{
	if (ip_loop_enter(st) != 0) {
		IPSTAT_INC(st, ips_odropped);
		m_freem(m);
		return (UST_ENOBUFS);
	}
	m->m_pkthdr.rcvif = ifp;
	if (m->m_pkthdr.csum_flags & (UST_CSUM_TCP | UST_CSUM_UDP))
		m->m_pkthdr.csum_flags |= UST_CSUM_L4_VALID;
	m->m_pkthdr.csum_flags |= UST_CSUM_L3_VALID;
	m->m_flags &= (uint16_t) ~(M_BCAST | M_MCAST);
	ip_input_loop(ifp, m);
	ip_loop_leave(st);
	return (0);
}
#endif /* UST_IP_LOOPBACK */

/* Hands a list of packets (m_nextpkt) to the link layer; the first
 * error is the result. */
static int
ip_send_list(struct ifnet *ifp, struct mbuf *m, struct in_addr nexthop, int eflags)
{
	struct mbuf *next;
	int error = 0, e;

	for (; m != NULL; m = next) {
		next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		e = ether_output(ifp, m, nexthop, eflags);
		if (e != 0 && error == 0)
			error = e;
	}
	return (error);
}

/*
 * Checksums the transport left to the hardware (FreeBSD's
 * if_hwassist test): kept for an interface with UST_IFCAP_TXCSUM, which
 * then also gets the header checksum (UST_CSUM_IP, field zeroed as the
 * contract in ustack_driver.h says), computed here for any other.
 * Returns 0 or an error (m untouched).
 */
static int
ip_output_csum(struct mbuf *m, const struct ifnet *ifp)
{
	if (ifp->if_capabilities & UST_IFCAP_TXCSUM) {
		m->m_pkthdr.csum_flags |= UST_CSUM_IP;
		be16enc(mtod(m, uint8_t *) + 10, 0);
		return (0);
	}
	return (in_delayed_cksum(m, 0));
}

static int
ip_send(struct ust_stack *st, struct mbuf *m, const struct ip *h, const struct nhop4 *nh,
    struct in_addr nexthop, int eflags)
{
	struct ifnet *ifp = nh->nh_ifp;
	int error;

	if (UST_TCP_TSO && (m->m_pkthdr.csum_flags & UST_CSUM_TSO)) {
		struct mbuf *segs;

		/* A TSO packet goes whole to an interface that can cut it,
		 * whatever the MTU; otherwise it is cut here, as the
		 * segments TCP would have sent. */
		if ((ifp->if_capabilities & (UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM)) ==
		        (UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM) &&
		    h->ip_len <= ifp->if_hw_tsomax) {
			(void)ip_output_csum(m, ifp);
			return (ether_output(ifp, m, nexthop, eflags));
		}
		/* On failure the packet is still ours to free. */
		if ((segs = tcp_tso_segment(m, 0, UINT32_MAX, &error)) == NULL)
			goto bad;
		return (ip_send_list(ifp, segs, nexthop, eflags));
	}
	if (h->ip_len <= nh->nh_mtu) {
		if ((error = ip_output_csum(m, ifp)) != 0)
			goto bad;
		return (ether_output(ifp, m, nexthop, eflags));
	}
	/* RFC 1122 3.2.1.4 / RFC 1191: DF set and too big for the link. */
	if ((h->ip_off & IP_OFF_DF) || nh->nh_mtu < (uint32_t)(h->ip_hl << 2) + 8) {
		IPSTAT_INC(st, ips_cantfrag);
		m_freem(m);
		return (UST_EMSGSIZE);
	}
	/* A transport checksum covers the whole datagram: computed before
	 * it is cut. */
	if ((error = in_delayed_cksum(m, 0)) != 0)
		goto bad;
	if ((m = ip_fragment(st, m, h, nh->nh_mtu)) == NULL)
		return (UST_ENOBUFS);
	return (ip_send_list(ifp, m, nexthop, eflags));
bad:
	IPSTAT_INC(st, ips_odropped);
	m_freem(m);
	return (error);
}

/*
 * The route to dst.  The limited broadcast (RFC 919) belongs to no
 * subnet: it leaves by the interface of the chosen source address when
 * there is one, else by whatever route covers it (the default route).
 */
static int
ip_route(struct ust_stack *st, struct in_addr dst, struct in_addr src, struct nhop4 *nh)
{
	struct in_ifaddr *ia;

	if (ntohl(dst.s_addr) == INADDR_BROADCAST && src.s_addr != INADDR_ANY &&
	    (ia = in_ifaddr_find(st, src)) != NULL) {
		memset(nh, 0, sizeof(*nh));
		nh->nh_ifp = ia->ia_ifp;
		nh->nh_addr = dst;
		nh->nh_src = src;
		nh->nh_mtu = ia->ia_ifp->if_mtu;
		nh->nh_flags = UST_RTF_UP;
		return (0);
	}
	return (rt_lookup(st, dst, nh));
}

int
ip_output(struct ust_stack *st, struct mbuf *m, const struct ip_out_args *args)
{
	struct in_addr src = args->src, dst = args->dst, nexthop;
	uint32_t hdst = ntohl(dst.s_addr);
	struct in_ifaddr *ia;
	struct inp_route *ro;
	struct nhop4 nh;
	struct ip h;
	int error, bcast, eflags = 0;

	if (m == NULL)
		return (UST_ENOBUFS);
	M_ASSERTPKTHDR(m);
	M_SANITY(m);
	m->m_pkthdr.csum_flags &= ~(uint32_t)(UST_CSUM_L3_VALID | UST_CSUM_L4_VALID);
	m->m_nextpkt = NULL;
	if (m->m_pkthdr.len + IP_HDRLEN > IP_MAXPACKET) {
		error = UST_EMSGSIZE;
		goto bad;
	}
	if (args->ro != NULL && (ro = in_route_get(st, args->ro, src, dst)) != NULL) {
		/* The PCB's route: ours, or a unicast next hop with the
		 * source checked when it was cached. */
		if ((m = ip_prepend_hdr(st, m, args, src, dst, &h)) == NULL)
			return (UST_ENOBUFS);
		IPSTAT_INC(st, ips_localout);
#if UST_IP_LOOPBACK
		if (ro->ro_flags & RO_LOCAL)
			return (ip_output_local(st, m, ro->ro_ifp));
#endif
		nh.nh_ifp = ro->ro_ifp;
		nh.nh_addr = ro->ro_nexthop.id46_addr.ia46_addr4;
		nh.nh_src = src;
		nh.nh_mtu = ro->ro_mtu;
		nh.nh_flags = 0;
		return (ip_send(st, m, &h, &nh, nh.nh_addr, ETHER_OUT_UNICAST));
	}
	if (hdst == INADDR_ANY || IN_MULTICAST(hdst) ||
	    (IN_BADCLASS(hdst) && hdst != INADDR_BROADCAST)) {
		/* No multicast output yet; 0 and class E are nobody. */
		IPSTAT_INC(st, ips_noroute);
		error = UST_ENETUNREACH;
		goto bad;
	}
	if ((ia = in_ifaddr_find(st, dst)) != NULL) {
#if !UST_IP_LOOPBACK
		/* No delivery to ourselves (ustack_opts.h). */
		IPSTAT_INC(st, ips_noroute);
		error = UST_EHOSTUNREACH;
		goto bad;
#else
		if (src.s_addr == INADDR_ANY)
			src = dst;
		else if (!in_localip(st, src)) {
			error = UST_EADDRNOTAVAIL;
			goto bad;
		}
		if ((m = ip_prepend_hdr(st, m, args, src, dst, &h)) == NULL)
			return (UST_ENOBUFS);
		IPSTAT_INC(st, ips_localout);
		return (ip_output_local(st, m, ia->ia_ifp));
#endif
	}
	if ((error = ip_route(st, dst, src, &nh)) != 0) {
		IPSTAT_INC(st, ips_noroute);
		goto bad;
	}
	nexthop = nh.nh_addr;
	/* IP_SENDONES: a directed broadcast leaves as 255.255.255.255 on
	 * the route's interface. */
	if ((args->flags & IP_SENDONES) && in_broadcast(dst, nh.nh_ifp))
		dst.s_addr = htonl(INADDR_BROADCAST);
	bcast = ntohl(dst.s_addr) == INADDR_BROADCAST || in_broadcast(dst, nh.nh_ifp);
	if (bcast) {
		/* RFC 1122 3.3.6: broadcasts only when the socket asked. */
		if (!(args->flags & IP_ALLOWBROADCAST)) {
			error = UST_EACCES;
			goto bad;
		}
		eflags |= ETHER_OUT_BCAST;
		nexthop = dst;
	}
	if (src.s_addr == INADDR_ANY)
		src = nh.nh_src;
	if (src.s_addr == INADDR_ANY || !in_localip(st, src)) {
		error = UST_EADDRNOTAVAIL;
		goto bad;
	}
	if ((m = ip_prepend_hdr(st, m, args, src, dst, &h)) == NULL)
		return (UST_ENOBUFS);
	IPSTAT_INC(st, ips_localout);
	return (ip_send(st, m, &h, &nh, nexthop, eflags));
bad:
	m_freem(m);
	return (error);
}
