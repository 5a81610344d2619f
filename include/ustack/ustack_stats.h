/*
 * ustack_stats.h - protocol counters in the spirit of `netstat -s`, with
 * FreeBSD's field names where FreeBSD has the counter (ips_badsum,
 * udps_noport, ...) and the same style where ustack counts more (drops by
 * reason).  Every field is a uint64_t, so bindings can show a struct as a
 * name -> value table without knowing it.
 *
 * Each struct is generated from one X-macro list, UST_<NAME>STAT_FIELDS(C,
 * A, ctx): C(ctx, field, description) for a counter, A(ctx, field, n,
 * description) for an array of n counters (the ICMP histograms).  The
 * description is the `netstat -s` phrase (FreeBSD's wording where FreeBSD
 * has the counter); ust_stats_describe() lists every field with it, so the
 * structs, the C description table and Python's netstat cannot drift.
 */
#ifndef USTACK_STATS_H
#define USTACK_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ethernet (if_ethersubr.c). */
#define UST_ETHERSTAT_FIELDS(C, A, ctx)                                          \
	C(ctx, ether_ipackets, "frames received")                                \
	C(ctx, ether_opackets, "frames sent")                                    \
	C(ctx, ether_tooshort, "frames shorter than an Ethernet header")         \
	C(ctx, ether_notours, "frames for another station")                      \
	C(ctx, ether_srcbcast, "frames with a broadcast or multicast source")    \
	C(ctx, ether_vlan, "802.1Q tagged frames dropped")                       \
	C(ctx, ether_unknowntype, "frames with an unknown ethertype")            \
	C(ctx, ether_noresolve, "output packets dropped: next hop not resolved") \
	C(ctx, ether_nombuf, "output packets dropped: no buffer for the header")

/* ARP (if_ether.c); FreeBSD's struct arpstat plus drop reasons. */
#define UST_ARPSTAT_FIELDS(C, A, ctx)                               \
	C(ctx, txrequests, "ARP requests sent")                     \
	C(ctx, txreplies, "ARP replies sent")                       \
	C(ctx, txannounces, "gratuitous ARP announcements sent")    \
	C(ctx, rxrequests, "ARP requests received")                 \
	C(ctx, rxreplies, "ARP replies received")                   \
	C(ctx, received, "ARP packets received")                    \
	C(ctx, dropped, "packets dropped from a full hold queue")   \
	C(ctx, timeouts, "resolutions timed out")                   \
	C(ctx, dupips, "duplicate IPs seen")                        \
	C(ctx, rx_tooshort, "ARP packets too short")                \
	C(ctx, rx_badformat, "ARP packets with a bad format")       \
	C(ctx, rx_badop, "ARP packets with an unknown opcode")      \
	C(ctx, rx_badaddr, "ARP packets with a bad sender address") \
	C(ctx, cachefull, "entries refused: cache full")            \
	C(ctx, expired, "entries expired")

/* IPv4 (ip_input.c, ip_output.c, ip_reass.c); FreeBSD's struct ipstat.
 * ips_rawin, ips_rawfull and ips_rtcache_* are ustack's. */
#define UST_IPSTAT_FIELDS(C, A, ctx)                                                \
	C(ctx, ips_total, "total packets received")                                 \
	C(ctx, ips_badsum, "bad header checksums")                                  \
	C(ctx, ips_tooshort, "with data size < data length")                        \
	C(ctx, ips_toosmall, "with size smaller than minimum")                      \
	C(ctx, ips_badhlen, "with header length < data size")                       \
	C(ctx, ips_badlen, "with data length < header length")                      \
	C(ctx, ips_badvers, "with incorrect version number")                        \
	C(ctx, ips_badttl, "with TTL 0")                                            \
	C(ctx, ips_badoptions, "with bad options")                                  \
	C(ctx, ips_badaddr, "with a bad source address")                            \
	C(ctx, ips_notforus, "packets not for this host")                           \
	C(ctx, ips_fragments, "fragments received")                                 \
	C(ctx, ips_fragdropped, "fragments dropped (dup, overlap or out of space)") \
	C(ctx, ips_fragtimeout, "fragments dropped after timeout")                  \
	C(ctx, ips_reassembled, "packets reassembled ok")                           \
	C(ctx, ips_delivered, "packets for this host")                              \
	C(ctx, ips_noproto, "packets for unknown/unsupported protocol")             \
	C(ctx, ips_localout, "packets sent from this host")                         \
	C(ctx, ips_odropped, "output packets dropped due to no bufs, etc.")         \
	C(ctx, ips_noroute, "output packets discarded due to no route")             \
	C(ctx, ips_fragmented, "output datagrams fragmented")                       \
	C(ctx, ips_ofragments, "fragments created")                                 \
	C(ctx, ips_cantfrag, "datagrams that can't be fragmented")                  \
	C(ctx, ips_rawout, "raw ip packets generated")                              \
	C(ctx, ips_rawin, "copies delivered to raw sockets")                        \
	C(ctx, ips_rawfull, "copies dropped due to full raw socket buffers")        \
	C(ctx, ips_rtcache_hit, "routes answered from a socket's route cache")      \
	C(ctx, ips_rtcache_miss, "routes looked up for a socket's route cache")

