/*
 * in_knobs.h - the run-time knobs of netinet (ARP, IPv4, ICMP, raw IP,
 * UDP, TCP), once, in the shape of kern/sysctl_knobs.h: FreeBSD's sysctl
 * name, the field in struct ust_knobs (V(st, field)), the default
 * (FreeBSD's where FreeBSD has the knob, see FREEBSD_DEFAULTS.md), the
 * accepted range, flags and a description.  in_proto.c registers the
 * table with inetdomain; conf/domains.h adds the fields to struct
 * ust_knobs.
 *
 * KNOB(name, field, default, min, max, flags, description)
 * The knobs of a feature compiled out (ustack_opts.h) leave the table but
 * keep their field (sysctl.h defines KNOB_ALL_FIELDS), which stays 0: the
 * code left reads them as "off".
 * Times are in milliseconds unless the name says otherwise.
 */

/* Link layer: ARP (net.link.ether.inet). */
KNOB("net.link.ether.inet.max_age", arp_max_age, 1200, 1, 86400, 0,
    "Seconds a resolved ARP entry stays valid")
KNOB("net.link.ether.inet.maxtries", arp_maxtries, 5, 1, 100, 0,
    "ARP requests sent before a resolution is given up")
KNOB("net.link.ether.inet.maxhold", arp_maxhold, 16, 1, 1024, 0,
    "Packets held per entry while its address is resolved")
KNOB("net.link.ether.inet.wait", arp_wait, 20, 1, 3600, 0,
    "Seconds an unresolved entry rejects traffic after maxtries")
KNOB("net.link.ether.inet.max_entries", arp_max_entries, 1024, 1, 1048576, 0,
    "Most ARP entries the cache holds (ustack)")
KNOB("net.link.ether.inet.garp_rexmit_count", arp_garp_count, 1, 0, 16, 0,
    "Gratuitous ARP announcements sent when an address is added")

/* IPv4 (net.inet.ip). */
KNOB("net.inet.ip.ttl", ip_ttl, 64, 1, 255, 0, "Default TTL of outgoing datagrams")
#if UST_IP_REASS || defined(KNOB_ALL_FIELDS) /* reassembly */
KNOB("net.inet.ip.maxfragpackets", ip_maxfragpackets, 1024, 0, 65536, 0,
    "Datagrams under reassembly at once")
KNOB("net.inet.ip.maxfragsperpacket", ip_maxfragsperpacket, 64, 1, 8192, 0,
    "Fragments one datagram may have")
KNOB("net.inet.ip.maxfragbytes", ip_maxfragbytes, 4194304, 0, 1073741824, 0,
    "Bytes all reassembly queues may hold (ustack)")
KNOB("net.inet.ip.fragttl", ip_fragttl, 30000, 1, 600000, 0,
    "Milliseconds a datagram may take to reassemble")
#endif
KNOB("net.inet.ip.portrange.first", ip_portrange_first, 10000, 1, 65535, 0, "First ephemeral port")
KNOB("net.inet.ip.portrange.last", ip_portrange_last, 65535, 1, 65535, 0, "Last ephemeral port")
KNOB("net.inet.ip.portrange.randomized", ip_portrange_randomized, 1, 0, 1, 0,
    "Choose ephemeral ports at random (RFC 6056)")

/* ICMP (net.inet.icmp). */
KNOB("net.inet.icmp.icmplim", icmp_lim, 200, 0, 1000000, 0,
    "ICMP errors and echo replies sent per second (0: no limit)")
KNOB("net.inet.icmp.bmcastecho", icmp_bmcastecho, 0, 0, 1, 0,
    "Answer echo requests sent to broadcast or multicast")

/* Raw IP sockets (net.inet.raw). */
#if UST_RAW_IP || defined(KNOB_ALL_FIELDS) /* raw sockets */
KNOB("net.inet.raw.maxdgram", rip_maxdgram, 9216, 512, 65507, 0,
    "Largest message a raw socket sends (its send buffer)")
KNOB("net.inet.raw.recvspace", rip_recvspace, 9216, 1024, 2097152, 0,
    "Receive buffer of a raw socket; copies beyond it are dropped")
#endif

/* UDP (net.inet.udp). */
KNOB("net.inet.udp.checksum", udp_checksum, 1, 0, 1, 0, "Compute checksums of outgoing datagrams")
KNOB("net.inet.udp.recvspace", udp_recvspace, 42080, 1024, 2097152, 0,
    "Default receive buffer of a UDP socket")
KNOB("net.inet.udp.maxdgram", udp_maxdgram, 9216, 512, 65507, 0,
    "Default send buffer (largest datagram) of a UDP socket")
