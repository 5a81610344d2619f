/*
 * in_pcb.h - Internet protocol control blocks (FreeBSD netinet/in_pcb.h):
 * the local and foreign address and port of a socket, and the per-protocol
 * tables that find the PCB of an arriving packet.  Shared by UDP and TCP:
 * nothing here knows either.
 *
 * struct inpcbinfo (one per protocol per stack) keeps three hash tables,
 * sized at init (powers of two) and keyed with a per-stack random secret
 * so that a remote sender cannot aim collisions at one bucket:
 *   - ipi_hash:     connected PCBs (foreign address set) by 4-tuple;
 *   - ipi_wildhash: bound, unconnected PCBs by local port (what a packet
 *                   falls back on when no connection matches);
 *   - ipi_porthash: every PCB with a local port, by port (bind conflicts,
 *                   ephemeral port choice, broadcast delivery).
 * Addresses and ports are kept in network byte order, as on the wire.
 */
#ifndef _USTACK_NETINET_IN_PCB_H_
#define _USTACK_NETINET_IN_PCB_H_

#include <stdint.h>

#include <ustack/ustack_opts.h>

#include "netinet/in.h"

struct socket;
struct sockopt;
struct ust_stack;
struct ust_zone;
struct inpcbinfo;

/* Links of one hash chain. */
struct inpcb_link {
	struct inpcb *next;
	struct inpcb **prevp;
};

/*
 * The connection identity, in FreeBSD's dual-family layout: one address
 * slot wide enough for an IPv6 address, with an IPv4 address in its last
 * four bytes (so that a v4-mapped ::ffff:a.b.c.d and the plain a.b.c.d
 * share their low word).  inc_flags & INC_ISIPV6 tells which half counts.
 * Without UST_INET6 the slot shrinks to the IPv4 address alone, so a
 * v4-only build keeps its PCB size (ustack_opts.h).
 */
struct in_addr_4in6 {
#if UST_INET6
	uint32_t ia46_pad32[3]; /* zero, or 0:0:0xffff for v4-mapped */
#endif
	struct in_addr ia46_addr4;
};

union in_dependaddr {
	struct in_addr_4in6 id46_addr;
#if UST_INET6
	struct in6_addr id6_addr;
#endif
};

struct in_endpoints {
	uint16_t ie_fport; /* foreign port */
	uint16_t ie_lport; /* local port */
	union in_dependaddr ie_dependfaddr;
	union in_dependaddr ie_dependladdr;
#if UST_INET6
	uint32_t ie6_zoneid; /* scope zone (interface index) of link-local */
#endif
};
#define ie_faddr ie_dependfaddr.id46_addr.ia46_addr4
#define ie_laddr ie_dependladdr.id46_addr.ia46_addr4
#if UST_INET6
#define ie6_faddr ie_dependfaddr.id6_addr
#define ie6_laddr ie_dependladdr.id6_addr
#endif

struct in_conninfo {
	uint8_t inc_flags; /* INC_* */
	struct in_endpoints inc_ie;
};
#define INC_ISIPV6 0x01 /* inc_ie holds IPv6 addresses */

#define inc_isipv6(inc) (((inc)->inc_flags & INC_ISIPV6) != 0)
#define inc_fport inc_ie.ie_fport
#define inc_lport inc_ie.ie_lport
#define inc_faddr inc_ie.ie_faddr
#define inc_laddr inc_ie.ie_laddr
#if UST_INET6
#define inc6_faddr inc_ie.ie6_faddr
#define inc6_laddr inc_ie.ie6_laddr
#define inc6_zoneid inc_ie.ie6_zoneid
#endif

/*
 * A PCB's cached route (FreeBSD's inp_route: a struct route with its
 * next hop and the routing generation it was looked up at): what
 * ip_output / ip6_output would find for the PCB's (source, destination),
 * so that a connected socket looks its route up once, not per packet.
 * Valid while ro_gen equals st->st_route_gen (kern/stack_var.h), which
 * every route, address, interface and MTU change bumps, and (IPv6) while
 * the stack clock is before ro_expire.  Only answers that ip_output would
 * send by are cached: a lookup that fails, a broadcast or multicast
 * destination and an unspecified source never are, so errors are found
 * and counted by the plain path as without a cache.  Filled and read by
 * in_route_get / in6_route_get (in_route.h, ip6_var.h).
 */
struct ifnet;
struct inp_route {
	uint32_t ro_gen;      /* st_route_gen when filled; 0: empty */
	uint32_t ro_flags;    /* RO_* */
	struct ifnet *ro_ifp; /* where it leaves (RO_LOCAL: the address's) */
	uint32_t ro_mtu;      /* the route's MTU (IPv6: path MTU included) */
#if UST_INET6
	uint32_t ro_zoneid; /* the zone asked for (key) */
	uint64_t ro_expire; /* stack time the route or path MTU ends; 0: never */
#endif
	union in_dependaddr ro_dst;     /* key: the destination */
	union in_dependaddr ro_src;     /* key: the source (never unspecified) */
	union in_dependaddr ro_nexthop; /* the gateway, or ro_dst on-link */
};
#define RO_VALID 0x01 /* holds a route */
#define RO_LOCAL 0x02 /* the destination is ours: loopback delivery */
#define RO_TSO 0x04   /* the interface takes TSO with checksum offload */
#define RO_INET6 0x08 /* an IPv6 route (the v6 fields of the unions) */

