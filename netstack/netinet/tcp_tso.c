/*
 * tcp_tso.c - the software half of checksum and segmentation offload (the
 * contract in ustack_driver.h): checksums left to an interface that turns
 * out not to have them, and TSO packets cut into the segments tcp_output
 * would have sent without TSO, for drivers whose hardware cannot and for
 * ip_output when the route's interface lost the capability.
 *
 *   tcp_output (UST_CSUM_TSO) -> ip_output -> ip_send -> [tcp_tso_segment()]
 *   tcp/udp (UST_CSUM_TCP/UDP) -> ip_output -> [in_delayed_cksum()]
 *   driver tx_burst -> ust_mbuf_tso_segment() / ust_mbuf_csum_fill()
 *
 * Every segment gets the headers of the large packet with: IPv4 total
 * length and header checksum of its own, consecutive IP IDs (RFC 6864 4.1:
 * what ip_output would have given MSS-sized datagrams one by one), the
 * TCP sequence number of its first byte, CWR on the first segment only
 * (RFC 3168 6.1.2: one per window reduction), FIN and PSH on the last only
 * (RFC 9293 3.1: they belong to the end of the data), and a full TCP
 * checksum (RFC 9293 3.1) whatever the large packet's field held.
 *
 * IPv6 (UST_CSUM_IP6_TCP/UDP/TSO, the same code with the version read
 * from the header): the IPv6 header (40 bytes, the transport right after
 * it) gets its own payload length per segment and nothing else: no ID,
 * no header checksum (nothing of IPv4's is ever written into it), the
 * flow label and traffic class of the large packet (RFC 6437: one flow).
 */
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet/tcp.h"
#if UST_INET6
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#endif

#define TSO_HDR_MAX (ETHER_HDR_LEN + IP_MAXHDRLEN + TCP_MAXHLEN)
#define TSO_CSUM4 (UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP)
#define TSO_CSUM6 (UST_CSUM_IP6_TCP | UST_CSUM_IP6_UDP)

/* The IPv4 header at l3off of m: its length, total length and protocol,
 * checked against the packet.  Returns 0 or UST_EINVAL. */
static int
tso_ip_hdr(const struct mbuf *m, uint32_t l3off, uint8_t *hdr, uint32_t *hlenp, uint32_t *ip_lenp)
{
	uint32_t hlen, ip_len;

	if (m_copydata(m, l3off, IP_HDRLEN, hdr) != 0 || (hdr[0] >> 4) != IPVERSION)
		return (UST_EINVAL);
	hlen = (uint32_t)(hdr[0] & 0x0f) << 2;
	ip_len = be16dec(hdr + 2);
	if (hlen < IP_HDRLEN || ip_len < hlen || l3off + ip_len > m->m_pkthdr.len ||
	    m_copydata(m, l3off, hlen, hdr) != 0)
		return (UST_EINVAL);
	*hlenp = hlen;
	*ip_lenp = ip_len;
	return (0);
}

static void
tso_ip_sum(uint8_t *ip, uint32_t hlen)
{
	be16enc(ip + 10, 0);
	be16enc(ip + 10, in_cksum_buf(ip, hlen, 0));
}