/* ICMP (ip_icmp.c); FreeBSD's struct icmpstat, histograms by type. */
#define UST_ICMP_MAXTYPE 40
#define UST_ICMPSTAT_FIELDS(C, A, ctx)                                                          \
	C(ctx, icps_error, "calls to icmp_error")                                               \
	C(ctx, icps_oldshortmsg, "errors not generated: old message too short")                 \
	C(ctx, icps_oldicmp, "errors not generated: old message was icmp")                      \
	C(ctx, icps_nobcast, "errors not generated: old message was broadcast or multicast")    \
	C(ctx, icps_notfirstfrag, "errors not generated: old message was not a first fragment") \
	C(ctx, icps_ratelimited, "responses suppressed by the rate limit")                      \
	C(ctx, icps_badcode, "messages with bad code fields")                                   \
	C(ctx, icps_tooshort, "messages < minimum length")                                      \
	C(ctx, icps_checksum, "bad checksums")                                                  \
	C(ctx, icps_badlen, "messages with bad length")                                         \
	C(ctx, icps_reflect, "message responses generated")                                     \
	C(ctx, icps_bmcastecho, "broadcast/multicast echo requests ignored")                    \
	A(ctx, icps_inhist, UST_ICMP_MAXTYPE + 1, "Input histogram:")                           \
	A(ctx, icps_outhist, UST_ICMP_MAXTYPE + 1, "Output histogram:")

/* UDP (udp_usrreq.c); FreeBSD's struct udpstat. */
#define UST_UDPSTAT_FIELDS(C, A, ctx)                                         \
	C(ctx, udps_ipackets, "datagrams received")                           \
	C(ctx, udps_hdrops, "with incomplete header")                         \
	C(ctx, udps_badsum, "with bad checksum")                              \
	C(ctx, udps_nosum, "with no checksum")                                \
	C(ctx, udps_badlen, "with bad data length field")                     \
	C(ctx, udps_noport, "dropped due to no socket")                       \
	C(ctx, udps_noportbcast, "broadcast/multicast datagrams undelivered") \
	C(ctx, udps_fullsock, "dropped due to full socket buffers")           \
	C(ctx, udps_delivered, "delivered")                                   \
	C(ctx, udps_opackets, "datagrams output")                             \
	C(ctx, udps_odropped, "datagrams dropped on output")

