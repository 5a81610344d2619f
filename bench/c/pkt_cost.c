/*
 * pkt_cost.c - instructions per TCP segment (issue 8 item 4, run by
 * bench/b_cost.py under valgrind --tool=callgrind).
 *
 * Two stacks joined by the in-memory pipe on a virtual clock with fixed
 * seeds, so that every run executes exactly the same instructions.  After
 * a warm-up transfer (connection open, windows and cwnd grown, zones
 * populated), the sender moves --segments K in-order full-sized segments
 * (1460 bytes of payload: timestamps are off, net.inet.tcp.rfc1323=2, so
 * the MSS of a 1500-byte MTU is all payload) to the receiver, and only one
 * side's work is collected (CALLGRIND_TOGGLE_COLLECT; run valgrind with
 * --collect-atstart=no):
 *
 *   --side rx: the receiver's polls (driver rx, ether/ip/tcp input,
 *              reassembly-free append, its ACKs out) and its ust_recv()
 *              copying the data to the application;
 *   --side tx: the sender's ust_send() (copy into the send buffer,
 *              tcp_output, ip/ether output, driver tx) and its polls
 *              (the ACKs coming back).
 *
 * --zc uses the zero-copy calls instead (docs/zerocopy.md): the sender
 * lends a buffer nothing writes with ust_send_zc, the receiver takes
 * ust_recv_mbuf chains and gives them back with ust_mbuf_release.
 *
 * --family 6 runs the same over IPv6 (bench_family.h: 2001:2::1 to
 * 2001:2::2 with static neighbor entries) on a pipe of MTU 1520, so that
 * its segments carry the same 1460 bytes as IPv4's at MTU 1500 and the two
 * families differ only in their headers' work.
 *
 * Prints one JSON line with the segments of the measured phase counted on
 * the wire: the frames that crossed the link from sender to receiver (the
 * receiving interface's ipackets), so that b_cost.py divides the
 * difference of two runs' instruction counts by the difference of their
 * segments and setup cost cancels.  Wire frames, not TCP's counters:
 * receive coalescing (LRO) hands TCP fewer, larger segments, and TSO
 * sends fewer, larger ones, but the link carries the same frames.  The
 * line also has TCP's own count of the collected side (tcps_rcvpack or
 * tcps_sndpack) and the frames the other way (the receiver's ACKs).  Without valgrind
 * the client requests do nothing and the program just checks the data.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime in example_util.h */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>
#if defined(__has_include)
#if __has_include(<ustack/ustack_dpdk.h>)
#include <ustack/ustack_dpdk.h>
#define HAVE_DPDK 1
#endif
#endif
#ifndef HAVE_DPDK
#define HAVE_DPDK 0
#endif

#include "bench_family.h"
#include "example_util.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define HAVE_CALLGRIND 0
#define CALLGRIND_TOGGLE_COLLECT
#endif

#define PORT 7002
#define SEG 1460
#define BATCH 16 /* segments handed to ust_send() at a time */

struct rig {
	struct ust_vclock *vc;
	struct ust_pipe *pipe;
	struct ust_stack *snd, *rcv;
	struct ust_if *ifa, *ifb;     /* the sender's and the receiver's interfaces */
	struct ust_socket *cso, *sso; /* sender's and receiver's sockets */
	int side_rx, side_tx;         /* which side is collected */
	int offload;                  /* pipe checksum offload (RXCSUM|TXCSUM) */
	int ring;                     /* a DPDK net_ring pair instead of the pipe */
	int family;                   /* 4 or 6 */
	char eal_dir[64];             /* its EAL runtime directory, removed at the end */
	uint8_t buf[SEG * BATCH];
	uint64_t sent, received, bad;
	int zc;           /* ust_send_zc / ust_recv_mbuf */
	uint64_t zc_done; /* completions of ust_send_zc */
};

/* What --zc lends: never written while the stack holds it. */
static uint8_t zc_buf[SEG * BATCH];

static void
zc_done(void *arg, const void *buf, size_t len, int status)
{
	struct rig *r = arg;

	(void)buf;
	(void)len;
	(void)status;
	r->zc_done++;
}

