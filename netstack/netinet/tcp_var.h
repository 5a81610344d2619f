/*
 * tcp_var.h - the TCP control block and what the TCP files exchange
 * (FreeBSD netinet/tcp_var.h, tcp_timer.h).
 *
 *   ip_input -> tcp_input() -> [syncache_add | syncache_expand] ->
 *       tcp_do_segment() -> per-state helpers -> tcp_reass() -> sbappendstream
 *                                              -> cc_ack_received() ...
 *       -> tcp_output() -> ip_output()
 *   user -> tcp_usrreqs (tcp_usrreq.c) -> tcp_output()
 *   callout -> tcp_timer dispatch (tcp_timer.c) -> tcp_output() / tcp_drop()
 *
 * Ownership of the files (each engineer adds fields only in the section
 * of struct tcpcb marked for their file, and declarations only in the
 * block marked for it):
 *   tcp_input.c, tcp_reass.c     segment processing, RTT, dup ACKs, reassembly
 *   tcp_sack.c                   SACK blocks (receiver) and scoreboard (sender)
 *   tcp_output.c, tcp_timer.c,   sending, timers, control block life,
 *   tcp_subr.c, cc/cc.h, cc/cc.c, ISNs, RSTs, ICMP, congestion-control hooks
 *   cc/cc_newreno.c
 *   tcp_syncache.c, tcp_usrreq.c syncache and cookies, the socket side
 *
 * Time units: the stack clock is in nanoseconds; RTT estimates are kept in
 * microseconds; knobs are in milliseconds (FreeBSD's sysctl units).
 */
#ifndef _USTACK_NETINET_TCP_VAR_H_
#define _USTACK_NETINET_TCP_VAR_H_

#include <stddef.h>
#include <stdint.h>

#include "kern/callout.h"
#include "kern/kassert.h"
#include "netinet/in.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "netinet/tcp.h"
#include "netinet/tcp_fastopen.h"
#include "netinet/tcp_fsm.h"
#include "netinet/tcp_md5.h"
#include "netinet/tcp_seq.h"

struct mbuf;
struct inpcb;
struct socket;
struct sockopt;
struct ust_stack;
struct cc_algo;

/* A received segment, parsed once by tcp_input() and passed by pointer
 * to everything that acts on it (state machine, syncache, RST replies). */
struct tcp_seg {
	struct ifnet *ifp;
	struct in_conninfo inc; /* foreign = the peer, local = us; ports too */
	uint8_t ip_tos;         /* the IP TOS octet: its ECN field (RFC 3168) */
	uint8_t ip_ttl;
	struct tcphdr th; /* host order */
	struct tcpopt to;
	uint32_t hlen; /* IP + TCP header bytes before the payload */
	uint32_t tlen; /* payload bytes */
	uint8_t dsack; /* a D-SACK block was recorded for this segment */
	uint16_t port; /* UDP source port it was encapsulated from (network order); 0: plain */
};

/* The IP and TCP headers without options in front of every segment of a
 * connection (FreeBSD: sizeof(struct tcpiphdr) or tcpip6hdr): what a
 * route's MTU loses before it is an MSS. */
#define TCPIP_HDRLEN 40  /* IPv4 (20) + TCP (20) */
#define TCPIP6_HDRLEN 60 /* IPv6 (40) + TCP (20) */
static inline uint32_t
tcp_hdrlen(const struct in_conninfo *inc)
{
	return (inc_isipv6(inc) ? TCPIP6_HDRLEN : TCPIP_HDRLEN);
}

/* Timers: one callout per connection, armed for the earliest of these
 * deadlines (STYLE: per-tcpcb deadline slots and one dispatch table), so a
 * million idle connections cost one wheel entry each. */
#define TT_DELACK 0
#define TT_REXMT 1
#define TT_PERSIST 2
#define TT_KEEP 3
#define TT_2MSL 4
#define TT_N 5

/* Out-of-order segment queue entry (tcp_reass.c). */
struct tseg_qent;

/* A hole of the SACK scoreboard, [start, end) not SACKed; rxmit: the next
 * byte of it to retransmit (tcp_sack.c). */
struct sackhole {
	struct sackhole *next;
	tcp_seq start;
	tcp_seq end;
	tcp_seq rxmit;
};

/* FreeBSD's sackhint: what tcp_output needs without walking the list. */
/* RFC 5681 3.2 / RFC 6675 2: DupThresh. */
#define TCP_DUPACK_THRESH 3

