/*
 * xdp_prog.c - the redirect program of the AF_XDP driver, loaded and
 * attached with the bpf(2) syscall itself.
 *
 * Why this way: the program is six BPF instructions, written here as
 * struct bpf_insn values, so there is nothing to compile (no clang), no
 * ELF object to parse and relocate (no libbpf), no dispatcher program or
 * pinned state (no libxdp, no bpffs).  The XSKMAP and the program are
 * created with BPF_MAP_CREATE / BPF_PROG_LOAD, and the program is attached
 * with BPF_LINK_CREATE: a BPF link belongs to its descriptor, so the
 * kernel detaches the program when the last descriptor closes, which
 * includes the process dying by SIGKILL.  (The netlink attach that older
 * tools use leaves a program on the interface until someone removes it.)
 *
 * The program: r2 = ctx->rx_queue_index; return bpf_redirect_map(&xskmap,
 * r2, XDP_PASS) - frames of a queue with a socket go to it, others (a
 * queue without a socket) to the kernel stack as if no program ran.
 * BPF_F_XDP_HAS_FRAGS declares that it copes with multi-buffer frames (it
 * never reads packet data), which lets drivers hand it frames larger than
 * a page and the socket receive them as descriptor chains.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "xdp_prog.h"

#ifndef BPF_F_XDP_HAS_FRAGS
#define BPF_F_XDP_HAS_FRAGS (1U << 5)
#endif

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

	return (r < 0 ? -errno : (int)r);
}

int
afxdp_xskmap_create(uint32_t entries)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_XSKMAP;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = entries;
	a.map_flags = 0;
	memcpy(a.map_name, "ust_xsks", sizeof("ust_xsks"));
	return (sys_bpf(BPF_MAP_CREATE, &a));
}

int
afxdp_xskmap_set(int map_fd, uint32_t queue, int xsk_fd)
{
	union bpf_attr a;
	uint32_t key = queue, val = (uint32_t)xsk_fd;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&val;
	a.flags = BPF_ANY;
	return (sys_bpf(BPF_MAP_UPDATE_ELEM, &a));
}

static struct bpf_insn
insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i;

	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return (i);
}

int
afxdp_prog_load(int map_fd, int frags)
{
	struct bpf_insn prog[6];
	union bpf_attr a;
	static const char license[] = "GPL"; /* bpf_redirect_map is GPL-only */

	/* r2 = *(u32 *)(r1 + offsetof(struct xdp_md, rx_queue_index)) */
	prog[0] = insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1,
	    (int16_t)offsetof(struct xdp_md, rx_queue_index), 0);
	/* r1 = the map (a 16-byte load; the verifier turns the fd into the map) */
	prog[1] = insn(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd);
	prog[2] = insn(0, 0, 0, 0, 0);
	/* r3 = XDP_PASS: the action when the map has no socket for the queue */
	prog[3] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, XDP_PASS);
	prog[4] = insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map);
	prog[5] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insn_cnt = (uint32_t)(sizeof(prog) / sizeof(prog[0]));
	a.insns = (uint64_t)(uintptr_t)prog;
	a.license = (uint64_t)(uintptr_t)license;
	a.expected_attach_type = BPF_XDP;
	a.prog_flags = frags ? BPF_F_XDP_HAS_FRAGS : 0;
	memcpy(a.prog_name, "ust_xsk_redir", sizeof("ust_xsk_redir"));
	return (sys_bpf(BPF_PROG_LOAD, &a));
}

int
afxdp_link_create(int prog_fd, int ifindex, uint32_t xdp_flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog_fd;
	a.link_create.target_ifindex = (uint32_t)ifindex;
	a.link_create.attach_type = BPF_XDP;
	a.link_create.flags = xdp_flags;
	return (sys_bpf(BPF_LINK_CREATE, &a));
}