struct inpcb {
	struct inpcb_link inp_hash;     /* ipi_hash or ipi_wildhash */
	struct inpcb_link inp_portlist; /* ipi_porthash */
	struct inpcb_link inp_list;     /* every PCB of the table */
	struct inpcbinfo *inp_pcbinfo;
	struct socket *inp_socket;
	struct ust_stack *inp_stack;
	void *inp_ppcb;             /* the transport's own block (tcpcb) */
	struct in_conninfo inp_inc; /* addresses and ports */
	uint32_t inp_flags;         /* INP_* */
	uint8_t inp_vflag;          /* INP_IPV4 / INP_IPV6 / INP_IPV6PROTO */
	uint8_t inp_ip_ttl;         /* IP_TTL */
	uint8_t inp_ip_tos;         /* IP_TOS */
	uint8_t inp_ip_p;           /* raw sockets: their protocol */
	/* st_route_gen when tcp_input last found the connection's addresses
	 * not to be broadcasts (0: never checked): the check is skipped
	 * while nothing changed. */
	uint32_t inp_bcast_gen;
	struct inp_route inp_route; /* TCP's cached route (zeroed by in_pcballoc) */
#if UST_INET6
	uint32_t in6p_flowlabel; /* TCP's flow label, worked out once (0: not yet) */
#endif
};
/* The names IPv4 code has always used (FreeBSD's). */
#define inp_faddr inp_inc.inc_ie.ie_faddr /* foreign address */
#define inp_laddr inp_inc.inc_ie.ie_laddr /* local address */
#define inp_fport inp_inc.inc_ie.ie_fport /* foreign port */
#define inp_lport inp_inc.inc_ie.ie_lport /* local port */
#if UST_INET6
#define in6p_faddr inp_inc.inc_ie.ie6_faddr
#define in6p_laddr inp_inc.inc_ie.ie6_laddr
#define in6p_zoneid inp_inc.inc_ie.ie6_zoneid
#endif

/* inp_flags */
#define INP_INHASH 0x01   /* on ipi_hash (connected) */
#define INP_INWILD 0x02   /* on ipi_wildhash */
#define INP_INPORT 0x04   /* on ipi_porthash */
#define INP_ANONPORT 0x08 /* port chosen by us */

/* inp_vflag: the families a PCB speaks.  Every PCB today is INP_IPV4
 * (in_pcballoc); IPv4 lookups skip PCBs without it, which is how an
 * IPV6_V6ONLY socket will stay out of IPv4's way.  INP_IPV6PROTO marks a
 * PCB created through the IPv6 protocol switch (an AF_INET6 socket), even
 * while it speaks v4-mapped IPv4. */
#define INP_IPV4 0x01
#define INP_IPV6 0x02
#define INP_IPV6PROTO 0x04

#define sotoinpcb(so) ((struct inpcb *)(so)->so_pcb)

/* Sets the families of inp, keeping inp_inc's INC_ISIPV6 (which tells
 * tcp_hdrlen and the output paths the address layout) in step: set for
 * every PCB with INP_IPV6. */
static inline void
inp_setvflag(struct inpcb *inp, unsigned vflag)
{
	inp->inp_vflag = (uint8_t)vflag;
	if (vflag & INP_IPV6)
		inp->inp_inc.inc_flags |= INC_ISIPV6;
	else
		inp->inp_inc.inc_flags &= (uint8_t)~INC_ISIPV6;
}

struct inpcbinfo {
	struct ust_stack *ipi_stack;
	const char *ipi_name;
	struct ust_zone *ipi_zone; /* struct inpcb, hard max */
	struct inpcb **ipi_hash;
	struct inpcb **ipi_wildhash;
	struct inpcb **ipi_porthash;
	uint32_t ipi_hashmask;  /* size - 1 of each table */
	uint64_t ipi_key[2];    /* hash secret, from st_rng */
	struct inpcb *ipi_list; /* every PCB */
	uint32_t ipi_count;
	uint16_t ipi_lastport; /* sequential ephemeral ports, host order */
};

/* Sets up a table of hashsize buckets (rounded up to a power of two) for
 * at most maxpcb PCBs.  Returns 0 or UST_ENOMEM (partial state freed). */
int in_pcbinfo_init(struct inpcbinfo *info, struct ust_stack *st, const char *name,
    uint32_t hashsize, uint32_t maxpcb);
/* Frees the tables; PCBs still there are freed too (their sockets keep a
 * stale so_pcb: close the sockets first). */
void in_pcbinfo_destroy(struct inpcbinfo *info);

/* Attaches a new PCB to so (so->so_pcb).  UST_ENOBUFS when the zone is
 * exhausted. */