struct sackhint {
	struct sackhole *nexthole;
	int32_t sack_bytes_rexmit; /* retransmitted, not yet acked or SACKed */
	uint32_t sacked_bytes;     /* bytes SACKed above snd_una */
	uint32_t lost_bytes;       /* bytes of holes RFC 6675 IsLost() deems lost */
	tcp_seq recover_fs;        /* RFC 6675: HighData at recovery entry */
	/* RFC 6937 (tcp_prr.c) */
	uint32_t delivered_data; /* DeliveredData of the last ACK (tcp_sack_doack) */
	uint32_t prr_delivered;  /* bytes delivered during this recovery */
	uint32_t prr_out;        /* bytes sent during this recovery (tcp_output) */
	uint32_t prr_recoverfs;  /* RecoverFS; 0: this recovery is not PRR's */
};

struct tcpcb {
	struct inpcb *t_inpcb;
	struct ust_stack *t_stack;
	int t_state;               /* TCPS_* */
	uint32_t t_flags;          /* TF_* */
	uint32_t t_flags2;         /* TF2_* */
	struct tcpcb *t_outq_next; /* the stack's output queue (TF2_OUTQ) */

	/* send sequence space (RFC 9293 3.3.1) */
	tcp_seq snd_una; /* oldest unacknowledged */
	tcp_seq snd_nxt; /* next to send */
	tcp_seq snd_max; /* highest sent + 1 */
	tcp_seq snd_up;  /* urgent pointer */
	tcp_seq snd_wl1; /* seq of the last window update */
	tcp_seq snd_wl2; /* ack of the last window update */
	tcp_seq iss;
	uint32_t snd_wnd;    /* peer's window, bytes (scaled) */
	uint32_t max_sndwnd; /* largest window the peer offered */

	/* receive sequence space */
	tcp_seq irs;
	tcp_seq rcv_nxt;
	tcp_seq rcv_adv; /* right edge we advertised */
	tcp_seq rcv_up;  /* urgent pointer */
	uint32_t rcv_wnd;
	tcp_seq last_ack_sent;

	/* segment sizes */
	uint32_t t_maxseg;             /* MSS we send with (RFC 9293 3.7.1) */
	uint32_t t_pmtud_saved_maxseg; /* t_maxseg before a black-hole probe lowered it */
	uint32_t t_rcvmss;             /* MSS we advertised */

	/* congestion control (changed only through cc.h hooks) */
	uint32_t snd_cwnd;
	uint32_t snd_ssthresh;
	tcp_seq snd_recover; /* NewReno recovery point (RFC 6582) */
	uint32_t t_dupacks;
	uint32_t t_bytes_acked; /* ABC (RFC 3465) */
	const struct cc_algo *t_cc;
	void *t_ccdata; /* the module's per-connection state */

	/* the function block (tcp_stacks/tcp_stacks.h) and its state */
	const struct tcp_function_block *t_fb;
	void *t_fb_ptr;

	/* RTT (RFC 6298), microseconds; 0 t_srtt means no sample yet */
	uint32_t t_srtt;
	uint32_t t_rttvar;
	uint32_t t_rxtcur;   /* current RTO, microseconds */
	uint32_t t_rxtshift; /* consecutive timeouts (backoff exponent) */
	uint64_t t_rtttime;  /* when the timed segment left (ns); 0: none */
	tcp_seq t_rtseq;     /* the timed segment */
	uint32_t t_rttupdated;
	uint32_t t_softerror; /* ICMP error kept for ETIMEDOUT's place */

	/* timers */
	struct callout t_callout;
	uint64_t t_timers[TT_N]; /* absolute ns; 0: not armed */
	uint64_t t_rcvtime;      /* last segment received (keepalive idle) */
	uint64_t t_starttime;
	uint32_t t_keepinit;   /* ms; 0: the knob (TCP_KEEPINIT) */
	uint32_t t_keepidle;   /* ms; 0: the knob */
	uint32_t t_keepintvl;  /* ms; 0: the knob */
	uint32_t t_keepcnt;    /* 0: the knob */
	uint32_t t_keepprobes; /* keepalive probes sent unanswered */

	/* out-of-order data (tcp_reass.c) */
	struct tseg_qent *t_segq;
	uint32_t t_segqlen;  /* segments queued */
	uint32_t t_segqmbuf; /* bytes queued */

