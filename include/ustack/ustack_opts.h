/*
 * ustack_opts.h - compile-time options, in the manner of lwIP's opt.h.
 *
 * Only what removes code or fixes a static size lives here; everything that
 * can change at run time is in struct ust_stack_config (ustack.h).  Every
 * option is "#ifndef + default", so a port overrides it with -D on the
 * compiler line (CMake does this for the USTACK_* options) or from a user
 * header named by USTACK_USER_OPTS_H.  0/1 options are tested with #if and
 * the tree is built with -Wundef, so a misspelt option is a build error.
 */
#ifndef USTACK_OPTS_H
#define USTACK_OPTS_H

#ifdef USTACK_USER_OPTS_H
#include USTACK_USER_OPTS_H
#endif

/* 1: internal invariant checks (never on wire input) call the OSAL panic. */
#ifndef UST_DEBUG
#define UST_DEBUG 0
#endif

/* Bytes of leading space kept free in a packet-header mbuf so that the
 * layers below can prepend their headers without a new allocation:
 * Ethernet (14) + VLAN (4) + IPv4 (60) + TCP (60) rounded up. */
#ifndef UST_MAX_LINKHDR
#define UST_MAX_LINKHDR 16
#endif
#ifndef UST_MAX_HDR
#define UST_MAX_HDR 144
#endif

/* Size of one mbuf (FreeBSD MSIZE) and of a standard cluster (MCLBYTES).
 * A cluster holds a full 1514-byte frame: 1536 saves a quarter of every
 * cluster on small boards (the minimal profile); 2048 leaves headroom. */
#ifndef UST_MSIZE
#define UST_MSIZE 256
#endif
#ifndef UST_MCLBYTES
#define UST_MCLBYTES 2048
#endif
/* Jumbo cluster (FreeBSD MJUM9BYTES) for 9000-byte MTUs. 0 removes it. */
#ifndef UST_MJUMBYTES
#define UST_MJUMBYTES 9216
#endif

/* Maximum frames taken from one interface per poll (rx_burst size). */
#ifndef UST_RX_BURST_MAX
#define UST_RX_BURST_MAX 32
#endif

/* Callout wheel geometry: slots per level (power of two) and levels.
 * 256 x 64 x 64 x 64 slots cover 2^26 ticks, about 18.6 hours at 1 ms;
 * a callout further out waits in the top level's farthest slot and is
 * placed again each time that slot comes due. */
#ifndef UST_CALLOUT_L0_BITS
#define UST_CALLOUT_L0_BITS 8
#endif
#ifndef UST_CALLOUT_LN_BITS
#define UST_CALLOUT_LN_BITS 6
#endif
#ifndef UST_CALLOUT_LEVELS
#define UST_CALLOUT_LEVELS 4
#endif

/* Maximum interfaces on one stack. */
#ifndef UST_MAX_IFNET
#define UST_MAX_IFNET 8
#endif

/* Drivers compiled into the library (CMake sets these). */
#ifndef UST_WITH_PIPE
#define UST_WITH_PIPE 1
#endif
#ifndef UST_WITH_PCAP
#define UST_WITH_PCAP 1
#endif

/* ---------------------------------------------------------------------
 * Features that remove code (docs/footprint.md measures each).  1 keeps
 * the feature, 0 compiles it out.  Where a feature is out, the public API
 * still links: its functions return -UST_EOPNOTSUPP (or what the comment
 * says), and the unit tests that need it are skipped by CMake
 * (tests/unit/CMakeLists.txt, "requires:" lines).  Python sees them as
 * ustack.UST_HAS_* constants.
 * ------------------------------------------------------------------- */

/* TCP selective acknowledgments (RFC 2018, D-SACK RFC 2883, loss
 * recovery RFC 6675).  0: SACK-permitted is neither sent nor accepted,
 * recovery is NewReno's (RFC 6582); net.inet.tcp.sack.enable reads 0. */
#ifndef UST_TCP_SACK
#define UST_TCP_SACK 1
#endif

/* TCP window scaling and timestamps (RFC 7323: window scale, PAWS, RTT
 * from TSecr).  0: neither is sent nor accepted (lwIP's default), so the
 * window is at most 65,535 bytes and RTT is timed one segment at a time
 * (RFC 6298 3, Karn); net.inet.tcp.rfc1323 has no effect. */
#ifndef UST_TCP_RFC1323
#define UST_TCP_RFC1323 1
#endif

/* CUBIC congestion control (RFC 9438), the default module as in
 * FreeBSD 14.  0: newreno only (always compiled), the default. */
#ifndef UST_CC_CUBIC
#define UST_CC_CUBIC 1
#endif

