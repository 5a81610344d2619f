/*
 * tcp_prr.h - Proportional Rate Reduction (RFC 6937) for the default TCP
 * stack's fast recovery (net.inet.tcp.do_prr).  See tcp_prr.c.
 */
#ifndef UST_NETINET_TCP_PRR_H
#define UST_NETINET_TCP_PRR_H

#include <stdint.h>

struct tcpcb;

/* Recovery begins (cc_cong_signal has set ssthresh).  sack: the recovery
 * is RFC 6675's (the scoreboard gives pipe and DeliveredData), and the
 * window for this ACK is set at once; otherwise NewReno's estimates.  A
 * no-op when net.inet.tcp.do_prr is 0. */
void tcp_prr_enter(struct tcpcb *tp, int sack);

/* An ACK during recovery (after the scoreboard, snd_una and t_dupacks
 * took it in): snd_cwnd = pipe + sndcnt.  Returns 1 when PRR set the
 * window, 0 when this recovery is not PRR's (the caller's old rule). */
int tcp_prr_ack(struct tcpcb *tp);

/* Recovery ends on the ACK of snd_recover: cwnd = ssthresh (RFC 6937 3).
 * After cc_post_recovery; nothing when the recovery was not PRR's. */
void tcp_prr_exit(struct tcpcb *tp);

/* RFC 6937 3 sndcnt in bytes (whole segments) from the PRR state; pure,
 * for tcp_prr_ack and the unit tests. */
uint32_t tcp_prr_sndcnt(uint32_t prr_delivered, uint32_t prr_out, uint32_t recoverfs,
    uint32_t ssthresh, uint32_t pipe, uint32_t delivered, uint32_t mss);

#endif /* UST_NETINET_TCP_PRR_H */
