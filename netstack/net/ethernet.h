/*
 * ethernet.h - Ethernet II framing (FreeBSD net/ethernet.h) and the entry
 * points of if_ethersubr.c.
 *
 *   if_input() -> ether_input() -> a domain's ether_proto (IPv4, ARP, ...)
 *   a network layer's output -> ether_output_frame() -> if_transmit()
 */
#ifndef _USTACK_NET_ETHERNET_H_
#define _USTACK_NET_ETHERNET_H_

#include <stdint.h>

#include "net/if_var.h"

struct mbuf;

#define ETHER_TYPE_LEN 2
#define ETHER_CRC_LEN 4
#define ETHER_MIN_LEN 64 /* with CRC */
#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_MIN 0x0600 /* below: an IEEE 802.3 length field */

struct ust_stack;

extern const uint8_t etherbroadcastaddr[ETHER_ADDR_LEN];

/* Descriptions of struct ust_etherstat's counters (ust_stats_describe). */
struct ust_stat_desc;
extern const struct ust_stat_desc ether_stats[];
extern const unsigned ether_nstats;

/* A received frame (m starts at the Ethernet header).  Consumes m. */
void ether_input(struct ifnet *ifp, struct mbuf *m);

/* Adds ep to the stack's ethertype table (domains_init, from each
 * domain's dom_ethertypes).  0, UST_EINVAL (no input, or a type below
 * ETHERTYPE_MIN), UST_EEXIST (the type is taken) or UST_ENOSPC (more than
 * ETHER_NPROTO_MAX). */
int ether_proto_register(struct ust_stack *st, const struct ether_proto *ep);
/* Empties the table (domains_fini): unknown types are dropped again. */
void ether_proto_flush(struct ust_stack *st);

/* Builds and queues a frame with the given header around m (which starts
 * at the payload).  Consumes m.  For the network layers' output. */
int ether_output_frame(struct ifnet *ifp, struct mbuf *m, const uint8_t dst[ETHER_ADDR_LEN],
    uint16_t ethertype);

#endif /* _USTACK_NET_ETHERNET_H_ */
