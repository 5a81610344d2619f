/*
 * raw_ip6.c - raw ICMPv6 sockets (RFC 3542 3; FreeBSD netinet6/raw_ip6.c):
 * SOCK_RAW sockets of protocol IPPROTO_ICMPV6 that send an ICMPv6
 * message as given (the stack computes its checksum, RFC 3542 3.1, and
 * writes the IPv6 header) and receive a copy of every ICMPv6 message the
 * stack takes in, without the IPv6 header (RFC 3542 3: the addresses come
 * in the sockaddr_in6 of recvfrom).
 *
 *   ip6_input -> icmp6_input -> rip6_input -> [m_copym] -> sbappendaddr
 *   sosend -> rip6_send -> [checksum] -> ip6_output
 *
 * The PCBs live in IPv4's raw table (st_ripcbinfo, one table with a vflag
 * as FreeBSD): INP_IPV6 only, so rip_input never sees them.  The hop limit
 * (IPV6_UNICAST_HOPS) sits in inp_ip_ttl and the traffic class
 * (IPV6_TCLASS) in inp_ip_tos, 0 meaning the default.  ICMP6_FILTER
 * (RFC 3542 3.2) lives beside the PCB, in a per-stack list of the sockets
 * that set one (few): a socket without one takes every type, echo
 * requests included, as raw IPv4 sockets do here.
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"

#if UST_RAW_IP /* ustack_opts.h */

#define RIP6_CKSUM_OFF 2 /* ICMPv6's checksum (RFC 3542 3.1) */

struct rip6_filter {
	struct rip6_filter *rf_next;
	const struct inpcb *rf_inp;
	struct ust_icmp6_filter rf_filter;
};

static struct rip6_filter **
rip6_filter_pp(struct ust_stack *st, const struct inpcb *inp)
{
	struct rip6_filter **pp;

	for (pp = &st->st_rip6_filters; *pp != NULL; pp = &(*pp)->rf_next)
		if ((*pp)->rf_inp == inp)
			return (pp);
	return (NULL);
}

static void
rip6_filter_drop(struct ust_stack *st, const struct inpcb *inp)
{
	struct rip6_filter **pp = rip6_filter_pp(st, inp), *rf;

	if (pp == NULL)
		return;
	rf = *pp;
	*pp = rf->rf_next;
	st_free(st, rf, sizeof(*rf));
}

/* Whether inp's filter lets ICMPv6 type through. */
static int
rip6_filter_pass(struct ust_stack *st, const struct inpcb *inp, uint8_t type)
{
	struct rip6_filter **pp;

	if (st->st_rip6_filters == NULL || (pp = rip6_filter_pp(st, inp)) == NULL)
		return (1);
	return (((*pp)->rf_filter.icmp6_filt[type >> 5] >> (type & 31)) & 1);
}

void
rip6_fini(struct ust_stack *st)
{
	struct rip6_filter *rf;

	while ((rf = st->st_rip6_filters) != NULL) {
		st->st_rip6_filters = rf->rf_next;
		st_free(st, rf, sizeof(*rf));
	}
}

static int
rip6_match(const struct inpcb *inp, const struct ip6_hdr *h, const struct ifnet *ifp)
{
	if (inp->inp_socket == NULL || !(inp->inp_vflag & INP_IPV6) ||
	    inp->inp_ip_p != IPPROTO_ICMPV6)
		return (0);
	if (!IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_laddr) &&
	    (!in6_are_addr_equal(&inp->in6p_laddr, &h->ip6_dst) ||
	        (in6_is_scoped(&h->ip6_dst) && inp->in6p_zoneid != ifp->if_index)))
		return (0);
	if (!IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_faddr) &&
	    !in6_are_addr_equal(&inp->in6p_faddr, &h->ip6_src))
		return (0);
	return (1);
}

