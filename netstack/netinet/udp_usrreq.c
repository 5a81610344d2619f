/*
 * udp_usrreq.c - UDP (RFC 768; FreeBSD netinet/udp_usrreq.c): input with
 * length and checksum checks and delivery to sockets, output building the
 * header and checksum, ICMP errors turned into socket errors, and the
 * socket operations of UDP sockets.
 *
 *   ip_input -> udp_input -> in_pcblookup -> udp_append -> sbappendaddr
 *       -> sorwakeup                    (no socket: icmp_error port unreach)
 *   sosend -> udp_send -> [implicit bind] -> ip_output
 *   icmp_input -> udp_ctlinput -> in_pcblookup (connected only) -> so_error
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/icmp_var.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/tcp_udp_tunnel.h"
#include "netinet/udp.h"
#include "netinet/udp_var.h"
#if UST_INET6
#include "netinet6/in6_pcb.h"
#endif

/* ---------------------------------------------------------------------
 * Input.
 * ------------------------------------------------------------------- */

/* Queues the datagram (m at the IP header, off the IP header length) to
 * inp's socket with its sender's address.  Consumes m. */
static void
udp_append(struct inpcb *inp, struct in_addr src, uint16_t sport, struct mbuf *m, uint32_t off)
{
	struct socket *so = inp->inp_socket;
	struct ust_stack *st = inp->inp_stack;
	struct sockaddr_storage ss;
	struct sockaddr_in *from = (struct sockaddr_in *)(void *)&ss;

	m_adj(m, (int32_t)(off + UDP_HDRLEN));
	memset(from, 0, sizeof(*from));
	from->sin_len = (uint8_t)sizeof(*from);
	from->sin_family = UST_AF_INET;
	from->sin_port = sport;
	from->sin_addr = src.s_addr;
#if UST_INET6
	/* An AF_INET6 socket (v6only off) hears IPv4 senders as
	 * ::ffff:a.b.c.d. */
	if (inp->inp_vflag & INP_IPV6PROTO) {
		struct sockaddr_in6 *from6 = (struct sockaddr_in6 *)(void *)&ss;

		memset(from6, 0, sizeof(*from6));
		from6->sin6_len = (uint8_t)sizeof(*from6);
		from6->sin6_family = UST_AF_INET6;
		from6->sin6_port = sport;
		in6_v4mapped(src, &from6->sin6_addr);
	}
#endif
	if (so == NULL || (so->so_rcv.sb_state & SBS_CANTRCVMORE) ||
	    !sbappendaddr(&so->so_rcv, (const struct sockaddr *)(void *)&ss, m)) {
		UDPSTAT_INC(st, udps_fullsock);
		m_freem(m);
		return;
	}
	UDPSTAT_INC(st, udps_delivered);
	sorwakeup(so);
}

/* Broadcast delivery: every socket on the port whose local address is the
 * wildcard or the destination, and which, if connected, is connected to
 * the sender.  Each gets a copy; the last one the original. */
struct udp_bcast {
	struct ip *ip;
	uint16_t sport, dport;
	struct mbuf *m;
	uint32_t off;
	struct inpcb *last;
};

static int
udp_bcast_one(struct inpcb *inp, void *arg)
{
	struct udp_bcast *b = arg;
	struct mbuf *n;

	if ((inp->inp_vflag & INP_IPV4) == 0)
		return (0);
	if (inp->inp_laddr.s_addr != INADDR_ANY && inp->inp_laddr.s_addr != b->ip->ip_dst.s_addr)
		return (0);
	if (inp->inp_faddr.s_addr != INADDR_ANY &&
	    (inp->inp_faddr.s_addr != b->ip->ip_src.s_addr || inp->inp_fport != b->sport))
		return (0);
	if (b->last != NULL) {
		n = m_copym(b->m, 0, M_COPYALL);
		if (n != NULL)
			udp_append(b->last, b->ip->ip_src, b->sport, n, b->off);
		else
			UDPSTAT_INC(inp->inp_stack, udps_fullsock);
	}
	b->last = inp;
	return (0);
}

/* Checks length and checksum.  Returns 0, or -1 having counted and freed
 * m.  Trims m when the IP payload is longer than the UDP length. */
