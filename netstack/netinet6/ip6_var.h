/*
 * ip6_var.h - IPv6 entry points and what the layers exchange (FreeBSD
 * netinet6/ip6_var.h): input, output, ICMPv6 errors, checksums, routes
 * and path MTUs, reassembly, the protocol switch and control messages to
 * transports.
 *
 *   ether_input() -> ip6_input() -> [ext headers, frag6_input()]
 *       -> st_ip6_protox[nxt]: inet6sw[i].pr_input(m, off)   (in6_proto.c)
 *   transport -> ip6_output() -> rt6_lookup() -> [fragment] -> nd6_output()
 *   icmp6_input() (errors) -> inet6sw[quoted nxt].pr_ctl6input()
 *
 * Every function here exists only with UST_INET6 (ustack_opts.h).
 */
#ifndef _USTACK_NETINET6_IP6_VAR_H_
#define _USTACK_NETINET6_IP6_VAR_H_

#include <stddef.h>
#include <stdint.h>

#include "net/if_var.h"
#include "netinet6/in6.h"

struct mbuf;
struct ust_stack;
struct socket;
struct sockopt;
struct protosw;
struct pr_usrreqs;
struct ust_zone;

/* What a transport (or ICMPv6, ND, MLD) asks of ip6_output(). */
struct inp_route;
struct ip6_out_args {
	struct in6_addr src; /* ::: in6_selectsrc() picks (RFC 6724) */
	struct in6_addr dst;
	uint32_t zoneid;    /* interface index of a scoped src/dst; 0: none */
	uint32_t flowlabel; /* 20 bits; 0: per-flow hash (auto_flowlabel) or 0 */
	uint8_t nxt;        /* the upper-layer header m starts with */
	uint8_t hlim;       /* 0: net.inet6.ip6.hlim (multicast: 1) */
	uint8_t tclass;     /* traffic class: DSCP << 2 | ECN */
	uint8_t flags;      /* IPV6_* below */
	/* A connected PCB's route cache, or NULL (in6_route_get). */
	struct inp_route *ro;
};
#define IPV6_UNSPECSRC 0x01   /* src :: is meant (DAD's solicitations) */
#define IPV6_MINMTU 0x04      /* fragment to 1280 whatever the path MTU */
#define IPV6_DONTFRAG 0x08    /* never fragment: UST_EMSGSIZE when too big */
#define IPV6_RA 0x10          /* add a hop-by-hop router alert (MLD, RFC 2711) */
#define IPV6_NOFLOWLABEL 0x20 /* leave the flow label 0 */

/* m starts at the upper-layer header, leading space for the IPv6, the
 * Fragment and the link headers (UST_MAX_HDR).  Prepends the header,
 * picks the route and the source, fragments by the path MTU unless
 * IPV6_DONTFRAG, delivers to ourselves, or hands the packet to
 * nd6_output().  Consumes m.  0, or UST_ENETUNREACH / UST_EHOSTUNREACH /
 * UST_EMSGSIZE / UST_ENOBUFS / UST_EADDRNOTAVAIL / UST_EINVAL (a scoped
 * address without a zone) / UST_EOPNOTSUPP (UST_CSUM_TSO: no TSO over
 * IPv6 yet).  A transport that passes src :: and computes its own
 * checksum must pick the source first (in6_selectsrc); or it sets
 * UST_CSUM_TCP/UDP with csum_data the checksum field's offset in its
 * header, and ip6_output computes the whole checksum in software once the
 * source is chosen (IPv6 packets reach drivers without offload flags). */
int ip6_output(struct ust_stack *st, struct mbuf *m, const struct ip6_out_args *args);
/* A packet from the link (m at the IPv6 header).  Consumes m. */
void ip6_input(struct ifnet *ifp, struct mbuf *m);
/* A packet of ours to ourselves (ip6_output, destination ours): ip6_input
 * without the checks that refuse our own addresses from the wire. */
