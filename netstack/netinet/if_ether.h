/*
 * if_ether.h - ARP for IPv4 over Ethernet (RFC 826; FreeBSD
 * netinet/if_ether.h): the cache with timeouts, bounded hold queues,
 * requests, replies, gratuitous announcements and static entries.
 */
#ifndef _USTACK_NETINET_IF_ETHER_H_
#define _USTACK_NETINET_IF_ETHER_H_

#include <stdint.h>

#include "net/if_var.h"
#include "netinet/in.h"

struct mbuf;
struct ust_stack;

/* An ARP packet (m starts at the ARP header) that came in a frame from
 * the Ethernet source esrc.  Consumes m. */
void arp_input(struct ifnet *ifp, struct mbuf *m, const uint8_t esrc[ETHER_ADDR_LEN]);
/* Finds the hardware address of dst on ifp.  Returns 0 with mac filled;
 * UST_EWOULDBLOCK when m was queued on the entry (a request is out; m is
 * sent when the reply comes); or an error (UST_EHOSTDOWN after maxtries
 * within arp wait, UST_ENOBUFS) with m freed.  m may be NULL (probe
 * only). */
int arpresolve(struct ifnet *ifp, struct mbuf *m, struct in_addr dst, uint8_t mac[ETHER_ADDR_LEN]);
/* Flags of ether_output(). */
#define ETHER_OUT_BCAST 0x1   /* send to ff:ff:ff:ff:ff:ff, no ARP */
#define ETHER_OUT_UNICAST 0x2 /* the next hop is known to be no broadcast */

/* Sends an IPv4 packet (m starts at the IP header) to the next hop on ifp
 * (FreeBSD's ether_output for AF_INET): resolves its hardware address
 * with ARP (the packet waits in the entry's hold queue while a request is
 * out), prepends the Ethernet header and queues the frame with
 * if_transmit().  Consumes m.  Returns 0 (sent or held) or
 * UST_EHOSTUNREACH / UST_EHOSTDOWN / UST_ENOBUFS. */
int ether_output(struct ifnet *ifp, struct mbuf *m, struct in_addr nexthop, int flags);
/* Sends garp_rexmit_count gratuitous ARP announcements of addr (RFC 5227). */
void arp_announce(struct ifnet *ifp, struct in_addr addr);
/* Drops entries of ifp (detach). */
void arp_ifdetach(struct ifnet *ifp);
int arp_init(struct ust_stack *st);
void arp_fini(struct ust_stack *st);

#endif /* _USTACK_NETINET_IF_ETHER_H_ */
