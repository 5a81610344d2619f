/*
 * ip6_output.c - IPv6 output for a host (RFC 8200; FreeBSD
 * netinet6/ip6_output.c): the route (or the zone of a scoped
 * destination), the source (RFC 6724 through in6_selectsrc), the header
 * with its flow label (RFC 6437), an optional hop-by-hop router alert
 * (RFC 2711, for MLD), local delivery to our own addresses, fragmentation
 * by the path MTU (RFC 8200 4.5, 5), and the hand-off to the neighbor
 * layer.
 *
 *   transport / icmp6 / nd6 / mld -> ip6_output() -> rt6_lookup()
 *       -> [ip6_fragment()] -> nd6_output() -> ether_output_frame()
 *                           -> ip6_input_loop()   (destination is ours)
 *
 * Offload (the contract in ustack_driver.h): a transport leaves its
 * checksum (UST_CSUM_TCP/UDP, csum_data the field's offset) and TCP its
 * segmentation (UST_CSUM_TSO, tso_segsz) to this layer, which knows the
 * source and the interface: for an interface announcing
 * UST_IFCAP_TXCSUM_IPV6 (and UST_IFCAP_TSO6) the field gets the pseudo
 * header sum and the packet the UST_CSUM_IP6_* flags; otherwise, and for a
 * packet it fragments or one with a hop-by-hop header, the checksum is
 * computed and a TSO packet cut here (tcp_tso_segment()).  IPv4's flags
 * never reach a driver on an IPv6 packet.
 *
 *   ... -> [ip6_output_offload(): kept as UST_CSUM_IP6_* | ip6_delayed_cksum()]
 *       -> [TSO: whole (UST_IFCAP_TSO6) | tcp_tso_segment()] -> nd6_output()
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/kern_hash.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "netinet/tcp_var.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"

uint32_t
ip6_flowlabel(struct ust_stack *st, const struct in6_addr *src, const struct in6_addr *dst,
    uint8_t nxt, const uint8_t *l4, size_t l4len)
{
	uint64_t w[4], h;
	uint8_t ports[4] = { 0, 0, 0, 0 };
	uint32_t fl, p32;

	/* RFC 6437 3: a keyed hash of the flow's identity, the same for every
	 * packet of it, unpredictable from outside (the per-stack key). */
	if (l4 != NULL && (nxt == IPPROTO_TCP || nxt == IPPROTO_UDP))
		memcpy(ports, l4, l4len < 4 ? l4len : 4);
	memcpy(&p32, ports, 4);
	memcpy(w, src->s6_addr8, 16);
	memcpy(w + 2, dst->s6_addr8, 16);
	h = mix64(st->st_ip6_flowkey[0] ^ w[0]);
	h = mix64(h ^ w[1]);
	h = mix64(h ^ st->st_ip6_flowkey[1] ^ w[2]);
	h = mix64(h ^ w[3]);
	h = mix64(h ^ st->st_ip6_flowkey[0] ^ ((uint64_t)nxt << 32 | p32));
	fl = (uint32_t)h & IPV6_FLOWLABEL_MASK;
	return (fl != 0 ? fl : 1);
}

/*
 * A checksum the transport left to hardware (UST_CSUM_TCP/UDP: the field
 * is csum_data bytes into the upper-layer header, m at that header):
 * computed here in full over the pseudo header of the addresses the
 * packet leaves with, whatever the field held (the transport may not
 * have known the source), when the interface cannot.
 */
static int
ip6_delayed_cksum(struct mbuf *m, const struct in6_addr *src, const struct in6_addr *dst,
    uint8_t nxt)
{
	uint32_t flags = m->m_pkthdr.csum_flags, off = m->m_pkthdr.csum_data;
	uint16_t sum;
	uint8_t b[2] = { 0, 0 };
	int error;

	m->m_pkthdr.csum_flags &= ~(uint32_t)(UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP);
	if (!(flags & (UST_CSUM_TCP | UST_CSUM_UDP)))
		return (0);
	if (off + 2 > m->m_pkthdr.len)
		return (UST_EINVAL);
	if ((error = m_copyback(m, off, 2, b)) != 0)
		return (error);
	sum = in6_cksum(m, nxt, 0, m->m_pkthdr.len, src, dst);
	if ((flags & UST_CSUM_UDP) && sum == 0)
		sum = 0xffff; /* RFC 8200 8.1: UDP over IPv6 never sends 0 */
	b[0] = (uint8_t)(sum >> 8);
	b[1] = (uint8_t)sum;
	return (m_copyback(m, off, 2, b));
}

