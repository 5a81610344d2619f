/*
 * tcp_stacks.h - TCP function blocks (FreeBSD's tcp_function_block,
 * netinet/tcp_var.h and tcp_subr.c's registry), in their essentials.
 *
 * A function block is a table of hooks that a connection runs: its
 * segment processing, its output and, for a block that only replaces
 * loss detection (rack.c), the few hooks the default stack calls at the
 * points where loss detection happens.  The blocks compiled in form a
 * const table ("freebsd", the default stack, always; "rack" with
 * UST_TCP_RACK).  Per stack, net.inet.tcp.functions_default names the
 * block of new connections and net.inet.tcp.functions_available lists the
 * blocks with their connection counts; per socket, TCP_FUNCTION_BLK
 * (struct ust_tcp_function_set) reads or switches the block.
 *
 *   tcp_newtcpcb -> tcp_fb_attach(default)          tcp_close -> tcp_fb_detach
 *   tcp_input -> tp->t_fb->tfb_tcp_do_segment (tcp_do_segment for both)
 *   tcp_output_send -> tfb_tcp_sent       a data segment leaves
 *   tcp_do_ack / header prediction -> tfb_tcp_ack_processed
 *   tcp_timer_rexmt -> tfb_tcp_rexmit_tmr  the RTO fired
 *   TCP_FUNCTION_BLK set -> tcp_fb_switch (tfb_tcp_handoff_ok)
 *
 * The "freebsd" block leaves every optional hook NULL: the default stack
 * pays one predictable branch per hook point and one indirect call per
 * segment.
 */
#ifndef _USTACK_NETINET_TCP_STACKS_H_
#define _USTACK_NETINET_TCP_STACKS_H_

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_opts.h>

#include "netinet/tcp_seq.h"

struct tcpcb;
struct tcp_seg;
struct mbuf;
struct socket;
struct sockopt;
struct ust_stack;

/* FreeBSD TCP_FUNCTION_NAME_LEN_MAX: a block's name with its NUL. */
#define TCP_FUNCTION_NAME_LEN_MAX 32

/* tfb_flags (FreeBSD's where they exist). */
#define TCP_FUNC_DEFAULT_OK 0x04 /* may be net.inet.tcp.functions_default */
/* ustack: the block detects losses itself; the default stack's
 * duplicate-ACK threshold, partial-ACK repair and RFC 6675 recovery
 * output stand aside (its ACK hook repairs). */
#define TCP_FUNC_OWN_LOSS 0x100
/* Whether the default stack's loss recovery stands aside for tp: a
 * block that owns loss detection and a connection with SACK (without it
 * RACK has no deliveries above a hole to infer losses from, so NewReno's
 * duplicate ACKs keep working, as FreeBSD hands such connections back
 * to its default stack). */
#define TCP_FB_OWNS_LOSS(tp) \
	(((tp)->t_fb->tfb_flags & TCP_FUNC_OWN_LOSS) && ((tp)->t_flags & TF_SACK_PERMIT))

struct tcp_function_block {
	char tfb_tcp_block_name[TCP_FUNCTION_NAME_LEN_MAX];
	/* Segment processing and output.  Both blocks run the default
	 * stack's (tcp_do_segment, tcp_output). */
	int (*tfb_tcp_output)(struct tcpcb *tp);
	void (*tfb_tcp_do_segment)(struct tcpcb *tp, struct tcp_seg *seg, struct mbuf *m);
	/* Block-specific IPPROTO_TCP options the default handling does
	 * not know (NULL: none; tcp_ctloutput's last resort). */
	int (*tfb_tcp_ctloutput)(struct tcpcb *tp, struct sockopt *sopt);
	/* Per-connection state: fb_init on attach or switch (0 or an
	 * errno; the connection keeps its old block), fb_fini on detach. */
	int (*tfb_tcp_fb_init)(struct tcpcb *tp);
	void (*tfb_tcp_fb_fini)(struct tcpcb *tp, int tcb_is_purged);
	/* 0 when an existing connection may move to this block now,
	 * else an errno (FreeBSD: EINVAL refuses the switch). */
	int (*tfb_tcp_handoff_ok)(struct tcpcb *tp);
	/* The retransmission timer fired (tcp_timer_rexmt, before the
	 * default's go-back-N). */
	void (*tfb_tcp_rexmit_tmr)(struct tcpcb *tp);
	/* ustack's loss-detection hooks (NULL in "freebsd"): a segment
	 * carrying [seq, seq + len) leaves (tcp_output_send, before
	 * ip_output; data and FIN, len counts the FIN; never a SYN); an ACK was processed by the
	 * default stack (snd_una and the scoreboard are up to date). */
	void (*tfb_tcp_sent)(struct tcpcb *tp, tcp_seq seq, uint32_t len);
	void (*tfb_tcp_ack_processed)(struct tcpcb *tp, const struct tcp_seg *seg);
	uint32_t tfb_flags;
};

