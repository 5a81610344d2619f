/*
 * tcp.h - the TCP header and its options on the wire (RFC 9293 3.1, RFC
 * 7323, RFC 2018; FreeBSD netinet/tcp.h), and the one place that reads and
 * writes them.  tcp_hdr_parse() checks the length once and fills a
 * host-order struct tcphdr; tcp_opts_parse() walks the options with every
 * length checked against what is there; tcp_opts_write() lays options out
 * the way FreeBSD does, so that the packet-level conformance suite matches.
 */
#ifndef _USTACK_NETINET_TCP_H_
#define _USTACK_NETINET_TCP_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kern/endian.h"
#include "ustack/ustack_opts.h"

#define TCP_HDR_MIN 20
#define TCP_MAXOLEN 40
#define TCP_MAXHLEN (TCP_HDR_MIN + TCP_MAXOLEN)
#define TCP_CSUM_OFF 16 /* th_sum within the header */

/* th_flags */
#define TH_FIN 0x001
#define TH_SYN 0x002
#define TH_RST 0x004
#define TH_PUSH 0x008
#define TH_ACK 0x010
#define TH_URG 0x020
#define TH_ECE 0x040
#define TH_CWR 0x080
#define TH_AE 0x100 /* RFC 3540 NS / AccECN AE bit */
#define TH_FLAGS (TH_FIN | TH_SYN | TH_RST | TH_PUSH | TH_ACK | TH_URG | TH_ECE | TH_CWR)

struct tcphdr {
	uint16_t th_sport;
	uint16_t th_dport;
	uint32_t th_seq;
	uint32_t th_ack;
	uint8_t th_off; /* header length in 32-bit words */
	uint16_t th_flags;
	uint16_t th_win;
	uint16_t th_sum;
	uint16_t th_urp;
};

/* Parses the fixed header of a segment of avail bytes.  Returns 0, or -1
 * when avail is shorter than 20 bytes or than th_off * 4, or th_off < 5. */
static inline int
tcp_hdr_parse(const uint8_t *p, size_t avail, struct tcphdr *th)
{
	if (avail < TCP_HDR_MIN)
		return (-1);
	th->th_sport = be16dec(p);
	th->th_dport = be16dec(p + 2);
	th->th_seq = be32dec(p + 4);
	th->th_ack = be32dec(p + 8);
	th->th_off = p[12] >> 4;
	th->th_flags = (uint16_t)(((p[12] & 0x01) << 8) | p[13]);
	th->th_win = be16dec(p + 14);
	th->th_sum = be16dec(p + 16);
	th->th_urp = be16dec(p + 18);
	if (th->th_off < 5 || (size_t)th->th_off * 4 > avail)
		return (-1);
	return (0);
}

/* Writes the fixed header (checksum as given; fill it afterwards). */
static inline void
tcp_hdr_write(uint8_t *p, const struct tcphdr *th)
{
	be16enc(p, th->th_sport);
	be16enc(p + 2, th->th_dport);
	be32enc(p + 4, th->th_seq);
	be32enc(p + 8, th->th_ack);
	p[12] = (uint8_t)((th->th_off << 4) | ((th->th_flags >> 8) & 0x01));
	p[13] = (uint8_t)th->th_flags;
	be16enc(p + 14, th->th_win);
	be16enc(p + 16, th->th_sum);
	be16enc(p + 18, th->th_urp);
}

/* Option kinds. */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MAXSEG 2
#define TCPOLEN_MAXSEG 4
#define TCPOPT_WINDOW 3
#define TCPOLEN_WINDOW 3
#define TCPOPT_SACK_PERMITTED 4
#define TCPOLEN_SACK_PERMITTED 2
#define TCPOPT_SACK 5
#define TCPOLEN_SACK 8 /* per block */
#define TCPOPT_TIMESTAMP 8
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_TSTAMP_APPA (TCPOLEN_TIMESTAMP + 2)

#define TCP_MAX_SACK 4      /* blocks that fit beside timestamps: 3; alone: 4 */
#define TCP_MAX_WINSHIFT 14 /* RFC 7323 2.3 */

/* Parsed options (FreeBSD struct tcpopt). */
#define TOF_MSS 0x0001
#define TOF_SCALE 0x0002
#define TOF_SACKPERM 0x0004
#define TOF_TS 0x0010
#define TOF_SACK 0x0080
#define TOF_FASTOPEN 0x0100  /* RFC 7413 Fast Open option (tcp_fastopen.h) */
#define TOF_SIGNATURE 0x0040 /* RFC 2385 signature option (to_sig) */

struct sackblk {
	uint32_t start;
	uint32_t end;
};

struct tcpopt {
	uint32_t to_flags;
	uint32_t to_tsval;
	uint32_t to_tsecr;
	uint16_t to_mss;
	uint8_t to_wscale; /* as received; clamp to 14 when used */
	uint8_t to_nsacks;
	struct sackblk to_sacks[TCP_MAX_SACK];
#if UST_TCP_TFO
	uint8_t to_tfo_len;        /* cookie length as sent (0: a request) */
	uint8_t to_tfo_reply;      /* listener: answer with a fresh cookie */
	uint8_t to_tfo_cookie[16]; /* its first 16 bytes (longer: invalid) */
#endif
#if UST_TCP_SIGNATURE
	uint8_t to_sig[16]; /* the digest received (TOF_SIGNATURE) */
#endif
};

/* Walks len bytes of options.  Options other than SACK count only on a SYN
 * where RFC 7323 and RFC 2018 allow them (is_syn); timestamps anywhere.  A
 * malformed option (length 0 or 1, or running past the end) ends the walk:
 * what was parsed before it stands, the rest is ignored (RFC 9293 3.1: "a
 * TCP implementation MUST be prepared to handle an illegal option length
 * ... without crashing").  Returns the number of malformed options seen
 * (0 or 1), for the counters.  (tcp_subr.c: one copy, not one per caller.) */
int tcp_opts_parse(const uint8_t *cp, size_t len, int is_syn, struct tcpopt *to);

/* Lays out the options in to (at most TCP_MAXOLEN bytes) in FreeBSD's
 * order and alignment, which the conformance suite checks byte for byte:
 * MSS; window scale after NOPs to an odd offset; SACK-permitted at an even
 * offset; timestamps, the RFC 2385 signature (16 zero bytes for
 * tcp_md5_sign to fill) and SACK blocks after NOPs to an offset of 2 mod 4;
 * EOL padding to a multiple of 4.  SACK blocks are cut to what fits.
 * Returns the option length (a multiple of 4). */
unsigned tcp_opts_write(uint8_t *optp, const struct tcpopt *to);

#endif /* _USTACK_NETINET_TCP_H_ */