void
rip6_input(struct mbuf *m, uint32_t off)
{
	struct ust_stack *st = M_STACK(m);
	struct inpcbinfo *info = st->st_ripcbinfo;
	struct ifnet *ifp = m->m_pkthdr.rcvif;
	struct sockaddr_in6 from;
	struct inpcb *inp;
	struct socket *so;
	uint8_t hb[IP6_HDRLEN];
	struct ip6_hdr h;
	struct mbuf *n;
	uint8_t type;

	if (info == NULL || info->ipi_list == NULL)
		return;
	if (m_copydata(m, 0, IP6_HDRLEN, hb) != 0 || ip6_hdr_parse(hb, sizeof(hb), &h) != 0 ||
	    m_copydata(m, off, 1, &type) != 0)
		return;
	memset(&from, 0, sizeof(from));
	from.sin6_len = (uint8_t)sizeof(from);
	from.sin6_family = UST_AF_INET6;
	from.sin6_addr = h.ip6_src;
	if (in6_is_scoped(&h.ip6_src))
		from.sin6_scope_id = ifp->if_index;
	for (inp = info->ipi_list; inp != NULL; inp = inp->inp_list.next) {
		if (!rip6_match(inp, &h, ifp) || !rip6_filter_pass(st, inp, type))
			continue;
		so = inp->inp_socket;
		/* The message alone, sharing clusters: m stays the caller's. */
		n = m_copym(m, 0, M_COPYALL);
		if (n != NULL)
			m_adj(n, (int32_t)off);
		if (n == NULL || (so->so_rcv.sb_state & SBS_CANTRCVMORE) ||
		    !sbappendaddr(&so->so_rcv, (const struct sockaddr *)&from, n)) {
			IP6STAT_INC(st, ip6s_rawfull);
			m_freem(n);
			continue;
		}
		IP6STAT_INC(st, ip6s_rawin);
		sorwakeup(so);
	}
}

/* The sockaddr_in6 behind nam, a v4-mapped one refused (raw ICMPv6 is
 * IPv6 only). */
static int
rip6_sin6(const struct sockaddr *nam, const struct sockaddr_in6 **sin6)
{
	int error;

	if ((error = in6_satosin6(nam, sin6)) != 0)
		return (error);
	if (IN6_IS_ADDR_V4MAPPED(&(*sin6)->sin6_addr))
		return (UST_EINVAL);
	return (0);
}

/* pru_send: m is the ICMPv6 message; consumed.  The source is the bound
 * address or the one ip6_output would choose, since the checksum covers
 * it. */
static int
rip6_send(struct socket *so, int flags, struct mbuf *m, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	struct ust_stack *st = so->so_stack;
	const struct sockaddr_in6 *sin6 = NULL;
	struct ip6_out_args args;
	struct nhop6 nh;
	uint16_t sum;
	uint8_t b[2];
	int error;

	(void)flags;
	if (inp == NULL) {
		error = UST_EINVAL;
		goto bad;
	}
	if (nam != NULL && (error = rip6_sin6(nam, &sin6)) != 0)
		goto bad;
	memset(&args, 0, sizeof(args));
	if (sin6 != NULL) {
		args.dst = sin6->sin6_addr;
		args.zoneid = sin6->sin6_scope_id;
	} else {
		args.dst = inp->in6p_faddr;
		args.zoneid = inp->in6p_zoneid;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&args.dst)) {
		error = UST_EDESTADDRREQ;
		goto bad;
	}
	if (in6_is_scoped(&args.dst) && args.zoneid == 0 && in6_is_scoped(&inp->in6p_laddr))
		args.zoneid = inp->in6p_zoneid;
	if (m->m_pkthdr.len < RIP6_CKSUM_OFF + 2) {
		error = UST_EINVAL;
		goto bad;
	}
	args.src = inp->in6p_laddr;
	if (IN6_IS_ADDR_UNSPECIFIED(&args.src)) {
		if (!IN6_IS_ADDR_MULTICAST(&args.dst) && in6_localip(st, &args.dst))
			args.src = args.dst;
		else if ((error = rt6_lookup(st, &args.dst, args.zoneid, &nh)) != 0 ||
		    (error = in6_selectsrc(st, &args.dst, args.zoneid, nh.nh_ifp, &args.src)) != 0)
			goto bad;
	}
	b[0] = b[1] = 0;
	if ((error = m_copyback(m, RIP6_CKSUM_OFF, 2, b)) != 0)
		goto bad;
	sum = in6_cksum(m, IPPROTO_ICMPV6, 0, m->m_pkthdr.len, &args.src, &args.dst);
	b[0] = (uint8_t)(sum >> 8);
	b[1] = (uint8_t)sum;
	if ((error = m_copyback(m, RIP6_CKSUM_OFF, 2, b)) != 0)
		goto bad;
	args.nxt = IPPROTO_ICMPV6;
	args.hlim = inp->inp_ip_ttl;
	args.tclass = inp->inp_ip_tos;
	error = ip6_output(st, m, &args);
	if (error == 0)
		IP6STAT_INC(st, ip6s_rawout);
	return (error);