KNOB("net.inet.udp.blackhole", udp_blackhole, 0, 0, 1, 0,
    "Do not answer datagrams to closed ports with ICMP")

/* TCP (net.inet.tcp), FreeBSD's defaults (FREEBSD_DEFAULTS.md). */
#if UST_TCP_RFC1323 || defined(KNOB_ALL_FIELDS) /* RFC 7323 */
KNOB("net.inet.tcp.rfc1323", tcp_do_rfc1323, 1, 0, 3, 0,
    "RFC 7323: 1 window scaling and timestamps, 2 window scaling only, 3 timestamps only")
#endif
KNOB("net.inet.tcp.mssdflt", tcp_mssdflt, 536, 88, 65495, 0, "MSS used when the peer sends none")
KNOB("net.inet.tcp.v6mssdflt", tcp_v6mssdflt, 1220, 88, 65475, 0,
    "MSS used over IPv6 when the peer sends none")
KNOB("net.inet.tcp.minmss", tcp_minmss, 216, 88, 65495, 0,
    "Smallest MSS accepted from a peer or from path MTU discovery")
KNOB("net.inet.tcp.sendspace", tcp_sendspace, 32768, 1024, 1073741824, 0,
    "Default send buffer of a TCP socket")
KNOB("net.inet.tcp.recvspace", tcp_recvspace, 65536, 1024, 1073741824, 0,
    "Default receive buffer of a TCP socket")
#if UST_TCP_AUTOBUF || defined(KNOB_ALL_FIELDS) /* auto-sizing */
KNOB("net.inet.tcp.sendbuf_auto", tcp_sendbuf_auto, 1, 0, 1, 0,
    "Grow the send buffer of new TCP sockets while the application keeps it full (SO_SNDBUF turns "
    "it off)")
KNOB("net.inet.tcp.recvbuf_auto", tcp_recvbuf_auto, 1, 0, 1, 0,
    "Grow the receive buffer of new TCP sockets when the peer fills it in a round trip (SO_RCVBUF "
    "turns it off)")
KNOB("net.inet.tcp.sendbuf_max", tcp_sendbuf_max, 2097152, 1024, 1073741824, 0,
    "Largest send buffer auto-sizing grows to")
KNOB("net.inet.tcp.recvbuf_max", tcp_recvbuf_max, 2097152, 1024, 1073741824, 0,
    "Largest receive buffer auto-sizing grows to")
KNOB("net.inet.tcp.sendbuf_inc", tcp_sendbuf_inc, 8192, 1, 1073741824, 0,
    "Smallest step of send buffer auto-sizing")
#endif
KNOB("net.inet.tcp.keepidle", tcp_keepidle, 7200000, 1, 2147483647, 0,
    "Milliseconds of idle time before keepalive probes")
KNOB("net.inet.tcp.keepintvl", tcp_keepintvl, 75000, 1, 2147483647, 0,
    "Milliseconds between keepalive probes")
KNOB("net.inet.tcp.keepinit", tcp_keepinit, 75000, 1, 2147483647, 0,
    "Milliseconds a connection may take to establish")
KNOB("net.inet.tcp.keepcnt", tcp_keepcnt, 8, 1, 1000, 0,
    "Unanswered keepalive probes before the connection is dropped")
KNOB("net.inet.tcp.always_keepalive", tcp_always_keepalive, 1, 0, 1, 0,
    "Send keepalive probes on every connection, not only those with SO_KEEPALIVE")
KNOB("net.inet.tcp.delayed_ack", tcp_delack_enabled, 1, 0, 1, 0, "Delay ACKs (RFC 1122 4.2.3.2)")
KNOB("net.inet.tcp.delacktime", tcp_delacktime, 40, 1, 500, 0, "Milliseconds an ACK may be delayed")
KNOB("net.inet.tcp.msl", tcp_msl, 30000, 1, 600000, 0,
    "Maximum segment lifetime in milliseconds (TIME_WAIT lasts 2*MSL)")
KNOB("net.inet.tcp.finwait2_timeout", tcp_finwait2_timeout, 60000, 1, 2147483647, 0,
    "Milliseconds an orphaned connection may stay in FIN_WAIT_2")
KNOB("net.inet.tcp.nolocaltimewait", tcp_nolocaltimewait, 1, 0, 1, 0,
    "No TIME_WAIT for connections between two local addresses")
KNOB("net.inet.tcp.rexmit_initial", tcp_rexmit_initial, 1000, 1, 600000, 0,
    "Initial retransmission timeout in milliseconds (RFC 6298 2.1)")
