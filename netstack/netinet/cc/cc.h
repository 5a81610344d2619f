/*
 * cc.h - the congestion-control framework (FreeBSD's cc(4), netinet/cc/cc.h):
 * a module is a table of hooks; TCP never touches snd_cwnd or
 * snd_ssthresh except through these calls.  Issue 4 has newreno
 * (cc_newreno.c); issue 5 adds cubic (cc_cubic.c), the registry of
 * modules by name, the per-stack default (net.inet.tcp.cc.algorithm) and
 * TCP_CONGESTION.
 */
#ifndef _USTACK_NETINET_CC_H_
#define _USTACK_NETINET_CC_H_

#include <stddef.h>
#include <stdint.h>

struct tcpcb;
struct ust_stack;

/* Longest module name with its NUL (FreeBSD TCP_CA_NAME_MAX). */
#define CC_ALGO_NAME_MAX 16

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
extern const struct cc_algo cubic_cc_algo;

/* The registry (cc.c): the modules compiled in, by name. */
const struct cc_algo *cc_algo_find(const char *name);
/* The idx-th module, NULL past the last. */
const struct cc_algo *cc_algo_get(unsigned idx);
/* "newreno, cubic" (net.inet.tcp.cc.available) into buf; returns the
 * length the whole list needs, without the NUL (as snprintf does). */
size_t cc_algo_list(char *buf, size_t len);
/* The stack's default for new connections (net.inet.tcp.cc.algorithm). */
const struct cc_algo *cc_default_algo(const struct ust_stack *st);
/* net.inet.tcp.cc.algorithm: 0 or UST_ENOENT for an unknown module. */
int cc_set_default_algo(struct ust_stack *st, const char *name);

/* Shared by the modules (cc.c), FreeBSD's newreno_cc_* helpers' place. */
uint32_t cc_initwnd(const struct tcpcb *tp);
uint32_t cc_maxwnd(const struct tcpcb *tp);
uint32_t cc_flight(const struct tcpcb *tp);
uint32_t cc_ss_incr(const struct cc_var *ccv);
void cc_recovery_ack(struct cc_var *ccv, uint16_t type);
void cc_recovery_exit(struct cc_var *ccv);

/* The hook wrappers TCP calls (cc.c): each checks for a missing hook. */
int cc_attach(struct tcpcb *tp, const struct cc_algo *algo);
void cc_detach(struct tcpcb *tp);
/* TCP_CONGESTION on a live connection: the old module's state goes, the
 * new one starts from the current cwnd and ssthresh.  0 or UST_ENOMEM
 * (the old module stays). */
int cc_switch(struct tcpcb *tp, const struct cc_algo *algo);
void cc_conn_init(struct tcpcb *tp);
void cc_ack_received(struct tcpcb *tp, uint32_t bytes_acked, uint16_t type, int cwnd_limited);
void cc_cong_signal(struct tcpcb *tp, uint32_t type);
void cc_post_recovery(struct tcpcb *tp);
void cc_after_idle(struct tcpcb *tp);

#endif /* _USTACK_NETINET_CC_H_ */
