/*
 * tcp_lro.h - software receive coalescing (FreeBSD's tcp_lro, written
 * from its documented behaviour): in-order TCP segments of one flow that
 * arrive in the same receive burst reach tcp_input as one segment.
 *
 *   if_poll_rx (a burst of 2+ frames) -> ... -> ip_input / ip6_input
 *       -> tcp_lro_rx(): held or merged, or handed back to the caller
 *   if_poll_rx, after the burst -> ifp->if_lro_flush = tcp_lro_flush_all
 *       -> tcp_input / tcp6_input, one call per held flow
 */
#ifndef _USTACK_NETINET_TCP_LRO_H_
#define _USTACK_NETINET_TCP_LRO_H_

#include <stdint.h>

struct ifnet;
struct mbuf;

/*
 * A TCP segment for us that IP validated, inside an rx burst of ifp (m at
 * the IP header, unicast, no IPv4 options or fragments, no IPv6
 * extension headers: off is 20 or 40).  Returns 0 when it took m (held
 * for merging, merged into a held segment of its flow, or delivered),
 * nonzero when the caller hands m to TCP itself (it cannot merge; a held
 * segment of its flow has been delivered first, so order holds).
 */
int tcp_lro_rx(struct ifnet *ifp, struct mbuf *m, uint32_t off);
/* Delivers everything ifp holds (the end of a burst). */
void tcp_lro_flush_all(struct ifnet *ifp);

#endif /* _USTACK_NETINET_TCP_LRO_H_ */
