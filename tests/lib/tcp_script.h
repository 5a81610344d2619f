/*
 * tcp_script.h - the TCP packet-script rig of the unit tests and the
 * hostile suite: one stack on the virtual clock behind the loop driver
 * (198.18.0.2/24, a static ARP entry for the fake peer 198.18.0.1,
 * iptest.h), segments from the peer built byte by byte with a reference
 * checksum (tl_frame.h), and a reader that parses and checks what the
 * stack sent.  Sequence numbers are relative as in packetdrill, ours to
 * our ISN and the peer's to the peer's ISN: `tt_in` injects (packetdrill's
 * `<`), `TT_OUT` expects (`>`).  tt_inject/tt_in_abs and the raw_seq/
 * raw_ack fields give absolute numbers where a test needs them.  What was
 * sent is read in order; once all of it is read the driver's log is
 * recycled, so a test may send any number of segments.
 */
#ifndef UST_TCP_SCRIPT_H
#define UST_TCP_SCRIPT_H

#include "iptest.h"
#include "netinet/tcp.h"
#include "ust_test.h"

struct tcpcb;

#define TT_PEER_PORT 40000
#define TT_LOCAL_PORT 8080
#define TT_PEER_ISS 0x10000000u
#define TT_ANY 0xffffffffu /* "do not check" for TT_OUT */

struct tt {
	struct ipt t;
	uint16_t lport, pport;  /* lport: learnt from a SYN we send */
	uint32_t iss;           /* ours, from the SYN or SYN-ACK we sent */
	uint32_t piss;          /* the peer's */
	int rd;                 /* next transmitted frame to read */
	struct ust_socket *so;  /* the connection */
	struct ust_socket *lso; /* a listener, if any */
	uint8_t in_tos;         /* IP TOS of injected segments (packetdrill [ect0], [ce]) */
};

/* A segment the stack sent, parsed (checksums, addresses and ports
 * checked by tt_next). */
struct tt_seg {
	uint16_t flags;
	uint32_t seq, ack;         /* relative: ours to iss, the peer's to piss */
	uint32_t raw_seq, raw_ack; /* as on the wire */
	uint32_t win;              /* raw header field */
	uint16_t urp;
	uint32_t len; /* payload bytes */
	uint8_t tos;  /* the IP TOS octet (its ECN field: RFC 3168) */
	int ipdf;     /* IP DF set */
	uint32_t src, dst;
	uint16_t sport, dport;
	int cksum_ok; /* the TCP checksum verified */
	struct tcpopt to;
	int optlen;
	uint8_t opt[40];
	uint8_t data[LOOPDRV_FRAME]; /* the payload (len bytes) */
};

/* A segment from the peer with absolute numbers; fields left 0 take the
 * rig's: src the peer, dst us, sport pport, dport lport. */
struct tt_hdr {
	uint32_t seq, ack;
	uint16_t flags, win, urp;
	uint8_t opt[40];
	unsigned optlen;
	const uint8_t *data;
	unsigned dlen;
	uint32_t src, dst;
	uint16_t sport, dport;
};

/* The usual peer: SYNs carry <mss 1460,sackOK,eol,eol> as in the
 * FreeBSD scripts; other segments no options. */
extern const uint8_t tt_synopt[8];
/* <mss 1460> */
extern const uint8_t tt_mss1460[4];

/* The rig on a link of the given MTU (tt_init: 1500); the peer's ISS
 * TT_PEER_ISS, ports TT_LOCAL_PORT and TT_PEER_PORT. */
void tt_init(struct tt *tt, uint64_t seed);
void tt_init_mtu(struct tt *tt, uint64_t seed, uint32_t mtu);
/* Closes the sockets, lets TIME_WAIT and every timer run out, frees the
 * stack (leak check). */
void tt_fini(struct tt *tt);
/* Sets a knob; aborts when it is refused. */
void tt_sysctl(struct tt *tt, const char *name, int64_t v);
/* Runs timers for ms of virtual time. */
void tt_advance_ms(struct tt *tt, uint64_t ms);

/* Injects h (tt_hdr: absolute numbers, defaults for zero fields). */
void tt_inject(struct tt *tt, const struct tt_hdr *h);
/* A segment from the peer with absolute seq/ack and raw options. */
void tt_in_abs(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    const uint8_t *opt, size_t optlen, const void *data, size_t dlen);
/* The same with seq relative to the peer's ISS and ack to ours (ack sent
 * as 0 without TH_ACK). */
void tt_in_raw(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    const uint8_t *opt, size_t optlen, const void *data, size_t dlen);
/* tt_in_raw with tt_synopt on SYNs and no options otherwise. */
void tt_in(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win);
void tt_in_data(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    const void *data, size_t len);
/* A segment on an open connection numbered from the first data byte of
 * each side (ISS + 1): rseq 0 is the peer's first byte. */
void tt_peer(struct tt *tt, uint16_t flags, uint32_t rseq, uint32_t rack, uint16_t win,
    const void *data, unsigned dlen);
/* An ICMP error from the peer (type, code, the 4 bytes after the
 * checksum) quoting one of our segments: its IP header with total length
 * iplen, then our port, the peer's and the sequence number seq (absolute),
 * the 8 bytes RFC 792 requires. */