void ip6_input_loop(struct ifnet *ifp, struct mbuf *m);
/* pr_input(m, off) of inet6sw: m at the IPv6 header (contiguous for at
 * least off bytes), off where the upper-layer header starts (after the
 * extension headers); m_pkthdr.rcvif the receiving interface. */

/* ICMPv6 error about the packet m (at its IPv6 header; RFC 4443 2.4):
 * quotes as much as fits 1280 bytes, never about an ICMPv6 error, a
 * multicast destination (except packet too big and an unrecognized
 * option with the 0x80 action), or a source that is not a unicast
 * address; rate limited by net.inet6.icmp6.errppslimit.  m_pkthdr.rcvif
 * is the interface m came in on (without one m is only freed).  Consumes
 * m. */
void icmp6_error(struct mbuf *m, int type, int code, uint32_t param);
/* The 4-byte words of the ICMPv6 message at off of m (icmp6len bytes). */
void icmp6_input(struct mbuf *m, uint32_t off);
int icmp6_init(struct ust_stack *st);
void icmp6_fini(struct ust_stack *st);

/* Checksums (in6_cksum.c).  Partial sum of the IPv6 pseudo header (RFC
 * 8200 8.1), addresses network order, len the upper-layer length. */
uint32_t in6_cksum_pseudo(const struct in6_addr *s, const struct in6_addr *d, uint32_t len,
    uint8_t nxt);
/* Upper-layer checksum of len bytes of m from off with the pseudo header
 * (as in4_cksum): 0 means a received message checks out. */
uint16_t in6_cksum(const struct mbuf *m, uint8_t nxt, uint32_t off, uint32_t len,
    const struct in6_addr *s, const struct in6_addr *d);

/* An ICMPv6 error about one of our packets, as a transport sees it
 * (protosw.pr_ctl6input).  src is us, dst the peer, both from the quote;
 * l4 the first bytes of the quoted upper-layer header. */
struct ip6ctlparam {
	uint8_t type; /* ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG, ... */
	uint8_t code;
	uint32_t mtu; /* of a packet too big (at least 1280), else 0 */
	struct in6_addr src;
	struct in6_addr dst;
	uint32_t zoneid; /* the interface the error came in on */
	uint8_t nxt;
	const uint8_t *l4;
	uint32_t l4len; /* at least 8 by the time it gets here */
};

/* Routes (in6_route.c): a bounded table with longest-prefix match, plus
 * a per-destination path MTU cache (RFC 8201). */
struct nhop6 {
	struct ifnet *nh_ifp;
	struct in6_addr nh_addr; /* next hop: the gateway, or dst when on-link */
	uint32_t nh_mtu;         /* path MTU: cache, route, or the interface's */
	uint32_t nh_flags;       /* UST_RTF_* */
	uint64_t nh_expire;      /* when the route or its path MTU ends; 0: never */
};
#define RT6_MAXROUTES 256 /* routes of a stack (ustack) */
#define RT6_MAXPMTU 256   /* destinations with a learned path MTU (ustack) */
/* The route to dst (zoneid: the interface index a scoped dst belongs
 * to): 0, UST_ENETUNREACH or UST_EINVAL (scoped dst, no zone). */
int rt6_lookup(struct ust_stack *st, const struct in6_addr *dst, uint32_t zoneid, struct nhop6 *nh);
/* Adds a route (gw NULL or ::: on-link), flags UST_RTF_*, expire_ns the
 * stack time it goes (0: never; router and prefix lifetimes).  0,
 * UST_EEXIST, UST_EINVAL, UST_ENOSPC. */
int rt6_add(struct ust_stack *st, const struct in6_addr *dst, unsigned plen,
    const struct in6_addr *gw, struct ifnet *ifp, uint32_t flags, uint64_t expire_ns);