/*
 * The offload decision for m (at the upper-layer header, not yet behind
 * its IPv6 header) leaving through ifp whose path MTU is mtu, extra
 * nonzero when an extension header will come first: *offlp 1 when the
 * interface takes it (the field now holds the pseudo-header sum, with the
 * length, or without it for TSO, and the flags are the UST_CSUM_IP6_*
 * ones), 0 when this layer must do the work (flags left as they are).
 * Returns 0, or UST_EINVAL (a TSO request that is not a TCP segment, a
 * field outside the packet) / UST_ENOBUFS.
 */
static int
ip6_output_offload(struct mbuf *m, const struct ifnet *ifp, const struct in6_addr *src,
    const struct in6_addr *dst, uint8_t nxt, uint32_t mtu, int extra, int *offlp)
{
	uint32_t flags = m->m_pkthdr.csum_flags, off = m->m_pkthdr.csum_data, plen;
	uint32_t tso6 = UST_IFCAP_TSO6 | UST_IFCAP_TXCSUM_IPV6;
	uint8_t b[2], want;
	uint16_t sum;

	*offlp = 0;
	if (flags & UST_CSUM_TSO) {
		if (nxt != IPPROTO_TCP || !(flags & UST_CSUM_TCP) || m->m_pkthdr.tso_segsz == 0 ||
		    extra)
			return (UST_EINVAL);
		if ((ifp->if_capabilities & tso6) != tso6 ||
		    IP6_HDRLEN + m->m_pkthdr.len > ifp->if_hw_tsomax)
			return (0);
		plen = 0; /* every segment adds its own */
	} else {
		want = (flags & UST_CSUM_TCP) ? IPPROTO_TCP : IPPROTO_UDP;
		if (!(flags & (UST_CSUM_TCP | UST_CSUM_UDP)) ||
		    !(ifp->if_capabilities & UST_IFCAP_TXCSUM_IPV6) || extra || nxt != want ||
		    IP6_HDRLEN + m->m_pkthdr.len > mtu)
			return (0); /* computed here; a fragment cannot carry it */
		plen = m->m_pkthdr.len;
	}
	if (off + 2 > m->m_pkthdr.len)
		return (UST_EINVAL);
	sum = (uint16_t)in6_cksum_pseudo(src, dst, plen, nxt);
	b[0] = (uint8_t)(sum >> 8);
	b[1] = (uint8_t)sum;
	if (m_copyback(m, off, 2, b) != 0)
		return (UST_ENOBUFS);
	m->m_pkthdr.csum_flags =
	    (flags & ~(uint32_t)(UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP | UST_CSUM_TSO)) |
	    ((flags & UST_CSUM_TCP) ? UST_CSUM_IP6_TCP : UST_CSUM_IP6_UDP) |
	    ((flags & UST_CSUM_TSO) ? UST_CSUM_IP6_TSO : 0);
	*offlp = 1;
	return (0);
}

#if UST_IP_LOOPBACK
/* A packet to one of our own addresses: straight to ip6_input on the
 * interface holding it, checksums taken as verified, nesting bounded
 * (ip_loop_enter, shared with IPv4). */
static int
ip6_output_local(struct ust_stack *st, struct mbuf *m, struct ifnet *ifp)
{
	if (ip_loop_enter(st) != 0) {
		IP6STAT_INC(st, ip6s_odropped);
		m_freem(m);
		return (UST_ENOBUFS);
	}
	m->m_pkthdr.rcvif = ifp;
	m->m_flags &= (uint16_t) ~(M_BCAST | M_MCAST);
	ip6_input_loop(ifp, m);
	ip_loop_leave(st);
	return (0);
}
#endif

/* The hop-by-hop header with a router alert (RFC 2711) for MLD:
 * next header, length 0, the option, PadN of 2. */
static struct mbuf *
ip6_prepend_ra(struct mbuf *m, uint8_t nxt)
{
	static const uint8_t opts[6] = { IP6OPT_ROUTER_ALERT, 2, 0, IP6OPT_RTALERT_MLD, IP6OPT_PADN,
		0 };

	M_PREPEND(m, 8);
	if (m == NULL)
		return (NULL);
	mtod(m, uint8_t *)[0] = nxt;
	mtod(m, uint8_t *)[1] = 0;
	memcpy(mtod(m, uint8_t *) + 2, opts, sizeof(opts));
	return (m);
}

