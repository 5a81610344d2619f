/*
 * ip_var.h - IPv4 entry points and what the layers exchange (FreeBSD
 * netinet/ip_var.h): input, output with fragmentation, reassembly,
 * checksums, the protocol switch and ICMP control messages to transports.
 *
 *   ether_input() -> ip_input() -> [ip_reass()] -> inetsw[proto].pr_input()
 *   transport -> ip_output() -> rt_lookup() -> [fragment] -> ether_output()
 *   icmp_input() -> inetsw[quoted proto].pr_ctlinput()
 */
#ifndef _USTACK_NETINET_IP_VAR_H_
#define _USTACK_NETINET_IP_VAR_H_

#include <stdint.h>

#include "net/if_var.h"
#include "netinet/in.h"

struct mbuf;
struct ust_stack;
struct socket;
struct sockopt;

/* What a transport asks of ip_output(). */
struct inp_route;
struct ip_out_args {
	struct in_addr src; /* INADDR_ANY: the route's source */
	struct in_addr dst;
	uint8_t proto;
	uint8_t ttl; /* 0: net.inet.ip.ttl */
	uint8_t tos;
	uint8_t flags; /* IP_* below */
	/* A connected PCB's route cache (FreeBSD ip_output's `ro`), or NULL:
	 * ip_output then skips the route lookup and the address checks
	 * while it is current (in_route_get). */
	struct inp_route *ro;
};
#define IP_DF 0x01             /* set Don't Fragment; EMSGSIZE if too big */
#define IP_ALLOWBROADCAST 0x02 /* SO_BROADCAST: may send to a broadcast */
#define IP_SENDONES 0x04       /* send to 255.255.255.255 on the route's ifp */

/* m starts at the transport header (leading space for the IP and link
 * headers makes it cheap, see UST_MAX_HDR).  Prepends the IP header, picks
 * the route and source, fragments by the interface MTU unless IP_DF, and
 * hands the result to ether_output().  Consumes m.  Returns 0, or
 * UST_ENETUNREACH / UST_EHOSTUNREACH / UST_EMSGSIZE / UST_EACCES (broadcast
 * without IP_ALLOWBROADCAST) / UST_ENOBUFS / UST_EADDRNOTAVAIL. */
int ip_output(struct ust_stack *st, struct mbuf *m, const struct ip_out_args *args);

/* A packet for us (m starts at the IP header).  Consumes m. */
void ip_input(struct ifnet *ifp, struct mbuf *m);

/* Internet checksum over len bytes of m from off, plus an initial 32-bit
 * partial sum; the one's complement of the folded result.  Checksums and
 * partial sums are host-order numbers of the big-endian 16-bit words:
 * write a checksum into a packet with be16enc(). */
uint16_t in_cksum_skip(const struct mbuf *m, uint32_t off, uint32_t len, uint32_t initial);
/* The same over a plain buffer. */
uint16_t in_cksum_buf(const void *buf, uint32_t len, uint32_t initial);
/* Partial sum of the IPv4 pseudo header (addresses network order). */
uint32_t in_pseudo(struct in_addr src, struct in_addr dst, uint8_t proto, uint32_t len);
/* TCP/UDP checksum of len bytes from off with the pseudo header: 0 means
 * a received segment checks out. */
uint16_t in4_cksum(const struct mbuf *m, uint8_t proto, uint32_t off, uint32_t len,
    struct in_addr src, struct in_addr dst);

/* An ICMP error about one of our datagrams, as a transport sees it. */
struct icmp_ctl {
	uint8_t type; /* ICMP_UNREACH, ICMP_TIMXCEED, ... */
	uint8_t code;
	uint32_t mtu;       /* next-hop MTU of a frag-needed, or 0 */
	struct in_addr src; /* quoted datagram's source (us) */
	struct in_addr dst; /* quoted datagram's destination */
	uint8_t proto;
	const uint8_t *l4; /* first bytes of the quoted transport header */
	uint32_t l4len;    /* at least 8, by the time it gets here */
};

/* The entry of inetsw (in_proto.c) that takes input of protocol proto,
 * through the stack's table built from inetsw (st_ip_protox); NULL: none. */