int
in_delayed_cksum(struct mbuf *m, uint32_t l3off)
{
	uint8_t ip[IP_MAXHDRLEN], sumb[2];
	uint32_t hlen, ip_len, flags = m->m_pkthdr.csum_flags, l4off;
	uint16_t sum;
	int error;

	if (!(flags & (UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP)))
		return (0);
	if ((error = tso_ip_hdr(m, l3off, ip, &hlen, &ip_len)) != 0)
		return (error);
	l4off = l3off + hlen;
	if (flags & (UST_CSUM_TCP | UST_CSUM_UDP)) {
		/* The field holds the pseudo-header sum: summing over it
		 * completes the checksum (RFC 1071 2). */
		sum = in_cksum_skip(m, l4off, ip_len - hlen, 0);
		/* RFC 768: a computed zero goes as all ones. */
		if ((flags & UST_CSUM_UDP) && sum == 0)
			sum = 0xffff;
		be16enc(sumb, sum);
		if ((error = m_copyback(m, l4off + ((flags & UST_CSUM_TCP) ? TCP_CSUM_OFF : 6), 2,
		         sumb)) != 0)
			return (error);
	}
	if (flags & UST_CSUM_IP) {
		tso_ip_sum(ip, hlen);
		if ((error = m_copyback(m, l3off + 10, 2, ip + 10)) != 0)
			return (error);
	}
	m->m_pkthdr.csum_flags &= ~(uint32_t)(UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP);
	return (0);
}

#if UST_INET6
/* The IPv6 header at l3off of m, followed by the transport (no extension
 * header: the offload contract): its payload length and next header,
 * checked against the packet.  Returns 0 or UST_EINVAL. */
static int
tso_ip6_hdr(const struct mbuf *m, uint32_t l3off, uint8_t *hdr, uint32_t *plenp)
{
	uint32_t plen;

	if (m_copydata(m, l3off, IP6_HDRLEN, hdr) != 0 || (hdr[0] >> 4) != 6)
		return (UST_EINVAL);
	plen = be16dec(hdr + 4);
	if (l3off + IP6_HDRLEN + plen > m->m_pkthdr.len)
		return (UST_EINVAL);
	*plenp = plen;
	return (0);
}

int
in6_delayed_cksum(struct mbuf *m, uint32_t l3off)
{
	uint8_t ip6[IP6_HDRLEN], sumb[2];
	uint32_t plen, flags = m->m_pkthdr.csum_flags, l4off = l3off + IP6_HDRLEN;
	uint16_t sum;
	int error, udp = (flags & UST_CSUM_IP6_UDP) != 0;

	if (!(flags & TSO_CSUM6))
		return (0);
	if ((flags & TSO_CSUM6) == TSO_CSUM6 || (error = tso_ip6_hdr(m, l3off, ip6, &plen)) != 0 ||
	    ip6[6] != (udp ? IPPROTO_UDP : IPPROTO_TCP) ||
	    plen < (udp ? 8u : (uint32_t)TCP_HDR_MIN))
		return (UST_EINVAL);
	/* The field holds the pseudo-header sum (RFC 8200 8.1). */
	sum = in_cksum_skip(m, l4off, plen, 0);
	if (udp && sum == 0)
		sum = 0xffff; /* RFC 8200 8.1: never 0 over IPv6 */
	be16enc(sumb, sum);
	if ((error = m_copyback(m, l4off + (udp ? 6 : TCP_CSUM_OFF), 2, sumb)) != 0)
		return (error);
	m->m_pkthdr.csum_flags &= ~(uint32_t)TSO_CSUM6;
	return (0);
}
#endif

#if UST_TCP_TSO
/* The headers of a TSO packet: the IPv4 (or IPv6, no extension header)
 * header at l3off, the TCP header after it, everything copied to hdr;
 * *hlenp is 40 for IPv6.  Returns 0 or UST_EINVAL. */
