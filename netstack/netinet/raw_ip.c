/*
 * raw_ip.c - raw IP sockets (FreeBSD netinet/raw_ip.c, BSD raw(4)/ip(4)
 * semantics): SOCK_RAW sockets of one IP protocol that send the
 * protocol's message as given and receive a copy of every message of that
 * protocol the stack takes in, IP header included.
 *
 *   ip_input -> icmp_input -> rip_input -> [m_copym] -> sbappendaddr
 *       -> sorwakeup                   (copies; icmp_input keeps m)
 *   sosend -> rip_send -> ip_output    (the stack writes the IPv4 header)
 *
 * Only IPPROTO_ICMP raw sockets exist: that is all ping and traceroute-
 * style tools need, and ICMP is the one protocol whose input calls
 * rip_input.  IP_HDRINCL is not implemented: the application writes the
 * ICMP message (checksum included, as on BSD and Linux) and the stack adds
 * the IPv4 header.  Received records hold the datagram from its IPv4
 * header on, exactly as it arrived (ip_len and ip_off in network order,
 * as FreeBSD delivers them since 11.0).
 *
 * Unlike FreeBSD, which answers echo requests in the kernel without
 * showing them to raw sockets, every ICMP message that passed the
 * length and checksum checks is copied here, echo requests included
 * (Linux does the same); the stack still answers them itself.
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"

#if UST_RAW_IP /* ustack_opts.h */

/* Raw PCBs per stack: few, found by walking the list. */
#define RIPCB_HASHSIZE 16

/* Whether inp wants a datagram from src to dst of protocol proto: its
 * protocol, and its bound (local) and connected (foreign) addresses when
 * set (raw(4)). */
static int
rip_match(const struct inpcb *inp, uint8_t proto, struct in_addr src, struct in_addr dst)
{
	if (inp->inp_ip_p != proto || inp->inp_socket == NULL || (inp->inp_vflag & INP_IPV4) == 0)
		return (0);
	if (inp->inp_laddr.s_addr != INADDR_ANY && inp->inp_laddr.s_addr != dst.s_addr)
		return (0);
	if (inp->inp_faddr.s_addr != INADDR_ANY && inp->inp_faddr.s_addr != src.s_addr)
		return (0);
	return (1);
}

/* Queues n (a copy, from the IP header) to inp's socket.  Consumes n. */
static void
rip_append(struct inpcb *inp, struct in_addr src, struct mbuf *n)
{
	struct socket *so = inp->inp_socket;
	struct ust_stack *st = inp->inp_stack;
	struct sockaddr_in from;

	memset(&from, 0, sizeof(from));
	from.sin_len = (uint8_t)sizeof(from);
	from.sin_family = UST_AF_INET;
	from.sin_addr = src.s_addr;
	if ((so->so_rcv.sb_state & SBS_CANTRCVMORE) ||
	    !sbappendaddr(&so->so_rcv, (const struct sockaddr *)&from, n)) {
		/* A full receive buffer drops the copy, never the original. */
		IPSTAT_INC(st, ips_rawfull);
		m_freem(n);
		return;
	}
	IPSTAT_INC(st, ips_rawin);
	sorwakeup(so);
}

void
rip_input(struct mbuf *m, uint32_t off)
{
	struct ust_stack *st = M_STACK(m);
	struct inpcbinfo *info = st->st_ripcbinfo;
	struct inpcb *inp;
	struct mbuf *n;
	uint8_t hb[IP_HDRLEN];
	struct ip ip;

	(void)off;
	if (info == NULL || info->ipi_list == NULL)
		return;
	if (m_copydata(m, 0, IP_HDRLEN, hb) != 0 || ip_hdr_parse(hb, sizeof(hb), &ip) != 0)
		return;
	for (inp = info->ipi_list; inp != NULL; inp = inp->inp_list.next) {
		if (!rip_match(inp, ip.ip_p, ip.ip_src, ip.ip_dst))
			continue;
		/* A copy sharing clusters: the caller still owns m. */
		n = m_copym(m, 0, M_COPYALL);
		if (n == NULL) {
			IPSTAT_INC(st, ips_rawfull);
			continue;
		}
		rip_append(inp, ip.ip_src, n);
	}
}

/* pru_send: m is the protocol message (pkthdr, leading space reserved);
 * consumed.  The IPv4 header comes from ip_output. */
