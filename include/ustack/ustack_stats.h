/*
 * ustack_stats.h - protocol counters in the spirit of `netstat -s`, with
 * FreeBSD's field names where FreeBSD has the counter (ips_badsum,
 * udps_noport, ...) and the same style where ustack counts more (drops by
 * reason).  Every field is a uint64_t, so bindings can show a struct as a
 * name -> value table without knowing it.
 */
#ifndef USTACK_STATS_H
#define USTACK_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ethernet (if_ethersubr.c). */
struct ust_etherstat {
	uint64_t ether_ipackets;    /* frames handed to ether_input */
	uint64_t ether_opackets;    /* frames sent by ether_output */
	uint64_t ether_tooshort;    /* shorter than an Ethernet header */
	uint64_t ether_notours;     /* destination neither ours nor broadcast */
	uint64_t ether_srcbcast;    /* source address multicast/broadcast */
	uint64_t ether_vlan;        /* 802.1Q tagged: not handled */
	uint64_t ether_unknowntype; /* ethertype we do not speak */
	uint64_t ether_noresolve;   /* output dropped: next hop not resolved */
	uint64_t ether_nombuf;      /* output dropped: no room for the header */
};

/* ARP (if_ether.c); FreeBSD's struct arpstat plus drop reasons. */
struct ust_arpstat {
	uint64_t txrequests;   /* requests sent */
	uint64_t txreplies;    /* replies sent */
	uint64_t txannounces;  /* gratuitous announcements sent */
	uint64_t rxrequests;   /* requests received */
	uint64_t rxreplies;    /* replies received */
	uint64_t received;     /* ARP packets received */
	uint64_t dropped;      /* packets dropped from a full hold queue */
	uint64_t timeouts;     /* resolutions given up (maxtries) */
	uint64_t dupips;       /* someone else claims our address */
	uint64_t rx_tooshort;  /* shorter than an Ethernet/IPv4 ARP packet */
	uint64_t rx_badformat; /* hardware/protocol type or lengths wrong */
	uint64_t rx_badop;     /* opcode neither request nor reply */
	uint64_t rx_badaddr;   /* sender broadcast/multicast/zero or ours */
	uint64_t cachefull;    /* new entry refused: cache at max_entries */
	uint64_t expired;      /* entries aged out */
};

/* IPv4 (ip_input.c, ip_output.c, ip_reass.c); FreeBSD's struct ipstat. */
struct ust_ipstat {
	uint64_t ips_total;       /* packets received */
	uint64_t ips_badsum;      /* header checksum bad */
	uint64_t ips_tooshort;    /* total length larger than the frame */
	uint64_t ips_toosmall;    /* frame shorter than a minimal header */
	uint64_t ips_badhlen;     /* IHL < 5 or past the total length */
	uint64_t ips_badlen;      /* total length smaller than the header */
	uint64_t ips_badvers;     /* version not 4 */
	uint64_t ips_badttl;      /* TTL 0 received */
	uint64_t ips_badoptions;  /* malformed options */
	uint64_t ips_badaddr;     /* source multicast/broadcast/ours(LAND)/zero */
	uint64_t ips_notforus;    /* destination not ours (we do not forward) */
	uint64_t ips_fragments;   /* fragments received */
	uint64_t ips_fragdropped; /* fragments dropped (overlap, budget, bad) */
	uint64_t ips_fragtimeout; /* datagrams whose reassembly timed out */
	uint64_t ips_reassembled; /* datagrams reassembled */
	uint64_t ips_delivered;   /* datagrams handed to a transport */
	uint64_t ips_noproto;     /* unknown protocol */
	uint64_t ips_localout;    /* datagrams sent by this host */
	uint64_t ips_odropped;    /* output dropped: no buffers */
	uint64_t ips_noroute;     /* output dropped: no route */
	uint64_t ips_fragmented;  /* datagrams fragmented on output */
	uint64_t ips_ofragments;  /* fragments sent */
	uint64_t ips_cantfrag;    /* DF set and larger than the MTU */
	uint64_t ips_rawout;      /* datagrams sent by raw sockets */
	uint64_t ips_rawin;       /* copies queued to raw sockets (ustack) */
	uint64_t ips_rawfull;     /* copies dropped: raw socket buffer full (ustack) */
};