	/* urgent data (RFC 9293 3.8.5; SO_OOBINLINE semantics, see tcp_input.c) */
	uint8_t t_oobflags; /* TCPOOB_* */
	uint8_t t_iobc;     /* the out-of-band byte */

#if UST_TCP_TFO
	/* TCP Fast Open (tcp_fastopen.c) */
	struct tfo_pending *t_tfo_pending; /* listener's count of TFO children */
	uint8_t t_tfo_flags;               /* TFO_* (tcp_fastopen.h) */
	uint8_t t_tfo_cookie_len;
	uint8_t t_tfo_cookie[16]; /* the SYN's cookie (before connect: the PSK) */
#endif

	/* RFC 7323 / RFC 2018 state (negotiated in issue 4, used in issue 5) */
	uint8_t snd_scale;
	uint8_t rcv_scale;
	uint8_t request_r_scale;
	uint8_t requested_s_scale;
	uint32_t ts_recent;
	uint64_t ts_recent_age;
	uint32_t ts_offset;
	uint32_t t_phsum; /* tcp_output: IPv4 pseudo-header sum less the length; 0: not yet */
	uint16_t t_port;  /* remote UDP encapsulation port (network order); 0: plain TCP */

	/* statistics for TCP_INFO */
	uint64_t t_sndrexmitpack;
	uint64_t t_sndrexmitbyte;
	uint64_t t_rcvoopack;
	uint64_t t_sndzerowin;
	uint64_t t_bytes_acked_total;
	uint64_t t_bytes_rcvd_total;

	/* --- tcp_input.c / tcp_reass.c section --- */
	uint32_t snd_limited; /* segments sent by limited transmit (RFC 3042) */

	/* --- tcp_output.c / tcp_timer.c / tcp_subr.c / cc section --- */
	uint32_t t_rxtbase; /* RTO (us) when the current backoff began */

	/* --- tcp_autobuf.c section (socket buffer auto-sizing) --- */
	uint64_t rfbuf_start; /* receive measurement began (ns, stack clock) */
	uint32_t rfbuf_ts;    /* our TSval when it began (RFC 7323 TS clock) */
	uint32_t rfbuf_cnt;   /* in-order bytes received since */
	uint8_t rfbuf_on;     /* a measurement is running */

	/* --- tcp_syncache.c / tcp_usrreq.c section --- */

	/* --- tcp_sack.c section (RFC 2018, RFC 2883, RFC 6675) --- */
	/* receiver: blocks of the reassembly queue, the most recent first */
	struct sackblk sackblks[TCP_MAX_SACK];
	uint8_t rcv_numsacks;
	uint8_t rcv_dsack_valid; /* RFC 2883: rcv_dsack goes out once */
	struct sackblk rcv_dsack;
	/* sender: the scoreboard, holes sorted by sequence number */
	struct sackhole *snd_holes;
	struct sackhole *snd_holes_tail;
	uint32_t snd_numholes;
	tcp_seq snd_fack; /* highest SACKed + 1 */
	struct sackhint sackhint;
	uint8_t t_sack_overflow; /* scoreboard gave up: NewReno until recovery ends */
	uint8_t t_sack_recovery; /* this fast recovery is RFC 6675's */
};

/* t_flags (FreeBSD TF_* meanings) */
#define TF_ACKNOW 0x00000001  /* ack immediately */
#define TF_DELACK 0x00000002  /* ack, but try to delay it */
#define TF_NODELAY 0x00000004 /* no Nagle */
#define TF_NOOPT 0x00000008   /* no options on SYN */
#define TF_SENTFIN 0x00000010 /* FIN sent */

/* RFC 7323 flags: 0 when compiled out (UST_TCP_RFC1323), so every test
 * of them folds away and setting them does nothing. */
#define TF_REQ_SCALE (UST_TCP_RFC1323 ? 0x00000020 : 0)  /* window scale requested */
#define TF_RCVD_SCALE (UST_TCP_RFC1323 ? 0x00000040 : 0) /* peer sent window scale */
#define TF_REQ_TSTMP (UST_TCP_RFC1323 ? 0x00000080 : 0)  /* timestamps requested */
#define TF_RCVD_TSTMP (UST_TCP_RFC1323 ? 0x00000100 : 0) /* peer sent timestamps */

