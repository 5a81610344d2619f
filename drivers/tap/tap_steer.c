/*
 * tap_steer.c - the multi-queue TAP's steering program: the kernel sends
 * each frame on the queue whose stack owns its flow.
 *
 * Linux's tun picks the queue of a frame it transmits (one we read) with
 * its own flow hash and a flow table learnt from our writes, unless the
 * device has a steering program (TUNSETSTEERINGEBPF, Linux 4.16): an eBPF
 * program of type BPF_PROG_TYPE_SOCKET_FILTER that sees the frame from its
 * Ethernet header and whose return value, modulo the number of queues, is
 * the queue.  With it tun learns nothing from our writes (and keeps no flow
 * table).  This program returns ust_rss_queue(ust_rss_hash_frame(key,
 * frame), nq): the queue a group's stacks would steer the frame to
 * (netstack/net/toeplitz.c has the inputs), so nothing is re-steered,
 * including the SYN-ACK to a connection ustack opens (the kernel builds it
 * inside our write of the SYN, before tun could learn the flow) and the
 * SYN of a connection the kernel opens.
 *
 * The program is generated here from the key, as bytecode, and loaded with
 * the bpf(2) syscall, as drivers/afxdp/xdp_prog.c does (no clang, no
 * libbpf).  Toeplitz is linear: the hash is the XOR, over the set bits k
 * of the input (bit 0 the most significant bit of its first byte), of the
 * 32 key bits that start at bit k.  So the program loads the input 32 bits
 * at a time (BPF_LD_IND | BPF_W: network order, first byte in bits 31..24)
 * and, for each bit j of the word whose key window w is not zero, does
 *
 *     w1 = w0; w1 >>= 31 - j; w1 &= 1;   (the bit: 0 or 1)
 *     w1 *= w; w8 ^= w1;                 (hash ^= window, 32-bit ALU)
 *
 * without a branch, so the verifier walks the hash once, whatever the key
 * (a branch per bit gives it up to 2^bits paths to tell apart: it tracks
 * the hash as a constant on each; so does the mask idiom (x s>> 63) & w,
 * which Linux 6.17+ verifies by splitting the state in two at every bit),
 * and the JIT's code mispredicts nothing.  IPv4 with ports is 96 input
 * bits (about 500 instructions run), IPv6 with ports 288 (about 1,450);
 * the whole program is about 1,960 instructions (the default key), far
 * below the verifier's limits.  Parsing (all branches) follows tz_hash_ip4/ip6:
 *
 *   r6 ctx, r9 skb->len (the frame's length), r7 offset of the L3 header
 *   beyond the 14-byte Ethernet header (4 after an 802.1Q tag; later also
 *   the IPv4 header's length), r8 the hash; r0..r5 scratch (a BPF_LD_ABS
 *   or BPF_LD_IND clobbers them; a load past the end ends the program
 *   with 0: queue 0).
 *
 *   not IPv4/IPv6, short                      -> 0
 *   IPv4: version 4, IHL >= 5, 20 bytes       -> src, dst;
 *         TCP/UDP, not a fragment, 4 bytes of ports -> + sport, dport
 *   IPv6: version 6, 40 bytes                 -> src, dst;
 *         next header TCP/UDP, 4 bytes of ports -> + sport, dport
 *   return (hash & 127) % nq
 */
#define _GNU_SOURCE
#if defined(__linux__)
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "tap_steer.h"

#ifndef TUNSETSTEERINGEBPF
#define TUNSETSTEERINGEBPF _IOR('T', 224, int)
#endif

/* Header facts (as in netstack/net/toeplitz.c). */
#define ST_ETHER 14
#define ST_VLAN 4
#define ST_IP4_HDR 20
#define ST_IP6_HDR 40
#define ST_PROTO_TCP 6
#define ST_PROTO_UDP 17
#define ST_IP_FRAG 0x3fff /* MF | fragment offset */

/* Registers (above). */
enum { R0, R1, R2, R3, R4, R5, R_CTX, R_OFF, R_HASH, R_LEN };

/* Jump targets, resolved when the program is complete. */
enum { L_OUT, L_NOVLAN, L_V4, L_V4_PORTS, L_V6_PORTS, L_DONE, L_N };

#define ST_FIXUPS 32

struct emitter {
	struct bpf_insn *p;
	size_t n;
	size_t label[L_N];
	struct {
		size_t at;
		int label;
	} fix[ST_FIXUPS];
	size_t nfix;
};

static void
emit(struct emitter *e, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn *i;

	if (e->n >= TAP_STEER_INSNS_MAX)
		return; /* cannot happen: the program is under 2,000 */
	i = &e->p[e->n++];
	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst & 0xf;
	i->src_reg = src & 0xf;
	i->off = off;
	i->imm = imm;
}

/* A conditional jump (op BPF_JEQ, ...; BPF_JA unconditional) of register
 * dst against imm to label l. */
