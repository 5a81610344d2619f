/*
 * in6_pcb.h - IPv6 PCBs (FreeBSD netinet6/in6_pcb.h): binding,
 * connecting and lookups of AF_INET6 sockets in the PCB tables shared
 * with IPv4 (netinet/in_pcb.h: struct inpcb holds both families, told
 * apart by inp_vflag), and the IPv6 entries of the transports.  The bodies
 * are in6_pcb.c, udp6_usrreq.c and the isipv6 branches of tcp_*.c.
 */
#ifndef _USTACK_NETINET6_IN6_PCB_H_
#define _USTACK_NETINET6_IN6_PCB_H_

#include <stdint.h>

#include "netinet/in_pcb.h"
#include "netinet6/in6.h"

struct ifnet;
struct mbuf;
struct socket;
struct sockopt;
struct ust_stack;
struct pr_usrreqs;
struct ip6ctlparam;

#define IN6P_IPV6_V6ONLY 0x8000 /* inp_flags: IPV6_V6ONLY */
/* inp_flags: IPV6_USE_MIN_MTU 1 (TCP sizes segments for IPV6_MMTU) and 0;
 * neither: -1, the default. */
#define IN6P_USE_MIN_MTU 0x10000
#define IN6P_NO_MIN_MTU 0x20000

/* Binds to nam (NULL: ::, an ephemeral port); a link-local address needs
 * its scope id.  EINVAL, EADDRNOTAVAIL, EADDRINUSE. */
int in6_pcbbind(struct inpcb *inp, const struct sockaddr_in6 *nam);
/* Connects to nam, choosing the source (in6_pcbladdr) and an ephemeral
 * port when unbound. */
int in6_pcbconnect(struct inpcb *inp, const struct sockaddr_in6 *nam);
/* The source address a packet to nam leaves with (in6_selectsrc). */
int in6_pcbladdr(struct inpcb *inp, const struct sockaddr_in6 *nam, struct in6_addr *src);
void in6_pcbdisconnect(struct inpcb *inp);
/* The PCB of a packet from faddr:fport to laddr:lport arriving on
 * rcvif (lookupflags INPLOOKUP_WILDCARD: a bound listener too; a v6only=0
 * [::] PCB matches v4-mapped too).  NULL. */
struct inpcb *in6_pcblookup(struct inpcbinfo *info, const struct in6_addr *faddr, uint16_t fport,
    const struct in6_addr *laddr, uint16_t lport, int lookupflags, struct ifnet *rcvif);
/* getsockname / getpeername of an AF_INET6 socket: a sockaddr_in6 (a v4
 * peer as ::ffff:a.b.c.d, the in6_mapped_* ones). */
int in6_getsockaddr(struct socket *so, struct sockaddr *nam);
int in6_getpeeraddr(struct socket *so, struct sockaddr *nam);
int in6_mapped_sockaddr(struct socket *so, struct sockaddr *nam);
int in6_mapped_peeraddr(struct socket *so, struct sockaddr *nam);
/* Sets up the PCB of a new AF_INET6 socket: INP_IPV6 (and INP_IPV4 when
 * net.inet6.ip6.v6only is 0), the default hop limit. */
void in6_pcbinit(struct inpcb *inp);
/* ::ffff:a.b.c.d of a4; the IPv4 sockaddr of a v4-mapped sockaddr_in6. */
void in6_v4mapped(struct in_addr a4, struct in6_addr *a6);
void in6_sin6_to_sin(const struct sockaddr_in6 *sin6, struct sockaddr_in *sin);
/* IPPROTO_IPV6 options of a PCB (IPV6_V6ONLY, UNICAST_HOPS, TCLASS). */
int in6_pcbctloutput(struct socket *so, struct sockopt *sopt);

/* The IPv6 sides of the transports (inet6sw in in6_proto.c). */
extern const struct pr_usrreqs tcp6_usrreqs;
extern const struct pr_usrreqs udp6_usrreqs;
void tcp6_input(struct mbuf *m, uint32_t off);
void tcp6_ctlinput(struct ust_stack *st, const struct ip6ctlparam *ctl);
int tcp6_ctloutput(struct socket *so, struct sockopt *sopt);
void udp6_input(struct mbuf *m, uint32_t off);
void udp6_ctlinput(struct ust_stack *st, const struct ip6ctlparam *ctl);
int udp6_ctloutput(struct socket *so, struct sockopt *sopt);

#endif /* _USTACK_NETINET6_IN6_PCB_H_ */
