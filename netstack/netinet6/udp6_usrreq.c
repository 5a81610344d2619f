/*
 * udp6_usrreq.c - UDP over IPv6 (RFC 768, RFC 8200 8.1; FreeBSD
 * netinet6/udp6_usrreq.c): the PCBs are UDP's (st_udbinfo, shared with
 * IPv4); the checksum is mandatory both ways (a zero checksum is dropped,
 * RFC 8200 8.1); no socket on the port means an ICMPv6 port unreachable.
 * An AF_INET6 socket without IPV6_V6ONLY speaks IPv4 to v4-mapped
 * addresses through IPv4's UDP (udp_usrreq.c), which reports its senders
 * as ::ffff:a.b.c.d to such sockets.
 *
 *   ip6_input -> udp6_input -> in6_pcblookup -> udp6_append -> sbappendaddr
 *       (no socket: icmp6_error port unreachable)
 *   sosend -> udp6_send -> [implicit bind, in6_pcbladdr] -> ip6_output
 *   icmp6_input -> udp6_ctlinput -> in6_pcblookup (connected) -> so_error
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/tcp_udp_tunnel.h"
#include "netinet/udp.h"
#include "netinet/udp_var.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_pcb.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"

/* ---------------------------------------------------------------------
 * Input.
 * ------------------------------------------------------------------- */

static void
udp6_append(struct inpcb *inp, const struct ip6_hdr *ip6, uint16_t sport, struct mbuf *m,
    uint32_t off)
{
	struct socket *so = inp->inp_socket;
	struct ust_stack *st = inp->inp_stack;
	struct ifnet *ifp = m->m_pkthdr.rcvif;
	struct sockaddr_in6 from;

	m_adj(m, (int32_t)(off + UDP_HDRLEN));
	memset(&from, 0, sizeof(from));
	from.sin6_len = (uint8_t)sizeof(from);
	from.sin6_family = UST_AF_INET6;
	from.sin6_port = sport;
	from.sin6_addr = ip6->ip6_src;
	if (ifp != NULL && in6_is_scoped(&ip6->ip6_src))
		from.sin6_scope_id = ifp->if_index;
	if (so == NULL || (so->so_rcv.sb_state & SBS_CANTRCVMORE) ||
	    !sbappendaddr(&so->so_rcv, (const struct sockaddr *)&from, m)) {
		UDPSTAT_INC(st, udps_fullsock);
		m_freem(m);
		return;
	}
	UDPSTAT_INC(st, udps_delivered);
	sorwakeup(so);
}

void
udp6_input(struct mbuf *m, uint32_t off)
{
	struct ust_stack *st = M_STACK(m);
	struct inpcbinfo *info = st->st_udbinfo;
	uint8_t hb[IP6_HDRLEN], ub[UDP_HDRLEN];
	struct ip6_hdr ip6;
	struct udphdr uh;
	struct inpcb *inp;
	uint32_t payload;

	UDPSTAT_INC(st, udps_ipackets);
	if (off < IP6_HDRLEN || m->m_pkthdr.len < off + UDP_HDRLEN ||
	    m_copydata(m, 0, IP6_HDRLEN, hb) != 0 || m_copydata(m, off, UDP_HDRLEN, ub) != 0 ||
	    ip6_hdr_parse(hb, sizeof(hb), &ip6) != 0 || udp_hdr_parse(ub, sizeof(ub), &uh) != 0) {
		UDPSTAT_INC(st, udps_hdrops);
		goto drop;
	}
	payload = m->m_pkthdr.len - off;
	if (uh.uh_ulen < UDP_HDRLEN || uh.uh_ulen > payload) {
		UDPSTAT_INC(st, udps_badlen);
		goto drop;
	}
	if (uh.uh_ulen < payload)
		m_adj(m, -(int32_t)(payload - uh.uh_ulen));
	/* RFC 8200 8.1: over IPv6 the checksum is not optional. */
	if (uh.uh_sum == 0) {
		UDPSTAT_INC(st, udps_nosum);
		goto drop;
	}
	if (!(m->m_pkthdr.csum_flags & UST_CSUM_L4_VALID) &&
	    in6_cksum(m, IPPROTO_UDP, off, uh.uh_ulen, &ip6.ip6_src, &ip6.ip6_dst) != 0) {
		UDPSTAT_INC(st, udps_badsum);
		goto drop;
	}
	if (info == NULL) {
		UDPSTAT_INC(st, udps_noport);
		goto drop;
	}
	if (IN6_IS_ADDR_MULTICAST(&ip6.ip6_dst) || (m->m_flags & (M_BCAST | M_MCAST))) {
		/* No socket joins groups (no IPV6_JOIN_GROUP yet): nobody
		 * takes it, and no error about a multicast (RFC 4443 2.4). */
		UDPSTAT_INC(st, udps_noportbcast);
		goto drop;
	}
#if UST_TCP_TUNNEL
	/* TCP over UDP: the tunneling port is TCP's (tcp_udp_tunnel.c). */
	if (tcp_udp_tunnel_port(st, uh.uh_dport)) {
		tcp_udp_tunnel_input(m, off, &uh, 1);
		return;
	}
#endif
	inp = in6_pcblookup(info, &ip6.ip6_src, uh.uh_sport, &ip6.ip6_dst, uh.uh_dport,
	    INPLOOKUP_WILDCARD, m->m_pkthdr.rcvif);
	if (inp == NULL) {
		UDPSTAT_INC(st, udps_noport);
		if (V(st, udp_blackhole))
			goto drop;
		icmp6_error(m, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 0);
		return;
	}
	udp6_append(inp, &ip6, uh.uh_sport, m, off);
	return;
drop:
	m_freem(m);
}

