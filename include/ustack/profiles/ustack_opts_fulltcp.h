/*
 * ustack_opts_fulltcp.h - the profile USTACK_PROFILE=fulltcp: FreeBSD-class
 * TCP (SACK with RFC 6675 recovery, window scaling and timestamps, cubic
 * and newreno, the syncache with SYN cookies, ECN), IPv4 with reassembly,
 * ARP, ICMP and UDP, without what a device rarely needs at run time: the
 * sysctl name table (knobs by index), the counters, the errno sentences,
 * raw sockets, event queues, TSO and buffer auto-sizing, and the extras of
 * issue 20 (TCP Fast Open, MD5 signatures, TCP over UDP, the rack stack;
 * PRR and black-hole detection stay).  It is the
 * configuration docs/footprint.md holds against the 40 KB goal.
 */
#ifndef USTACK_OPTS_FULLTCP_H
#define USTACK_OPTS_FULLTCP_H

#define UST_RAW_IP 0
/* IPv4 only: the 40 KB goal is a TCP/IPv4 figure. */
#define UST_INET6 0
#define UST_EVQ 0
#define UST_SMP 0
#define UST_TCP_TSO 0
#define UST_TCP_AUTOBUF 0
#define UST_SYSCTL_NAMES 0
#define UST_STRERROR 0
#define UST_STATS 0
#define UST_LOG 0
#define UST_ZONE_SLAB_ITEMS 8
#define UST_MJUMBYTES 0
#define UST_TCP_TFO 0
#define UST_TCP_SIGNATURE 0
#define UST_TCP_TUNNEL 0
#define UST_TCP_RACK 0

#endif /* USTACK_OPTS_FULLTCP_H */