/*
 * Cuts m (header h, hlen bytes of unfragmentable part: the IPv6 header
 * and a hop-by-hop header, if any, contiguous in the first mbuf) into
 * fragments of at most mtu bytes (RFC 8200 4.5): each one a copy of the
 * unfragmentable part whose last next header becomes 44, a Fragment
 * header, and a piece of the rest, a multiple of 8 bytes but the last.
 * Returns the fragments linked through m_nextpkt, or NULL (freed,
 * counted).  Consumes m.
 */
static struct mbuf *
ip6_fragment(struct ust_stack *st, struct mbuf *m, const struct ip6_hdr *h, uint32_t hlen,
    uint32_t nxtoff, uint32_t mtu)
{
	struct mbuf *head = NULL, **tail = &head, *f;
	uint8_t unfrag[IP6_HDRLEN + 8 + IP6_FRAGHDRLEN];
	uint32_t total = m->m_pkthdr.len - hlen, off, chunk, fraglen;
	struct ip6_frag fh;
	struct ip6_hdr fhdr;

	fraglen = (mtu - hlen - IP6_FRAGHDRLEN) & ~(uint32_t)7;
	memcpy(unfrag, mtod(m, const uint8_t *), hlen);
	fh.ip6f_nxt = unfrag[nxtoff];
	unfrag[nxtoff] = IPPROTO_FRAGMENT;
	fh.ip6f_ident = st->st_ip6_id++;
	for (off = 0; off < total; off += chunk) {
		chunk = total - off < fraglen ? total - off : fraglen;
		f = m_gethdr(&st->st_mbz, MT_HEADER);
		if (f == NULL)
			goto fail;
		*tail = f;
		tail = &f->m_nextpkt;
		m_reserve(f, (MLEN - hlen - IP6_FRAGHDRLEN) & ~(uint32_t)7);
		f->m_len = hlen + IP6_FRAGHDRLEN;
		f->m_pkthdr.len = f->m_len;
		f->m_next = m_copym(m, hlen + off, chunk);
		if (f->m_next == NULL)
			goto fail;
		f->m_pkthdr.len += chunk;
		memcpy(mtod(f, uint8_t *), unfrag, hlen);
		fhdr = *h;
		fhdr.ip6_plen = (uint16_t)(hlen - IP6_HDRLEN + IP6_FRAGHDRLEN + chunk);
		ip6_hdr_write(mtod(f, uint8_t *), &fhdr);
		if (nxtoff == 6) /* ip6_hdr_write put back the old one */
			mtod(f, uint8_t *)[6] = IPPROTO_FRAGMENT;
		fh.ip6f_offlg = (uint16_t)(off & IP6F_OFF_MASK);
		if (off + chunk < total)
			fh.ip6f_offlg |= IP6F_MORE_FRAG;
		ip6_frag_write(mtod(f, uint8_t *) + hlen, &fh);
		IP6STAT_INC(st, ip6s_ofragments);
	}
	IP6STAT_INC(st, ip6s_fragmented);
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
	IP6STAT_INC(st, ip6s_odropped);
	return (NULL);
}