/* The socket error an ICMPv6 error means to a connected UDP socket, or 0
 * (FreeBSD icmp6_errmap). */
static int
udp6_ctlerror(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP6_DST_UNREACH:
		return (code == ICMP6_DST_UNREACH_NOPORT || code == ICMP6_DST_UNREACH_ADMIN ?
		        UST_ECONNREFUSED :
		        UST_EHOSTUNREACH);
	case ICMP6_PACKET_TOO_BIG:
		return (UST_EMSGSIZE);
	case ICMP6_TIME_EXCEEDED:
		return (code == ICMP6_TIME_EXCEED_TRANSIT ? UST_EHOSTUNREACH : 0);
	case ICMP6_PARAM_PROB:
		return (code == ICMP6_PARAMPROB_NEXTHEADER ? UST_ECONNREFUSED : UST_ENOPROTOOPT);
	default:
		return (0);
	}
}

void
udp6_ctlinput(struct ust_stack *st, const struct ip6ctlparam *ctl)
{
	struct inpcbinfo *info = st->st_udbinfo;
	struct udphdr uh;
	struct inpcb *inp;
	int error;

	if (info == NULL || ctl == NULL || ctl->nxt != IPPROTO_UDP || ctl->l4 == NULL ||
	    udp_hdr_parse(ctl->l4, ctl->l4len, &uh) != 0)
		return;
#if UST_TCP_TUNNEL
	/* From the tunneling port: an encapsulated TCP segment's error. */
	if (tcp_udp_tunnel_port(st, uh.uh_sport)) {
		tcp_udp_tunnel_ctlinput6(st, ctl);
		return;
	}
#endif
	if ((error = udp6_ctlerror(ctl->type, ctl->code)) == 0)
		return;
	/* Only a connected socket hears of errors (BSD). */
	inp = in6_pcblookup(info, &ctl->dst, uh.uh_dport, &ctl->src, uh.uh_sport, 0,
	    ctl->zoneid != 0 ? ifnet_byindex(st, ctl->zoneid) : NULL);
	if (inp == NULL || inp->inp_socket == NULL)
		return;
	soseterror(inp->inp_socket, error);
}

/* ---------------------------------------------------------------------
 * Output.
 * ------------------------------------------------------------------- */

/* IPv4 through an AF_INET6 socket: IPv4's UDP does it (its input side
 * already finds dual-stack PCBs). */
static int
udp6_send_v4(struct socket *so, int flags, struct mbuf *m, const struct sockaddr_in6 *sin6)
{
	const struct protosw *pr = pffindproto(UST_AF_INET, UST_SOCK_DGRAM, IPPROTO_UDP);
	struct sockaddr_in sin;

	if (pr == NULL || pr->pr_usrreqs == NULL || pr->pr_usrreqs->pru_send == NULL) {
		m_freem(m);
		return (UST_EAFNOSUPPORT);
	}
	if (sin6 == NULL)
		return (pr->pr_usrreqs->pru_send(so, flags, m, NULL));
	in6_sin6_to_sin(sin6, &sin);
	return (pr->pr_usrreqs->pru_send(so, flags, m, (const struct sockaddr *)&sin));
}