KNOB("net.inet.tcp.rexmit_min", tcp_rexmit_min, 30, 1, 600000, 0,
    "Smallest retransmission timeout in milliseconds")
KNOB("net.inet.tcp.rexmit_slop", tcp_rexmit_slop, 200, 0, 600000, 0,
    "Milliseconds added to the computed retransmission timeout")
KNOB("net.inet.tcp.rexmit_max", tcp_rexmit_max, 64000, 1, 3600000, 0,
    "Largest retransmission timeout in milliseconds (ustack)")
KNOB("net.inet.tcp.retries", tcp_retries, 12, 1, 64, 0,
    "Retransmissions of a segment before the connection is dropped")
KNOB("net.inet.tcp.persmin", tcp_persmin, 5000, 1, 600000, 0,
    "Smallest persist (zero-window probe) interval in milliseconds")
KNOB("net.inet.tcp.persmax", tcp_persmax, 60000, 1, 3600000, 0,
    "Largest persist interval in milliseconds")
KNOB("net.inet.tcp.rexmit_drop_options", tcp_rexmit_drop_options, 0, 0, 1, 0,
    "Drop options from the third SYN retransmission on")
#if UST_TCP_TUNNEL || defined(KNOB_ALL_FIELDS) /* TCP over UDP (tcp_udp_tunnel.c) */
KNOB("net.inet.tcp.udp_tunneling_port", tcp_udp_tunneling_port, 0, 0, 65535, 0,
    "UDP port of TCP over UDP encapsulation (0: off)")
KNOB("net.inet.tcp.udp_tunneling_overhead", tcp_udp_tunneling_overhead, 8, 8, 1024, 0,
    "Bytes TCP over UDP takes off the MSS")
#endif
#if UST_TCP_SYNCACHE || defined(KNOB_ALL_FIELDS) /* syncache */
KNOB("net.inet.tcp.syncookies", tcp_syncookies, 1, 0, 1, 0,
    "Answer with SYN cookies when the syncache is full")
KNOB("net.inet.tcp.syncookies_only", tcp_syncookiesonly, 0, 0, 1, 0,
    "Use SYN cookies only, never the syncache")
KNOB("net.inet.tcp.syncache.rexmtlimit", tcp_syncache_rexmtlimit, 3, 0, 16, 0,
    "SYN-ACK retransmissions from the syncache")
KNOB("net.inet.tcp.syncache.cachelimit", tcp_syncache_cachelimit, 15360, 1, 1048576,
    UST_SYSCTL_RDONLY, "Entries the syncache holds")
KNOB("net.inet.tcp.syncache.bucketlimit", tcp_syncache_bucketlimit, 30, 1, 1024, UST_SYSCTL_RDONLY,
    "Entries per syncache hash bucket")
KNOB("net.inet.tcp.syncache.rst_on_sock_fail", tcp_syncache_rst_on_sock_fail, 1, 0, 1, 0,
    "Send a RST when a socket cannot be created for a completed handshake")
#endif
#if UST_TCP_TFO || defined(KNOB_ALL_FIELDS) /* TCP Fast Open (RFC 7413, tcp_fastopen.c) */
KNOB("net.inet.tcp.fastopen.acceptany", tcp_fastopen_acceptany, 0, 0, 1, 0,
    "Accept any Fast Open cookie of a valid length (testing)")
KNOB("net.inet.tcp.fastopen.autokey", tcp_fastopen_autokey, 120, 0, 3600, 0,
    "Seconds between new automatic server keys (0: none)")
KNOB("net.inet.tcp.fastopen.ccache_bucket_limit", tcp_fastopen_ccache_bucket_limit, 16, 0, 1024, 0,
    "Client cookie cache entries per bucket (0: no cache, no client TFO)")
KNOB("net.inet.tcp.fastopen.ccache_buckets", tcp_fastopen_ccache_buckets, 2048, 1, 1048576,
    UST_SYSCTL_RDONLY, "Client cookie cache buckets (a power of two)")
KNOB("net.inet.tcp.fastopen.client_enable", tcp_fastopen_client_enable, 1, 0, 1, 0,
    "Client Fast Open (0 -> 1 empties the cookie cache)")
KNOB("net.inet.tcp.fastopen.keylen", tcp_fastopen_keylen, 16, 16, 16, UST_SYSCTL_RDONLY,
    "Bytes of a server key and a PSK")
KNOB("net.inet.tcp.fastopen.maxkeys", tcp_fastopen_maxkeys, 2, 2, 2, UST_SYSCTL_RDONLY,
    "Server keys kept (the newest makes cookies, all check them)")