/* ICMP (ip_icmp.c); FreeBSD's struct icmpstat, histograms by type. */
#define UST_ICMP_MAXTYPE 40
struct ust_icmpstat {
	uint64_t icps_error;        /* icmp_error() calls */
	uint64_t icps_oldshortmsg;  /* no error: original too short */
	uint64_t icps_oldicmp;      /* no error: original was an ICMP error */
	uint64_t icps_nobcast;      /* no error: original was broadcast/multicast */
	uint64_t icps_notfirstfrag; /* no error: original a non-first fragment */
	uint64_t icps_ratelimited;  /* no error/echo: over icmplim */
	uint64_t icps_badcode;      /* code out of range */
	uint64_t icps_tooshort;     /* packet shorter than an ICMP header */
	uint64_t icps_checksum;     /* bad checksum */
	uint64_t icps_badlen;       /* quoted header truncated or malformed */
	uint64_t icps_reflect;      /* echo replies sent */
	uint64_t icps_bmcastecho;   /* echo to broadcast/multicast ignored */
	uint64_t icps_inhist[UST_ICMP_MAXTYPE + 1];
	uint64_t icps_outhist[UST_ICMP_MAXTYPE + 1];
};

/* UDP (udp_usrreq.c); FreeBSD's struct udpstat. */
struct ust_udpstat {
	uint64_t udps_ipackets;    /* datagrams received */
	uint64_t udps_hdrops;      /* shorter than a UDP header */
	uint64_t udps_badsum;      /* bad checksum */
	uint64_t udps_nosum;       /* received without checksum */
	uint64_t udps_badlen;      /* UDP length disagrees with IP */
	uint64_t udps_noport;      /* no socket on the port (answered) */
	uint64_t udps_noportbcast; /* no socket, broadcast (not answered) */
	uint64_t udps_fullsock;    /* receive buffer full */
	uint64_t udps_delivered;   /* datagrams queued to a socket */
	uint64_t udps_opackets;    /* datagrams sent */
	uint64_t udps_odropped;    /* output errors */
};