static void
collect(int on)
{
	(void)on;
	CALLGRIND_TOGGLE_COLLECT;
}

static void
turn_snd(struct rig *r)
{
	if (r->side_tx)
		collect(1);
	ust_stack_poll(r->snd);
	if (r->side_tx)
		collect(0);
}

static void
turn_rcv(struct rig *r)
{
	ptrdiff_t n;

	if (r->side_rx)
		collect(1);
	ust_stack_poll(r->rcv);
	if (r->zc) {
		struct ust_mbuf *m;

		while ((n = ust_recv_mbuf(r->sso, &m, sizeof(r->buf), 0)) > 0) {
			r->received += (uint64_t)n;
			ust_mbuf_release(r->sso, m);
		}
	} else
		while ((n = ust_recv(r->sso, r->buf, sizeof(r->buf), 0)) > 0)
			r->received += (uint64_t)n;
	if (r->side_rx)
		collect(0);
}

/* Moves `bytes` from sender to receiver; 0 when all arrived. */
static int
transfer(struct rig *r, uint64_t bytes)
{
	uint64_t goal_sent = r->sent + bytes, goal_recv = r->received + bytes;
	long idle = 0;

	while (r->received < goal_recv) {
		uint64_t before = r->received;

		if (r->sent < goal_sent) {
			size_t n = goal_sent - r->sent < sizeof(r->buf) ?
			    (size_t)(goal_sent - r->sent) :
			    sizeof(r->buf);
			ptrdiff_t w;

			if (r->side_tx)
				collect(1);
			w = r->zc ? ust_send_zc(r->cso, zc_buf, n, 0, zc_done, r) :
			            ust_send(r->cso, r->buf, n, 0);
			if (r->side_tx)
				collect(0);
			if (w > 0)
				r->sent += (uint64_t)w;
			else if (w != -UST_EAGAIN)
				return (-1);
		}
		turn_snd(r);
		turn_rcv(r);
		turn_snd(r);
		/* A microsecond per turn: timers see time pass, the same way
		 * every run. */
		ust_vclock_advance(r->vc, 1000);
		idle = r->received == before ? idle + 1 : 0;
		if (idle > 100000)
			return (-1);
	}
	return (0);
}

#if HAVE_DPDK
/* The two stacks on a DPDK net_ring pair (zero-copy receive, no offload:
 * the stacks compute checksums, as on the pipe without --csum-offload). */
static int
attach_ring(struct rig *r, struct ust_if **ifa, struct ust_if **ifb)
{
	struct ust_dpdk_port_config pc;
	struct ust_dpdk_port *p[2];
	uint16_t id[2];
	char args[160];
	int i, rc;

	snprintf(r->eal_dir, sizeof(r->eal_dir), "/var/run/dpdk/ustcost%ld", (long)getpid());
	snprintf(args, sizeof(args),
	    "--no-huge -m 256 --no-shconf --no-pci --no-telemetry --log-level=error "
	    "--file-prefix=%s",
	    r->eal_dir + strlen("/var/run/dpdk/"));
	rc = ust_dpdk_eal_init(args);
	if ((rc != 0 && rc != -UST_EALREADY) ||
	    ust_dpdk_ring_pair("cost", 1, 0, &id[0], &id[1]) != 0)
		return (-1);
	for (i = 0; i < 2; i++) {
		ust_dpdk_port_config_init(&pc);
		pc.port_id = id[i];
		pc.caps_mask = 0;
		if (ust_dpdk_port_open(&pc, &p[i]) != 0)
			return (-1);
	}
	if (ust_dpdk_attach(r->snd, p[0], 0, "ring0", ifa) != 0 ||
	    ust_dpdk_attach(r->rcv, p[1], 0, "ring0", ifb) != 0)
		return (-1);
	return (0);
}
#endif