/* 0 when compiled out (ustack_opts.h): every test of it folds away. */
#define TF_SACK_PERMIT (UST_TCP_SACK ? 0x00000200 : 0) /* both sides agreed to SACK */
#define TF_NEEDSYN 0x00000400                          /* SYN to send */
#define TF_NEEDFIN 0x00000800                          /* FIN to send */
#define TF_NOPUSH 0x00001000                           /* TCP_NOPUSH */
#define TF_MORETOCOME 0x00010000                       /* more data on the way: hold */
#define TF_LQ_OVERFLOW 0x00020000                      /* listen queue overflow */
#define TF_LASTIDLE 0x00040000                         /* connection was idle */
#define TF_RXWIN0SENT 0x00080000                       /* we advertised a zero window */
#define TF_FASTRECOVERY 0x00100000                     /* in NewReno fast recovery */
#define TF_WASFRECOVERY 0x00200000                     /* was in fast recovery before a timeout */
#define TF_SIGNATURE 0x00400000                        /* TCP_MD5SIG: sign and check (RFC 2385) */
#define TF_FORCEDATA 0x00800000                        /* send even without window (probe) */
#define TF_ECN_PERMIT (UST_TCP_ECN ? 0x04000000 : 0)   /* ECN negotiated (RFC 3168 6.1.1) */
#define TF_ECN_SND_CWR 0x08000000                      /* CWR on the next new data (6.1.2) */
#define TF_ECN_SND_ECE 0x10000000                      /* ECE on every ACK until CWR (6.1.3) */
#define TF_CONGRECOVERY 0x20000000                     /* congestion (ECN) recovery */
#define TF_WASCRECOVERY 0x40000000
#define IN_FASTRECOVERY(f) (((f)&TF_FASTRECOVERY) != 0)
#define IN_CONGRECOVERY(f) (((f)&TF_CONGRECOVERY) != 0)
#define IN_RECOVERY(f) (((f) & (TF_FASTRECOVERY | TF_CONGRECOVERY)) != 0)

/* t_flags2 */
#define TF2_ECN_SYN 0x00000001 /* our last SYN was ECN-setup (ECE|CWR) */
#define TF2_OUTQ 0x00000002    /* on the stack's output queue (tcp_outq.c) */
/* PMTUD black-hole detection (tcp_timer.c, net.inet.tcp.pmtud_blackhole_detection) */
#define TF2_PLPMTU_BLACKHOLE 0x00000100 /* the MSS is lowered for a suspected black hole */
#define TF2_PLPMTU_MINMSS 0x00000200    /* ... down to the family's default MSS */
#define TF2_PLPMTU_MAXSEGSNT 0x00000400 /* the last data segment sent was full-sized */

/* t_oobflags */
#define TCPOOB_HAVEDATA 0x01
#define TCPOOB_HADDATA 0x02

#define intotcpcb(inp) ((struct tcpcb *)(inp)->inp_ppcb)
#define sototcpcb(so) (intotcpcb(sotoinpcb(so)))

/* Invariants (UST_DEBUG, kern/kassert.h) of the handlers in tcp_input.c and
 * tcp_timer.c. */
/* The tcpcb is in one of the states from lo to hi (tcp_fsm.h order). */
#define TCP_ASSERT_STATE(tp, lo, hi)                                                          \
	KASSERT((tp)->t_state >= (lo) && (tp)->t_state <= (hi),                               \
	    ("%s: tp %p in state %d, expected %d..%d", __func__, (void *)(tp), (tp)->t_state, \
	        (lo), (hi)))
/* What was acknowledged and sent lies below what was ever sent. */
#define TCP_ASSERT_SEQ(tp)                                                                      \
	KASSERT(SEQ_LEQ((tp)->snd_una, (tp)->snd_max) && SEQ_LEQ((tp)->snd_nxt, (tp)->snd_max), \
	    ("%s: tp %p snd_una %u snd_nxt %u snd_max %u", __func__, (void *)(tp),              \
	        (unsigned)(tp)->snd_una, (unsigned)(tp)->snd_nxt, (unsigned)(tp)->snd_max))

/* Bounds (RFC 9293, RFC 6298). */
#define TCP_MAXWIN 65535   /* largest unscaled window */
#define TCP_MAXRXTSHIFT 12 /* FreeBSD: 12 retransmissions */
#define TCP_MSS_MIN 64

/* --- tcp_input.c / tcp_reass.c --- */
void tcp_input(struct mbuf *m, uint32_t off); /* inetsw[IPPROTO_TCP] */
/* A new RTT sample in microseconds (RFC 6298 2.2-2.3, Karn in the caller). */
void tcp_xmit_timer(struct tcpcb *tp, uint32_t rtt_us);
/* Sets t_maxseg from the peer's MSS option (0: none) and the route MTU. */
void tcp_mss(struct tcpcb *tp, uint32_t offer);
/* Queues or appends the payload of seg (m holds the payload only); returns
 * TH_FIN if a queued FIN became in order.  Consumes m.  m NULL: only
 * deliver what became in order. */