static void
emit_jmp(struct emitter *e, uint8_t op, uint8_t dst, int32_t imm, int l)
{
	if (e->nfix < ST_FIXUPS) {
		e->fix[e->nfix].at = e->n;
		e->fix[e->nfix].label = l;
		e->nfix++;
	}
	emit(e, (uint8_t)(BPF_JMP | op | BPF_K), dst, 0, 0, imm);
}

static void
emit_label(struct emitter *e, int l)
{
	e->label[l] = e->n;
}

/* The 32 key bits that start at bit k (bits past the key are 0). */
static uint32_t
key_window(const uint8_t *key, unsigned k)
{
	uint64_t v = 0;
	unsigned i, b = k / 8;

	for (i = 0; i < 5; i++)
		v = v << 8 | (b + i < TAP_STEER_KEYLEN ? key[b + i] : 0u);
	return ((uint32_t)(v >> (8 - k % 8)));
}

/* hash ^= the contribution of the 32 input bits in r0, which are input
 * bits bit .. bit + 31. */
static void
emit_hash_word(struct emitter *e, const uint8_t *key, unsigned bit)
{
	unsigned j;
	uint32_t w;

	for (j = 0; j < 32; j++) {
		if ((w = key_window(key, bit + j)) == 0)
			continue;
		emit(e, BPF_ALU | BPF_MOV | BPF_X, R1, R0, 0, 0);
		if (j != 31)
			emit(e, BPF_ALU | BPF_RSH | BPF_K, R1, 0, 0, (int32_t)(31 - j));
		if (j != 0)
			emit(e, BPF_ALU | BPF_AND | BPF_K, R1, 0, 0, 1);
		emit(e, BPF_ALU | BPF_MUL | BPF_K, R1, 0, 0, (int32_t)w);
		emit(e, BPF_ALU | BPF_XOR | BPF_X, R_HASH, R1, 0, 0);
	}
}

/* r0 = the size bytes at r_off + ST_ETHER + off (host order). */
static void
emit_ld(struct emitter *e, uint8_t size, int32_t off)
{
	emit(e, (uint8_t)(BPF_LD | BPF_IND | size), 0, R_OFF, 0, ST_ETHER + off);
}

/* Jumps to l when fewer than need bytes follow r_off + ST_ETHER (signed:
 * r_off may exceed the length of a runt). */
static void
emit_need(struct emitter *e, int32_t need, int l)
{
	emit(e, BPF_ALU64 | BPF_MOV | BPF_X, R1, R_LEN, 0, 0);
	emit(e, BPF_ALU64 | BPF_SUB | BPF_X, R1, R_OFF, 0, 0);
	emit_jmp(e, BPF_JSLT, R1, ST_ETHER + need, l);
}