/* TCP (tcp_*.c); FreeBSD's struct tcpstat names. */
#define UST_TCPSTAT_FIELDS(C, A, ctx)                                                            \
	C(ctx, tcps_connattempt, "connections initiated (SYN sent)")                             \
	C(ctx, tcps_accepts, "connections accepted (passive)")                                   \
	C(ctx, tcps_connects, "connections established")                                         \
	C(ctx, tcps_drops, "established connections dropped")                                    \
	C(ctx, tcps_conndrops, "embryonic connections dropped")                                  \
	C(ctx, tcps_closed, "connections closed (and freed)")                                    \
	C(ctx, tcps_timeoutdrop, "dropped by retransmission timeout")                            \
	C(ctx, tcps_keepdrops, "dropped by keepalive")                                           \
	C(ctx, tcps_keeptimeo, "keepalive timeouts")                                             \
	C(ctx, tcps_keepprobe, "keepalive probes sent")                                          \
	C(ctx, tcps_persisttimeo, "persist timeouts")                                            \
	C(ctx, tcps_rexmttimeo, "retransmission timeouts")                                       \
	C(ctx, tcps_segstimed, "segments timed for RTT")                                         \
	C(ctx, tcps_rttupdated, "RTT estimator updates")                                         \
	C(ctx, tcps_delack, "delayed ACKs sent")                                                 \
	C(ctx, tcps_sndtotal, "segments sent")                                                   \
	C(ctx, tcps_sndpack, "data segments sent")                                               \
	C(ctx, tcps_sndbyte, "data bytes sent")                                                  \
	C(ctx, tcps_sndrexmitpack, "data segments retransmitted")                                \
	C(ctx, tcps_sndrexmitbyte, "data bytes retransmitted")                                   \
	C(ctx, tcps_sndacks, "ACK-only segments sent")                                           \
	C(ctx, tcps_sndprobe, "window probes sent")                                              \
	C(ctx, tcps_sndurg, "segments with URG sent")                                            \
	C(ctx, tcps_sndwinup, "window updates sent")                                             \
	C(ctx, tcps_sndctrl, "control segments (SYN, FIN, RST) sent")                            \
	C(ctx, tcps_rcvtotal, "segments received")                                               \
	C(ctx, tcps_rcvpack, "in-order data segments received")                                  \
	C(ctx, tcps_rcvbyte, "in-order data bytes received")                                     \
	C(ctx, tcps_rcvbadsum, "bad checksum")                                                   \
	C(ctx, tcps_rcvbadoff, "bad data offset")                                                \
	C(ctx, tcps_rcvshort, "shorter than a TCP header")                                       \
	C(ctx, tcps_rcvduppack, "completely duplicate segments")                                 \
	C(ctx, tcps_rcvdupbyte, "completely duplicate segments (bytes)")                         \
	C(ctx, tcps_rcvpartduppack, "partly duplicate segments")                                 \
	C(ctx, tcps_rcvpartdupbyte, "partly duplicate segments (bytes)")                         \
	C(ctx, tcps_rcvoopack, "out-of-order segments queued")                                   \
	C(ctx, tcps_rcvoobyte, "out-of-order segments queued (bytes)")                           \
	C(ctx, tcps_rcvpackafterwin, "segments beyond the window")                               \
	C(ctx, tcps_rcvbyteafterwin, "segments beyond the window (bytes)")                       \
	C(ctx, tcps_rcvafterclose, "data after the socket was closed")                           \
	C(ctx, tcps_rcvwinprobe, "window probes received")                                       \
	C(ctx, tcps_rcvdupack, "duplicate ACKs received")                                        \
	C(ctx, tcps_rcvacktoomuch, "ACKs for data not sent")                                     \
	C(ctx, tcps_rcvackpack, "ACK segments received")                                         \
	C(ctx, tcps_rcvackbyte, "bytes acknowledged")                                            \
	C(ctx, tcps_rcvwinupd, "window updates received")                                        \
	C(ctx, tcps_rcvreassfull, "out-of-order segments dropped: queue full")                   \
	C(ctx, tcps_rcvmemdrop, "dropped for lack of memory")                                    \
	C(ctx, tcps_pawsdrop, "dropped by PAWS")                                                 \
	C(ctx, tcps_predack, "header prediction: pure ACKs")                                     \
	C(ctx, tcps_preddat, "header prediction: in-order data")                                 \
	C(ctx, tcps_ackcoalesced, "ACK outputs saved by one output per poll (ustack)")           \
	C(ctx, tcps_badsyn, "bogus SYN (e.g. with FIN)")                                         \
	C(ctx, tcps_badrst, "ignored RSTs outside the window")                                   \
	C(ctx, tcps_dropsyn, "SYNs dropped (e.g. no listener, blackhole)")                       \
	C(ctx, tcps_listendrop, "listen queue overflows")                                        \
	C(ctx, tcps_rcvnoport, "segments for no connection or listener (RST sent)")              \
	C(ctx, tcps_ecn_shs, "ECN handshakes")                                                   \
	C(ctx, tcps_ecn_ce, "segments received CE-marked")                                       \
	C(ctx, tcps_ecn_ect0, "segments received ECT(0)")                                        \
	C(ctx, tcps_ecn_ect1, "segments received ECT(1)")                                        \
	C(ctx, tcps_ecn_rcwnd, "congestion window reductions for ECN-Echo")                      \
	C(ctx, tcps_mturesent, "resends after an ICMP frag-needed")                              \
	C(ctx, tcps_pmtud_blackhole_activated, "PMTUD black hole: MSS lowered to the probe MSS") \
	C(ctx, tcps_pmtud_blackhole_activated_min_mss,                                           \
	    "PMTUD black hole: MSS lowered to the default")                                      \
	C(ctx, tcps_pmtud_blackhole_failed, "PMTUD black hole: not one, MSS restored")           \
	C(ctx, tcps_fastretransmits, "fast retransmits (3 duplicate ACKs)")                      \
	C(ctx, tcps_newreno_partial, "NewReno partial ACKs")                                     \
	C(ctx, tcps_finwait2_drops, "orphans timed out in FIN_WAIT_2")                           \
	C(ctx, tcps_tw_recycles, "TIME_WAIT connections reused by a new SYN")                    \
	C(ctx, tcps_tw_reclaims, "TIME_WAIT connections ended early: PCB zones full")            \
	C(ctx, tcps_tw_responds, "ACKs sent from TIME_WAIT")                                     \
	C(ctx, tcps_sc_added, "syncache entries added")                                          \
	C(ctx, tcps_sc_retransmitted, "SYN-ACKs retransmitted")                                  \
	C(ctx, tcps_sc_dupsyn, "duplicate SYNs")                                                 \
	C(ctx, tcps_sc_dropped, "syncache entries dropped (no memory)")                          \
	C(ctx, tcps_sc_completed, "handshakes completed from the syncache")                      \
	C(ctx, tcps_sc_bucketoverflow, "syncache bucket full")                                   \
	C(ctx, tcps_sc_cacheoverflow, "syncache full")                                           \
	C(ctx, tcps_sc_reset, "syncache entries reset by RST")                                   \
	C(ctx, tcps_sc_stale, "syncache entries timed out")                                      \
	C(ctx, tcps_sc_aborted, "handshakes aborted (listen queue full)")                        \
	C(ctx, tcps_sc_badack, "bad ACKs for syncache entries")                                  \
	C(ctx, tcps_sc_unreach, "ICMP unreachables for syncache entries")                        \
	C(ctx, tcps_sc_sendcookie, "SYN cookies sent")                                           \
	C(ctx, tcps_sc_recvcookie, "valid SYN cookies received")                                 \
	C(ctx, tcps_sc_spurcookie, "bogus SYN cookies received")                                 \
	C(ctx, tcps_sc_zonefail, "syncache allocations refused")                                 \
	C(ctx, tcps_challenge_ack, "RFC 5961 challenge ACKs sent")                               \
	C(ctx, tcps_challenge_ack_limited, "challenge ACKs suppressed by the rate limit")        \
	C(ctx, tcps_badrst_inwindow, "in-window but not exact RSTs (RFC 5961 3.2)")              \
	C(ctx, tcps_synchallenge, "SYNs in a synchronized state (RFC 5961 4)")                   \
	C(ctx, tcps_ackchallenge, "ACKs outside the acceptable range (RFC 5961 5)")              \
	C(ctx, tcps_sack_recovery_episode, "SACK recovery episodes")                             \
	C(ctx, tcps_sack_rexmits, "segment rexmits in SACK recovery episodes")                   \
	C(ctx, tcps_sack_rexmit_bytes, "byte rexmits in SACK recovery episodes")                 \
	C(ctx, tcps_sack_rcv_blocks, "SACK options (SACK blocks) received")                      \
	C(ctx, tcps_sack_send_blocks, "SACK options (SACK blocks) sent")                         \
	C(ctx, tcps_sack_sboverflow, "SACK scoreboard overflow")                                 \
	C(ctx, tcps_tlpresends, "tail loss probes retransmitting the last segment")              \
	C(ctx, tcps_tlpresend_bytes, "bytes resent by tail loss probes")                         \
	C(ctx, tcps_rack_tlp_new, "tail loss probes sending new data (rack)")                    \
	C(ctx, tcps_rack_tlp_recovery, "losses detected by a tail loss probe (rack)")            \
	C(ctx, tcps_rack_lost, "segments RACK marked lost (rack)")                               \
	C(ctx, tcps_rack_to_tot, "RACK reordering timer expirations (rack)")                     \
	C(ctx, tcps_rack_map_exhausted, "send-map entries refused at the limit (rack)")          \
	C(ctx, tcps_autorcvbuf, "receive buffers grown automatically")                           \
	C(ctx, tcps_autosndbuf, "send buffers grown automatically")                              \
	C(ctx, tcps_autobuf_fail, "automatic buffer growths refused")                            \
	C(ctx, tcps_tfo_cookie_req, "Fast Open cookie requests sent")                            \
	C(ctx, tcps_tfo_cookie_rcvd, "Fast Open cookies received and cached")                    \
	C(ctx, tcps_tfo_syn_data_acked, "SYN data accepted by the server")                       \
	C(ctx, tcps_tfo_syn_data_rexmit, "SYN data sent again after the handshake")              \
	C(ctx, tcps_tfo_path_disabled, "Fast Open paths disabled after a failure")               \
	C(ctx, tcps_tfo_cookie_req_rcvd, "Fast Open cookie requests received")                   \
	C(ctx, tcps_tfo_cookie_sent, "Fast Open cookies sent")                                   \
	C(ctx, tcps_tfo_cookie_invalid, "invalid Fast Open cookies received")                    \
	C(ctx, tcps_tfo_conn_accepted, "connections made on a SYN with a valid cookie")          \
	C(ctx, tcps_tfo_syn_data_rcvd, "SYNs with data delivered at once")                       \
	C(ctx, tcps_tfo_syn_data_bytes, "bytes delivered from SYNs")                             \
	C(ctx, tcps_tfo_pending_limit, "valid Fast Open SYNs over the pending limit")            \
	C(ctx, tcps_sig_rcvgoodsig, "TCP-MD5 signatures verified (RFC 2385)")                    \
	C(ctx, tcps_sig_rcvbadsig, "TCP-MD5 signatures wrong: dropped")                          \
	C(ctx, tcps_sig_err_buildsig, "TCP-MD5: no key for the address pair")                    \
	C(ctx, tcps_sig_err_sigopt, "TCP-MD5 signature on a connection without one")             \
	C(ctx, tcps_sig_err_nosigopt, "TCP-MD5 signature missing: dropped")                      \
	C(ctx, tcps_tunneled_pkts, "segments received in UDP (TCP over UDP)")                    \
	C(ctx, tcps_tunneled_errs, "UDP datagrams to the tunneling port that were not TCP")      \
	C(ctx, tcps_tunneled_opkts, "segments sent in UDP (ustack)")