/* The "rack" TCP stack (function block): RACK-TLP loss detection (RFC
 * 8985) with tail loss probes, selected by net.inet.tcp.functions_default
 * or TCP_FUNCTION_BLK (netinet/tcp_stacks/, docs/tcp.md).  0: only the
 * default stack "freebsd"; selecting "rack" fails with ENOENT. */
#ifndef UST_TCP_RACK
#define UST_TCP_RACK 1
#endif

/* The SYN cache and SYN cookies (FreeBSD syncache(4)).  0: a listener
 * answers a SYN by creating the connection at once, as lwIP does: a new
 * socket on the listen queue's incomplete side with its tcpcb in
 * SYN_RECEIVED, sending the SYN-ACK through tcp_output and moving to
 * ESTABLISHED (and to accept()) on the ACK (RFC 9293 3.5).  No cookies:
 * a full backlog drops the SYN. */
#ifndef UST_TCP_SYNCACHE
#define UST_TCP_SYNCACHE 1
#endif

/* TCP MD5 signatures (RFC 2385) as FreeBSD's TCP_MD5SIG socket option,
 * with a per-stack table of at most UST_TCP_MD5_MAXKEYS keys (one per
 * source/destination address pair, each at most UST_TCP_MD5_KEYLEN_MAX
 * bytes: FreeBSD's TCP_KEYLEN_MAX) filled by ust_tcp_md5_key_add().
 * 0: TCP_MD5SIG gives ENOPROTOOPT and the key calls -UST_EOPNOTSUPP. */
#ifndef UST_TCP_SIGNATURE
#define UST_TCP_SIGNATURE 1
#endif
#ifndef UST_TCP_MD5_MAXKEYS
#define UST_TCP_MD5_MAXKEYS 64
#endif
#ifndef UST_TCP_MD5_KEYLEN_MAX
#define UST_TCP_MD5_KEYLEN_MAX 80
#endif

/* Explicit congestion notification for TCP (RFC 3168).  0: ECN is never
 * negotiated (net.inet.tcp.ecn.enable has no effect). */
#ifndef UST_TCP_ECN
#define UST_TCP_ECN 1
#endif

/* TCP Fast Open (RFC 7413; netinet/tcp_fastopen.c, docs/tcp.md): the
 * TCP_FASTOPEN socket option, data in the SYN with a cookie from the
 * stack's client cookie cache, and on listeners cookies (SipHash-2-4,
 * per-stack keys) and connections made on the SYN (net.inet.tcp.fastopen.*).
 * 0: TCP_FASTOPEN says ENOPROTOOPT, the option is never sent, a SYN's
 * Fast Open option is ignored.  (UST_TCP_FASTOPEN is the socket option.) */
#ifndef UST_TCP_TFO
#define UST_TCP_TFO 1
#endif

/* TCP over UDP encapsulation as FreeBSD has it (netinet/tcp_udp_tunnel.c,
 * docs/tcp.md): net.inet.tcp.udp_tunneling_port and _overhead, the socket
 * option TCP_REMOTE_UDP_ENCAPS_PORT.  0: no tunnel; UDP to any port is
 * UDP's and the socket option gives ENOPROTOOPT. */
#ifndef UST_TCP_TUNNEL
#define UST_TCP_TUNNEL 1
#endif

/* TCP segmentation offload to drivers that offer UST_IFCAP_TSO4, and
 * ust_mbuf_tso_segment() for software offload.  0: TCP sends MSS-sized
 * segments only; ust_mbuf_tso_segment() returns -UST_EOPNOTSUPP. */
#ifndef UST_TCP_TSO
#define UST_TCP_TSO 1
#endif

/* IPv4 fragment reassembly (RFC 791, RFC 815).  0: fragments received
 * are dropped (ips_fragdropped); sending fragments stays. */
#ifndef UST_IP_REASS
#define UST_IP_REASS 1
#endif

/* ICMP errors sent about datagrams the stack cannot deliver (RFC 1122
 * 3.2.2: port and protocol unreachable, reassembly time exceeded).  0:
 * such datagrams are dropped silently, as behind a firewall. */
#ifndef UST_ICMP_ERRORS
#define UST_ICMP_ERRORS 1
#endif

/* ICMP errors received about our own datagrams handed to the transport
 * they quote (RFC 1122 3.2.2.1, 4.2.3.9; RFC 1191 path MTU discovery; a
 * connected UDP socket's ECONNREFUSED; a SYN_SENT connection refused).
 * 0: they are counted and otherwise ignored, as lwIP does. */
#ifndef UST_ICMP_CTLINPUT
#define UST_ICMP_CTLINPUT 1
#endif