static int
tso_headers(const struct mbuf *m, uint32_t l3off, uint8_t *hdr, uint32_t *hlenp, uint32_t *thlenp,
    uint32_t *paylenp)
{
	uint32_t hlen, ip_len, thlen;
	uint8_t off, v;

	if (l3off > ETHER_HDR_LEN || m_copydata(m, l3off, 1, &v) != 0)
		return (UST_EINVAL);
#if UST_INET6
	if ((v >> 4) == 6) {
		if (tso_ip6_hdr(m, l3off, hdr + l3off, &ip_len) != 0 ||
		    hdr[l3off + 6] != IPPROTO_TCP)
			return (UST_EINVAL);
		hlen = IP6_HDRLEN;
		ip_len += IP6_HDRLEN;
	} else
#endif
	    if (tso_ip_hdr(m, l3off, hdr + l3off, &hlen, &ip_len) != 0 ||
	        hdr[l3off + 9] != IPPROTO_TCP || (be16dec(hdr + l3off + 6) & (IP_MF | IP_OFFMASK)))
		return (UST_EINVAL);
	if (m_copydata(m, l3off + hlen + 12, 1, &off) != 0)
		return (UST_EINVAL);
	thlen = (uint32_t)(off >> 4) << 2;
	if (thlen < TCP_HDR_MIN || hlen + thlen >= ip_len ||
	    m_copydata(m, 0, l3off + hlen + thlen, hdr) != 0)
		return (UST_EINVAL);
	*hlenp = hlen;
	*thlenp = thlen;
	*paylenp = ip_len - hlen - thlen;
	return (0);
}

uint32_t
tcp_tso_nsegs(const struct mbuf *m, uint32_t l3off)
{
	uint8_t hdr[TSO_HDR_MAX];
	uint32_t hlen, thlen, paylen, segsz = m->m_pkthdr.tso_segsz;

	if (segsz == 0 || tso_headers(m, l3off, hdr, &hlen, &thlen, &paylen) != 0)
		return (1);
	return ((paylen + segsz - 1) / segsz);
}

struct mbuf *
tcp_tso_segment(struct mbuf *m, uint32_t l3off, uint32_t maxsegs, int *errorp)
{
	uint8_t hdr[TSO_HDR_MAX], *ip, *th;
	uint32_t hlen, thlen, paylen, segsz = m->m_pkthdr.tso_segsz, off, chunk, n, hdrlen;
	struct mbuf *head = NULL, **tail = &head, *s, *next;
	struct in_addr src, dst;
#if UST_INET6
	struct in6_addr src6, dst6;
#endif
	uint16_t ipid;
	uint32_t seq;
	uint8_t thflags;
	int v6;

	*errorp = UST_EINVAL;
	if (segsz == 0 || tso_headers(m, l3off, hdr, &hlen, &thlen, &paylen) != 0)
		return (NULL);
	*errorp = UST_E2BIG;
	if ((paylen + segsz - 1) / segsz > maxsegs)
		return (NULL);
	hdrlen = l3off + hlen + thlen;
	ip = hdr + l3off;
	th = ip + hlen;
	v6 = (ip[0] >> 4) == 6;
	ipid = be16dec(ip + 4);
	memcpy(&src.s_addr, ip + 12, 4);
	memcpy(&dst.s_addr, ip + 16, 4);
#if UST_INET6
	memcpy(src6.s6_addr8, ip + 8, 16);
	memcpy(dst6.s6_addr8, ip + 24, 16);
#endif
	seq = be32dec(th + 4);
	thflags = th[13];
	*errorp = UST_ENOBUFS;
	for (off = 0, n = 0; off < paylen; off += chunk, n++) {
		chunk = paylen - off < segsz ? paylen - off : segsz;
		if ((s = m_get2(m->m_zones, hdrlen, MT_HEADER, M_PKTHDR)) == NULL)
			goto fail;
		*tail = s;
		tail = &s->m_nextpkt;
		s->m_pkthdr.rcvif = m->m_pkthdr.rcvif;
		s->m_pkthdr.flowid = m->m_pkthdr.flowid;
		if ((s->m_next = m_copym(m, hdrlen + off, chunk)) == NULL)
			goto fail;
		s->m_len = hdrlen;
		s->m_pkthdr.len = hdrlen + chunk;
		if (v6) {
			be16enc(ip + 4, (uint16_t)(thlen + chunk)); /* payload length */
		} else {
			be16enc(ip + 2, (uint16_t)(hlen + thlen + chunk));
			be16enc(ip + 4, (uint16_t)(ipid + n));
			tso_ip_sum(ip, hlen);
		}
		be32enc(th + 4, seq + off);
		th[13] = thflags;
		if (off > 0)
			th[13] &= (uint8_t)~TH_CWR;
		if (off + chunk < paylen)
			th[13] &= (uint8_t) ~(TH_FIN | TH_PUSH);
		be16enc(th + TCP_CSUM_OFF, 0);
		memcpy(mtod(s, uint8_t *), hdr, hdrlen);
#if UST_INET6
		if (v6)
			be16enc(mtod(s, uint8_t *) + l3off + hlen + TCP_CSUM_OFF,
			    in6_cksum(s, IPPROTO_TCP, l3off + hlen, thlen + chunk, &src6, &dst6));
		else
#endif
			be16enc(mtod(s, uint8_t *) + l3off + hlen + TCP_CSUM_OFF,
			    in4_cksum(s, IPPROTO_TCP, l3off + hlen, thlen + chunk, src, dst));
	}
	*errorp = 0;
	m_freem(m);
	return (head);
fail:
	for (; head != NULL; head = next) {
		next = head->m_nextpkt;
		head->m_nextpkt = NULL;
		m_freem(head);
	}
	return (NULL);
}
#endif /* UST_TCP_TSO */