/* IPv6 (netinet6/ip6_input.c, ip6_output.c, frag6.c); FreeBSD's struct
 * ip6stat names.  ip6s_cantforward counts packets for another host (we
 * never forward).  ustack's own drop reasons where FreeBSD lumps them:
 * ip6s_badaddr .. ip6s_rawfull; ip6s_rtcache_* as IPv4's. */
#define UST_IP6STAT_FIELDS(C, A, ctx)                                                          \
	C(ctx, ip6s_total, "total packets received")                                           \
	C(ctx, ip6s_tooshort, "with data size < data length")                                  \
	C(ctx, ip6s_toosmall, "with size smaller than minimum")                                \
	C(ctx, ip6s_badvers, "with incorrect version number")                                  \
	C(ctx, ip6s_badoptions, "with bad options")                                            \
	C(ctx, ip6s_badscope, "packets that violated scope rules")                             \
	C(ctx, ip6s_notmember, "multicast packets which we don't join")                        \
	C(ctx, ip6s_toomanyhdr, "packets discarded because of too many headers")               \
	C(ctx, ip6s_exthdrtoolong, "packets whose headers are not contiguous")                 \
	C(ctx, ip6s_cantforward, "packets not for this host (not forwarded)")                  \
	C(ctx, ip6s_fragments, "fragments received")                                           \
	C(ctx, ip6s_fragdropped, "fragments dropped (dup or out of space)")                    \
	C(ctx, ip6s_fragtimeout, "fragments dropped after timeout")                            \
	C(ctx, ip6s_fragoverflow, "fragments that exceeded limit")                             \
	C(ctx, ip6s_reassembled, "packets reassembled ok")                                     \
	C(ctx, ip6s_atomicfrags, "atomic fragments received")                                  \
	C(ctx, ip6s_delivered, "packets for this host")                                        \
	C(ctx, ip6s_localout, "packets sent from this host")                                   \
	C(ctx, ip6s_rawout, "raw IPv6 packets generated")                                      \
	C(ctx, ip6s_odropped, "output packets dropped due to no bufs, etc.")                   \
	C(ctx, ip6s_noroute, "output packets discarded due to no route")                       \
	C(ctx, ip6s_fragmented, "output datagrams fragmented")                                 \
	C(ctx, ip6s_ofragments, "fragments created")                                           \
	C(ctx, ip6s_cantfrag, "datagrams that can't be fragmented")                            \
	C(ctx, ip6s_badaddr, "with a bad source address (multicast, loopback, ours)")          \
	C(ctx, ip6s_noproto, "packets for unknown/unsupported next header")                    \
	C(ctx, ip6s_hbhnotfirst, "with a hop-by-hop header not first (RFC 8200 4.1)")          \
	C(ctx, ip6s_rh0, "with a type 0 routing header (RFC 5095)")                            \
	C(ctx, ip6s_fraghdrchain, "first fragments without the whole header chain (RFC 7112)") \
	C(ctx, ip6s_fragoverlap, "datagrams dropped for overlapping fragments (RFC 5722)")     \
	C(ctx, ip6s_rawin, "copies delivered to raw sockets")                                  \
	C(ctx, ip6s_rawfull, "copies dropped due to full raw socket buffers")                  \
	C(ctx, ip6s_rtcache_hit, "routes answered from a socket's route cache")                \
	C(ctx, ip6s_rtcache_miss, "routes looked up for a socket's route cache")               \
	A(ctx, ip6s_nxthist, 256, "Input histogram:")

