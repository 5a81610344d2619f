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
/* Sends garp_rexmit_count gratuitous ARP announcements of addr (RFC 5227). */
void arp_announce(struct ifnet *ifp, struct in_addr addr);
/* Drops entries of ifp (detach). */
void arp_ifdetach(struct ifnet *ifp);
int arp_init(struct ust_stack *st);
void arp_fini(struct ust_stack *st);

#endif /* _USTACK_NETINET_IF_ETHER_H_ */
