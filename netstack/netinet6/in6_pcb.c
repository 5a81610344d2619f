/*
 * in6_pcb.c - IPv6 PCBs (FreeBSD netinet6/in6_pcb.c): bind, connect,
 * source choice and lookup of AF_INET6 sockets, in the tables that
 * in_pcb.c keeps for both families (one port hash, one ephemeral port
 * chooser, one connected hash whose IPv6 buckets are SipHash of all 32
 * address bytes with the table's secret).
 *
 *   pru_bind -> in6_pcbbind -> [in_pcb_lport]        (v4-mapped: in_pcbbind)
 *   pru_connect -> in6_pcbconnect -> in6_pcbladdr -> rt6_lookup, in6_selectsrc
 *   tcp6_input / udp6_input -> in6_pcblookup (4-tuple, then wildcard)
 *
 * inp_vflag says which family a PCB speaks: INP_IPV6 with its addresses
 * in in6p_laddr/in6p_faddr; a [::] PCB without IPV6_V6ONLY also has
 * INP_IPV4 (IPv4 lookups find it as a wildcard, v4-mapped); a PCB of an
 * AF_INET6 socket bound or connected to a v4-mapped address is INP_IPV4
 * only (INP_IPV6PROTO remembers the socket family).  A link-local
 * address is only usable with its zone (the interface index, sin6_scope_id;
 * EINVAL without one: net.inet6.ip6.use_defaultzone is 0), kept in
 * in6p_zoneid.
 */
#include <string.h>

#include "kern/kassert.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet6/in6_pcb.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6_var.h"

static uint32_t
inp6_options(const struct inpcb *inp)
{
	return (inp->inp_socket != NULL ? inp->inp_socket->so_options : 0);
}

/* The zone of a (scoped) address given with scope id sid: EINVAL when a
 * scoped address has none or an unknown one; 0 for a global address. */
static int
in6_pcbzone(struct ust_stack *st, const struct in6_addr *a, uint32_t sid, uint32_t *zonep)
{
	*zonep = 0;
	if (!in6_is_scoped(a))
		return (0);
	if (sid == 0 || ifnet_byindex(st, sid) == NULL)
		return (UST_EINVAL);
	*zonep = sid;
	return (0);
}

void
in6_sin6_to_sin(const struct sockaddr_in6 *sin6, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_len = (uint8_t)sizeof(*sin);
	sin->sin_family = UST_AF_INET;
	sin->sin_port = sin6->sin6_port;
	memcpy(&sin->sin_addr, &sin6->sin6_addr.s6_addr8[12], 4);
}

int
in6_pcbbind(struct inpcb *inp, const struct sockaddr_in6 *nam)
{
	struct ust_stack *st = inp->inp_stack;
	struct in6_addr laddr = in6addr_any;
	struct in6_ifaddr *ia;
	uint32_t zone = 0;
	uint16_t lport = 0;
	int error;

	if (inp->inp_lport != 0 || !IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_laddr))
		return (UST_EINVAL);
	if (nam != NULL) {
		laddr = nam->sin6_addr;
		lport = nam->sin6_port;
		if (IN6_IS_ADDR_V4MAPPED(&laddr)) {
			struct sockaddr_in sin;

			/* FreeBSD: an IPv6-only socket takes no IPv4 address. */
			if (inp->inp_flags & IN6P_IPV6_V6ONLY)
				return (UST_EINVAL);
			in6_sin6_to_sin(nam, &sin);
			inp_setvflag(inp, (inp->inp_vflag & ~INP_IPV6) | INP_IPV4);
			memset(&inp->in6p_laddr, 0, sizeof(inp->in6p_laddr));
			error = in_pcbbind(inp, &sin);
			if (error != 0)
				inp_setvflag(inp, inp->inp_vflag | INP_IPV6);
			return (error);
		}
		if ((error = in6_pcbzone(st, &laddr, nam->sin6_scope_id, &zone)) != 0)
			return (error);
		if (!IN6_IS_ADDR_UNSPECIFIED(&laddr) && !IN6_IS_ADDR_MULTICAST(&laddr)) {
			/* Only our own, usable addresses (FreeBSD). */
			ia = in6ifa_find(st, &laddr, zone != 0 ? ifnet_byindex(st, zone) : NULL);
			if (ia == NULL ||
			    (ia->ia6_flags &
			        (IN6_IFF_ANYCAST | IN6_IFF_NOTREADY | IN6_IFF_DETACHED)))
				return (UST_EADDRNOTAVAIL);
		}
	}
	inp->in6p_laddr = laddr;
	inp->in6p_zoneid = zone;
	if (lport == 0) {
		error = in_pcb_lport(inp, &lport);
		if (error != 0)
			goto fail;
		inp->inp_flags |= INP_ANONPORT;
	} else if (in_pcbport_inuse(inp->inp_pcbinfo, inp, inp6_options(inp), inp->inp_laddr, lport,
	               0)) {
		error = UST_EADDRINUSE;
		goto fail;
	}
	/* A specific IPv6 address speaks IPv6 only. */
	if (!IN6_IS_ADDR_UNSPECIFIED(&laddr))
		inp_setvflag(inp, inp->inp_vflag & ~INP_IPV4);
	inp->inp_lport = lport;
	in_pcbinsport(inp);
	in_pcbrehash(inp);
	return (0);