static int
udp_validate(struct ust_stack *st, struct mbuf *m, uint32_t off, const struct ip *ip,
    const struct udphdr *uh)
{
	uint32_t payload = m->m_pkthdr.len - off;

	/* RFC 768: the length covers header and data; it may not exceed what
	 * IP carried, and anything IP carried beyond it is not ours. */
	if (uh->uh_ulen < UDP_HDRLEN || uh->uh_ulen > payload) {
		UDPSTAT_INC(st, udps_badlen);
		goto drop;
	}
	if (uh->uh_ulen < payload)
		m_adj(m, -(int32_t)(payload - uh->uh_ulen));
	/* RFC 768 / RFC 1122 4.1.3.4: a zero checksum means none was sent. */
	if (uh->uh_sum == 0) {
		UDPSTAT_INC(st, udps_nosum);
		return (0);
	}
	if (m->m_pkthdr.csum_flags & UST_CSUM_L4_VALID)
		return (0);
	if (in4_cksum(m, IPPROTO_UDP, off, uh->uh_ulen, ip->ip_src, ip->ip_dst) != 0) {
		UDPSTAT_INC(st, udps_badsum);
		goto drop;
	}
	return (0);
drop:
	m_freem(m);
	return (-1);
}

void
udp_input(struct mbuf *m, uint32_t off)
{
	struct ust_stack *st = M_STACK(m);
	struct ifnet *ifp = m->m_pkthdr.rcvif;
	struct inpcbinfo *info = st->st_udbinfo;
	uint8_t hb[IP_HDRLEN], ub[UDP_HDRLEN];
	struct udp_bcast b;
	struct udphdr uh;
	struct inpcb *inp;
	struct ip ip;

	UDPSTAT_INC(st, udps_ipackets);
	if (off < IP_HDRLEN || m->m_pkthdr.len < off + UDP_HDRLEN ||
	    m_copydata(m, 0, IP_HDRLEN, hb) != 0 || m_copydata(m, off, UDP_HDRLEN, ub) != 0 ||
	    ip_hdr_parse(hb, sizeof(hb), &ip) != 0 || udp_hdr_parse(ub, sizeof(ub), &uh) != 0) {
		UDPSTAT_INC(st, udps_hdrops);
		m_freem(m);
		return;
	}
	if (udp_validate(st, m, off, &ip, &uh) != 0)
		return;
	if (info == NULL) {
		UDPSTAT_INC(st, udps_noport);
		m_freem(m);
		return;
	}
	if (IN_MULTICAST(ntohl(ip.ip_dst.s_addr)) || (m->m_flags & (M_BCAST | M_MCAST)) ||
	    in_broadcast(ip.ip_dst, ifp)) {
		/* No multicast memberships exist: multicast finds no socket. */
		memset(&b, 0, sizeof(b));
		if (!IN_MULTICAST(ntohl(ip.ip_dst.s_addr))) {
			b.ip = &ip;
			b.sport = uh.uh_sport;
			b.dport = uh.uh_dport;
			b.m = m;
			b.off = off;
			in_pcbforeach_port(info, uh.uh_dport, udp_bcast_one, &b);
		}
		if (b.last == NULL) {
			/* RFC 1122 3.2.2: never an ICMP error about a broadcast. */
			UDPSTAT_INC(st, udps_noportbcast);
			m_freem(m);
			return;
		}
		udp_append(b.last, ip.ip_src, uh.uh_sport, m, off);
		return;
	}
#if UST_TCP_TUNNEL
	/* TCP over UDP: the tunneling port is TCP's (tcp_udp_tunnel.c). */
	if (tcp_udp_tunnel_port(st, uh.uh_dport)) {
		tcp_udp_tunnel_input(m, off, &uh, 0);
		return;
	}
#endif
	inp =
	    in_pcblookup(info, ip.ip_src, uh.uh_sport, ip.ip_dst, uh.uh_dport, INPLOOKUP_WILDCARD);
	if (inp == NULL) {
		/* RFC 1122 4.1.3.1: port unreachable, unless blackholed. */
		UDPSTAT_INC(st, udps_noport);
		if (V(st, udp_blackhole))
			m_freem(m);
		else
			icmp_error(m, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
		return;
	}
	udp_append(inp, ip.ip_src, uh.uh_sport, m, off);
}

/* The socket error an ICMP error means to a connected UDP socket (RFC 1122
 * 4.1.3.3: pass it to the application), or 0 to ignore it. */
static int
udp_ctlerror(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP_UNREACH:
		switch (code) {
		case ICMP_UNREACH_PORT:
		case ICMP_UNREACH_PROTOCOL:
			return (UST_ECONNREFUSED);
		case ICMP_UNREACH_NEEDFRAG:
			return (UST_EMSGSIZE);
		case ICMP_UNREACH_NET:
		case 6:  /* net unknown */
		case 9:  /* net prohibited */
		case 11: /* net for TOS */
			return (UST_ENETUNREACH);
		default: /* host, source route, host unknown/prohibited... */
			return (UST_EHOSTUNREACH);
		}
	case ICMP_TIMXCEED:
		return (code == ICMP_TIMXCEED_INTRANS ? UST_EHOSTUNREACH : 0);
	case ICMP_PARAMPROB:
		return (UST_ENOPROTOOPT);
	default:
		return (0);
	}
}