/* TCP (tcp_*.c); FreeBSD's struct tcpstat names. */
struct ust_tcpstat {
	uint64_t tcps_connattempt;   /* connections initiated (SYN sent) */
	uint64_t tcps_accepts;       /* connections accepted (passive) */
	uint64_t tcps_connects;      /* connections established */
	uint64_t tcps_drops;         /* established connections dropped */
	uint64_t tcps_conndrops;     /* embryonic connections dropped */
	uint64_t tcps_closed;        /* connections closed (and freed) */
	uint64_t tcps_timeoutdrop;   /* dropped by retransmission timeout */
	uint64_t tcps_keepdrops;     /* dropped by keepalive */
	uint64_t tcps_keeptimeo;     /* keepalive timeouts */
	uint64_t tcps_keepprobe;     /* keepalive probes sent */
	uint64_t tcps_persisttimeo;  /* persist timeouts */
	uint64_t tcps_rexmttimeo;    /* retransmission timeouts */
	uint64_t tcps_segstimed;     /* segments timed for RTT */
	uint64_t tcps_rttupdated;    /* RTT estimator updates */
	uint64_t tcps_delack;        /* delayed ACKs sent */
	uint64_t tcps_sndtotal;      /* segments sent */
	uint64_t tcps_sndpack;       /* data segments sent */
	uint64_t tcps_sndbyte;       /* data bytes sent */
	uint64_t tcps_sndrexmitpack; /* data segments retransmitted */
	uint64_t tcps_sndrexmitbyte; /* data bytes retransmitted */
	uint64_t tcps_sndacks;       /* ACK-only segments sent */
	uint64_t tcps_sndprobe;      /* window probes sent */
	uint64_t tcps_sndurg;        /* segments with URG sent */
	uint64_t tcps_sndwinup;      /* window updates sent */
	uint64_t tcps_sndctrl;       /* control segments (SYN, FIN, RST) sent */
	uint64_t tcps_rcvtotal;      /* segments received */
	uint64_t tcps_rcvpack;       /* in-order data segments received */
	uint64_t tcps_rcvbyte;       /* in-order data bytes received */
	uint64_t tcps_rcvbadsum;     /* bad checksum */
	uint64_t tcps_rcvbadoff;     /* bad data offset */
	uint64_t tcps_rcvshort;      /* shorter than a TCP header */
	uint64_t tcps_rcvduppack;    /* completely duplicate segments */
	uint64_t tcps_rcvdupbyte;
	uint64_t tcps_rcvpartduppack; /* partly duplicate segments */
	uint64_t tcps_rcvpartdupbyte;
	uint64_t tcps_rcvoopack; /* out-of-order segments queued */
	uint64_t tcps_rcvoobyte;
	uint64_t tcps_rcvpackafterwin; /* segments beyond the window */
	uint64_t tcps_rcvbyteafterwin;
	uint64_t tcps_rcvafterclose;         /* data after the socket was closed */
	uint64_t tcps_rcvwinprobe;           /* window probes received */
	uint64_t tcps_rcvdupack;             /* duplicate ACKs received */
	uint64_t tcps_rcvacktoomuch;         /* ACKs for data not sent */
	uint64_t tcps_rcvackpack;            /* ACK segments received */
	uint64_t tcps_rcvackbyte;            /* bytes acknowledged */
	uint64_t tcps_rcvwinupd;             /* window updates received */
	uint64_t tcps_rcvreassfull;          /* out-of-order segments dropped: queue full */
	uint64_t tcps_rcvmemdrop;            /* dropped for lack of memory */
	uint64_t tcps_pawsdrop;              /* dropped by PAWS */
	uint64_t tcps_predack;               /* header prediction: pure ACKs */
	uint64_t tcps_preddat;               /* header prediction: in-order data */
	uint64_t tcps_badsyn;                /* bogus SYN (e.g. with FIN) */
	uint64_t tcps_badrst;                /* ignored RSTs outside the window */
	uint64_t tcps_dropsyn;               /* SYNs dropped (e.g. no listener, blackhole) */
	uint64_t tcps_listendrop;            /* listen queue overflows */
	uint64_t tcps_rcvnoport;             /* segments for no connection or listener (RST sent) */
	uint64_t tcps_ecn_shs;               /* ECN handshakes (RFC 3168 6.1.1) */
	uint64_t tcps_ecn_ce;                /* segments received CE-marked */
	uint64_t tcps_ecn_ect0;              /* segments received ECT(0) */
	uint64_t tcps_ecn_ect1;              /* segments received ECT(1) */
	uint64_t tcps_ecn_rcwnd;             /* cwnd reductions for ECN-Echo (RFC 3168 6.1.2) */
	uint64_t tcps_mturesent;             /* resends after an ICMP frag-needed */
	uint64_t tcps_fastretransmits;       /* fast retransmits (3 duplicate ACKs) */
	uint64_t tcps_newreno_partial;       /* NewReno partial ACKs */
	uint64_t tcps_finwait2_drops;        /* orphans timed out in FIN_WAIT_2 */
	uint64_t tcps_tw_recycles;           /* TIME_WAIT connections reused by a new SYN */
	uint64_t tcps_sc_added;              /* syncache entries added */
	uint64_t tcps_sc_retransmitted;      /* SYN-ACKs retransmitted */
	uint64_t tcps_sc_dupsyn;             /* duplicate SYNs */
	uint64_t tcps_sc_dropped;            /* syncache entries dropped (no memory) */
	uint64_t tcps_sc_completed;          /* handshakes completed from the syncache */
	uint64_t tcps_sc_bucketoverflow;     /* syncache bucket full */
	uint64_t tcps_sc_cacheoverflow;      /* syncache full */
	uint64_t tcps_sc_reset;              /* syncache entries reset by RST */
	uint64_t tcps_sc_stale;              /* syncache entries timed out */
	uint64_t tcps_sc_aborted;            /* handshakes aborted (listen queue full) */
	uint64_t tcps_sc_badack;             /* bad ACKs for syncache entries */
	uint64_t tcps_sc_unreach;            /* ICMP unreachables for syncache entries */
	uint64_t tcps_sc_sendcookie;         /* SYN cookies sent */
	uint64_t tcps_sc_recvcookie;         /* valid SYN cookies received */
	uint64_t tcps_sc_spurcookie;         /* bogus SYN cookies received */
	uint64_t tcps_sc_zonefail;           /* syncache allocations refused */
	uint64_t tcps_challenge_ack;         /* RFC 5961 challenge ACKs sent */
	uint64_t tcps_challenge_ack_limited; /* challenge ACKs suppressed by the rate limit */
	uint64_t tcps_badrst_inwindow;       /* in-window but not exact RSTs (RFC 5961 3.2) */
	uint64_t tcps_synchallenge;          /* SYNs in a synchronized state (RFC 5961 4) */
	uint64_t tcps_ackchallenge;          /* ACKs outside the acceptable range (RFC 5961 5) */
	uint64_t tcps_sack_recovery_episode; /* SACK loss recoveries entered (RFC 6675) */
	uint64_t tcps_sack_rexmits;          /* segments retransmitted from the scoreboard */
	uint64_t tcps_sack_rexmit_bytes;     /* bytes retransmitted from the scoreboard */
	uint64_t tcps_sack_rcv_blocks;       /* SACK blocks received (valid ones) */
	uint64_t tcps_sack_send_blocks;      /* SACK blocks sent */
	uint64_t tcps_sack_sboverflow;       /* scoreboard full: tracking stopped */
	uint64_t tcps_autorcvbuf;            /* receive buffers grown (recvbuf_auto) */
	uint64_t tcps_autosndbuf;            /* send buffers grown (sendbuf_auto) */
	uint64_t tcps_autobuf_fail;          /* buffer growth refused (memory, maxsockbuf) */
};

#ifdef __cplusplus
}
#endif
#endif /* USTACK_STATS_H */
