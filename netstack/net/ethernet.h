/*
 * ethernet.h - Ethernet II framing (FreeBSD net/ethernet.h) and the entry
 * points of if_ethersubr.c.
 *
 *   if_input() -> ether_input() -> ip_input() | arp_input()
 *   ip_output() -> ether_output() -> arpresolve() -> if_transmit()
 */
#ifndef _USTACK_NET_ETHERNET_H_
#define _USTACK_NET_ETHERNET_H_

#include <stdint.h>

#include "net/if_var.h"
#include "netinet/in.h"

struct mbuf;

#define ETHER_TYPE_LEN 2
#define ETHER_CRC_LEN 4
#define ETHER_MIN_LEN 64 /* with CRC */
#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_IPV6 0x86dd

/* Descriptions of struct ust_etherstat's counters (ust_stats_describe). */
struct ust_stat_desc;
extern const struct ust_stat_desc ether_stats[];
extern const unsigned ether_nstats;

/* A received frame (m starts at the Ethernet header).  Consumes m. */
void ether_input(struct ifnet *ifp, struct mbuf *m);

/* Flags of ether_output(). */
#define ETHER_OUT_BCAST 0x1 /* send to ff:ff:ff:ff:ff:ff, no ARP */

/* Sends an IPv4 packet (m starts at the IP header) to the next hop on ifp:
 * resolves its hardware address with ARP (the packet waits in the entry's
 * hold queue while a request is out), prepends the Ethernet header and
 * queues the frame with if_transmit().  Consumes m.  Returns 0 (sent or
 * held) or UST_EHOSTUNREACH / UST_EHOSTDOWN / UST_ENOBUFS. */
int ether_output(struct ifnet *ifp, struct mbuf *m, struct in_addr nexthop, int flags);

/* Builds and queues a frame with the given header around m (which starts
 * at the payload).  Consumes m.  For ARP and ether_output. */
int ether_output_frame(struct ifnet *ifp, struct mbuf *m, const uint8_t dst[ETHER_ADDR_LEN],
    uint16_t ethertype);

#endif /* _USTACK_NET_ETHERNET_H_ */