fail:
	memset(&inp->in6p_laddr, 0, sizeof(inp->in6p_laddr));
	inp->in6p_zoneid = 0;
	return (error);
}

int
in6_pcbladdr(struct inpcb *inp, const struct sockaddr_in6 *nam, struct in6_addr *src)
{
	struct ust_stack *st = inp->inp_stack;
	struct nhop6 nh;
	uint32_t zone;
	int error;

	if ((error = in6_pcbzone(st, &nam->sin6_addr, nam->sin6_scope_id, &zone)) != 0)
		return (error);
	if ((error = rt6_lookup(st, &nam->sin6_addr, zone, &nh)) != 0)
		return (error);
	return (in6_selectsrc(st, &nam->sin6_addr, zone, nh.nh_ifp, src));
}

int
in6_pcbconnect(struct inpcb *inp, const struct sockaddr_in6 *nam)
{
	struct ust_stack *st = inp->inp_stack;
	struct in6_addr laddr = inp->in6p_laddr;
	uint16_t lport = inp->inp_lport;
	uint32_t zone;
	int error;

	if (nam->sin6_port == 0 || IN6_IS_ADDR_UNSPECIFIED(&nam->sin6_addr))
		return (UST_EADDRNOTAVAIL);
	if (!IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_faddr))
		return (UST_EISCONN);
	if ((error = in6_pcbzone(st, &nam->sin6_addr, nam->sin6_scope_id, &zone)) != 0)
		return (error);
	/* A socket bound to a link-local address talks within its zone. */
	if (inp->in6p_zoneid != 0 && zone != 0 && inp->in6p_zoneid != zone)
		return (UST_EADDRNOTAVAIL);
	if (IN6_IS_ADDR_UNSPECIFIED(&laddr)) {
		error = in6_pcbladdr(inp, nam, &laddr);
		if (error != 0)
			return (error);
	}
	if (zone == 0 && in6_is_scoped(&laddr))
		zone = inp->in6p_zoneid;
	if (lport != 0 &&
	    in6_pcblookup(inp->inp_pcbinfo, &nam->sin6_addr, nam->sin6_port, &laddr, lport, 0,
	        NULL) != NULL)
		return (UST_EADDRINUSE);
	if (lport == 0) {
		/* Implicit bind. */
		inp->in6p_laddr = laddr;
		error = in_pcb_lport6(inp, &nam->sin6_addr, nam->sin6_port, &laddr, &lport);
		if (error != 0) {
			memset(&inp->in6p_laddr, 0, sizeof(inp->in6p_laddr));
			return (error);
		}
		inp->inp_lport = lport;
		inp->inp_flags |= INP_ANONPORT;
		in_pcbinsport(inp);
	}
	inp->in6p_laddr = laddr;
	inp->in6p_faddr = nam->sin6_addr;
	inp->inp_fport = nam->sin6_port;
	if (zone != 0)
		inp->in6p_zoneid = zone;
	/* Connected to an IPv6 peer: no IPv4 any more. */
	inp_setvflag(inp, (inp->inp_vflag & ~INP_IPV4) | INP_IPV6);
	in_pcbrehash(inp);
	return (0);
}

void
in6_pcbdisconnect(struct inpcb *inp)
{
	memset(&inp->in6p_faddr, 0, sizeof(inp->in6p_faddr));
	inp->inp_fport = 0;
	in_pcbrehash(inp);
}

