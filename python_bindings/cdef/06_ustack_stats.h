/*
 * cffi cdef for include/ustack/ustack_stats.h, in header order.  The
 * functions that fill these structs are in 02_ustack.h (ustack.h declares
 * them).  _ffi_build.py asserts that every all-uint64_t counter struct here
 * lists every field of the real one, so Python's netstat() misses nothing.
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
