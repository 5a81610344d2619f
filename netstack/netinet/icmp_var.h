/*
 * icmp_var.h - ICMP entry points (FreeBSD netinet/icmp_var.h).
 *
 *   inetsw[IPPROTO_ICMP].pr_input = icmp_input -> echo reply | pr_ctlinput
 *   ip_input/udp_input/ip_reass -> icmp_error()
 */
#ifndef _USTACK_NETINET_ICMP_VAR_H_
#define _USTACK_NETINET_ICMP_VAR_H_

#include <stdint.h>

struct mbuf;
struct ust_stack;

#define ICMP_ECHOREPLY 0
#define ICMP_UNREACH 3
#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTOCOL 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_SOURCEQUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIMXCEED 11
#define ICMP_TIMXCEED_INTRANS 0
#define ICMP_TIMXCEED_REASS 1
#define ICMP_PARAMPROB 12

void icmp_input(struct mbuf *m, uint32_t off);
/* Sends an ICMP error about n (which starts at its IP header) unless RFC
 * 1122 3.2.2 forbids it (n is an ICMP error, a broadcast or multicast, a
 * non-first fragment, from a non-unicast source) or icmplim is exceeded;
 * mtu is the next-hop MTU of a frag-needed.  Consumes n. */
void icmp_error(struct mbuf *n, int type, int code, uint32_t mtu);
int icmp_init(struct ust_stack *st);
void icmp_fini(struct ust_stack *st);

#endif /* _USTACK_NETINET_ICMP_VAR_H_ */