struct inpcb *
in6_pcblookup(struct inpcbinfo *info, const struct in6_addr *faddr, uint16_t fport,
    const struct in6_addr *laddr, uint16_t lport, int lookupflags, struct ifnet *rcvif)
{
	struct inpcb *inp, *any = NULL;
	uint32_t zone = rcvif != NULL ? rcvif->if_index : 0;

	for (inp = info->ipi_hash[in6_pcbhash(info, faddr, fport, laddr, lport)]; inp != NULL;
	     inp = inp->inp_hash.next) {
		if ((inp->inp_vflag & INP_IPV6) == 0)
			continue;
		if (inp->inp_fport == fport && inp->inp_lport == lport &&
		    in6_are_addr_equal(&inp->in6p_faddr, faddr) &&
		    in6_are_addr_equal(&inp->in6p_laddr, laddr) &&
		    (zone == 0 || inp->in6p_zoneid == 0 || inp->in6p_zoneid == zone))
			return (inp);
	}
	if (!(lookupflags & INPLOOKUP_WILDCARD))
		return (NULL);
	for (inp = info->ipi_wildhash[in_pcbhashport(info, lport)]; inp != NULL;
	     inp = inp->inp_hash.next) {
		if (inp->inp_lport != lport || (inp->inp_vflag & INP_IPV6) == 0)
			continue;
		if (zone != 0 && inp->in6p_zoneid != 0 && inp->in6p_zoneid != zone)
			continue;
		if (in6_are_addr_equal(&inp->in6p_laddr, laddr)) {
			any = inp; /* a specific address wins */
			break;
		}
		if (IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_laddr) && any == NULL)
			any = inp;
	}
	/* SO_REUSEPORT_LB: one member of the group, by the flow's hash. */
	if (any != NULL && INP_LBGROUP(any))
		any = in_pcblbpick(info, any, in6_pcblbhash(info, faddr, fport, laddr, lport));
	return (any);
}

/* ---------------------------------------------------------------------
 * Names and options.
 * ------------------------------------------------------------------- */

static void
in6_sockaddr(struct sockaddr *nam, const struct in6_addr *a, uint16_t port, uint32_t zone)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)nam;

	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_len = (uint8_t)sizeof(*sin6);
	sin6->sin6_family = UST_AF_INET6;
	sin6->sin6_port = port;
	sin6->sin6_addr = *a;
	sin6->sin6_scope_id = in6_is_scoped(a) ? zone : 0;
}

/* ::ffff:a.b.c.d */
void
in6_v4mapped(struct in_addr a4, struct in6_addr *a6)
{
	memset(a6, 0, sizeof(*a6));
	a6->s6_addr8[10] = 0xff;
	a6->s6_addr8[11] = 0xff;
	memcpy(&a6->s6_addr8[12], &a4.s_addr, 4);
}

int
in6_getsockaddr(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL)
		return (UST_EINVAL);
	in6_sockaddr(nam, &inp->in6p_laddr, inp->inp_lport, inp->in6p_zoneid);
	return (0);
}

int
in6_getpeeraddr(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL || IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_faddr))
		return (UST_ENOTCONN);
	in6_sockaddr(nam, &inp->in6p_faddr, inp->inp_fport, inp->in6p_zoneid);
	return (0);
}

int
in6_mapped_sockaddr(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	struct in6_addr a;

	if (inp == NULL)
		return (UST_EINVAL);
	if (inp->inp_vflag & INP_IPV6)
		return (in6_getsockaddr(so, nam));
	in6_v4mapped(inp->inp_laddr, &a);
	if (inp->inp_laddr.s_addr == INADDR_ANY)
		a = in6addr_any;
	in6_sockaddr(nam, &a, inp->inp_lport, 0);
	return (0);
}

int
in6_mapped_peeraddr(struct socket *so, struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	struct in6_addr a;

	if (inp == NULL)
		return (UST_ENOTCONN);
	if (inp->inp_vflag & INP_IPV6)
		return (in6_getpeeraddr(so, nam));
	if (inp->inp_faddr.s_addr == INADDR_ANY)
		return (UST_ENOTCONN);
	in6_v4mapped(inp->inp_faddr, &a);
	in6_sockaddr(nam, &a, inp->inp_fport, 0);
	return (0);
}

