/*
 * tcp_udp_tunnel.c - TCP over UDP encapsulation, as FreeBSD has it (the
 * scheme RFC 6951 gives SCTP, applied to TCP): a TCP segment is the whole
 * payload of a UDP datagram, so that it crosses middleboxes that pass
 * only UDP.
 *
 *   net.inet.tcp.udp_tunneling_port    the local UDP port of every
 *                                      encapsulated connection (0: off)
 *   net.inet.tcp.udp_tunneling_overhead  bytes taken off the MSS (8)
 *   TCP_REMOTE_UDP_ENCAPS_PORT         a closed socket's remote port
 *
 * In:  udp_input / udp6_input -> tcp_udp_tunnel_input (datagram to the
 *      tunneling port) -> tcp_input_with_port(m, off + 8, UDP sport)
 *      -> the segment carries the port (tcp_seg.port): a connection takes
 *      it only from its own t_port, a listener's syncache keeps it for
 *      the connection it makes, answers without a connection go back
 *      the way the segment came.
 * Out: tcp_output_send, tcp_respond, syncache_respond -> (t_port, or
 *      the segment's port) tcp_udp_tunnel_output[6] -> tcp_ip_output.
 * ICMP: udp_ctlinput / udp6_ctlinput (quoted UDP from the tunneling
 *      port) -> tcp_ctlinput_with_port(quoted UDP destination port).
 *
 * Checksums as FreeBSD: a segment sent has a zero TCP checksum and a
 * UDP checksum over everything (over IPv4 too).  A datagram received
 * with a UDP checksum has had it verified by udp_input, which then
 * stands for the TCP checksum; without one (IPv4 allows zero, RFC 768)
 * the TCP checksum is verified as usual, so that something covers the
 * segment.  IPv6 drops a zero UDP checksum in udp6_input (RFC 8200 8.1).
 */
#include <string.h>

#include "kern/endian.h"
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"
#include "netinet/tcp.h"
#include "netinet/tcp_udp_tunnel.h"
#include "netinet/tcp_var.h"
#include "netinet/udp.h"
#include "netinet/udp_var.h"
#if UST_INET6
#include "netinet6/ip6_var.h"
#endif

#if UST_TCP_TUNNEL

/* ---------------------------------------------------------------------
 * Input.
 * ------------------------------------------------------------------- */

void
tcp_udp_tunnel_input(struct mbuf *m, uint32_t off, const struct udphdr *uh, int isipv6)
{
	struct ust_stack *st = M_STACK(m);
	uint32_t len = m->m_pkthdr.len - off; /* UDP header and payload */
	uint8_t b;

	/* A segment is a whole TCP header at least (RFC 9293 3.1), with a
	 * data offset that fits; an empty datagram, a runt or anything
	 * else sent to the port is not TCP.  A source port 0 has no way
	 * back (RFC 768). */
	if (uh->uh_sport == 0 || len < UDP_HDRLEN + TCP_HDR_MIN ||
	    m_copydata(m, off + UDP_HDRLEN + 12, 1, &b) != 0 || (b >> 4) * 4u < TCP_HDR_MIN ||
	    (b >> 4) * 4u > len - UDP_HDRLEN) {
		TCPSTAT_INC(st, tcps_tunneled_errs);
		m_freem(m);
		return;
	}
	TCPSTAT_INC(st, tcps_tunneled_pkts);
	/* A verified UDP checksum covered the whole segment (whose own
	 * checksum a FreeBSD sender leaves zero); without one, TCP's is
	 * checked. */
	if (uh->uh_sum != 0)
		m->m_pkthdr.csum_flags |= UST_CSUM_L4_VALID;
	else
		m->m_pkthdr.csum_flags &= ~UST_CSUM_L4_VALID;
#if UST_INET6
	if (isipv6) {
		tcp6_input_with_port(m, off + UDP_HDRLEN, uh->uh_sport);
		return;
	}
#else
	(void)isipv6;
#endif
	tcp_input_with_port(m, off + UDP_HDRLEN, uh->uh_sport);
}

/* The ports of the quoted UDP header at l4, and whether a TCP header's
 * first 8 bytes (ports, sequence number) follow it. */
static int
tcp_udp_tunnel_quoted(const uint8_t *l4, uint32_t l4len, uint16_t *dport)
{
	if (l4 == NULL || l4len < UDP_HDRLEN + 8)
		return (-1);
	memcpy(dport, l4 + 2, 2);
	return (*dport != 0 ? 0 : -1);
}

void
tcp_udp_tunnel_ctlinput(struct ust_stack *st, const struct icmp_ctl *ctl)
{
	struct icmp_ctl c;
	uint16_t dport;

	if (tcp_udp_tunnel_quoted(ctl->l4, ctl->l4len, &dport) != 0)
		return;
	c = *ctl;
	c.proto = IPPROTO_TCP;
	c.l4 = ctl->l4 + UDP_HDRLEN;
	c.l4len = ctl->l4len - UDP_HDRLEN;
	tcp_ctlinput_with_port(st, &c, dport);
}