int tcp_reass(struct tcpcb *tp, const struct tcp_seg *seg, tcp_seq seq, struct mbuf *m);
void tcp_reass_flush(struct tcpcb *tp);

/* --- tcp_outq.c: one tcp_output per connection per poll --- */
/* Output that may wait for the end of the poll's receive loop: inside
 * ust_stack_poll with net.inet.tcp.ack_coalesce on, queues tp once (every
 * segment of the burst is then answered by one ACK, sent before the poll
 * returns); otherwise calls tcp_output at once.  For ACKs and sends whose
 * timing the RFCs leave to the receiver (in-order data, new ACKs, window
 * updates); out-of-order and gap-filling ACKs, challenge ACKs and recovery
 * output call tcp_output directly. */
void tcp_output_batch(struct tcpcb *tp);
/* Runs tcp_output for every queued connection, in queue order, and
 * empties the queue.  Called by ust_stack_poll. */
void tcp_output_drain(struct ust_stack *st);
/* Takes tp off the queue (its tcpcb is being freed). */
void tcp_output_unqueue(struct tcpcb *tp);

/* --- tcp_output.c / tcp_timer.c / tcp_subr.c --- */
/* Sends what the state, windows and timers allow. Returns 0 or an error. */
int tcp_output(struct tcpcb *tp);
/* The payload of a full segment: t_maxseg less the options every segment
 * carries (FreeBSD tcp_fixed_maxseg()). */
uint32_t tcp_fixed_maxseg(const struct tcpcb *tp);
void tcp_setpersist(struct tcpcb *tp);
/* A control segment not carried by a tcpcb's sending logic: RST or ACK
 * answering seg (addresses and ports swapped), with the given seq, ack
 * and flags.  tp may be NULL (no connection).  Counts. */
void tcp_respond(struct ust_stack *st, struct tcpcb *tp, const struct tcp_seg *seg, tcp_seq ack,
    tcp_seq seq, uint16_t flags);
/* RFC 5961 7: a challenge ACK, rate limited per stack (ack_war_*). */
void tcp_send_challenge_ack(struct tcpcb *tp, const struct tcp_seg *seg);
/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey). */
tcp_seq tcp_new_isn(struct ust_stack *st, const struct in_conninfo *inc);
struct tcpcb *tcp_newtcpcb(struct inpcb *inp);
/* Closes the connection: frees the tcpcb and the PCB (and the socket if
 * the user has closed it).  Returns NULL. */
struct tcpcb *tcp_close(struct tcpcb *tp);
/* Drops with a RST if synchronized, reporting errno to the user. */
struct tcpcb *tcp_drop(struct tcpcb *tp, int error);
void tcp_twstart(struct tcpcb *tp);       /* enter TIME_WAIT */
int tcp_tw_reclaim(struct ust_stack *st); /* zones full: end the oldest TIME_WAIT */
void tcp_ctlinput(struct ust_stack *st, const struct icmp_ctl *ctl);
/* Timers: delay 0 stops one. */
void tcp_timer_activate(struct tcpcb *tp, int which, uint64_t delay_ns);
int tcp_timer_active(const struct tcpcb *tp, int which);
void tcp_timer_stop_all(struct tcpcb *tp);
/* The current RTO with backoff, clamped to rexmit_min/max, in ns. */
uint64_t tcp_rexmt_timeout(const struct tcpcb *tp, uint32_t shift);
int tcp_init(struct ust_stack *st);
void tcp_fini(struct ust_stack *st);
/* kern.ipc.maxsockets was written: raise the TCP zones' limits to match. */
void tcp_maxsockets_changed(struct ust_stack *st);
/* Helpers of the same files, for the others too:
 * the RFC 7323 timestamp clock (ms of the stack clock; add ts_offset);
 * the MSS to offer a peer (route MTU less tcp_hdrlen, RFC 9293 3.7.1);
 * the window scale to request (smallest shift covering kern.ipc.maxsockbuf);
 * the receive window to advertise now (bytes, unscaled, never shrinking);
 * FreeBSD's backoff multiplier for a shift (1, 2, 4 ... 512);
 * the keepinit time of a connection (TCP_KEEPINIT or the knob), ns;
 * SipHash-2-4 (RFC 6528 F, also usable for SYN cookies). */