/* A new PCB of an AF_INET6 socket (pru_attach of tcp6/udp6): IPv6, and
 * IPv4 too (v4-mapped) unless net.inet6.ip6.v6only; the default hop
 * limit in inp_ip_ttl and traffic class 0 in inp_ip_tos (the two fields
 * mean hlim/tclass while INP_IPV6 is set). */
void
in6_pcbinit(struct inpcb *inp)
{
	struct ust_stack *st = inp->inp_stack;

	if (V(st, ip6_v6only)) {
		inp->inp_flags |= IN6P_IPV6_V6ONLY;
		inp_setvflag(inp, INP_IPV6 | INP_IPV6PROTO);
	} else
		inp_setvflag(inp, INP_IPV4 | INP_IPV6 | INP_IPV6PROTO);
	inp->inp_ip_ttl = (uint8_t)V(st, ip6_hlim);
	inp->inp_ip_tos = 0;
}

/* IPPROTO_IPV6 options (RFC 3493 5.3, RFC 3542 6.5, 6.6). */
int
in6_pcbctloutput(struct socket *so, struct sockopt *sopt)
{
	struct inpcb *inp = sotoinpcb(so);
	int v;

	if (inp == NULL)
		return (UST_EINVAL);
	if (sopt->sopt_level != UST_IPPROTO_IPV6)
		return (UST_ENOPROTOOPT);
	switch (sopt->sopt_name) {
	case UST_IPV6_V6ONLY:
	case UST_IPV6_UNICAST_HOPS:
	case UST_IPV6_TCLASS:
	case UST_IPV6_USE_MIN_MTU:
		break;
	default:
		return (UST_ENOPROTOOPT);
	}
	if (sopt->sopt_valsize < sizeof(int))
		return (UST_EINVAL);
	if (sopt->sopt_dir == SOPT_GET) {
		switch (sopt->sopt_name) {
		case UST_IPV6_V6ONLY:
			v = (inp->inp_flags & IN6P_IPV6_V6ONLY) != 0;
			break;
		case UST_IPV6_UNICAST_HOPS:
			v = inp->inp_ip_ttl;
			break;
		case UST_IPV6_USE_MIN_MTU:
			v = (inp->inp_flags & IN6P_USE_MIN_MTU) ? 1 :
			    (inp->inp_flags & IN6P_NO_MIN_MTU)  ? 0 :
			                                          -1;
			break;
		default:
			v = inp->inp_ip_tos;
			break;
		}
		memcpy(sopt->sopt_val, &v, sizeof(v));
		sopt->sopt_valsize = sizeof(v);
		return (0);
	}
	memcpy(&v, sopt->sopt_val, sizeof(v));
	switch (sopt->sopt_name) {
	case UST_IPV6_V6ONLY:
		/* FreeBSD: only before the socket is bound. */
		if (inp->inp_lport != 0 || !IN6_IS_ADDR_UNSPECIFIED(&inp->in6p_laddr))
			return (UST_EINVAL);
		if (v) {
			inp->inp_flags |= IN6P_IPV6_V6ONLY;
			inp_setvflag(inp, inp->inp_vflag & ~INP_IPV4);
		} else {
			inp->inp_flags &= ~(uint32_t)IN6P_IPV6_V6ONLY;
			inp_setvflag(inp, inp->inp_vflag | INP_IPV4);
		}
		return (0);
	case UST_IPV6_UNICAST_HOPS:
		/* -1: net.inet6.ip6.hlim. */
		if (v == -1)
			v = (int)V(inp->inp_stack, ip6_hlim);
		if (v < 0 || v > 255)
			return (UST_EINVAL);
		inp->inp_ip_ttl = (uint8_t)v;
		return (0);
	case UST_IPV6_USE_MIN_MTU:
		/* RFC 3542 11.1: -1 multicast only (we send no multicast
		 * TCP), 0 never, 1 always; TCP's MSS follows (tcp_mss). */
		if (v < -1 || v > 1)
			return (UST_EINVAL);
		inp->inp_flags &= ~(uint32_t)(IN6P_USE_MIN_MTU | IN6P_NO_MIN_MTU);
		if (v >= 0)
			inp->inp_flags |= v ? IN6P_USE_MIN_MTU : IN6P_NO_MIN_MTU;
		return (0);
	default:
		/* -1: the default, 0. */
		if (v == -1)
			v = 0;
		if (v < 0 || v > 255)
			return (UST_EINVAL);
		inp->inp_ip_tos = (uint8_t)v;
		return (0);
	}
}