KNOB("net.inet.tcp.fastopen.maxpsks", tcp_fastopen_maxpsks, 2, 2, 2, UST_SYSCTL_RDONLY,
    "Pre-shared keys kept")
KNOB("net.inet.tcp.fastopen.numkeys", tcp_fastopen_numkeys, 0, 0, 2, UST_SYSCTL_RDONLY,
    "Server keys in use")
KNOB("net.inet.tcp.fastopen.numpsks", tcp_fastopen_numpsks, 0, 0, 2, UST_SYSCTL_RDONLY,
    "Pre-shared keys in use")
KNOB("net.inet.tcp.fastopen.path_disable_time", tcp_fastopen_path_disable_time, 900, 0, 86400, 0,
    "Seconds a server that failed Fast Open gets plain SYNs")
KNOB("net.inet.tcp.fastopen.psk_enable", tcp_fastopen_psk_enable, 0, 0, 1, 0,
    "Server cookies must be mangled with a pre-shared key (PSK mode)")
KNOB("net.inet.tcp.fastopen.server_enable", tcp_fastopen_server_enable, 0, 0, 1, 0,
    "Server Fast Open on listeners with TCP_FASTOPEN")
#endif
#if UST_TCP_SACK || defined(KNOB_ALL_FIELDS) /* SACK */
KNOB("net.inet.tcp.sack.enable", tcp_do_sack, 1, 0, 1, 0, "Selective acknowledgements (RFC 2018)")
KNOB("net.inet.tcp.sack.revised", tcp_sack_revised, 1, 0, 1, 0, "RFC 6675 loss recovery")
KNOB("net.inet.tcp.sack.maxholes", tcp_sack_maxholes, 128, 1, 65536, 0,
    "SACK scoreboard holes per connection")
KNOB("net.inet.tcp.sack.globalmaxholes", tcp_sack_globalmaxholes, 65536, 1, 16777216, 0,
    "SACK scoreboard holes per stack")
#endif
#if UST_TCP_RACK || defined(KNOB_ALL_FIELDS) /* the rack stack (tcp_stacks/rack.c) */
KNOB("net.inet.tcp.rack.tlp.enable", tcp_rack_tlp, 1, 0, 1, 0,
    "rack: send tail loss probes (RFC 8985 7)")
KNOB("net.inet.tcp.rack.tlp.tlpminto", tcp_rack_tlpmin, 10000, 0, 1000000, 0,
    "rack: smallest probe timeout, microseconds")
KNOB("net.inet.tcp.rack.timers.delayed_ack", tcp_rack_delack, 40000, 0, 1000000, 0,
    "rack: worst-case delayed ACK added to a lone segment's probe timeout, microseconds")
KNOB("net.inet.tcp.rack.reo_wnd_mult", tcp_rack_reo_mult, 1, 0, 16, 0,
    "rack: reordering window in quarters of min_RTT before D-SACK widening (RFC 8985 6.2)")
KNOB("net.inet.tcp.rack.map_limit", tcp_rack_map_limit, 8192, 8, 1048576, 0,
    "rack: send-map entries per connection")
KNOB("net.inet.tcp.rack.map_globallimit", tcp_rack_map_globallimit, 262144, 8, 16777216, 0,
    "rack: send-map entries per stack")
#endif
KNOB("net.inet.tcp.reass.maxqueuelen", tcp_reass_maxqueuelen, 100, 1, 65536, 0,
    "Out-of-order segments held per connection")
KNOB("net.inet.tcp.insecure_rst", tcp_insecure_rst, 0, 0, 1, 0,
    "Accept any in-window RST (no RFC 5961 challenge ACK)")
KNOB("net.inet.tcp.insecure_syn", tcp_insecure_syn, 0, 0, 1, 0,
    "Accept an in-window SYN as a reset (no RFC 5961 challenge ACK)")
KNOB("net.inet.tcp.ack_war_cnt", tcp_ack_war_cnt, 5, 0, 1000000, 0,
    "Challenge ACKs per ack_war_timewindow (RFC 5961 7)")
KNOB("net.inet.tcp.ack_war_timewindow", tcp_ack_war_timewindow, 1000, 0, 600000, 0,
    "Milliseconds of the challenge ACK rate limit window")
#if UST_TCP_RFC1323 || defined(KNOB_ALL_FIELDS) /* timestamps */
KNOB("net.inet.tcp.tolerate_missing_ts", tcp_tolerate_missing_ts, 1, 0, 1, 0,
    "Accept segments without timestamps on a connection that negotiated them")