void
udp_ctlinput(struct ust_stack *st, const struct icmp_ctl *ctl)
{
	struct inpcbinfo *info = st->st_udbinfo;
	struct udphdr uh;
	struct inpcb *inp;
	int error;

	if (info == NULL || ctl == NULL || ctl->l4 == NULL ||
	    udp_hdr_parse(ctl->l4, ctl->l4len, &uh) != 0)
		return;
#if UST_TCP_TUNNEL
	/* From the tunneling port: an encapsulated TCP segment's error. */
	if (tcp_udp_tunnel_port(st, uh.uh_sport)) {
		tcp_udp_tunnel_ctlinput(st, ctl);
		return;
	}
#endif
	error = udp_ctlerror(ctl->type, ctl->code);
	if (error == 0)
		return;
	/* Only a connected socket hears of errors: an unconnected one could
	 * not tell which of its datagrams failed (BSD behaviour). */
	inp = in_pcblookup(info, ctl->dst, uh.uh_dport, ctl->src, uh.uh_sport, 0);
	if (inp == NULL || inp->inp_socket == NULL)
		return;
	soseterror(inp->inp_socket, error);
}

/* ---------------------------------------------------------------------
 * Output.
 * ------------------------------------------------------------------- */

/* pru_send: m holds the data (pkthdr, leading space reserved); consumed. */
static int
udp_send(struct socket *so, int flags, struct mbuf *m, const struct sockaddr *nam)
{
	const struct sockaddr_in *addr = NULL;
	struct inpcb *inp = sotoinpcb(so);
	struct ust_stack *st = so->so_stack;
	struct ip_out_args args;
	struct in_addr faddr, laddr;
	struct udphdr uh;
	uint16_t fport;
	uint32_t len = m->m_pkthdr.len;
	int error;

	(void)flags;
	if (inp == NULL) {
		error = UST_EINVAL;
		goto release;
	}
	if (len > UDP_MAXDGRAM) {
		error = UST_EMSGSIZE;
		goto release;
	}
	if (nam != NULL && (error = in_satosin(nam, &addr)) != 0)
		goto release;
	if (addr != NULL) {
		faddr.s_addr = addr->sin_addr;
		fport = addr->sin_port;
		if (faddr.s_addr == INADDR_ANY || fport == 0) {
			error = UST_EADDRNOTAVAIL;
			goto release;
		}
		/* Implicit bind to an ephemeral port (RFC 6056). */
		if (inp->inp_lport == 0 && (error = in_pcbbind(inp, NULL)) != 0)
			goto release;
		laddr = inp->inp_laddr;
		if (laddr.s_addr == INADDR_ANY && (error = in_pcbladdr(inp, faddr, &laddr)) != 0)
			goto release;
	} else {
		faddr = inp->inp_faddr;
		fport = inp->inp_fport;
		laddr = inp->inp_laddr;
		if (faddr.s_addr == INADDR_ANY) {
			error = UST_ENOTCONN;
			goto release;
		}
	}
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
	if (V(st, udp_checksum)) {
		/* Left to ip_output or the interface (ustack_driver.h): the
		 * field holds the pseudo-header sum; a computed zero goes as
		 * all ones (RFC 768). */
		udp_hdr_set_sum(mtod(m, uint8_t *),
		    (uint16_t)in_pseudo(laddr, faddr, IPPROTO_UDP, uh.uh_ulen));
		m->m_pkthdr.csum_flags |= UST_CSUM_UDP;
		m->m_pkthdr.csum_data = 6;
	}
	memset(&args, 0, sizeof(args));
	args.src = laddr;
	args.dst = faddr;
	args.proto = IPPROTO_UDP;
	args.ttl = inp->inp_ip_ttl;
	args.tos = inp->inp_ip_tos;
	if (so->so_options & SO_BROADCAST)
		args.flags |= IP_ALLOWBROADCAST;
	error = ip_output(st, m, &args);
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
udp_attach(struct socket *so, int proto)
{
	struct ust_stack *st = so->so_stack;
	int error;

	(void)proto;
	if (st->st_udbinfo == NULL)
		return (UST_ENOBUFS);
	if (so->so_pcb != NULL)
		return (UST_EINVAL);
	/* FreeBSD: the send buffer is the largest datagram (maxdgram). */
	error = soreserve(so, (long)V(st, udp_maxdgram), (long)V(st, udp_recvspace));
	if (error != 0)
		return (error);
	return (in_pcballoc(so, st->st_udbinfo));
}

static void
udp_detach(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp != NULL)
		in_pcbfree(inp);
}