uint32_t tcp_ts_getticks(const struct ust_stack *st);
uint32_t tcp_mssopt(struct ust_stack *st, const struct in_conninfo *inc);
uint8_t tcp_compute_wscale(const struct ust_stack *st);
uint32_t tcp_rcv_window(const struct tcpcb *tp);
uint32_t tcp_backoff_mult(uint32_t shift);
uint64_t tcp_keepinit_ns(const struct tcpcb *tp);
uint64_t tcp_siphash24(const uint64_t key[2], const uint8_t *in, size_t len);
/* An MT_HEADER mbuf with room for hlen bytes of TCP header and leading
 * space for IP and the link (as much of UST_MAX_HDR as fits). */
struct mbuf *tcp_hdr_mbuf(struct ust_stack *st, uint32_t hlen);
/* ip_output for TCP: a segment to one of our own addresses is queued and
 * delivered from a callout, never from inside the sender's call chain
 * (see tcp_subr.c).  Consumes m. */
int tcp_ip_output(struct ust_stack *st, struct mbuf *m, const struct ip_out_args *args);
#if UST_INET6
struct ip6_out_args;
struct ip6ctlparam;
/* tcp_ip_output for IPv6 (ip6_output, or the loopback ring for our own
 * addresses). */
int tcp6_ip_output(struct ust_stack *st, struct mbuf *m, const struct ip6_out_args *args);
/* The TCP segment m (header first) from inc's local to its foreign end
 * over IPv6: the full checksum, then tcp6_ip_output.  flowcache (NULL:
 * none) holds the connection's flow label once worked out, so that it
 * is hashed once per connection, not per segment (FreeBSD keeps it in
 * the inpcb too).  ro (NULL: none) is the connection's route cache
 * (struct inp_route, ip6_output's args.ro). */
int tcp6_output_seg(struct ust_stack *st, struct mbuf *m, const struct in_conninfo *inc,
    uint8_t hlim, uint8_t tclass, uint32_t *flowcache, struct inp_route *ro);
/* The MTU of the path to an IPv6 peer (route or path MTU cache), 0
 * without a route. */
uint32_t tcp_maxmtu6(struct ust_stack *st, const struct in_conninfo *inc);
#endif

#if UST_TCP_SACK
/* --- tcp_sack.c (RFC 2018, RFC 2883, RFC 6675) --- */
/* Receiver: [start, end) is the run of queued data holding the segment
 * just received (RFC 2018 4: it goes first). */
void tcp_update_sack_list(struct tcpcb *tp, tcp_seq start, tcp_seq end);
/* Receiver: duplicate data [start, end) to report first once (RFC 2883). */
void tcp_update_dsack_list(struct tcpcb *tp, tcp_seq start, tcp_seq end);
/* Receiver: drops blocks rcv_nxt has reached. */
void tcp_clean_sackreport(struct tcpcb *tp);
/* Receiver: the blocks for the next segment into to (D-SACK first);
 * clears the D-SACK.  Returns the number of blocks. */
int tcp_sack_fill(struct tcpcb *tp, struct tcpopt *to, int maxblocks);
/* Sender: updates the scoreboard from the ACK's blocks (validated). */
void tcp_sack_doack(struct tcpcb *tp, const struct tcpopt *to, tcp_seq th_ack);
/* Sender: the next hole to retransmit (RFC 6675 NextSeg rule 1), NULL if
 * none; *len set to what of it to send. */
struct sackhole *tcp_sack_output(struct tcpcb *tp, uint32_t *len);
void tcp_free_sackholes(struct tcpcb *tp);
/* RFC 6675 IsLost(snd_una): DupThresh segments SACKed above snd_una. */
int tcp_sack_islost(const struct tcpcb *tp);
void tcp_sack_update_hints(struct tcpcb *tp, tcp_seq th_ack);
/* RFC 6675 pipe estimate in bytes. */
uint32_t tcp_sack_pipe(const struct tcpcb *tp);
/* RFC 6675 5 step 4: a new recovery starts (holes' rxmit kept). */
void tcp_sack_recovery_reset(struct tcpcb *tp);
/* After a timeout (RFC 6675 5.1): the scoreboard is kept, every hole
 * goes again. */