static int
setup(struct rig *r)
{
	struct ust_stack_config cfg;
	struct ust_pipe_config pc;
	struct ust_if *ifa, *ifb;
	struct ust_socket *lso;
	struct ust_sockaddr_storage to;
	ust_socklen_t tolen = bench_sockaddr(r->family, 2, PORT, &to);
	int i;

	r->vc = ust_vclock_create(1000000000ull);
	ust_stack_config_init(&cfg);
	cfg.clock = ust_vclock_clock(r->vc);
	cfg.seed_set = 1;
	cfg.seed = 42;
	if (ust_stack_create(&cfg, &r->snd) != 0)
		return (-1);
	cfg.seed = 43;
	if (ust_stack_create(&cfg, &r->rcv) != 0)
		return (-1);
	ust_pipe_config_init(&pc);
	pc.clock = cfg.clock;
	if (r->family == 6)
		pc.mtu = 1520; /* 1460 bytes of payload under 40 + 20 bytes of headers */
	if (r->offload)
		pc.caps = UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM | UST_IFCAP_TXCSUM_IPV6;
	pc.fault[UST_PIPE_A_TO_B].seed = 1;
	pc.fault[UST_PIPE_B_TO_A].seed = 2;
#if HAVE_DPDK
	if (r->ring) {
		if (attach_ring(r, &ifa, &ifb) != 0)
			return (-1);
	} else
#endif
	    if (ust_pipe_create(&pc, &r->pipe) != 0 ||
	        ust_if_attach(r->snd, "pipe0", ust_pipe_ops(), ust_pipe_end(r->pipe, UST_PIPE_A),
	            &ifa) != 0 ||
	        ust_if_attach(r->rcv, "pipe0", ust_pipe_ops(), ust_pipe_end(r->pipe, UST_PIPE_B),
	            &ifb) != 0)
		return (-1);
	r->ifa = ifa;
	r->ifb = ifb;
	if (bench_family_addrs(r->family, ifa, ifb) != 0)
		return (-1);
	/* Window scaling without timestamps: 1460 bytes of payload. */
	ust_sysctl_set(r->snd, "net.inet.tcp.rfc1323", 2);
	ust_sysctl_set(r->rcv, "net.inet.tcp.rfc1323", 2);
	ust_sysctl_set(r->snd, "net.inet.tcp.sendspace", 256 * 1024);
	if (ust_socket(r->rcv, bench_family_af(r->family), UST_SOCK_STREAM, 0, &lso) != 0 ||
	    ust_bind(lso, (const struct ust_sockaddr *)&to, tolen) != 0 ||
	    ust_listen(lso, 1) != 0 ||
	    ust_socket(r->snd, bench_family_af(r->family), UST_SOCK_STREAM, 0, &r->cso) != 0 ||
	    ust_connect(r->cso, (const struct ust_sockaddr *)&to, tolen) != -UST_EINPROGRESS)
		return (-1);
	for (i = 0; i < 1000 && ust_accept(lso, &r->sso, NULL, NULL) != 0; i++) {
		ust_stack_poll(r->snd);
		ust_stack_poll(r->rcv);
		ust_vclock_advance(r->vc, 1000);
	}
	ust_close(lso);
	return (r->sso != NULL ? 0 : -1);
}