int in_pcballoc(struct socket *so, struct inpcbinfo *info);
/* Unhashes and frees; clears so->so_pcb. */
void in_pcbfree(struct inpcb *inp);

/* Binds to nam (NULL: any address, an ephemeral port).  Port 0 picks an
 * ephemeral port (RFC 6056); a specific address must be ours.  EINVAL if
 * already bound, EADDRNOTAVAIL, EADDRINUSE. */
int in_pcbbind(struct inpcb *inp, const struct sockaddr_in *nam);
/* Connects to faddr:fport, choosing the source address by route and an
 * ephemeral port when unbound.  EADDRNOTAVAIL (port 0 / any address),
 * ENETUNREACH / EHOSTUNREACH (no route), EADDRINUSE (4-tuple taken). */
int in_pcbconnect(struct inpcb *inp, struct in_addr faddr, uint16_t fport);
/* The source address a packet to faddr leaves with: the route's, or the
 * stack's first address for the limited broadcast without a route. */
int in_pcbladdr(struct inpcb *inp, struct in_addr faddr, struct in_addr *src);
/* Forgets the foreign address (and the local one when keep_laddr is 0). */
void in_pcbdisconnect(struct inpcb *inp, int keep_laddr);

/* The PCB for a packet from faddr:fport to laddr:lport: the exact 4-tuple
 * first, then, with wildcard, the best bound PCB on lport (a specific
 * local address beats INADDR_ANY).  O(1) on average.  PCBs without
 * INP_IPV4 in inp_vflag (IPv6-only) are never found. */
#define INPLOOKUP_WILDCARD 1
struct inpcb *in_pcblookup(struct inpcbinfo *info, struct in_addr faddr, uint16_t fport,
    struct in_addr laddr, uint16_t lport, int wildcard);
/* Load-balancing groups (SO_REUSEPORT_LB): whether a PCB found by a
 * wildcard lookup belongs to one, and the member of lead's group that a
 * flow with the given hash goes to (lead when none takes packets). */
#define INP_LBGROUP(inp) \
	((inp)->inp_socket != NULL && ((inp)->inp_socket->so_options & UST_SO_REUSEPORT_LB) != 0)
struct inpcb *in_pcblbpick(struct inpcbinfo *info, struct inpcb *lead, uint32_t hash);
/* Calls fn for every PCB whose local port is lport (any state) until fn
 * returns nonzero.  fn must not free PCBs. */
typedef int in_pcb_iter_t(struct inpcb *inp, void *arg);
void in_pcbforeach_port(struct inpcbinfo *info, uint16_t lport, in_pcb_iter_t *fn, void *arg);

/* For in6_pcb.c, which shares the tables: the port bucket of lport; the
 * connected bucket of an IPv6 4-tuple (SipHash over all 32 address
 * bytes); putting inp on the chains its addresses and port say; an
 * ephemeral port; whether binding inp (laddr for IPv4 PCBs, in6p_laddr
 * for IPv6 ones) to lport clashes (any: whoever holds the port). */
uint32_t in_pcbhashport(const struct inpcbinfo *info, uint16_t lport);
void in_pcbrehash(struct inpcb *inp);
void in_pcbinsport(struct inpcb *inp);
int in_pcb_lport(struct inpcb *inp, uint16_t *lportp);
/* An ephemeral port for a connect to faddr:fport from laddr: in a group
 * of stacks (rss_active) one whose replies hash back to this stack
 * (rss_owns_v4/v6), counted lport_tries; alone, in_pcb_lport's. */
int in_pcb_lport4(struct inpcb *inp, struct in_addr faddr, uint16_t fport, struct in_addr laddr,
    uint16_t *lportp);
int in_pcbport_inuse(struct inpcbinfo *info, const struct inpcb *inp, uint32_t opts,
    struct in_addr laddr, uint16_t lport, int any);
#if UST_INET6
uint32_t in6_pcbhash(const struct inpcbinfo *info, const struct in6_addr *faddr, uint16_t fport,
    const struct in6_addr *laddr, uint16_t lport);
int in6_pcbconflict(const struct inpcb *inp, uint32_t opts, const struct inpcb *t);
uint32_t in6_pcblbhash(const struct inpcbinfo *info, const struct in6_addr *faddr, uint16_t fport,
    const struct in6_addr *laddr, uint16_t lport);
int in_pcb_lport6(struct inpcb *inp, const struct in6_addr *faddr, uint16_t fport,
    const struct in6_addr *laddr, uint16_t *lportp);
#endif

/* getsockname / getpeername: a struct sockaddr_in into nam (the socket
 * layer's struct sockaddr_storage). */
int in_getsockaddr(struct socket *so, struct sockaddr *nam);
int in_getpeeraddr(struct socket *so, struct sockaddr *nam);
/* IPPROTO_IP options of a PCB (IP_TTL, IP_TOS). */
int in_pcbctloutput_ip(struct socket *so, struct sockopt *sopt);

#endif /* _USTACK_NETINET_IN_PCB_H_ */
