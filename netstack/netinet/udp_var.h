/*
 * udp_var.h - UDP entry points (FreeBSD netinet/udp_var.h).
 *
 *   inetsw[IPPROTO_UDP].pr_input = udp_input -> in_pcblookup -> sbappendaddr
 *   ust_sendto -> sosend -> udp_send -> ip_output
 */
#ifndef _USTACK_NETINET_UDP_VAR_H_
#define _USTACK_NETINET_UDP_VAR_H_

#include <stdint.h>

#include "netinet/ip_var.h"

struct mbuf;
struct ust_stack;
struct socket;
struct sockopt;
struct pr_usrreqs;

void udp_input(struct mbuf *m, uint32_t off);
void udp_ctlinput(struct ust_stack *st, const struct icmp_ctl *ctl);
int udp_init(struct ust_stack *st);
void udp_fini(struct ust_stack *st);

/* The socket side of UDP (the protocol switch entry in uipc_socket.c). */
extern const struct pr_usrreqs udp_usrreqs;
int udp_ctloutput(struct socket *so, struct sockopt *sopt);

/* Hash buckets of the UDP PCB tables. */
#define UDBHASHSIZE 512

#endif /* _USTACK_NETINET_UDP_VAR_H_ */