/* ICMPv6 (netinet6/icmp6.c and the ND/MLD input it calls); FreeBSD's
 * struct icmp6stat names (the icp6s_o* ones are its outerrhist).
 * icp6s_ptbsmall and the ND/MLD counters from icp6s_nd_evicted on are
 * ustack's (FreeBSD has no counter for them). */
#define UST_ICMP6STAT_FIELDS(C, A, ctx)                                                        \
	C(ctx, icp6s_error, "calls to icmp6_error")                                            \
	C(ctx, icp6s_canterror, "errors not generated in response to an icmp6 message")        \
	C(ctx, icp6s_toofreq, "errors not generated because of rate limitation")               \
	C(ctx, icp6s_badcode, "messages with bad code fields")                                 \
	C(ctx, icp6s_tooshort, "messages < minimum length")                                    \
	C(ctx, icp6s_checksum, "bad checksums")                                                \
	C(ctx, icp6s_badlen, "messages with bad length")                                       \
	C(ctx, icp6s_reflect, "message responses generated")                                   \
	C(ctx, icp6s_nd_toomanyopt, "messages with too many ND options")                       \
	C(ctx, icp6s_odst_unreach_noroute, "output destination unreachable, no route")         \
	C(ctx, icp6s_odst_unreach_admin, "output destination unreachable, administratively")   \
	C(ctx, icp6s_odst_unreach_beyondscope, "output destination unreachable, beyond scope") \
	C(ctx, icp6s_odst_unreach_addr, "output destination unreachable, address")             \
	C(ctx, icp6s_odst_unreach_noport, "output destination unreachable, port")              \
	C(ctx, icp6s_opacket_too_big, "output packet too big")                                 \
	C(ctx, icp6s_otime_exceed_transit, "output time exceeded in transit")                  \
	C(ctx, icp6s_otime_exceed_reassembly, "output time exceeded in reassembly")            \
	C(ctx, icp6s_oparamprob_header, "output erroneous header field")                       \
	C(ctx, icp6s_oparamprob_nextheader, "output unrecognized next header")                 \
	C(ctx, icp6s_oparamprob_option, "output unrecognized option")                          \
	C(ctx, icp6s_ounknown, "output other errors")                                          \
	C(ctx, icp6s_pmtuchg, "path MTU changes")                                              \
	C(ctx, icp6s_ptbsmall, "packet too big below 1280 ignored (RFC 8201 4)")               \
	C(ctx, icp6s_badns, "bad neighbor solicitation messages")                              \
	C(ctx, icp6s_badna, "bad neighbor advertisement messages")                             \
	C(ctx, icp6s_badrs, "bad router solicitation messages")                                \
	C(ctx, icp6s_badra, "bad router advertisement messages")                               \
	C(ctx, icp6s_badredirect, "bad redirect messages")                                     \
	C(ctx, icp6s_overflowdefrtr, "default routers overflows")                              \
	C(ctx, icp6s_overflowprfx, "prefix overflows")                                         \
	C(ctx, icp6s_overflownndp, "neighbour entries overflows")                              \
	C(ctx, icp6s_overflowredirect, "redirect overflows")                                   \
	C(ctx, icp6s_invlhlim, "messages with invalid hop limit")                              \
	C(ctx, icp6s_nd_evicted, "neighbour entries evicted (cache full)")                     \
	C(ctx, icp6s_nd_holddrops, "packets dropped awaiting resolution")                      \
	C(ctx, icp6s_nd_unsolna, "advertisements for unknown targets ignored")                 \
	C(ctx, icp6s_nd_resfail, "neighbour resolutions failed")                               \
	C(ctx, icp6s_dupaddr, "duplicate addresses detected")                                  \
	C(ctx, icp6s_dadloop, "looped back DAD probes ignored (RFC 7527)")                     \
	C(ctx, icp6s_mldreports, "MLDv2 reports sent")                                         \
	C(ctx, icp6s_rsout, "router solicitations sent")                                       \
	C(ctx, icp6s_nsout, "neighbour solicitations sent")                                    \
	C(ctx, icp6s_naout, "neighbour advertisements sent")                                   \
	C(ctx, icp6s_raaccepted, "router advertisements processed")                            \
	C(ctx, icp6s_slaac, "addresses configured by SLAAC")                                   \
	C(ctx, icp6s_redirignored, "redirects ignored (rediraccept 0)")                        \
	A(ctx, icp6s_inhist, 256, "Input histogram:")                                          \
	A(ctx, icp6s_outhist, 256, "Output histogram:")

