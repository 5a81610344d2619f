/*
 * tcp_udp_tunnel.h - TCP over UDP encapsulation (tcp_udp_tunnel.c), as
 * FreeBSD has it: a connection whose tcpcb has t_port set sends every
 * segment as the payload of a UDP datagram from the stack's tunneling
 * port (net.inet.tcp.udp_tunneling_port) to t_port, and takes only
 * segments that came that way, from that port.  docs/tcp.md, "TCP over
 * UDP encapsulation".
 */
#ifndef _USTACK_NETINET_TCP_UDP_TUNNEL_H_
#define _USTACK_NETINET_TCP_UDP_TUNNEL_H_

#include <stdint.h>

#include "kern/stack_var.h"
#include "netinet/tcp_var.h"
#include "ustack/ustack_opts.h"

struct mbuf;
struct udphdr;
struct ip_out_args;
struct icmp_ctl;
struct inp_route;
struct ip6ctlparam;

/* tcp_input.c: tcp_input and tcp6_input for a segment at off that came in
 * a UDP datagram from port (network order; 0: it came as plain TCP). */
void tcp_input_with_port(struct mbuf *m, uint32_t off, uint16_t port);
void tcp6_input_with_port(struct mbuf *m, uint32_t off, uint16_t port);
/* tcp_subr.c: tcp_ctlinput and tcp6_ctlinput for an ICMP error quoting a
 * segment sent to the UDP port port (0: sent as plain TCP). */
void tcp_ctlinput_with_port(struct ust_stack *st, const struct icmp_ctl *ctl, uint16_t port);
void tcp6_ctlinput_with_port(struct ust_stack *st, const struct ip6ctlparam *ctl, uint16_t port);

/* The bytes encapsulation takes from each segment of a connection to
 * UDP port port (network order): net.inet.tcp.udp_tunneling_overhead, 0
 * for plain TCP.  What tcp_mss, tcp_mssopt's callers and tcp_mtudisc
 * take off the MSS (FreeBSD's tcp_mss_update and tcp_mssopt). */
static inline uint32_t
tcp_tunnel_overhead(const struct ust_stack *st, uint16_t port)
{
#if UST_TCP_TUNNEL
	return (port != 0 ? (uint32_t)V(st, tcp_udp_tunneling_overhead) : 0);
#else
	(void)st;
	(void)port;
	return (0);
#endif
}

/* mss less the overhead, never below what is left of a minimal segment. */
static inline uint32_t
tcp_tunnel_mss(const struct ust_stack *st, uint16_t port, uint32_t mss)
{
	uint32_t o = tcp_tunnel_overhead(st, port);

	return (mss > o + TCP_MSS_MIN ? mss - o : (mss < TCP_MSS_MIN ? mss : TCP_MSS_MIN));
}

#if UST_TCP_TUNNEL
/* 1 when a unicast UDP datagram to dport (network order) is the
 * tunnel's: the tunneling port is set and it is dport. */
static inline int
tcp_udp_tunnel_port(const struct ust_stack *st, uint16_t dport)
{
	uint32_t p = (uint32_t)V(st, tcp_udp_tunneling_port);

	return (p != 0 && dport == htons((uint16_t)p));
}

/* udp_input / udp6_input: the datagram m (IP header first, its UDP
 * header uh at off, length and checksum checked, m trimmed to it) is for
 * the tunnel.  Its payload goes to tcp_input_with_port, or is counted
 * (tcps_tunneled_errs) and dropped when it cannot be a TCP segment.
 * Consumes m. */
void tcp_udp_tunnel_input(struct mbuf *m, uint32_t off, const struct udphdr *uh, int isipv6);

/* udp_ctlinput / udp6_ctlinput: an ICMP error quoting a datagram from
 * the tunneling port; the quoted segment behind its UDP header goes to
 * TCP with the quoted destination port. */
void tcp_udp_tunnel_ctlinput(struct ust_stack *st, const struct icmp_ctl *ctl);
void tcp_udp_tunnel_ctlinput6(struct ust_stack *st, const struct ip6ctlparam *ctl);

/* Sends the TCP segment m (TCP header first, as for tcp_ip_output or
 * tcp6_output_seg) in a UDP datagram to port (network order): the TCP
 * checksum zero, the UDP checksum over the segment (what FreeBSD does).
 * Consumes m; returns what ip_output does. */
int tcp_udp_tunnel_output(struct ust_stack *st, struct mbuf *m, const struct ip_out_args *args,
    uint16_t port);
int tcp_udp_tunnel_output6(struct ust_stack *st, struct mbuf *m, const struct in_conninfo *inc,
    uint8_t hlim, uint8_t tclass, struct inp_route *ro, uint16_t port);

/* TCP_REMOTE_UDP_ENCAPS_PORT: tp's remote port (host order), or the
 * error setting it to val gives (FreeBSD: a closed socket only, a port
 * 0..65535, non-zero only while the tunneling port is set). */
int tcp_udp_tunnel_setsockopt(struct tcpcb *tp, int val);
int tcp_udp_tunnel_getsockopt(const struct tcpcb *tp);
#endif /* UST_TCP_TUNNEL */

#endif /* _USTACK_NETINET_TCP_UDP_TUNNEL_H_ */