/* Removes dst/plen (ifp NULL: on any interface).  0 or UST_ENOENT. */
int rt6_del(struct ust_stack *st, const struct in6_addr *dst, unsigned plen, struct ifnet *ifp);
/* Drops every route and path MTU through ifp. */
void rt6_ifdetach(struct ifnet *ifp);
int rt6_init(struct ust_stack *st);
void rt6_fini(struct ust_stack *st);
/* A packet too big for dst said mtu (RFC 8201 4-5): the path MTU is
 * lowered (never below 1280, never raised; a smaller value is counted
 * in icp6s_ptbsmall and ignored) and expires after
 * net.inet6.ip6.pmtu_expire. */
void pmtu6_update(struct ust_stack *st, const struct in6_addr *dst, uint32_t mtu);
/* The path MTU learned for dst, or 0. */
uint32_t pmtu6_lookup(struct ust_stack *st, const struct in6_addr *dst);
/* in_route_get (netinet/in_route.h) for IPv6: the route ip6_output takes
 * from src (not ::) to the unicast dst in zone zoneid, from the PCB's
 * cache ro while it is current (st_route_gen, and the stack clock before
 * the route's or path MTU's end), else looked up and cached; NULL (ro
 * empty) for what ip6_output refuses or treats specially.  Counted
 * ip6s_rtcache_hit / ip6s_rtcache_miss; UST_DEBUG checks every hit. */
struct inp_route *in6_route_get(struct ust_stack *st, struct inp_route *ro,
    const struct in6_addr *src, const struct in6_addr *dst, uint32_t zoneid);

/* Reassembly (frag6.c, RFC 8200 4.5, RFC 5722, RFC 6946, RFC 7112).  m at
 * its IPv6 header (contiguous up to the Fragment header's end), *offp the
 * Fragment header's offset, *nxtp the next header that named it (44), and
 * nxtoff the offset of that next header field.  Returns the whole
 * datagram, Fragment header removed (at its IPv6 header, payload length
 * fixed, the field at nxtoff rewritten; *offp the offset where the
 * fragmentable part starts and *nxtp its first next header, for the
 * caller to go on walking), or NULL (held or dropped, counted).
 * Consumes m. */
struct mbuf *frag6_input(struct mbuf *m, uint32_t *offp, uint8_t *nxtp, uint32_t nxtoff);
int frag6_init(struct ust_stack *st);
void frag6_fini(struct ust_stack *st);
unsigned frag6_zones(const struct ust_stack *st, const struct ust_zone **zones, unsigned max);

/* Raw ICMPv6 sockets (raw_ip6.c), in the raw PCB table shared with IPv4
 * (st_ripcbinfo), told apart by inp_vflag.  rip6_input queues a copy of
 * the message (from off, no IPv6 header) to each matching socket; m stays
 * the caller's. */
#if UST_RAW_IP
extern const struct pr_usrreqs rip6_usrreqs;
int rip6_ctloutput(struct socket *so, struct sockopt *sopt);
void rip6_input(struct mbuf *m, uint32_t off);
void rip6_fini(struct ust_stack *st);
#else
static inline void
rip6_input(struct mbuf *m, uint32_t off)
{
	(void)m, (void)off;
}
static inline void
rip6_fini(struct ust_stack *st)
{
	(void)st;
}
#endif

/* The entry of inet6sw that takes next header nxt (st_ip6_protox); NULL:
 * none. */
const struct protosw *ip6_protosw_find(const struct ust_stack *st, uint8_t nxt);
/* conf/domains.h hooks (in6_proto.c). */
int in6_ctloutput(struct socket *so, struct sockopt *sopt);
unsigned in6_zones(const struct ust_stack *st, const struct ust_zone **zones, unsigned max);
int ip6_init(struct ust_stack *st);
void ip6_fini(struct ust_stack *st);
/* The flow label of a flow (RFC 6437): a keyed hash of the addresses,
 * the next header and the ports (the first 4 bytes at l4), never 0. */
uint32_t ip6_flowlabel(struct ust_stack *st, const struct in6_addr *src, const struct in6_addr *dst,
    uint8_t nxt, const uint8_t *l4, size_t l4len);

#endif /* _USTACK_NETINET6_IP6_VAR_H_ */