#define UST_STAT_FIELD_(ctx, name, descr) uint64_t name;
#define UST_STAT_ARRAY_(ctx, name, n, descr) uint64_t name[n];

struct ust_etherstat {
	UST_ETHERSTAT_FIELDS(UST_STAT_FIELD_, UST_STAT_ARRAY_, ether)
};
struct ust_arpstat {
	UST_ARPSTAT_FIELDS(UST_STAT_FIELD_, UST_STAT_ARRAY_, arp)
};
struct ust_ipstat {
	UST_IPSTAT_FIELDS(UST_STAT_FIELD_, UST_STAT_ARRAY_, ip)
};
struct ust_icmpstat {
	UST_ICMPSTAT_FIELDS(UST_STAT_FIELD_, UST_STAT_ARRAY_, icmp)
};
struct ust_udpstat {
	UST_UDPSTAT_FIELDS(UST_STAT_FIELD_, UST_STAT_ARRAY_, udp)
};
struct ust_tcpstat {
	UST_TCPSTAT_FIELDS(UST_STAT_FIELD_, UST_STAT_ARRAY_, tcp)
};
struct ust_ip6stat {
	UST_IP6STAT_FIELDS(UST_STAT_FIELD_, UST_STAT_ARRAY_, ip6)
};
struct ust_icmp6stat {
	UST_ICMP6STAT_FIELDS(UST_STAT_FIELD_, UST_STAT_ARRAY_, icmp6)
};

#undef UST_STAT_FIELD_
#undef UST_STAT_ARRAY_

/*
 * One counter of the structs above, for tools that show them (netstat):
 * group "ether", "arp", "ip", "icmp", "udp", "tcp", "ip6" or "icmp6" (the struct is
 * struct ust_<group>stat, filled by ust_stats_<group>()), the field name,
 * its description, its byte offset in the struct and its number of
 * uint64_t elements (1, or the size of an array).
 */
struct ust_stat_desc {
	const char *group;
	const char *name;
	const char *descr;
	uint32_t offset;
	uint32_t count;
};

#ifdef __cplusplus
}
#endif
#endif /* USTACK_STATS_H */