void tcp_sack_rto(struct tcpcb *tp);
/* RFC 6675 5.1: where a retransmission from snd_nxt starts once SACKed
 * bytes are skipped; *sacked: SACKed bytes below it, *limit: the end of
 * the hole it is in (snd_max past snd_fack). */
tcp_seq tcp_sack_rexmit_skip(const struct tcpcb *tp, uint32_t *sacked, tcp_seq *limit);
int tcp_sack_init(struct ust_stack *st);
void tcp_sack_fini(struct ust_stack *st);
#else  /* no SACK (ustack_opts.h): TF_SACK_PERMIT is 0, no scoreboard */
static inline void
tcp_update_sack_list(struct tcpcb *tp, tcp_seq start, tcp_seq end)
{
	(void)tp, (void)start, (void)end;
}
static inline void
tcp_update_dsack_list(struct tcpcb *tp, tcp_seq start, tcp_seq end)
{
	(void)tp, (void)start, (void)end;
}
static inline void
tcp_clean_sackreport(struct tcpcb *tp)
{
	(void)tp;
}
static inline int
tcp_sack_fill(struct tcpcb *tp, struct tcpopt *to, int maxblocks)
{
	(void)tp, (void)to, (void)maxblocks;
	return (0);
}
static inline void
tcp_sack_doack(struct tcpcb *tp, const struct tcpopt *to, tcp_seq th_ack)
{
	(void)tp, (void)to, (void)th_ack;
}
static inline struct sackhole *
tcp_sack_output(struct tcpcb *tp, uint32_t *len)
{
	(void)tp;
	*len = 0;
	return (NULL);
}
static inline void
tcp_free_sackholes(struct tcpcb *tp)
{
	(void)tp;
}
static inline int
tcp_sack_islost(const struct tcpcb *tp)
{
	(void)tp;
	return (0);
}
static inline void
tcp_sack_update_hints(struct tcpcb *tp, tcp_seq th_ack)
{
	(void)tp, (void)th_ack;
}
static inline uint32_t
tcp_sack_pipe(const struct tcpcb *tp)
{
	(void)tp;
	return (0);
}
static inline void
tcp_sack_recovery_reset(struct tcpcb *tp)
{
	(void)tp;
}
static inline void
tcp_sack_rto(struct tcpcb *tp)
{
	(void)tp;
}
static inline tcp_seq
tcp_sack_rexmit_skip(const struct tcpcb *tp, uint32_t *sacked, tcp_seq *limit)
{
	(void)limit;
	*sacked = 0;
	return (tp->snd_nxt);
}
static inline int
tcp_sack_init(struct ust_stack *st)
{
	(void)st;
	return (0);
}
static inline void
tcp_sack_fini(struct ust_stack *st)
{
	(void)st;
}
#endif /* UST_TCP_SACK */

/* --- tcp_autobuf.c (net.inet.tcp.recvbuf_auto / sendbuf_auto) --- */
/* In-order data of seg is about to be appended to so_rcv: counts it and,
 * once per round trip, grows so_rcv when the peer filled it. */
#if UST_TCP_AUTOBUF
void tcp_autorcvbuf(struct tcpcb *tp, const struct tcp_seg *seg, struct socket *so);
/* An ACK of new data arrived, before the acknowledged bytes leave so_snd:
 * grows so_snd when the application keeps it full and the network would
 * take more.  The caller wakes writers (sowwakeup) afterwards. */
void tcp_autosndbuf(struct tcpcb *tp, struct socket *so);
#else /* buffers keep their size (ustack_opts.h) */
static inline void
tcp_autorcvbuf(struct tcpcb *tp, const struct tcp_seg *seg, struct socket *so)
{
	(void)tp, (void)seg, (void)so;
}
static inline void
tcp_autosndbuf(struct tcpcb *tp, struct socket *so)
{
	(void)tp, (void)so;
}
#endif

/* --- tcp_syncache.c / tcp_usrreq.c --- */
/* A SYN for a listener (lso).  Consumes m. */
void syncache_add(struct ust_stack *st, struct socket *lso, const struct tcp_seg *seg,
    struct mbuf *m);
/* An ACK (no SYN) for a listener: completes a handshake from the syncache
 * or a valid SYN cookie.  Returns the new connected socket, or NULL (the
 * caller answers with a RST when *reset is set). */
struct socket *syncache_expand(struct ust_stack *st, struct socket *lso, const struct tcp_seg *seg,
    int *reset);