static int
udp6_send(struct socket *so, int flags, struct mbuf *m, const struct sockaddr *nam)
{
	const struct sockaddr_in6 *sin6 = NULL;
	struct inpcb *inp = sotoinpcb(so);
	struct ust_stack *st = so->so_stack;
	struct ip6_out_args args;
	struct in6_addr faddr, laddr;
	struct udphdr uh;
	uint16_t fport;
	uint32_t len = m->m_pkthdr.len, zone = 0;
	int error;

	if (inp == NULL) {
		error = UST_EINVAL;
		goto release;
	}
	if (len > UDP_MAXDGRAM) {
		error = UST_EMSGSIZE;
		goto release;
	}
	if (nam != NULL && (error = in6_satosin6(nam, &sin6)) != 0)
		goto release;
	if (sin6 != NULL && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		if (!(inp->inp_vflag & INP_IPV4)) {
			error = UST_EINVAL;
			goto release;
		}
		return (udp6_send_v4(so, flags, m, sin6));
	}
	if (sin6 == NULL && !(inp->inp_vflag & INP_IPV6))
		return (udp6_send_v4(so, flags, m, NULL)); /* connected v4-mapped */
	if (sin6 != NULL) {
		if (!(inp->inp_vflag & INP_IPV6)) {
			error = UST_EINVAL; /* bound to IPv4 */
			goto release;
		}
		faddr = sin6->sin6_addr;
		fport = sin6->sin6_port;
		if (IN6_IS_ADDR_UNSPECIFIED(&faddr) || fport == 0) {
			error = UST_EADDRNOTAVAIL;
			goto release;
		}
		if (in6_is_scoped(&faddr)) {
			if (sin6->sin6_scope_id == 0) {
				error = UST_EINVAL;
				goto release;
			}
			zone = sin6->sin6_scope_id;
		}
		if (inp->inp_lport == 0 && (error = in6_pcbbind(inp, NULL)) != 0)
			goto release;
		laddr = inp->in6p_laddr;
		if (IN6_IS_ADDR_UNSPECIFIED(&laddr) &&
		    (error = in6_pcbladdr(inp, sin6, &laddr)) != 0)
			goto release;
	} else {
		faddr = inp->in6p_faddr;
		fport = inp->inp_fport;
		laddr = inp->in6p_laddr;
		zone = inp->in6p_zoneid;
		if (IN6_IS_ADDR_UNSPECIFIED(&faddr)) {
			error = UST_ENOTCONN;
			goto release;
		}
	}
	if (zone == 0 && in6_is_scoped(&laddr))
		zone = inp->in6p_zoneid;
	M_PREPEND(m, UDP_HDRLEN);
	if (m == NULL) {
		UDPSTAT_INC(st, udps_odropped);
		return (UST_ENOBUFS);
	}
	uh.uh_sport = inp->inp_lport;
	uh.uh_dport = fport;
	uh.uh_ulen = (uint16_t)(len + UDP_HDRLEN);
	uh.uh_sum = 0;
	udp_hdr_write(mtod(m, uint8_t *), &uh);
	/* RFC 8200 8.1: always a checksum, a computed zero sent as all
	 * ones: left to ip6_output, which computes it or hands it to an
	 * interface with UST_IFCAP_TXCSUM_IPV6 (ustack_driver.h). */
	m->m_pkthdr.csum_flags |= UST_CSUM_UDP;
	m->m_pkthdr.csum_data = 6;
	memset(&args, 0, sizeof(args));
	args.src = laddr;
	args.dst = faddr;
	args.zoneid = zone;
	args.nxt = IPPROTO_UDP;
	/* Multicast: 0 lets ip6_output use 1 (no IPV6_MULTICAST_HOPS yet). */
	args.hlim = IN6_IS_ADDR_MULTICAST(&faddr) ? 0 : inp->inp_ip_ttl;
	args.tclass = inp->inp_ip_tos;
	error = ip6_output(st, m, &args);
	if (error != 0)
		UDPSTAT_INC(st, udps_odropped);
	else
		UDPSTAT_INC(st, udps_opackets);
	return (error);
release:
	UDPSTAT_INC(st, udps_odropped);
	m_freem(m);
	return (error);
}