int
ip6_output(struct ust_stack *st, struct mbuf *m, const struct ip6_out_args *args)
{
	struct in6_addr src = args->src, dst = args->dst;
	uint32_t zoneid = args->zoneid, mtu, hlen = IP6_HDRLEN, nxtoff = 6;
	struct in6_ifaddr *ia;
	struct inp_route *ro;
	struct mbuf *next;
	struct nhop6 nh;
	struct ip6_hdr h;
	uint8_t l4[4];
	int error, e, mcast, local = 0, offl;

	if (m == NULL)
		return (UST_ENOBUFS);
	M_ASSERTPKTHDR(m);
	M_SANITY(m);
	m->m_pkthdr.csum_flags &= ~(uint32_t)(UST_CSUM_L3_VALID | UST_CSUM_L4_VALID);
	m->m_nextpkt = NULL;
	if (m->m_pkthdr.len + ((args->flags & IPV6_RA) ? 8u : 0u) > IPV6_MAXPACKET) {
		error = UST_EMSGSIZE; /* no jumbograms (RFC 2675) */
		goto bad;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&dst) || IN6_IS_ADDR_V4MAPPED(&dst) ||
	    IN6_IS_ADDR_LOOPBACK(&dst) ||
	    (IN6_IS_ADDR_MULTICAST(&dst) && IPV6_ADDR_MC_SCOPE(&dst) == 0)) {
		IP6STAT_INC(st, ip6s_noroute);
		error = UST_ENETUNREACH;
		goto bad;
	}
	mcast = IN6_IS_ADDR_MULTICAST(&dst);
	if (in6_is_scoped(&dst) && zoneid == 0 && in6_is_scoped(&src) &&
	    !IN6_IS_ADDR_UNSPECIFIED(&src) && (ia = in6ifa_find(st, &src, NULL)) != NULL)
		zoneid = ia->ia_ifp->if_index; /* the zone of our scoped source */
	/* Only this layer sets the IPv6 offload flags. */
	m->m_pkthdr.csum_flags &=
	    ~(uint32_t)(UST_CSUM_IP6_TCP | UST_CSUM_IP6_UDP | UST_CSUM_IP6_TSO);
	if ((m->m_pkthdr.csum_flags & UST_CSUM_TSO) &&
	    (!UST_TCP_TSO || args->nxt != IPPROTO_TCP || (args->flags & IPV6_RA))) {
		IP6STAT_INC(st, ip6s_odropped);
		error = UST_EOPNOTSUPP;
		goto bad;
	}
	if (args->ro != NULL && (ro = in6_route_get(st, args->ro, &src, &dst, zoneid)) != NULL) {
		/* The PCB's route, source checked when it was cached. */
		memset(&nh, 0, sizeof(nh));
		nh.nh_ifp = ro->ro_ifp;
		nh.nh_addr = ro->ro_nexthop.id6_addr;
		nh.nh_mtu = ro->ro_mtu;
		local = (ro->ro_flags & RO_LOCAL) != 0;
		goto build;
	}
	if (!mcast && (ia = in6ifa_find(st, &dst, NULL)) != NULL &&
	    (!in6_is_scoped(&dst) || zoneid == 0 || ia->ia_ifp->if_index == zoneid)) {
#if !UST_IP_LOOPBACK
		(void)local;
		IP6STAT_INC(st, ip6s_noroute);
		error = UST_EHOSTUNREACH;
		goto bad;
#else
		if (IN6_IS_ADDR_UNSPECIFIED(&src))
			src = dst;
		else if (!in6_localip(st, &src)) {
			error = UST_EADDRNOTAVAIL;
			goto bad;
		}
		memset(&nh, 0, sizeof(nh));
		nh.nh_ifp = ia->ia_ifp;
		local = 1;
		goto build;
#endif
	}
	if ((error = rt6_lookup(st, &dst, zoneid, &nh)) != 0) {
		IP6STAT_INC(st, ip6s_noroute);
		goto bad;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&src) && !(args->flags & IPV6_UNSPECSRC)) {
		if ((error = in6_selectsrc(st, &dst, zoneid, nh.nh_ifp, &src)) != 0)
			goto bad;
	} else if (!IN6_IS_ADDR_UNSPECIFIED(&src) && !in6_localip(st, &src)) {
		error = UST_EADDRNOTAVAIL;
		goto bad;
	}
build:
	/* Checksums left to hardware, now that the source is known.  A
	 * packet to ourselves skips them, taken as verified (as IPv4's
	 * loopback does); a TSO one is cut first (tcp_tso_segment() fills
	 * each segment's checksum). */
#if UST_IP_LOOPBACK
	if (local && !(m->m_pkthdr.csum_flags & UST_CSUM_TSO) &&
	    (m->m_pkthdr.csum_flags & (UST_CSUM_TCP | UST_CSUM_UDP)))
		m->m_pkthdr.csum_flags =
		    (m->m_pkthdr.csum_flags &
		        ~(uint32_t)(UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP)) |
		    UST_CSUM_L4_VALID;