bad:
	m_freem(m);
	return (error);
}

static int
rip6_attach(struct socket *so, int proto)
{
	struct ust_stack *st = so->so_stack;
	struct inpcb *inp;
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
	inp = sotoinpcb(so);
	inp->inp_vflag = INP_IPV6 | INP_IPV6PROTO;
	inp->inp_inc.inc_flags |= INC_ISIPV6;
	inp->inp_ip_p = (uint8_t)proto;
	inp->inp_ip_ttl = 0;
	inp->inp_ip_tos = 0;
	return (0);
}

static void
rip6_detach(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL)
		return;
	rip6_filter_drop(so->so_stack, inp);
	in_pcbfree(inp);
}

/* A local address for bind: ::, or one of ours (a scoped one in the zone
 * the scope id names). */
static int
rip6_bind(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in6 *sin6;
	struct in6_ifaddr *ia;
	struct ifnet *ifp = NULL;
	int error;

	if (inp == NULL)
		return (UST_EINVAL);
	if ((error = rip6_sin6(nam, &sin6)) != 0)
		return (error);
	if (!IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
		if (in6_is_scoped(&sin6->sin6_addr)) {
			if (sin6->sin6_scope_id == 0 && !V(so->so_stack, ip6_use_defaultzone))
				return (UST_EINVAL);
			ifp = ifnet_byindex(so->so_stack, sin6->sin6_scope_id);
			if (ifp == NULL)
				return (UST_EADDRNOTAVAIL);
		}
		ia = in6ifa_find(so->so_stack, &sin6->sin6_addr, ifp);
		if (ia == NULL || (ia->ia6_flags & (IN6_IFF_NOTREADY | IN6_IFF_ANYCAST)))
			return (UST_EADDRNOTAVAIL);
	}
	inp->in6p_laddr = sin6->sin6_addr;
	inp->in6p_zoneid = ifp != NULL ? ifp->if_index : 0;
	return (0);
}

static int
rip6_connect(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in6 *sin6;
	int error;

	if (inp == NULL)
		return (UST_EINVAL);
	if ((error = rip6_sin6(nam, &sin6)) != 0)
		return (error);
	if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
		return (UST_EADDRNOTAVAIL);
	if (in6_is_scoped(&sin6->sin6_addr) && sin6->sin6_scope_id == 0 &&
	    !in6_is_scoped(&inp->in6p_laddr))
		return (UST_EINVAL);
	inp->in6p_faddr = sin6->sin6_addr;
	if (sin6->sin6_scope_id != 0)
		inp->in6p_zoneid = sin6->sin6_scope_id;
	soisconnected(so);
	return (0);
}

static int
rip6_disconnect(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL || IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_faddr))
		return (UST_ENOTCONN);
	memset(&inp->in6p_faddr, 0, sizeof(inp->in6p_faddr));
	so->so_state &= ~(uint32_t)SS_ISCONNECTED;
	return (0);
}

static int
rip6_shutdown(struct socket *so)
{
	(void)so;
	return (0);
}

static int
rip6_addr(struct socket *so, struct sockaddr *nam, int peer)
{
	struct inpcb *inp = sotoinpcb(so);
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)nam;
	const struct in6_addr *a;

	if (inp == NULL)
		return (UST_EINVAL);
	if (peer && IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_faddr))
		return (UST_ENOTCONN);
	a = peer ? &inp->in6p_faddr : &inp->in6p_laddr;
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_len = (uint8_t)sizeof(*sin6);
	sin6->sin6_family = UST_AF_INET6;
	sin6->sin6_addr = *a;
	if (in6_is_scoped(a))
		sin6->sin6_scope_id = inp->in6p_zoneid;
	return (0);
}

static int
rip6_sockaddr(struct socket *so, struct sockaddr *nam)
{
	return (rip6_addr(so, nam, 0));
}

static int
rip6_peeraddr(struct socket *so, struct sockaddr *nam)
{
	return (rip6_addr(so, nam, 1));
}

/* ICMP6_FILTER (level IPPROTO_ICMPV6): a filter that passes everything
 * is kept as no filter. */