void tt_in_icmp(struct tt *tt, uint8_t type, uint8_t code, uint32_t rest, uint32_t seq,
    uint16_t iplen);

/* Reads the next TCP segment the stack sent (other frames skipped; the
 * stack polled first when everything was read).  Returns 1 and fills *sg,
 * or 0 when there is none.  Checks the IP and TCP checksums, the MAC,
 * the addresses and the ports. */
int tt_next(struct tt *tt, struct tt_seg *sg);
/* Segments sent and not read yet (no poll). */
int tt_pending(struct tt *tt);
/* Reads and counts the segments sent so far. */
int tt_drain(struct tt *tt);
/* 1 when nothing (more) was sent. */
int tt_none(struct tt *tt);
/* "SF.RPEW"-style flags for messages; buf holds 8. */
const char *tt_flagstr(uint16_t f, char *buf);

/* `> flags seq:seq+len(len) ack A win W`: the next segment must match
 * (TT_ANY skips a field; TH_PUSH is compared only when `flags` has it,
 * every flag when exact).  Fills *out when non-NULL (zeroed first).
 * Returns 1 when it matched. */
int tt_out_at(const char *file, int line, struct tt *tt, uint16_t flags, uint32_t seq, uint32_t len,
    uint32_t ack, uint32_t win, int exact, struct tt_seg *out);
#define TT_OUT(tt, flags, seq, len, ack, win) \
	tt_out_at(__FILE__, __LINE__, (tt), (flags), (seq), (len), (ack), (win), 0, NULL)
#define TT_OUT_SEG(tt, flags, seq, len, ack, win, sg) \
	tt_out_at(__FILE__, __LINE__, (tt), (flags), (seq), (len), (ack), (win), 0, (sg))
/* The next segment has exactly these flags (PUSH included), relative seq
 * and ack (ack checked when it carries ACK) and window (w < 0: any);
 * leaves the case when nothing was sent. */
#define TT_EXPECT(tt, f, rseq, rack, w)                                                          \
	do {                                                                                     \
		int _w = (w);                                                                    \
		REQUIRE(tt_pending(tt) > 0);                                                     \
		tt_out_at(__FILE__, __LINE__, (tt), (uint16_t)(f), (rseq), TT_ANY,               \
		    ((f)&TH_ACK) ? (uint32_t)(rack) : TT_ANY, _w < 0 ? TT_ANY : (uint32_t)_w, 1, \
		    NULL);                                                                       \
	} while (0)

/* Nothing (more) was sent. */
#define TT_NONE(tt)                                                                         \
	do {                                                                                \
		struct tt_seg _sg;                                                          \
		char _f[8];                                                                 \
		if (tt_next((tt), &_sg))                                                    \
			UST_FAIL_AT(__FILE__, __LINE__,                                     \
			    "expected no segment, got > %s %u:%u(%u) ack %u win %u",        \
			    tt_flagstr(_sg.flags, _f), _sg.seq, _sg.seq + _sg.len, _sg.len, \
			    _sg.ack, _sg.win);                                              \
	} while (0)

/* tcpi_state through TCP_INFO; -1 when the socket has no connection to
 * report (FreeBSD: the PCB is gone). */
int tt_state(struct ust_socket *so);
int tt_info(struct ust_socket *so, struct ust_tcp_info *ti);
/* CLOSED, or no connection left to report on. */
#define TT_GONE(so) CHECK(tt_state(so) == UST_TCPS_CLOSED || tt_state(so) == -1)
/* SO_ERROR, or -1 when it cannot be read. */
int tt_soerror(struct ust_socket *so);
/* The tcpcb of a socket (NULL once the PCB is gone), and of tt->so. */
struct tcpcb *tt_sotp(struct ust_socket *so);
struct tcpcb *tt_tp(const struct tt *tt);

/* connect tt->so (a new socket when NULL, so options can be set first)
 * to the peer; our SYN in *syn; sets iss and lport.  1 when the SYN was
 * sent. */
int tt_connect(struct tt *tt, struct tt_seg *syn);
/* tt_connect checking FreeBSD's default SYN: `> S 0:0(0) win 65535 <mss
 * 1460,nop,wscale 6,sackOK,TS val .. ecr 0>`. */
int tt_connect_syn(struct tt *tt);
/* tt_connect, then `< S. 0:0(0) ack 1 win peerwin <opt>` and our ACK:
 * 1 when ESTABLISHED. */
int tt_establish(struct tt *tt, uint16_t peerwin, const uint8_t *opt, unsigned optlen);
/* Active open to ESTABLISHED, the peer without window scale or
 * timestamps: `< S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK,eol,eol>`,
 * `> . 1:1(0) ack 1 win 65535`. */
int tt_established_active(struct tt *tt);
/* A listener on 198.18.0.2:8080 (backlog 2, SO_REUSEADDR). */
int tt_listen(struct tt *tt);
/* Passive open to ESTABLISHED: `< S 0:0(0) win 32767 <mss 1460,sackOK,
 * eol,eol>`, `> S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>`, `< .
 * 1:1(0) ack 1 win 32767`, accept(). */
int tt_established_passive(struct tt *tt);

#endif /* UST_TCP_SCRIPT_H */