/* Datagrams to the stack's own addresses delivered to itself (ip_output
 * straight to ip_input; TCP segments through a queue drained by a
 * callout).  0: such a datagram is refused (UST_EHOSTUNREACH, counted as
 * ips_noroute), so connecting or sending to one's own address fails; the
 * queue and its 1,024-entry ring go.  lwIP's default has no loopback
 * delivery either (LWIP_NETIF_LOOPBACK 0). */
#ifndef UST_IP_LOOPBACK
#define UST_IP_LOOPBACK 1
#endif

/* Raw IP sockets (UST_SOCK_RAW, protocol ICMP).  0: ust_socket() of
 * UST_SOCK_RAW returns -UST_EPROTONOSUPPORT; the stack still answers
 * echo requests. */
#ifndef UST_RAW_IP
#define UST_RAW_IP 1
#endif

/* IPv6 (RFC 8200; netinet6/, docs/ipv6.md): the inet6 domain (ICMPv6,
 * neighbor discovery, MLD, AF_INET6 sockets for TCP, UDP and raw ICMPv6)
 * and room for IPv6 addresses in every PCB's connection identity (struct
 * in_conninfo, netinet/in_pcb.h: +32 bytes per PCB).  0: no netinet6 code;
 * the public IPv6 calls still link and return -UST_EAFNOSUPPORT, and
 * socket(AF_INET6) says EAFNOSUPPORT.  IPv4 behaves the same either way. */
#ifndef UST_INET6
#define UST_INET6 1
#endif

/* Groups of stacks on threads (ust_group_*, ustack_group.h): one stack per
 * core, flows steered by RSS hash, application calls from any thread.
 * Needs an OSAL with threads (osal/posix).  0: ust_group_create() returns
 * -UST_EOPNOTSUPP; the Toeplitz functions (ust_rss_*) remain. */
#ifndef UST_SMP
#define UST_SMP 1
#endif

/* Event queues (ust_evq_*, kqueue-like).  0: ust_evq_create() returns
 * -UST_EOPNOTSUPP; socket upcalls (ust_socket_set_upcall) remain. */
#ifndef UST_EVQ
#define UST_EVQ 1
#endif

/* Socket buffer auto-sizing for TCP (net.inet.tcp.recvbuf_auto,
 * sendbuf_auto).  0: buffers keep the size they were given. */
#ifndef UST_TCP_AUTOBUF
#define UST_TCP_AUTOBUF 1
#endif

/* The sysctl table's names and descriptions.  0: knobs keep their
 * compiled-in defaults and are read and written by index (the order of
 * ust_sysctl_info, ust_sysctl_get_id / ust_sysctl_set_id); the by-name
 * calls and ust_sysctl_info return -UST_EOPNOTSUPP. */
#ifndef UST_SYSCTL_NAMES
#define UST_SYSCTL_NAMES 1
#endif

/* The sentences of ust_strerror().  0: ust_strerror() returns the
 * error's name ("ECONNRESET", as ust_errname() does). */
#ifndef UST_STRERROR
#define UST_STRERROR 1
#endif

/* Protocol counters (ust_stats_*, netstat -s).  0: nothing is counted,
 * ust_stats_*() give zeros and ust_stats_describe() returns
 * -UST_EOPNOTSUPP. */
#ifndef UST_STATS
#define UST_STATS 1
#endif

/* The stack's own log messages (ST_LOG: today the ARP address-conflict
 * warning), formatted with vsnprintf.  0: they compile to nothing, so a
 * program that does not call ust_log() itself links no printf. */
#ifndef UST_LOG
#define UST_LOG 1
#endif

/* Items carved per slab when a zone grows (osal_zone.c).  Small boards
 * take few at a time, so that a zone's slack is a few items. */
#ifndef UST_ZONE_SLAB_ITEMS
#define UST_ZONE_SLAB_ITEMS 64
#endif

#if UST_MSIZE < 128 || (UST_MSIZE & (UST_MSIZE - 1)) != 0
#error "UST_MSIZE must be a power of two of at least 128: set -DUST_MSIZE=256"
#endif
#if UST_MCLBYTES < 1536 || UST_MCLBYTES % 4 != 0
#error "UST_MCLBYTES must hold a 1514-byte frame (multiple of 4): set -DUST_MCLBYTES=1536 or more"
#endif
#if UST_ZONE_SLAB_ITEMS < 1
#error "UST_ZONE_SLAB_ITEMS must be at least 1: set -DUST_ZONE_SLAB_ITEMS=4"
#endif

#endif /* USTACK_OPTS_H */