static int
rip_send(struct socket *so, int flags, struct mbuf *m, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	struct ust_stack *st = so->so_stack;
	const struct sockaddr_in *addr = NULL;
	struct ip_out_args args;
	int error;

	(void)flags;
	if (inp == NULL) {
		m_freem(m);
		return (UST_EINVAL);
	}
	if (nam != NULL && (error = in_satosin(nam, &addr)) != 0) {
		m_freem(m);
		return (error);
	}
	memset(&args, 0, sizeof(args));
	args.dst = addr != NULL ? (struct in_addr){ addr->sin_addr } : inp->inp_faddr;
	if (args.dst.s_addr == INADDR_ANY) {
		m_freem(m);
		return (UST_EDESTADDRREQ);
	}
	/* A bound address is the source; otherwise ip_output takes the
	 * route's. */
	args.src = inp->inp_laddr;
	args.proto = inp->inp_ip_p;
	args.ttl = inp->inp_ip_ttl;
	args.tos = inp->inp_ip_tos;
	if (so->so_options & SO_BROADCAST)
		args.flags |= IP_ALLOWBROADCAST;
	error = ip_output(st, m, &args);
	if (error == 0)
		IPSTAT_INC(st, ips_rawout);
	return (error);
}

static int
rip_attach(struct socket *so, int proto)
{
	struct ust_stack *st = so->so_stack;
	int error;

	if (st->st_ripcbinfo == NULL)
		return (UST_ENOBUFS);
	if (so->so_pcb != NULL)
		return (UST_EINVAL);
	error = soreserve(so, (long)V(st, rip_maxdgram), (long)V(st, rip_recvspace));
	if (error != 0)
		return (error);
	error = in_pcballoc(so, st->st_ripcbinfo);
	if (error != 0)
		return (error);
	sotoinpcb(so)->inp_ip_p = (uint8_t)proto;
	return (0);
}

static void
rip_detach(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp != NULL)
		in_pcbfree(inp);
}

/* raw(4): bind sets the local address that received datagrams must be
 * sent to and sent ones come from; there are no ports. */
static int
rip_bind(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in *sin;
	struct in_addr a;
	int error;

	if (inp == NULL)
		return (UST_EINVAL);
	if ((error = in_satosin(nam, &sin)) != 0)
		return (error);
	a.s_addr = sin->sin_addr;
	if (a.s_addr != INADDR_ANY && !in_localip(so->so_stack, a))
		return (UST_EADDRNOTAVAIL);
	inp->inp_laddr = a;
	return (0);
}

/* connect fixes the peer: send() goes there, only its datagrams arrive. */
static int
rip_connect(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in *sin;
	int error;

	if (inp == NULL)
		return (UST_EINVAL);
	if ((error = in_satosin(nam, &sin)) != 0)
		return (error);
	if (sin->sin_addr == INADDR_ANY)
		return (UST_EADDRNOTAVAIL);
	inp->inp_faddr.s_addr = sin->sin_addr;
	soisconnected(so);
	return (0);
}

static int
rip_disconnect(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL || inp->inp_faddr.s_addr == INADDR_ANY)
		return (UST_ENOTCONN);
	inp->inp_faddr.s_addr = INADDR_ANY;
	so->so_state &= ~(uint32_t)SS_ISCONNECTED;
	return (0);
}

static int
rip_shutdown(struct socket *so)
{
	(void)so;
	return (0);
}

int
rip_ctloutput(struct socket *so, struct sockopt *sopt)
{
	/* IP_TTL and IP_TOS; IP_HDRINCL is not supported (ENOPROTOOPT). */
	if (sopt->sopt_level == UST_IPPROTO_IP)
		return (in_pcbctloutput_ip(so, sopt));
	return (UST_ENOPROTOOPT);
}

const struct pr_usrreqs rip_usrreqs = {
	.pru_attach = rip_attach,
	.pru_detach = rip_detach,
	.pru_bind = rip_bind,
	.pru_connect = rip_connect,
	.pru_send = rip_send,
	.pru_shutdown = rip_shutdown,
	.pru_disconnect = rip_disconnect,
	.pru_abort = rip_detach,
	.pru_sockaddr = in_getsockaddr,
	.pru_peeraddr = in_getpeeraddr,
};

int
rip_init(struct ust_stack *st)
{
	struct inpcbinfo *info;

	info = st_malloc(st, sizeof(*info));
	if (info == NULL)
		return (UST_ENOMEM);
	if (in_pcbinfo_init(info, st, "rip_inpcb", RIPCB_HASHSIZE,
	        (uint32_t)V(st, ipc_maxsockets)) != 0) {
		st_free(st, info, sizeof(*info));
		return (UST_ENOMEM);
	}
	st->st_ripcbinfo = info;
	return (0);
}

void
rip_fini(struct ust_stack *st)
{
	struct inpcbinfo *info = st->st_ripcbinfo;

	if (info == NULL)
		return;
	in_pcbinfo_destroy(info);
	st->st_ripcbinfo = NULL;
	st_free(st, info, sizeof(*info));
}
#endif /* UST_RAW_IP */