/* ---------------------------------------------------------------------
 * The driver API (ustack_driver.h): frames start with Ethernet II.
 * ------------------------------------------------------------------- */

int
ust_mbuf_csum_fill(struct ust_mbuf *um)
{
	struct mbuf *m = (struct mbuf *)(void *)um;
	uint32_t fl;

	if (m == NULL || !(m->m_flags & M_PKTHDR))
		return (-UST_EINVAL);
	fl = m->m_pkthdr.csum_flags;
	if ((fl & (UST_CSUM_TSO | UST_CSUM_IP6_TSO)) || ((fl & TSO_CSUM4) && (fl & TSO_CSUM6)))
		return (-UST_EINVAL);
#if UST_INET6
	if (fl & TSO_CSUM6)
		return (-in6_delayed_cksum(m, ETHER_HDR_LEN));
#else
	if (fl & TSO_CSUM6)
		return (-UST_EINVAL);
#endif
	return (-in_delayed_cksum(m, ETHER_HDR_LEN));
}

#if UST_TCP_TSO
int
ust_mbuf_tso_segment(struct ust_mbuf *um, struct ust_mbuf **segs, int max)
{
	struct mbuf *m = (struct mbuf *)(void *)um, *s, *next;
	int n = 0, error;

	uint32_t fl;
	uint8_t v;

	if (m == NULL || segs == NULL || max <= 0 || !(m->m_flags & M_PKTHDR) ||
	    m_copydata(m, ETHER_HDR_LEN, 1, &v) != 0)
		return (-UST_EINVAL);
	/* The flag names the family: an IPv4 flag on an IPv6 header (or
	 * the reverse) is refused, never half-written. */
	fl = m->m_pkthdr.csum_flags & (UST_CSUM_TSO | UST_CSUM_IP6_TSO);
	if (fl == 0 || fl == (UST_CSUM_TSO | UST_CSUM_IP6_TSO) ||
	    ((v >> 4) == 6) != (fl == UST_CSUM_IP6_TSO))
		return (-UST_EINVAL);
	if ((s = tcp_tso_segment(m, ETHER_HDR_LEN, (uint32_t)max, &error)) == NULL)
		return (-error);
	for (; s != NULL; s = next) {
		next = s->m_nextpkt;
		s->m_nextpkt = NULL;
		segs[n++] = (struct ust_mbuf *)(void *)s;
	}
	return (n);
}
#else
int
ust_mbuf_tso_segment(struct ust_mbuf *um, struct ust_mbuf **segs, int max)
{
	(void)um, (void)segs, (void)max;
	return (-UST_EOPNOTSUPP);
}
#endif /* UST_TCP_TSO */
