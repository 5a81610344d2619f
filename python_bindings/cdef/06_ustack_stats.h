/*
 * cffi cdef for include/ustack/ustack_stats.h, in header order.  The
 * functions that fill these structs are in 02_ustack.h (ustack.h declares
 * them).  _ffi_build.py asserts that every all-uint64_t counter struct here
 * lists every field of the real one, so Python's netstat() misses nothing.
 * The header generates these structs from X-macro lists, which cffi cannot
 * read; the build's drift checks keep this expansion exact.
 */

struct ust_etherstat {
	uint64_t ether_ipackets;
	uint64_t ether_opackets;
	uint64_t ether_tooshort;
	uint64_t ether_notours;
	uint64_t ether_srcbcast;
	uint64_t ether_vlan;
	uint64_t ether_unknowntype;
	uint64_t ether_noresolve;
	uint64_t ether_nombuf;
	...;
};

struct ust_arpstat {
	uint64_t txrequests;
	uint64_t txreplies;
	uint64_t txannounces;
	uint64_t rxrequests;
	uint64_t rxreplies;
	uint64_t received;
	uint64_t dropped;
	uint64_t timeouts;
	uint64_t dupips;
	uint64_t rx_tooshort;
	uint64_t rx_badformat;
	uint64_t rx_badop;
	uint64_t rx_badaddr;
	uint64_t cachefull;
	uint64_t expired;
	...;
};

struct ust_ipstat {
	uint64_t ips_total;
	uint64_t ips_badsum;
	uint64_t ips_tooshort;
	uint64_t ips_toosmall;
	uint64_t ips_badhlen;
	uint64_t ips_badlen;
	uint64_t ips_badvers;
	uint64_t ips_badttl;
	uint64_t ips_badoptions;
	uint64_t ips_badaddr;
	uint64_t ips_notforus;
	uint64_t ips_fragments;
	uint64_t ips_fragdropped;
	uint64_t ips_fragtimeout;
	uint64_t ips_reassembled;
	uint64_t ips_delivered;
	uint64_t ips_noproto;
	uint64_t ips_localout;
	uint64_t ips_odropped;
	uint64_t ips_noroute;
	uint64_t ips_fragmented;
	uint64_t ips_ofragments;
	uint64_t ips_cantfrag;
	uint64_t ips_rawout;
	uint64_t ips_rawin;
	uint64_t ips_rawfull;
	...;
};

#define UST_ICMP_MAXTYPE ...
/* 41 is UST_ICMP_MAXTYPE + 1; the drift check fails the build if it moves. */
struct ust_icmpstat {
	uint64_t icps_error;
	uint64_t icps_oldshortmsg;
	uint64_t icps_oldicmp;
	uint64_t icps_nobcast;
	uint64_t icps_notfirstfrag;
	uint64_t icps_ratelimited;
	uint64_t icps_badcode;
	uint64_t icps_tooshort;
	uint64_t icps_checksum;
	uint64_t icps_badlen;
	uint64_t icps_reflect;
	uint64_t icps_bmcastecho;
	uint64_t icps_inhist[41];
	uint64_t icps_outhist[41];
	...;
};

struct ust_udpstat {
	uint64_t udps_ipackets;
	uint64_t udps_hdrops;
	uint64_t udps_badsum;
	uint64_t udps_nosum;
	uint64_t udps_badlen;
	uint64_t udps_noport;
	uint64_t udps_noportbcast;
	uint64_t udps_fullsock;
	uint64_t udps_delivered;
	uint64_t udps_opackets;
	uint64_t udps_odropped;
	...;
};