static int
rip6_filter_opt(struct socket *so, struct inpcb *inp, struct sockopt *sopt)
{
	struct ust_stack *st = so->so_stack;
	struct rip6_filter **pp = rip6_filter_pp(st, inp), *rf;
	struct ust_icmp6_filter f;
	unsigned i, all = 1;

	if (sopt->sopt_dir == SOPT_GET) {
		if (sopt->sopt_valsize < sizeof(f))
			return (UST_EINVAL);
		if (pp != NULL)
			f = (*pp)->rf_filter;
		else
			memset(&f, 0xff, sizeof(f));
		memcpy(sopt->sopt_val, &f, sizeof(f));
		sopt->sopt_valsize = sizeof(f);
		return (0);
	}
	if (sopt->sopt_valsize != sizeof(f))
		return (UST_EINVAL);
	memcpy(&f, sopt->sopt_val, sizeof(f));
	for (i = 0; i < 8; i++)
		all &= f.icmp6_filt[i] == 0xffffffffu;
	if (all) {
		rip6_filter_drop(st, inp);
		return (0);
	}
	if (pp == NULL) {
		if ((rf = st_malloc(st, sizeof(*rf))) == NULL)
			return (UST_ENOBUFS);
		rf->rf_inp = inp;
		rf->rf_next = st->st_rip6_filters;
		st->st_rip6_filters = rf;
	} else
		rf = *pp;
	rf->rf_filter = f;
	return (0);
}

/* IPPROTO_IPV6: IPV6_UNICAST_HOPS and IPV6_TCLASS (-1: the default),
 * IPV6_CHECKSUM (always 2 for ICMPv6, RFC 3542 3.1: setting it is
 * EINVAL).  IPPROTO_ICMPV6: ICMP6_FILTER. */
int
rip6_ctloutput(struct socket *so, struct sockopt *sopt)
{
	struct inpcb *inp = sotoinpcb(so);
	int v;

	if (inp == NULL)
		return (UST_EINVAL);
	if (sopt->sopt_level == UST_IPPROTO_ICMPV6 && sopt->sopt_name == UST_ICMP6_FILTER)
		return (rip6_filter_opt(so, inp, sopt));
	if (sopt->sopt_level != UST_IPPROTO_IPV6 ||
	    (sopt->sopt_name != UST_IPV6_UNICAST_HOPS && sopt->sopt_name != UST_IPV6_TCLASS &&
	        sopt->sopt_name != UST_IPV6_CHECKSUM))
		return (UST_ENOPROTOOPT);
	if (sopt->sopt_valsize < sizeof(int))
		return (UST_EINVAL);
	if (sopt->sopt_dir == SOPT_GET) {
		switch (sopt->sopt_name) {
		case UST_IPV6_UNICAST_HOPS:
			v = inp->inp_ip_ttl != 0 ? inp->inp_ip_ttl : (int)V(so->so_stack, ip6_hlim);
			break;
		case UST_IPV6_TCLASS:
			v = inp->inp_ip_tos;
			break;
		default:
			v = RIP6_CKSUM_OFF;
			break;
		}
		memcpy(sopt->sopt_val, &v, sizeof(v));
		sopt->sopt_valsize = sizeof(v);
		return (0);
	}
	memcpy(&v, sopt->sopt_val, sizeof(v));
	switch (sopt->sopt_name) {
	case UST_IPV6_UNICAST_HOPS:
		if (v < -1 || v > 255)
			return (UST_EINVAL);
		inp->inp_ip_ttl = (uint8_t)(v == -1 ? 0 : v);
		return (0);
	case UST_IPV6_TCLASS:
		if (v < -1 || v > 255)
			return (UST_EINVAL);
		inp->inp_ip_tos = (uint8_t)(v == -1 ? 0 : v);
		return (0);
	default:
		return (UST_EINVAL);
	}
}

const struct pr_usrreqs rip6_usrreqs = {
	.pru_attach = rip6_attach,
	.pru_detach = rip6_detach,
	.pru_bind = rip6_bind,
	.pru_connect = rip6_connect,
	.pru_send = rip6_send,
	.pru_shutdown = rip6_shutdown,
	.pru_disconnect = rip6_disconnect,
	.pru_abort = rip6_detach,
	.pru_sockaddr = rip6_sockaddr,
	.pru_peeraddr = rip6_peeraddr,
};
#endif /* UST_RAW_IP */
