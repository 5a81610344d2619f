/*
 * ustack_opts_minimal.h - the minimal profile (CMake -DUSTACK_PROFILE=minimal,
 * which names this file as USTACK_USER_OPTS_H): lwIP's default protocol
 * set, which its 21,684-byte Cortex-M3 figure is for: IPv4, ARP, ICMP
 * (echo, errors sent), UDP, TCP with newreno, no window scaling,
 * timestamps or SACK, ICMP errors not handed to TCP/UDP, no loopback
 * delivery; also no IP reassembly (lwIP's default has it).  For boards
 * with 64 KiB of SRAM.
 * docs/footprint.md measures it.  Everything here is an ustack_opts.h
 * option; a port copies this file and changes what it needs.
 */
#ifndef USTACK_OPTS_MINIMAL_H
#define USTACK_OPTS_MINIMAL_H

#define UST_TCP_SACK 0
#define UST_TCP_RFC1323 0
#define UST_CC_CUBIC 0
#define UST_TCP_SYNCACHE 0
#define UST_TCP_ECN 0
#define UST_TCP_TFO 0
#define UST_TCP_SIGNATURE 0
#define UST_TCP_TSO 0
#define UST_TCP_TUNNEL 0
#define UST_IP_REASS 0
#define UST_ICMP_CTLINPUT 0
#define UST_IP_LOOPBACK 0
#define UST_RAW_IP 0
#define UST_INET6 0
#define UST_EVQ 0
#define UST_SMP 0
#define UST_TCP_AUTOBUF 0
#define UST_TCP_RACK 0
#define UST_SYSCTL_NAMES 0
#define UST_STRERROR 0
#define UST_STATS 0
#define UST_LOG 0

/* Zones grow a few items at a time; no jumbo clusters (an MTU above
 * 1500 needs chains of clusters).  A board short of RAM may also set
 * UST_MCLBYTES 1536 (a cluster still holds a whole frame; the socket
 * buffer limits and window scale that follow from it change, so the host
 * tests run this profile with 2048). */
#define UST_ZONE_SLAB_ITEMS 4
#define UST_MJUMBYTES 0

#endif /* USTACK_OPTS_MINIMAL_H */