/* The default stack's segment processing (tcp_input.c). */
void tcp_do_segment(struct tcpcb *tp, struct tcp_seg *seg, struct mbuf *m);

extern const struct tcp_function_block tcp_def_funcblk; /* "freebsd" */
#if UST_TCP_RACK
extern const struct tcp_function_block tcp_rack_funcblk; /* "rack" */
#endif

/* The registry (tcp_stacks.c): the blocks compiled in. */
const struct tcp_function_block *tcp_fb_find(const char *name);
const struct tcp_function_block *tcp_fb_get(unsigned idx);
/* The stack's block for new connections (net.inet.tcp.functions_default). */
const struct tcp_function_block *tcp_fb_default(const struct ust_stack *st);
/* net.inet.tcp.functions_default: 0, or UST_ENOENT (unknown name). */
int tcp_fb_set_default(struct ust_stack *st, const char *name);
/* net.inet.tcp.functions_available: FreeBSD's table, a header line and
 * one line per block: name, "*" for the default, connections using it.
 * Returns the length the whole text needs, without the NUL. */
size_t tcp_fb_list(const struct ust_stack *st, char *buf, size_t len);
/* net.inet.tcp.functions_available of a fresh stack (its default). */
#if UST_TCP_RACK
#define TCP_FB_AVAILABLE_DEF                            \
	"\nStack                           D PCB count" \
	"\nfreebsd                         * 0"         \
	"\nrack                              0"
#else
#define TCP_FB_AVAILABLE_DEF                            \
	"\nStack                           D PCB count" \
	"\nfreebsd                         * 0"
#endif
/* Connections using the block now. */
uint32_t tcp_fb_pcbcnt(const struct ust_stack *st, const struct tcp_function_block *fb);

/* Per connection (tcp_subr.c): attach falls back to "freebsd" when the
 * block's init fails; detach runs fb_fini. */
void tcp_fb_attach(struct tcpcb *tp, const struct tcp_function_block *fb);
void tcp_fb_detach(struct tcpcb *tp);
/* TCP_FUNCTION_BLK set: before the connection exists any block; after,
 * only when the target's handoff_ok agrees (else UST_EINVAL). */
int tcp_fb_switch(struct tcpcb *tp, const struct tcp_function_block *fb);
/* TCP_FUNCTION_BLK for tcp_ctloutput. */
int tcp_fb_ctloutput(struct tcpcb *tp, struct sockopt *sopt);

/* Per stack (tcp_init / tcp_fini): the blocks' shared state (rack's
 * send-map zone). */
int tcp_stacks_init(struct ust_stack *st);
void tcp_stacks_fini(struct ust_stack *st);

#if UST_TCP_RACK
/* rack.c's per-stack part. */
int rack_init(struct ust_stack *st);
void rack_fini(struct ust_stack *st);
/* A rack connection's send map, for tests and diagnostics: the first max
 * entries into out (lowest sequence first); returns how many there are. */
struct rack_map_info {
	tcp_seq start, end;
	uint16_t rexmits;
	uint8_t sacked, lost;
};
uint32_t rack_map_info(const struct tcpcb *tp, struct rack_map_info *out, uint32_t max);
/* RACK's per-connection variables (RFC 8985 6.1), for tests and
 * diagnostics; 0, or -1 when tp does not run rack. */
struct rack_state_info {
	uint64_t rtt_ns, min_rtt_ns; /* UINT64_MAX: no sample yet */
	uint32_t reo_wnd_mult;
	uint32_t reo_wnd_persist;
	uint8_t reord;
	uint8_t tlp_outstanding;
};
int rack_state(const struct tcpcb *tp, struct rack_state_info *out);
#endif

#endif /* _USTACK_NETINET_TCP_STACKS_H_ */
