/*
 * tcp_fastopen.h - TCP Fast Open (RFC 7413) as FreeBSD has it
 * (tcp_fastopen.c; docs/tcp.md "TCP Fast Open").
 *
 * Client: TCP_FASTOPEN on a socket, then sendto() with an address (the
 * implied connect) or connect(): the first SYN asks for a cookie with an
 * empty option; with a cookie in the stack's client cookie cache the SYN
 * carries it and the first data (RFC 7413 4.2).  The SYN-ACK's cookie is
 * cached (valid lengths only: even, 4..16, 4.1.1); a SYN-ACK that does not
 * acknowledge the SYN's data gets it again at once; a request or a SYN with
 * data answered without a valid cookie disables the path for
 * net.inet.tcp.fastopen.path_disable_time seconds.
 *
 * Server: TCP_FASTOPEN on a listener with net.inet.tcp.fastopen.server_enable:
 * a SYN with a valid cookie makes the connection at once (SYN_RECEIVED, on
 * the accept queue, its data readable) while fewer than half the backlog
 * such connections wait for their handshake's ACK (FreeBSD's rule); a
 * request or an invalid cookie is answered with a fresh cookie through the
 * syncache and the data is ignored (4.1.2).  Cookies are SipHash-2-4 keyed
 * with a per-stack 16-byte key (rotated every autokey seconds, two kept)
 * over the client's address, 8 bytes; in PSK mode the cookie is SipHash
 * keyed with a pre-shared key over that cookie.
 */
#ifndef _USTACK_NETINET_TCP_FASTOPEN_H_
#define _USTACK_NETINET_TCP_FASTOPEN_H_

#include <stddef.h>
#include <stdint.h>
#include "ustack/ustack_opts.h"

#define TCPOPT_FAST_OPEN 34           /* RFC 7413 2 */
#define TCP_FASTOPEN_MIN_COOKIE_LEN 4 /* RFC 7413 4.1.1 */
#define TCP_FASTOPEN_MAX_COOKIE_LEN 16
#define TCP_FASTOPEN_COOKIE_LEN 8 /* ours, as FreeBSD */
#define TCP_FASTOPEN_KEY_LEN 16
#define TCP_FASTOPEN_MAX_KEYS 2
#define TCP_FASTOPEN_MAX_PSKS 2

/* tcpcb t_tfo_flags */
#define TFO_ENABLED 0x01    /* TCP_FASTOPEN set */
#define TFO_COOKIE_REQ 0x02 /* our SYN asks for a cookie */
#define TFO_SYN_DATA 0x04   /* our SYN carries a cookie (and data) */
#define TFO_PENDING 0x08    /* a server child counted in its listener's pending */
#define TFO_PSK 0x10        /* client: the socket's PSK mangles the cookie */

/* A server's TFO connection still in SYN_RECEIVED: after its SYN-ACK it
 * may send data (RFC 7413 4.2.2), so later segments carry no SYN. */
#if UST_TCP_TFO
#define TFO_SYNRCVD_DATA(tp) (((tp)->t_tfo_flags & TFO_PENDING) != 0)
#else
#define TFO_SYNRCVD_DATA(tp) 0
#endif

#if UST_TCP_TFO

struct ust_stack;
struct tcpcb;
struct tcp_seg;
struct tcpopt;
struct socket;
struct sockopt;
struct mbuf;
struct in_conninfo;

/* The count of a listener's TFO connections waiting for their ACK, shared
 * by the listener and those children (the listener may go first). */
struct tfo_pending {
	uint32_t tp_pending;
	uint32_t tp_refs;
};

int tcp_fastopen_init(struct ust_stack *st);
void tcp_fastopen_fini(struct ust_stack *st);
/* A net.inet.tcp.fastopen knob changed (client_enable 0 -> 1 flushes the
 * cookie cache). */
void tcp_fastopen_knob_changed(struct ust_stack *st, size_t off);
/* TCP_FASTOPEN get/set. */
int tcp_fastopen_ctloutput(struct tcpcb *tp, struct sockopt *sopt);
/* Active open of a TFO socket: cookie or request from the cache. */
void tcp_fastopen_connect(struct tcpcb *tp);
/* Bytes of so_snd the SYN may carry. */
uint32_t tcp_fastopen_syn_len(const struct tcpcb *tp, uint32_t sbav);
/* The FO option of our SYN (client) into to. */
void tcp_fastopen_syn_opt(const struct tcpcb *tp, struct tcpopt *to);
/* The SYN-ACK of a TFO SYN (SYN_SENT, after snd_una moved past the SYN). */
void tcp_fastopen_client_synack(struct tcpcb *tp, const struct tcp_seg *seg);
/* A SYN for listener ltp: 1 when a TFO connection was made (m consumed),
 * 0 for the usual path (seg->to.to_tfo_reply asks for a cookie). */
int tcp_fastopen_listen_syn(struct ust_stack *st, struct tcpcb *ltp, struct tcp_seg *seg,
    struct mbuf **mp);
/* The cookie for a SYN-ACK to inc into to (syncache). */
void tcp_fastopen_reply_opt(struct ust_stack *st, const struct in_conninfo *inc, struct tcpopt *to);
/* A TFO child left SYN_RECEIVED, or a tcpcb goes. */
void tcp_fastopen_synrcvd_done(struct tcpcb *tp);
void tcp_fastopen_tcpcb_free(struct tcpcb *tp);

/* The pieces, for tests and the string knobs. */
uint64_t tcp_fastopen_siphash(const uint8_t key[TCP_FASTOPEN_KEY_LEN], const uint8_t *in,
    size_t len);
int tcp_fastopen_setkey(struct ust_stack *st, const char *hex, int psk);
/* Client cookie cache: store (valid lengths only) / look up / disable. */
int tcp_fastopen_ccache_set(struct ust_stack *st, const struct in_conninfo *inc,
    const uint8_t *cookie, unsigned len, uint16_t mss);
int tcp_fastopen_ccache_get(struct ust_stack *st, const struct in_conninfo *inc, uint8_t *cookie,
    unsigned *len);
void tcp_fastopen_ccache_disable(struct ust_stack *st, const struct in_conninfo *inc);
uint32_t tcp_fastopen_ccache_count(const struct ust_stack *st);
void tcp_fastopen_ccache_flush(struct ust_stack *st);

#endif /* UST_TCP_TFO */
#endif /* _USTACK_NETINET_TCP_FASTOPEN_H_ */