int
main(int argc, char **argv)
{
	static struct rig r;
	struct ust_tcpstat s0, s1;
	struct ust_if_stats a0, a1, b0, b1;
	long k = 1000;
	uint64_t segs, wire, acks;
	const char *knobs[8];
	int i, nknobs = 0;

	r.family = 4;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--family") == 0 && i + 1 < argc &&
		    bench_family_parse(argv[i + 1]) > 0)
			r.family = bench_family_parse(argv[++i]);
		else if (strcmp(argv[i], "--segments") == 0 && i + 1 < argc)
			k = atol(argv[++i]);
		else if (strcmp(argv[i], "--side") == 0 && i + 1 < argc) {
			i++;
			r.side_rx = strcmp(argv[i], "rx") == 0;
			r.side_tx = strcmp(argv[i], "tx") == 0;
		} else if (strcmp(argv[i], "--csum-offload") == 0)
			r.offload = 1;
		else if (strcmp(argv[i], "--zc") == 0)
			r.zc = 1;
		else if (strcmp(argv[i], "--dpdk-ring") == 0 && HAVE_DPDK)
			r.ring = 1;
		else if (strcmp(argv[i], "--sysctl") == 0 && i + 1 < argc && nknobs < 8 &&
		    strchr(argv[i + 1], '=') != NULL)
			knobs[nknobs++] = argv[++i];
		else {
			fprintf(stderr,
			    "usage: %s [--segments K] [--side rx|tx] [--csum-offload]\n"
			    "          [--family 4|6] [--dpdk-ring] [--sysctl NAME=V] [--zc]
			    "K in-order 1460-byte TCP segments between two stacks on a\n"
			    "virtual clock; run under valgrind --tool=callgrind\n"
			    "--collect-atstart=no to count one side's instructions;\n"
			    "--csum-offload: the pipe verifies and fills TCP/IP checksums\n"
			    "as a NIC would, so the stack computes none;\n"
			    "--family 6: over IPv6 (2001:2::1 to 2001:2::2, MTU 1520: the\n"
			    "same 1460-byte payload);\n"
			    "--dpdk-ring: a DPDK net_ring pair instead of the pipe;\n"
			    "--zc: ust_send_zc and ust_recv_mbuf instead of ust_send and\n"
			    "ust_recv (no copy to or from the application).\n",
			    argv[0]);
			return (2);
		}
	}
	if (k <= 0 || setup(&r) != 0) {
		fprintf(stderr, "pkt_cost: setup failed\n");
		return (1);
	}
	for (i = 0; i < nknobs; i++) {
		char name[128];
		const char *eq = strchr(knobs[i], '=');
		size_t n = (size_t)(eq - knobs[i]) < sizeof(name) ? (size_t)(eq - knobs[i]) :
		                                                    sizeof(name) - 1;
		long long v = strtoll(eq + 1, NULL, 0);

		memcpy(name, knobs[i], n);
		name[n] = '\0';
		if (ust_sysctl_set(r.snd, name, v) != 0 || ust_sysctl_set(r.rcv, name, v) != 0) {
			fprintf(stderr, "pkt_cost: --sysctl %s refused\n", knobs[i]);
			return (2);
		}
	}
	if (transfer(&r, 300 * SEG) != 0) {
		fprintf(stderr, "pkt_cost: setup or warm-up failed\n");
		return (1);
	}
	ust_stats_tcp(r.side_tx ? r.snd : r.rcv, &s0);
	ust_if_get_stats(r.ifa, &a0);
	ust_if_get_stats(r.ifb, &b0);
	if (transfer(&r, (uint64_t)k * SEG) != 0) {
		fprintf(stderr, "pkt_cost: the measured transfer stalled\n");
		return (1);
	}
	ust_stats_tcp(r.side_tx ? r.snd : r.rcv, &s1);
	ust_if_get_stats(r.ifa, &a1);
	ust_if_get_stats(r.ifb, &b1);
	segs = r.side_tx ? s1.tcps_sndpack - s0.tcps_sndpack : s1.tcps_rcvpack - s0.tcps_rcvpack;
	wire = b1.ipackets - b0.ipackets;
	acks = a1.ipackets - a0.ipackets;
	printf("{\"side\": \"%s\", \"segments\": %llu, \"tcp_segments\": %llu, "
	       "\"ack_frames\": %llu, \"bytes\": %llu, \"csum_offload\": %d, "
	       "\"callgrind\": %d, \"family\": %d, \"zc\": %d}\n",
	    r.side_tx ? "tx" : "rx", (unsigned long long)wire, (unsigned long long)segs,
	    (unsigned long long)acks, (unsigned long long)k * SEG, r.offload, HAVE_CALLGRIND,
	    r.family, r.zc);
	ust_close(r.cso);
	ust_close(r.sso);
	ust_stack_destroy(r.snd);
	ust_stack_destroy(r.rcv);
	if (r.pipe != NULL)
		ust_pipe_destroy(r.pipe);
	if (r.eal_dir[0] != '\0') {
		(void)rmdir(r.eal_dir);
		(void)rmdir("/var/run/dpdk"); /* once empty */
	}
	ust_vclock_destroy(r.vc);
	return (0);
}
