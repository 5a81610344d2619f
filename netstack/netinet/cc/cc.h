/*
 * cc.h - the congestion-control framework (FreeBSD's cc(4), netinet/cc/cc.h):
 * a module is a table of hooks; TCP never touches snd_cwnd or
 * snd_ssthresh except through these calls.  Issue 4 has newreno
 * (cc_newreno.c); issue 5 adds cubic, the registry by name and
 * TCP_CONGESTION.
 */
#ifndef _USTACK_NETINET_CC_H_
#define _USTACK_NETINET_CC_H_

#include <stddef.h>
#include <stdint.h>

struct tcpcb;

/* What an ACK was (ack_received type). */
#define CC_ACK 0x0001
#define CC_DUPACK 0x0002

/* Congestion signals (cong_signal type). */
#define CC_ECN 0x01     /* ECN echo (issue 5) */
#define CC_RTO 0x02     /* retransmission timeout */
#define CC_RTO_ERR 0x04 /* the timeout was spurious */
#define CC_NDUPACK 0x08 /* duplicate ACK threshold reached */

/* Per-call context (FreeBSD struct cc_var). */
struct cc_var {
	struct tcpcb *tp;
	uint32_t bytes_this_ack; /* newly acknowledged bytes */
	uint32_t flags;          /* CCF_* */
};
#define CCF_CWND_LIMITED 0x0001 /* the sender was limited by cwnd */
#define CCF_ACKNOW 0x0002

struct cc_algo {
	const char *name;
	/* Bytes of per-connection state (0: none); cb_init fills it. */
	size_t data_size;
	int (*cb_init)(struct cc_var *ccv, void *data);
	void (*cb_destroy)(struct cc_var *ccv);
	void (*conn_init)(struct cc_var *ccv);
	void (*ack_received)(struct cc_var *ccv, uint16_t type);
	void (*cong_signal)(struct cc_var *ccv, uint32_t type);
	void (*post_recovery)(struct cc_var *ccv);
	void (*after_idle)(struct cc_var *ccv);
};

extern const struct cc_algo newreno_cc_algo;

/* The hook wrappers TCP calls (cc.c): each checks for a missing hook. */
int cc_attach(struct tcpcb *tp, const struct cc_algo *algo);
void cc_detach(struct tcpcb *tp);
void cc_conn_init(struct tcpcb *tp);
void cc_ack_received(struct tcpcb *tp, uint32_t bytes_acked, uint16_t type, int cwnd_limited);
void cc_cong_signal(struct tcpcb *tp, uint32_t type);
void cc_post_recovery(struct tcpcb *tp);
void cc_after_idle(struct tcpcb *tp);

#endif /* _USTACK_NETINET_CC_H_ */