void syncache_chkrst(struct ust_stack *st, const struct tcp_seg *seg);
void syncache_unreach(struct ust_stack *st, const struct icmp_ctl *ctl);
#if UST_INET6
void syncache_unreach6(struct ust_stack *st, const struct ip6ctlparam *ctl);
#endif
int syncache_init(struct ust_stack *st);
void syncache_fini(struct ust_stack *st);
/* Fills TCP_INFO. */
void tcp_fill_info(const struct tcpcb *tp, struct ust_tcp_info *ti);
extern const struct pr_usrreqs tcp_usrreqs;
/* Socket options (in_ctloutput); SOL_SOCKET ones after the socket layer. */
int tcp_ctloutput(struct socket *so, struct sockopt *sopt);
/*
 * Socket lifetime: tcp_usr_detach (the user's close) keeps a tcpcb that
 * must live on (FIN_WAIT_*, LAST_ACK, TIME_WAIT...) and marks its socket
 * SS_PROTOREF.  tcp_close() must then: free the tcpcb and the inpcb
 * (in_pcbfree clears so_pcb), soisdisconnected(so) if the socket is still
 * connected, clear SS_PROTOREF and call sofree(so), which frees it only
 * when the user has closed it (SS_NOFDREF).  sonewconn() sockets waiting
 * in a listen queue carry SS_NOFDREF, so tcp_close() frees them too
 * (sofree takes them off the queue).  syncache_init/syncache_fini are
 * called by tcp_init/tcp_fini (after st_tcbinfo exists / before it goes).
 */
/* A new inpcb + tcpcb (TCPS_CLOSED) for so (attach, and syncache_expand
 * for sonewconn() sockets). */
int tcp_attach_pcb(struct socket *so);
/* The connection a listener lso makes for a handshake (syncache_socket,
 * or tcp_input's tcp_listen_syn without the syncache): a socket on lso's
 * incomplete queue whose tcpcb (TCPS_CLOSED) is connected inc's local to
 * its foreign address and port (network order) and has the listener's IP TTL/TOS, TCP
 * options, keepalive times and congestion control.  Returns 0 (*tpp set),
 * UST_ENOBUFS when no socket was made (listen queue full or no memory;
 * counted as tcps_listendrop) or UST_ECONNABORTED when the socket was made
 * and freed again (PCB or address failure). */
int tcp_listen_newconn(struct socket *lso, const struct in_conninfo *inc, struct tcpcb **tpp);
/* tcp_input.c: the SYN_RECEIVED state of a connection made at once from a
 * listener's SYN (no syncache, or a TCP Fast Open SYN with a valid cookie). */
void tcp_synrcvd_init(struct tcpcb *tp, const struct tcp_seg *seg);
/* tcp_input.c: new data while the pipe leaves room under cwnd (may_send),
 * then the retransmission timer kept while data is outstanding. */
void tcp_recovery_send_new(struct tcpcb *tp, uint32_t pipe, uint32_t cwnd, uint32_t maxseg,
    int may_send);
/* RFC 7323 2.2: the window shift we request (from kern.ipc.maxsockbuf). */
uint8_t tcp_request_wscale(const struct ust_stack *st);
/* Keepalive parameters in effect (TCP_KEEP* options, else the knobs), ms. */
uint32_t tcp_keepidle_ms(const struct tcpcb *tp);
uint32_t tcp_keepintvl_ms(const struct tcpcb *tp);
uint32_t tcp_keepinit_ms(const struct tcpcb *tp);
uint32_t tcp_keepcnt_n(const struct tcpcb *tp);
/* FreeBSD tcp_mss(): rounds so_rcv up to a multiple of t_maxseg once the
 * MSS is known (SO_RCVBUF reads back 65700); tcp_mss() may call it. */
void tcp_rcvbuf_roundup(struct tcpcb *tp);
/* Entries in the syncache now (tests, netstat). */
uint32_t syncache_count(const struct ust_stack *st);
/* The syncache's and the tcpcb zone, for the stack's zone statistics. */
const struct ust_zone *syncache_zone(const struct ust_stack *st);
const struct ust_zone *tcp_tcpcb_zone(const struct ust_stack *st);
/* Calls fn for each embryonic connection with its identity (local = us,
 * foreign = the peer; network order). */
typedef void (*syncache_visit_fn)(void *arg, const struct in_conninfo *inc);
void syncache_foreach(struct ust_stack *st, syncache_visit_fn fn, void *arg);

#endif /* _USTACK_NETINET_TCP_VAR_H_ */