#endif
	mtu = local ? 0 : nh.nh_mtu;
	if (!local && (args->flags & IPV6_MINMTU) && mtu > IPV6_MMTU)
		mtu = IPV6_MMTU;
	offl = 0;
	if (!local &&
	    (error = ip6_output_offload(m, nh.nh_ifp, &src, &dst, args->nxt, mtu,
	         (args->flags & IPV6_RA) != 0, &offl)) != 0) {
		IP6STAT_INC(st, ip6s_odropped);
		goto bad;
	}
	/* A TSO packet the interface cannot take is cut below, header on
	 * (tcp_tso_segment() fills each segment's checksum itself). */
	if (offl == 0 && !(m->m_pkthdr.csum_flags & UST_CSUM_TSO) &&
	    (error = ip6_delayed_cksum(m, &src, &dst, args->nxt)) != 0) {
		IP6STAT_INC(st, ip6s_odropped);
		goto bad;
	}
	memset(&h, 0, sizeof(h));
	h.ip6_v = IPV6_VERSION;
	h.ip6_tclass = args->tclass;
	h.ip6_nxt = args->nxt;
	if (args->hlim != 0)
		h.ip6_hlim = args->hlim;
	else if (mcast)
		h.ip6_hlim = 1; /* RFC 3493 5.2: IPV6_MULTICAST_HOPS defaults to 1 */
	else if (IN6_IFEXTRA(nh.nh_ifp) != NULL)
		h.ip6_hlim = ND_IFINFO(nh.nh_ifp)->chlim; /* an RA's CurHopLimit */
	else
		h.ip6_hlim = (uint8_t)V(st, ip6_hlim);
	if (h.ip6_hlim == 0)
		h.ip6_hlim = (uint8_t)V(st, ip6_hlim);
	h.ip6_src = src;
	h.ip6_dst = dst;
	h.ip6_flow = args->flowlabel & IPV6_FLOWLABEL_MASK;
	if (h.ip6_flow == 0 && !(args->flags & IPV6_NOFLOWLABEL) && V(st, ip6_auto_flowlabel)) {
		memset(l4, 0, sizeof(l4));
		(void)m_copydata(m, 0, m->m_pkthdr.len < 4 ? m->m_pkthdr.len : 4, l4);
		h.ip6_flow = ip6_flowlabel(st, &src, &dst, args->nxt, l4, sizeof(l4));
	}
	if (args->flags & IPV6_RA) {
		if ((m = ip6_prepend_ra(m, args->nxt)) == NULL) {
			IP6STAT_INC(st, ip6s_odropped);
			return (UST_ENOBUFS);
		}
		h.ip6_nxt = IPPROTO_HOPOPTS;
		hlen += 8;
		nxtoff = IP6_HDRLEN;
	}
	h.ip6_plen = (uint16_t)m->m_pkthdr.len;
	M_PREPEND(m, IP6_HDRLEN);
	if (m == NULL) {
		IP6STAT_INC(st, ip6s_odropped);
		return (UST_ENOBUFS);
	}
	if (hlen > IP6_HDRLEN && (m = m_pullup(m, hlen)) == NULL) {
		IP6STAT_INC(st, ip6s_odropped);
		return (UST_ENOBUFS);
	}
	ip6_hdr_write(mtod(m, uint8_t *), &h);
	IP6STAT_INC(st, ip6s_localout);
#if UST_TCP_TSO
	if (m->m_pkthdr.csum_flags & UST_CSUM_TSO) {
		/* The interface cannot cut it (offl 0), or it is for us:
		 * the segments TCP would have sent, each complete. */
		if ((next = tcp_tso_segment(m, 0, UINT32_MAX, &error)) == NULL) {
			IP6STAT_INC(st, ip6s_odropped);
			goto bad; /* m is still ours */
		}
		m = next;
		error = 0;
		for (; m != NULL; m = next) {
			next = m->m_nextpkt;
			m->m_nextpkt = NULL;
#if UST_IP_LOOPBACK
			if (local) {
				m->m_pkthdr.csum_flags = UST_CSUM_L4_VALID;
				e = ip6_output_local(st, m, nh.nh_ifp);
			} else
#endif
				e = nd6_output(nh.nh_ifp, m, &nh.nh_addr);
			if (e != 0 && error == 0)
				error = e;
		}
		return (error);
	}
#endif
#if UST_IP_LOOPBACK
	if (local)
		return (ip6_output_local(st, m, nh.nh_ifp));
#endif
	if (m->m_pkthdr.len <= mtu || (m->m_pkthdr.csum_flags & UST_CSUM_IP6_TSO))
		return (nd6_output(nh.nh_ifp, m, &nh.nh_addr));
	/* RFC 8200 5: too big for the path.  Only the source fragments;
	 * IPV6_DONTFRAG (RFC 3542 11.2) refuses instead. */
	if ((args->flags & IPV6_DONTFRAG) || mtu < hlen + IP6_FRAGHDRLEN + 8) {
		IP6STAT_INC(st, ip6s_cantfrag);
		m_freem(m);
		return (UST_EMSGSIZE);
	}
	if ((m = ip6_fragment(st, m, &h, hlen, nxtoff, mtu)) == NULL)
		return (UST_ENOBUFS);
	error = 0;
	for (; m != NULL; m = next) {
		next = m->m_nextpkt;
		m->m_nextpkt = NULL;
		if ((e = nd6_output(nh.nh_ifp, m, &nh.nh_addr)) != 0 && error == 0)
			error = e;
	}
	return (error);
bad:
	m_freem(m);
	return (error);
}