struct protosw;
const struct protosw *ip_protosw_find(const struct ust_stack *st, uint8_t proto);
/* Socket options of the Internet protocols (conf/domains.h
 * DOMAIN_CTLOUTPUT): to the socket's protocol, by pr_protocol. */
int in_ctloutput(struct socket *so, struct sockopt *sopt);
/* conf/domains.h DOMAIN_ZONES and DOMAIN_KNOB_CHANGED (in_proto.c). */
struct ust_zone;
unsigned in_zones(const struct ust_stack *st, const struct ust_zone **zones, unsigned max);
void in_knob_changed(struct ust_stack *st, size_t off);

/* Raw IP sockets (raw_ip.c).  rip_input queues a copy of m (at its IP
 * header, off the header length) to every raw socket of its protocol
 * whose addresses match; m stays the caller's. */
struct pr_usrreqs;
#if UST_RAW_IP
extern const struct pr_usrreqs rip_usrreqs;
int rip_ctloutput(struct socket *so, struct sockopt *sopt);
void rip_input(struct mbuf *m, uint32_t off);
int rip_init(struct ust_stack *st);
void rip_fini(struct ust_stack *st);
#else /* no raw sockets (ustack_opts.h): nothing to copy to */
static inline void
rip_input(struct mbuf *m, uint32_t off)
{
	(void)m, (void)off;
}
static inline int
rip_init(struct ust_stack *st)
{
	(void)st;
	return (0);
}
static inline void
rip_fini(struct ust_stack *st)
{
	(void)st;
}
#endif

/* Reassembly (ip_reass.c).  Takes a fragment (m at the IP header, header
 * already validated); returns the whole datagram when m completed one (m
 * then starts at its IP header with the total length fixed), else NULL
 * (m kept or dropped).  Consumes m. */
struct mbuf *ip_reass(struct ust_stack *st, struct mbuf *m);
int ip_init(struct ust_stack *st);
void ip_fini(struct ust_stack *st);

/* A datagram of ours that ip_output() loops back because its destination
 * is one of our addresses (m at its IP header, ifp the interface holding
 * that address): ip_input() without the checks that refuse our own
 * addresses as a source from the wire.  Consumes m. */
void ip_input_loop(struct ifnet *ifp, struct mbuf *m);
/* Reassembly state (ip_reass.c), set up and torn down by ip_init/ip_fini. */
int ipq_init(struct ust_stack *st);
void ipq_fini(struct ust_stack *st);
/* Bounds the nesting of local loopback (ip_output -> ip_input -> a
 * transport that answers -> ip_output ...): ip_loop_enter() returns 0 and
 * counts one level, or -1 when IP_LOOP_MAXDEPTH levels are in progress. */
#define IP_LOOP_MAXDEPTH 8
int ip_loop_enter(struct ust_stack *st);
void ip_loop_leave(struct ust_stack *st);

/* Checksum and segmentation offload in software (tcp_tso.c; the contract
 * in ustack_driver.h).  l3off is where the IPv4 header starts in m (0, or
 * ETHER_HDR_LEN for a frame).  in_delayed_cksum() fills the checksums
 * m's csum_flags leave to hardware and clears those flags: 0 or an error
 * (malformed packet, no buffers).  tcp_tso_segment() cuts a UST_CSUM_TSO
 * packet into at most maxsegs complete segments linked by m_nextpkt and
 * frees m; NULL with *errorp set leaves m to the caller.
 * tcp_tso_nsegs() is the number of segments it would make. */
int in_delayed_cksum(struct mbuf *m, uint32_t l3off);
/* The same for an IPv6 packet (header at l3off, the transport right
 * after it) and its UST_CSUM_IP6_TCP/UDP flags; a segment with IPv6 headers
 * goes through tcp_tso_segment() too (the version is read). */
int in6_delayed_cksum(struct mbuf *m, uint32_t l3off);
struct mbuf *tcp_tso_segment(struct mbuf *m, uint32_t l3off, uint32_t maxsegs, int *errorp);
uint32_t tcp_tso_nsegs(const struct mbuf *m, uint32_t l3off);

#endif /* _USTACK_NETINET_IP_VAR_H_ */