static int
udp_bind(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in *sin;
	int error;

	if (inp == NULL)
		return (UST_EINVAL);
	if ((error = in_satosin(nam, &sin)) != 0)
		return (error);
	return (in_pcbbind(inp, sin));
}

static int
udp_connect(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in *sin;
	struct in_addr faddr;
	int error;

	if (inp == NULL)
		return (UST_EINVAL);
	if ((error = in_satosin(nam, &sin)) != 0)
		return (error);
	if (inp->inp_faddr.s_addr != INADDR_ANY)
		return (UST_EISCONN);
	faddr.s_addr = sin->sin_addr;
	error = in_pcbconnect(inp, faddr, sin->sin_port);
	if (error == 0)
		soisconnected(so);
	return (error);
}

static int
udp_disconnect(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL || inp->inp_faddr.s_addr == INADDR_ANY)
		return (UST_ENOTCONN);
	in_pcbdisconnect(inp, 0);
	so->so_state &= ~(uint32_t)SS_ISCONNECTED;
	return (0);
}

static int
udp_shutdown(struct socket *so)
{
	(void)so;
	return (0);
}

int
udp_ctloutput(struct socket *so, struct sockopt *sopt)
{
	if (sopt->sopt_level == UST_IPPROTO_IP)
		return (in_pcbctloutput_ip(so, sopt));
	return (UST_ENOPROTOOPT);
}

const struct pr_usrreqs udp_usrreqs = {
	.pru_attach = udp_attach,
	.pru_detach = udp_detach,
	.pru_bind = udp_bind,
	.pru_connect = udp_connect,
	.pru_listen = NULL, /* EOPNOTSUPP */
	.pru_accept = NULL,
	.pru_send = udp_send,
	.pru_rcvd = NULL,
	.pru_shutdown = udp_shutdown,
	.pru_disconnect = udp_disconnect,
	.pru_abort = udp_detach,
	.pru_sockaddr = in_getsockaddr,
	.pru_peeraddr = in_getpeeraddr,
};

/* ---------------------------------------------------------------------
 * Per-stack state.
 * ------------------------------------------------------------------- */

int
udp_init(struct ust_stack *st)
{
	struct inpcbinfo *info;
	int64_t max = V(st, ipc_maxsockets);

	info = st_malloc(st, sizeof(*info));
	if (info == NULL)
		return (UST_ENOMEM);
	if (in_pcbinfo_init(info, st, "udp_inpcb",
	        st_hash_buckets(st, UDBHASHSIZE, 3 * sizeof(struct inpcb *)), (uint32_t)max) != 0) {
		st_free(st, info, sizeof(*info));
		return (UST_ENOMEM);
	}
	st->st_udbinfo = info;
	return (0);
}

void
udp_fini(struct ust_stack *st)
{
	struct inpcbinfo *info = st->st_udbinfo;

	if (info == NULL)
		return;
	in_pcbinfo_destroy(info);
	st->st_udbinfo = NULL;
	st_free(st, info, sizeof(*info));
}