KNOB("net.inet.tcp.ts_offset_per_conn", tcp_ts_offset_per_conn, 1, 0, 1, 0,
    "Randomise the timestamp clock offset per connection")
#endif
KNOB("net.inet.tcp.icmp_may_rst", tcp_icmp_may_rst, 1, 0, 1, 0,
    "ICMP unreachables may reset a connection in SYN_SENT")
KNOB("net.inet.tcp.drop_synfin", tcp_drop_synfin, 0, 0, 1, 0, "Drop segments with both SYN and FIN")
KNOB("net.inet.tcp.blackhole", tcp_blackhole, 0, 0, 2, 0,
    "No RST for segments to closed ports (1: SYNs only, 2: all)")
KNOB("net.inet.tcp.initcwnd_segments", tcp_initcwnd_segments, 10, 0, 1000, 0,
    "Initial congestion window in segments (RFC 6928)")
KNOB("net.inet.tcp.rfc3390", tcp_do_rfc3390, 1, 0, 1, 0,
    "RFC 3390 initial window when initcwnd_segments is 0")
KNOB("net.inet.tcp.rfc3465", tcp_do_rfc3465, 1, 0, 1, 0, "Appropriate byte counting (RFC 3465)")
KNOB("net.inet.tcp.abc_l_var", tcp_abc_l_var, 2, 1, 64, 0,
    "ABC limit L in segments per ACK in slow start")
KNOB("net.inet.tcp.rfc3042", tcp_do_rfc3042, 1, 0, 1, 0, "Limited transmit (RFC 3042)")
KNOB("net.inet.tcp.do_prr", tcp_do_prr, 1, 0, 1, 0, "Proportional rate reduction (RFC 6937)")
#if UST_TCP_ECN || defined(KNOB_ALL_FIELDS) /* ECN */
KNOB("net.inet.tcp.ecn.enable", tcp_do_ecn, 2, 0, 2, 0,
    "ECN (RFC 3168): 0 off, 1 request and accept, 2 accept when asked")
KNOB("net.inet.tcp.ecn.maxretries", tcp_ecn_maxretries, 1, 0, 16, 0,
    "SYN retransmissions with ECN before falling back without it")
#endif
#if UST_TCP_TSO || defined(KNOB_ALL_FIELDS) /* TSO */
KNOB("net.inet.tcp.tso", tcp_do_tso, 1, 0, 1, 0,
    "Send large segments for the interface to cut (TSO) when it offers UST_IFCAP_TSO4")
#endif
/* The fast path (issue 19).  Header prediction and per-poll output are
 * ustack's knobs, on by default: turning either off gives the same bytes on
 * the wire for a lone segment per poll (the conformance runs check it),
 * only more instructions.  LRO is FreeBSD's tcp_lro in software, for
 * interfaces without UST_IFCAP_LRO. */
KNOB("net.inet.tcp.header_prediction", tcp_header_prediction, 1, 0, 1, 0,
    "Take the pure-ACK and in-order-data fast paths of tcp_input (ustack)")
KNOB("net.inet.tcp.ack_coalesce", tcp_ack_coalesce, 1, 0, 1, 0,
    "Run tcp_output once per connection per poll: one ACK answers a burst (ustack)")
KNOB("net.inet.tcp.lro.enable", tcp_lro_enable, 1, 0, 1, 0,
    "Coalesce in-order TCP segments of a receive burst in software (ustack)")
KNOB("net.inet.tcp.lro.entries", tcp_lro_entries, 8, 1, 64, 0,
    "Flows software LRO merges at once per interface (FreeBSD's LRO_ENTRIES)")
KNOB("net.inet.tcp.path_mtu_discovery", tcp_path_mtu_discovery, 1, 0, 1, 0,
    "Set DF and use path MTU discovery (RFC 1191)")
KNOB("net.inet.tcp.pmtud_blackhole_detection", tcp_pmtud_blackhole_detect, 0, 0, 3, 0,
    "Lower the MSS when retransmissions suggest a PMTU black hole")
KNOB("net.inet.tcp.pmtud_blackhole_mss", tcp_pmtud_blackhole_mss, 1200, 88, 65495, 0,
    "MSS used after a PMTU black hole is detected")
KNOB("net.inet.tcp.v6pmtud_blackhole_mss", tcp_v6pmtud_blackhole_mss, 1220, 88, 65475, 0,
    "MSS tried over IPv6 when a PMTUD black hole is suspected")
KNOB("net.inet.tcp.hostcache.purgenow", tcp_hostcache_purgenow, 0, 0, 1, 0,
    "Purge the host cache now (ustack keeps no host cache: accepted, no effect)")