size_t
tap_steer_build(const uint8_t key[TAP_STEER_KEYLEN], unsigned nq, struct bpf_insn *prog)
{
	struct emitter e;
	size_t i;
	unsigned w;

	memset(&e, 0, sizeof(e));
	e.p = prog;
	emit(&e, BPF_ALU64 | BPF_MOV | BPF_X, R_CTX, R1, 0, 0);
	emit(&e, BPF_LDX | BPF_MEM | BPF_W, R_LEN, R_CTX, (int16_t)offsetof(struct __sk_buff, len),
	    0);
	emit(&e, BPF_ALU64 | BPF_MOV | BPF_K, R_OFF, 0, 0, 0);
	emit(&e, BPF_ALU64 | BPF_MOV | BPF_K, R_HASH, 0, 0, 0);
	/* The EtherType, after one 802.1Q tag if there is one. */
	emit_jmp(&e, BPF_JLT, R_LEN, ST_ETHER, L_OUT);
	emit(&e, BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 12);
	emit_jmp(&e, BPF_JNE, R0, 0x8100, L_NOVLAN);
	emit_jmp(&e, BPF_JLT, R_LEN, ST_ETHER + ST_VLAN, L_OUT);
	emit(&e, BPF_ALU64 | BPF_MOV | BPF_K, R_OFF, 0, 0, ST_VLAN);
	emit(&e, BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 16);
	emit_label(&e, L_NOVLAN);
	emit_jmp(&e, BPF_JEQ, R0, 0x0800, L_V4);
	emit_jmp(&e, BPF_JNE, R0, 0x86dd, L_OUT);

	/* IPv6: the addresses, then the ports when TCP or UDP follows the
	 * fixed header directly. */
	emit_need(&e, ST_IP6_HDR, L_OUT);
	emit_ld(&e, BPF_B, 0);
	emit(&e, BPF_ALU64 | BPF_RSH | BPF_K, R0, 0, 0, 4);
	emit_jmp(&e, BPF_JNE, R0, 6, L_OUT);
	for (w = 0; w < 8; w++) {
		emit_ld(&e, BPF_W, (int32_t)(8 + 4 * w));
		emit_hash_word(&e, key, 32 * w);
	}
	emit_ld(&e, BPF_B, 6);
	emit_jmp(&e, BPF_JEQ, R0, ST_PROTO_TCP, L_V6_PORTS);
	emit_jmp(&e, BPF_JNE, R0, ST_PROTO_UDP, L_DONE);
	emit_label(&e, L_V6_PORTS);
	emit_need(&e, ST_IP6_HDR + 4, L_DONE);
	emit_ld(&e, BPF_W, ST_IP6_HDR);
	emit_hash_word(&e, key, 256);
	emit_jmp(&e, BPF_JA, 0, 0, L_DONE);

	/* IPv4: the addresses, then the ports of TCP or UDP unless a
	 * fragment. */
	emit_label(&e, L_V4);
	emit_need(&e, ST_IP4_HDR, L_OUT);
	emit_ld(&e, BPF_B, 0);
	emit(&e, BPF_ALU64 | BPF_MOV | BPF_X, R1, R0, 0, 0);
	emit(&e, BPF_ALU64 | BPF_RSH | BPF_K, R1, 0, 0, 4);
	emit_jmp(&e, BPF_JNE, R1, 4, L_OUT);
	emit(&e, BPF_ALU64 | BPF_AND | BPF_K, R0, 0, 0, 0x0f);
	emit_jmp(&e, BPF_JLT, R0, 5, L_OUT);
	emit_ld(&e, BPF_W, 12);
	emit_hash_word(&e, key, 0);
	emit_ld(&e, BPF_W, 16);
	emit_hash_word(&e, key, 32);
	emit_ld(&e, BPF_B, 9);
	emit_jmp(&e, BPF_JEQ, R0, ST_PROTO_TCP, L_V4_PORTS);
	emit_jmp(&e, BPF_JNE, R0, ST_PROTO_UDP, L_DONE);
	emit_label(&e, L_V4_PORTS);
	emit_ld(&e, BPF_H, 6);
	emit(&e, BPF_ALU64 | BPF_AND | BPF_K, R0, 0, 0, ST_IP_FRAG);
	emit_jmp(&e, BPF_JNE, R0, 0, L_DONE);
	emit_ld(&e, BPF_B, 0);
	emit(&e, BPF_ALU64 | BPF_AND | BPF_K, R0, 0, 0, 0x0f);
	emit(&e, BPF_ALU64 | BPF_LSH | BPF_K, R0, 0, 0, 2);
	emit(&e, BPF_ALU64 | BPF_ADD | BPF_X, R_OFF, R0, 0, 0);
	emit_need(&e, 4, L_DONE);
	emit_ld(&e, BPF_W, 0);
	emit_hash_word(&e, key, 64);

	/* ust_rss_queue(hash, nq). */
	emit_label(&e, L_DONE);
	emit(&e, BPF_ALU | BPF_MOV | BPF_X, R0, R_HASH, 0, 0);
	emit(&e, BPF_ALU | BPF_AND | BPF_K, R0, 0, 0, 127);
	emit(&e, BPF_ALU | BPF_MOD | BPF_K, R0, 0, 0, (int32_t)nq);
	emit(&e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	emit_label(&e, L_OUT);
	emit(&e, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
	emit(&e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	for (i = 0; i < e.nfix; i++)
		prog[e.fix[i].at].off = (int16_t)(e.label[e.fix[i].label] - e.fix[i].at - 1);
	return (e.n);
}

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

	return (r < 0 ? -errno : (int)r);
}

int
tap_steer_attach(int fd, const uint8_t key[TAP_STEER_KEYLEN], unsigned nq, char *log, size_t loglen)
{
	static const char license[] = "Dual BSD/GPL";
	struct bpf_insn *insns;
	union bpf_attr a;
	int pfd, rc;

	if ((insns = calloc(TAP_STEER_INSNS_MAX, sizeof(*insns))) == NULL)
		return (-ENOMEM);
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insn_cnt = (uint32_t)tap_steer_build(key, nq, insns);
	a.insns = (uint64_t)(uintptr_t)insns;
	a.license = (uint64_t)(uintptr_t)license;
	memcpy(a.prog_name, "ust_tap_rss", sizeof("ust_tap_rss"));
	pfd = sys_bpf(BPF_PROG_LOAD, &a);
	if (pfd < 0 && pfd != -EPERM && log != NULL && loglen > 1) {
		/* Once more, for the verifier's account of the refusal. */
		log[0] = '\0';
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = (uint32_t)loglen;
		a.log_level = 1;
		if ((rc = sys_bpf(BPF_PROG_LOAD, &a)) >= 0)
			close(rc);
		log[loglen - 1] = '\0';
	}
	free(insns);
	if (pfd < 0)
		return (pfd);
	/* The device takes its own reference to the program. */
	rc = ioctl(fd, TUNSETSTEERINGEBPF, &pfd) != 0 ? -errno : 0;
	close(pfd);
	return (rc);
}
#else
/* Linux only: elsewhere the TAP has one queue. */
typedef int tap_steer_linux_only;
#endif