struct ust_tcpstat {
	uint64_t tcps_connattempt;
	uint64_t tcps_accepts;
	uint64_t tcps_connects;
	uint64_t tcps_drops;
	uint64_t tcps_conndrops;
	uint64_t tcps_closed;
	uint64_t tcps_timeoutdrop;
	uint64_t tcps_keepdrops;
	uint64_t tcps_keeptimeo;
	uint64_t tcps_keepprobe;
	uint64_t tcps_persisttimeo;
	uint64_t tcps_rexmttimeo;
	uint64_t tcps_segstimed;
	uint64_t tcps_rttupdated;
	uint64_t tcps_delack;
	uint64_t tcps_sndtotal;
	uint64_t tcps_sndpack;
	uint64_t tcps_sndbyte;
	uint64_t tcps_sndrexmitpack;
	uint64_t tcps_sndrexmitbyte;
	uint64_t tcps_sndacks;
	uint64_t tcps_sndprobe;
	uint64_t tcps_sndurg;
	uint64_t tcps_sndwinup;
	uint64_t tcps_sndctrl;
	uint64_t tcps_rcvtotal;
	uint64_t tcps_rcvpack;
	uint64_t tcps_rcvbyte;
	uint64_t tcps_rcvbadsum;
	uint64_t tcps_rcvbadoff;
	uint64_t tcps_rcvshort;
	uint64_t tcps_rcvduppack;
	uint64_t tcps_rcvdupbyte;
	uint64_t tcps_rcvpartduppack;
	uint64_t tcps_rcvpartdupbyte;
	uint64_t tcps_rcvoopack;
	uint64_t tcps_rcvoobyte;
	uint64_t tcps_rcvpackafterwin;
	uint64_t tcps_rcvbyteafterwin;
	uint64_t tcps_rcvafterclose;
	uint64_t tcps_rcvwinprobe;
	uint64_t tcps_rcvdupack;
	uint64_t tcps_rcvacktoomuch;
	uint64_t tcps_rcvackpack;
	uint64_t tcps_rcvackbyte;
	uint64_t tcps_rcvwinupd;
	uint64_t tcps_rcvreassfull;
	uint64_t tcps_rcvmemdrop;
	uint64_t tcps_pawsdrop;
	uint64_t tcps_predack;
	uint64_t tcps_preddat;
	uint64_t tcps_badsyn;
	uint64_t tcps_badrst;
	uint64_t tcps_dropsyn;
	uint64_t tcps_listendrop;
	uint64_t tcps_rcvnoport;
	uint64_t tcps_ecn_shs;
	uint64_t tcps_ecn_ce;
	uint64_t tcps_ecn_ect0;
	uint64_t tcps_ecn_ect1;
	uint64_t tcps_ecn_rcwnd;
	uint64_t tcps_mturesent;
	uint64_t tcps_fastretransmits;
	uint64_t tcps_newreno_partial;
	uint64_t tcps_finwait2_drops;
	uint64_t tcps_tw_recycles;
	uint64_t tcps_tw_reclaims;
	uint64_t tcps_sc_added;
	uint64_t tcps_sc_retransmitted;
	uint64_t tcps_sc_dupsyn;
	uint64_t tcps_sc_dropped;
	uint64_t tcps_sc_completed;
	uint64_t tcps_sc_bucketoverflow;
	uint64_t tcps_sc_cacheoverflow;
	uint64_t tcps_sc_reset;
	uint64_t tcps_sc_stale;
	uint64_t tcps_sc_aborted;
	uint64_t tcps_sc_badack;
	uint64_t tcps_sc_unreach;
	uint64_t tcps_sc_sendcookie;
	uint64_t tcps_sc_recvcookie;
	uint64_t tcps_sc_spurcookie;
	uint64_t tcps_sc_zonefail;
	uint64_t tcps_challenge_ack;
	uint64_t tcps_challenge_ack_limited;
	uint64_t tcps_badrst_inwindow;
	uint64_t tcps_synchallenge;
	uint64_t tcps_ackchallenge;
	uint64_t tcps_sack_recovery_episode;
	uint64_t tcps_sack_rexmits;
	uint64_t tcps_sack_rexmit_bytes;
	uint64_t tcps_sack_rcv_blocks;
	uint64_t tcps_sack_send_blocks;
	uint64_t tcps_sack_sboverflow;
	uint64_t tcps_autorcvbuf;
	uint64_t tcps_autosndbuf;
	uint64_t tcps_autobuf_fail;
	...;
};

struct ust_stat_desc {
	const char *group;
	const char *name;
	const char *descr;
	uint32_t offset;
	uint32_t count;
};

/* 256-entry histograms: IPv6 next header and ICMPv6 types. */
struct ust_ip6stat {
	uint64_t ip6s_total;
	uint64_t ip6s_tooshort;
	uint64_t ip6s_toosmall;
	uint64_t ip6s_badvers;
	uint64_t ip6s_badoptions;
	uint64_t ip6s_badscope;
	uint64_t ip6s_notmember;
	uint64_t ip6s_toomanyhdr;
	uint64_t ip6s_exthdrtoolong;
	uint64_t ip6s_cantforward;
	uint64_t ip6s_fragments;
	uint64_t ip6s_fragdropped;
	uint64_t ip6s_fragtimeout;
	uint64_t ip6s_fragoverflow;
	uint64_t ip6s_reassembled;
	uint64_t ip6s_atomicfrags;
	uint64_t ip6s_delivered;
	uint64_t ip6s_localout;
	uint64_t ip6s_rawout;
	uint64_t ip6s_odropped;
	uint64_t ip6s_noroute;
	uint64_t ip6s_fragmented;
	uint64_t ip6s_ofragments;
	uint64_t ip6s_cantfrag;
	uint64_t ip6s_badaddr;
	uint64_t ip6s_noproto;
	uint64_t ip6s_hbhnotfirst;
	uint64_t ip6s_rh0;
	uint64_t ip6s_fraghdrchain;
	uint64_t ip6s_fragoverlap;
	uint64_t ip6s_rawin;
	uint64_t ip6s_rawfull;
	uint64_t ip6s_nxthist[256];
	...;
};

struct ust_icmp6stat {
	uint64_t icp6s_error;
	uint64_t icp6s_canterror;
	uint64_t icp6s_toofreq;
	uint64_t icp6s_badcode;
	uint64_t icp6s_tooshort;
	uint64_t icp6s_checksum;
	uint64_t icp6s_badlen;
	uint64_t icp6s_reflect;
	uint64_t icp6s_nd_toomanyopt;
	uint64_t icp6s_odst_unreach_noroute;
	uint64_t icp6s_odst_unreach_admin;
	uint64_t icp6s_odst_unreach_beyondscope;
	uint64_t icp6s_odst_unreach_addr;
	uint64_t icp6s_odst_unreach_noport;
	uint64_t icp6s_opacket_too_big;
	uint64_t icp6s_otime_exceed_transit;
	uint64_t icp6s_otime_exceed_reassembly;
	uint64_t icp6s_oparamprob_header;
	uint64_t icp6s_oparamprob_nextheader;
	uint64_t icp6s_oparamprob_option;
	uint64_t icp6s_ounknown;
	uint64_t icp6s_pmtuchg;
	uint64_t icp6s_ptbsmall;
	uint64_t icp6s_badns;
	uint64_t icp6s_badna;
	uint64_t icp6s_badrs;
	uint64_t icp6s_badra;
	uint64_t icp6s_badredirect;
	uint64_t icp6s_overflowdefrtr;
	uint64_t icp6s_overflowprfx;
	uint64_t icp6s_overflownndp;
	uint64_t icp6s_overflowredirect;
	uint64_t icp6s_invlhlim;
	uint64_t icp6s_inhist[256];
	uint64_t icp6s_outhist[256];
	...;
};