/* ---------------------------------------------------------------------
 * Socket operations.
 * ------------------------------------------------------------------- */

static int
udp6_attach(struct socket *so, int proto)
{
	struct ust_stack *st = so->so_stack;
	int error;

	(void)proto;
	if (st->st_udbinfo == NULL)
		return (UST_ENOBUFS);
	if (so->so_pcb != NULL)
		return (UST_EINVAL);
	error = soreserve(so, (long)V(st, udp_maxdgram), (long)V(st, udp_recvspace));
	if (error != 0)
		return (error);
	if ((error = in_pcballoc(so, st->st_udbinfo)) != 0)
		return (error);
	in6_pcbinit(sotoinpcb(so));
	return (0);
}

static void
udp6_detach(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp != NULL)
		in_pcbfree(inp);
}

static int
udp6_bind(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in6 *sin6;
	int error;

	if (inp == NULL)
		return (UST_EINVAL);
	if ((error = in6_satosin6(nam, &sin6)) != 0)
		return (error);
	return (in6_pcbbind(inp, sin6));
}

static int
udp6_connect(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in6 *sin6;
	int error;

	if (inp == NULL)
		return (UST_EINVAL);
	if ((error = in6_satosin6(nam, &sin6)) != 0)
		return (error);
	if (!IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_faddr) ||
	    (!(inp->inp_vflag & INP_IPV6) && inp->inp_faddr.s_addr != INADDR_ANY))
		return (UST_EISCONN);
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		struct sockaddr_in sin;
		struct in_addr faddr;

		if (!(inp->inp_vflag & INP_IPV4))
			return (UST_EINVAL);
		in6_sin6_to_sin(sin6, &sin);
		faddr.s_addr = sin.sin_addr;
		inp_setvflag(inp, INP_IPV4 | INP_IPV6PROTO);
		error = in_pcbconnect(inp, faddr, sin.sin_port);
		if (error != 0)
			inp_setvflag(inp, INP_IPV4 | INP_IPV6 | INP_IPV6PROTO);
	} else {
		if (!(inp->inp_vflag & INP_IPV6))
			return (UST_EINVAL);
		error = in6_pcbconnect(inp, sin6);
	}
	if (error == 0)
		soisconnected(so);
	return (error);
}

static int
udp6_disconnect(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL)
		return (UST_ENOTCONN);
	if (inp->inp_vflag & INP_IPV6) {
		if (IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_faddr))
			return (UST_ENOTCONN);
		/* FreeBSD udp6_disconnect: the local address goes too. */
		memset(&inp->in6p_laddr, 0, sizeof(inp->in6p_laddr));
		in6_pcbdisconnect(inp);
	} else {
		if (inp->inp_faddr.s_addr == INADDR_ANY)
			return (UST_ENOTCONN);
		in_pcbdisconnect(inp, 0);
	}
	so->so_state &= ~(uint32_t)SS_ISCONNECTED;
	return (0);
}

static int
udp6_shutdown(struct socket *so)
{
	(void)so;
	return (0);
}

int
udp6_ctloutput(struct socket *so, struct sockopt *sopt)
{
	if (sopt->sopt_level == UST_IPPROTO_IPV6)
		return (in6_pcbctloutput(so, sopt));
	if (sopt->sopt_level == UST_IPPROTO_IP)
		return (in_pcbctloutput_ip(so, sopt));
	return (UST_ENOPROTOOPT);
}

const struct pr_usrreqs udp6_usrreqs = {
	.pru_attach = udp6_attach,
	.pru_detach = udp6_detach,
	.pru_bind = udp6_bind,
	.pru_connect = udp6_connect,
	.pru_send = udp6_send,
	.pru_shutdown = udp6_shutdown,
	.pru_disconnect = udp6_disconnect,
	.pru_abort = udp6_detach,
	.pru_sockaddr = in6_mapped_sockaddr,
	.pru_peeraddr = in6_mapped_peeraddr,
};