#if UST_INET6
void
tcp_udp_tunnel_ctlinput6(struct ust_stack *st, const struct ip6ctlparam *ctl)
{
	struct ip6ctlparam c;
	uint16_t dport;

	if (tcp_udp_tunnel_quoted(ctl->l4, ctl->l4len, &dport) != 0)
		return;
	c = *ctl;
	c.nxt = IPPROTO_TCP;
	c.l4 = ctl->l4 + UDP_HDRLEN;
	c.l4len = ctl->l4len - UDP_HDRLEN;
	tcp6_ctlinput_with_port(st, &c, dport);
}
#endif

/* ---------------------------------------------------------------------
 * Output.
 * ------------------------------------------------------------------- */

/* The UDP header in front of the segment m: the TCP checksum zeroed and
 * its offload requests dropped (TSO never reaches here: tcp_tso_maxlen),
 * the UDP checksum requested instead.  NULL (m freed) without memory. */
static struct mbuf *
tcp_udp_tunnel_encap(struct ust_stack *st, struct mbuf *m, uint16_t port, uint16_t *ulen)
{
	struct udphdr uh;
	uint32_t len = m->m_pkthdr.len;

	if (m->m_len < TCP_HDR_MIN || len + UDP_HDRLEN > 0xffff) {
		m_freem(m);
		return (NULL);
	}
	be16enc(mtod(m, uint8_t *) + TCP_CSUM_OFF, 0);
	m->m_pkthdr.csum_flags &=
	    ~(UST_CSUM_TCP | UST_CSUM_TSO | UST_CSUM_IP6_TCP | UST_CSUM_IP6_TSO);
	M_PREPEND(m, UDP_HDRLEN);
	if (m == NULL)
		return (NULL);
	uh.uh_sport = htons((uint16_t)V(st, tcp_udp_tunneling_port));
	uh.uh_dport = port;
	uh.uh_ulen = (uint16_t)(len + UDP_HDRLEN);
	uh.uh_sum = 0;
	udp_hdr_write(mtod(m, uint8_t *), &uh);
	m->m_pkthdr.csum_flags |= UST_CSUM_UDP;
	m->m_pkthdr.csum_data = 6; /* uh_sum within the UDP header */
	*ulen = uh.uh_ulen;
	return (m);
}

int
tcp_udp_tunnel_output(struct ust_stack *st, struct mbuf *m, const struct ip_out_args *args,
    uint16_t port)
{
	struct ip_out_args a = *args;
	uint16_t ulen;

	if ((m = tcp_udp_tunnel_encap(st, m, port, &ulen)) == NULL) {
		UDPSTAT_INC(st, udps_odropped);
		return (UST_ENOBUFS);
	}
	/* ip_output or the interface finishes the sum (ustack_driver.h). */
	udp_hdr_set_sum(mtod(m, uint8_t *), (uint16_t)in_pseudo(a.src, a.dst, IPPROTO_UDP, ulen));
	a.proto = IPPROTO_UDP;
	TCPSTAT_INC(st, tcps_tunneled_opkts);
	UDPSTAT_INC(st, udps_opackets);
	return (tcp_ip_output(st, m, &a));
}

#if UST_INET6
int
tcp_udp_tunnel_output6(struct ust_stack *st, struct mbuf *m, const struct in_conninfo *inc,
    uint8_t hlim, uint8_t tclass, struct inp_route *ro, uint16_t port)
{
	struct ip6_out_args args;
	uint16_t ulen;

	if ((m = tcp_udp_tunnel_encap(st, m, port, &ulen)) == NULL) {
		UDPSTAT_INC(st, udps_odropped);
		return (UST_ENOBUFS);
	}
	memset(&args, 0, sizeof(args));
	args.src = inc->inc6_laddr;
	args.dst = inc->inc6_faddr;
	args.zoneid = inc->inc6_zoneid;
	args.nxt = IPPROTO_UDP;
	args.hlim = hlim;
	args.tclass = tclass;
	args.ro = ro;
	/* RFC 8200 8.1: ip6_output (or the interface) computes the UDP
	 * checksum, never zero. */
	TCPSTAT_INC(st, tcps_tunneled_opkts);
	UDPSTAT_INC(st, udps_opackets);
	return (tcp6_ip_output(st, m, &args));
}
#endif

/* ---------------------------------------------------------------------
 * TCP_REMOTE_UDP_ENCAPS_PORT.
 * ------------------------------------------------------------------- */

int
tcp_udp_tunnel_setsockopt(struct tcpcb *tp, int val)
{
	/* FreeBSD: the port of a connection is fixed before it starts (a
	 * listener's connections take theirs from their SYNs); 0 turns it
	 * off; a port needs the tunnel to be open. */
	if (tp->t_state != TCPS_CLOSED || val < 0 || val > 65535)
		return (UST_EINVAL);
	if (val != 0 && V(tp->t_stack, tcp_udp_tunneling_port) == 0)
		return (UST_EINVAL);
	tp->t_port = htons((uint16_t)val);
	return (0);
}

int
tcp_udp_tunnel_getsockopt(const struct tcpcb *tp)
{
	return (ntohs(tp->t_port));
}

#endif /* UST_TCP_TUNNEL */
