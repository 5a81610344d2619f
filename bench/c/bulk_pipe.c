/*
 * bulk_pipe.c - bulk TCP throughput, one flow, between two ustack stacks
 * joined by the in-memory pipe on the real clock (bench/b_bulk.py).
 *
 * Each stack belongs to one thread, optionally pinned to its own core: the
 * thread polls its stack and makes the socket calls itself, so no stack
 * lock is needed (ustack.h: only another thread must take it).  The pipe's
 * two single-producer single-consumer rings are the only hand-off between
 * the threads (ustack_pipe.h).  Both loops busy-poll.
 *
 * The sender writes --bytes of a pattern as fast as the socket takes them;
 * the receiver reads until EOF and checks every byte with memcmp against
 * a precomputed pattern of prime period (pattern_new()).  Throughput is the receiver's: from the accept to
 * the last byte.
 *
 *   bulk_pipe [--mtu N] [--bytes N[K|M|G]] [--tso] [--no-csum] [--pin A,B|none]
 *             [--chunk N] [--buf N] [--family 4|6]
 *
 * --tso: the pipe carries large segments (UST_IFCAP_TSO4|TSO6|LRO with
 * checksum offload), as two NICs with TSO and LRO would.  Otherwise the stack sends
 * MTU-sized segments, with checksum offload unless --no-csum (then every
 * checksum is computed in software on both sides).
 *
 * --family 6: the flow runs over IPv6 (bench_family.h: 2001:2::1 to
 * 2001:2::2, static neighbor entries) instead of IPv4 (198.18.0.1 to .2).
 *
 * Output, one line: "bulk_pipe bytes=N seconds=S gbit_per_s=G mtu=M tso=0|1
 * csum=0|1 rexmit=R pipe_frames=F pipe_drops=D family=4|6 rexmt_timeouts=T
 * rcv_badsum=B rcv_dup=U rcv_ooo=O" (the sender's retransmission timeouts,
 * the receiver's bad-checksum, duplicate and out-of-order segments).  Exit 1 on any error or a
 * wrong byte.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_pipe.h>
#include <ustack/ustack_stats.h>

#include "bench_family.h"
#include "bench_pattern.h"
#include "example_util.h"

#define PORT 5201
#define TIMEOUT_S 300.0

struct side {
	struct ust_stack *st;
	int cpu;    /* -1: not pinned */
	int family; /* 4 or 6 */
	uint64_t bytes;
	size_t chunk;
	int error;        /* negative UST_E* */
	uint64_t badbyte; /* first wrong stream offset + 1 */
	double t0, t1;
	volatile int done;
	volatile int *peer_done;
};

static void
pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		fprintf(stderr, "bulk_pipe: cannot pin to cpu %d (running unpinned)\n", cpu);
}

static void *
sender_main(void *arg)
{
	struct side *s = arg;
	struct ust_socket *so = NULL;
	struct ust_sockaddr_storage to;
	ust_socklen_t tolen = bench_sockaddr(s->family, 2, PORT, &to);
	uint8_t *pat = pattern_new(s->chunk);
	uint64_t sent = 0;
	unsigned turns = 0;
	int err, shut = 0;

	pin(s->cpu);
	if (pat == NULL) {
		s->error = -UST_ENOMEM;
		goto out;
	}
	if ((err = ust_socket(s->st, bench_family_af(s->family), UST_SOCK_STREAM, 0, &so)) != 0) {
		s->error = err;
		goto out;
	}
	err = ust_connect(so, (const struct ust_sockaddr *)&to, tolen);
	if (err != 0 && err != -UST_EINPROGRESS) {
		s->error = err;
		goto out;
	}
	s->t0 = now_s();
	while (!*s->peer_done) {
		ust_stack_poll(s->st);
		while (sent < s->bytes) {
			size_t want = s->chunk;
			ptrdiff_t r;

			if (want > s->bytes - sent)
				want = (size_t)(s->bytes - sent);
			r = ust_send(so, pat + sent % PATTERN_PERIOD, want, 0);
			if (r == -UST_EAGAIN || r == -UST_ENOTCONN)
				break;
			if (r < 0) {
				s->error = (int)r;
				goto out;
			}
			sent += (uint64_t)r;
		}
		if (sent == s->bytes && !shut) {
			ust_shutdown(so, UST_SHUT_WR);
			shut = 1;
		}
		if (++turns % 4096 == 0 && now_s() - s->t0 > TIMEOUT_S) {
			s->error = -UST_ETIMEDOUT;
			break;
		}
	}
out:
	s->t1 = now_s();
	s->bytes = sent;
	s->done = 1;
	if (so != NULL)
		ust_close(so);
	/* Let the close finish while the receiver still polls. */
	for (int i = 0; i < 1000; i++)
		ust_stack_poll(s->st);
	free(pat);
	return (NULL);
}

static void *
receiver_main(void *arg)
{
	struct side *s = arg;
	struct ust_socket *lso = NULL, *so = NULL;
	struct ust_sockaddr_storage me;
	ust_socklen_t melen = bench_sockaddr(s->family, 2, PORT, &me);
	uint8_t *buf = malloc(s->chunk), *pat = pattern_new(s->chunk);
	double start = now_s();
	unsigned turns = 0;
	int err;

	pin(s->cpu);
	if (buf == NULL || pat == NULL) {
		s->error = -UST_ENOMEM;
		goto out;
	}
	if ((err = ust_socket(s->st, bench_family_af(s->family), UST_SOCK_STREAM, 0, &lso)) != 0 ||
	    (err = ust_bind(lso, (const struct ust_sockaddr *)&me, melen)) != 0 ||
	    (err = ust_listen(lso, 1)) != 0) {
		s->error = err;
		goto out;
	}
	for (;;) {
		ptrdiff_t r;

		ust_stack_poll(s->st);
		if (so == NULL) {
			if (ust_accept(lso, &so, NULL, NULL) != 0)
				so = NULL;
			else
				s->t0 = now_s();
		}
		while (so != NULL) {
			r = ust_recv(so, buf, s->chunk, 0);
			if (r == -UST_EAGAIN)
				break;
			if (r <= 0) {
				if (r < 0)
					s->error = (int)r;
				goto out;
			}
			if (s->badbyte == 0)
				s->badbyte = pattern_check(pat, buf, s->bytes, (size_t)r);
			s->bytes += (uint64_t)r;
		}
		if (*s->peer_done && so == NULL)
			break;
		if (++turns % 4096 == 0 && now_s() - start > TIMEOUT_S) {
			s->error = -UST_ETIMEDOUT;
			break;
		}
	}
out:
	s->t1 = now_s();
	s->done = 1;
	/* The sender's FIN is acked; keep polling until it has closed. */
	while (!*s->peer_done)
		ust_stack_poll(s->st);
	if (so != NULL)
		ust_close(so);
	if (lso != NULL)
		ust_close(lso);
	for (int i = 0; i < 1000; i++)
		ust_stack_poll(s->st);
	free(buf);
	free(pat);
	return (NULL);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bulk_pipe [--mtu N] [--bytes N[K|M|G]] [--tso] [--no-csum] [--pin A,B|none]\n"
	    "                 [--chunk N] [--buf N] [--family 4|6] [--sysctl NAME=V]\n"
	    "One bulk TCP flow between two ustack stacks over the pipe, one thread per\n"
	    "stack (pinned to cores A and B, default 0,1), real clock; the receiver\n"
	    "checks every byte.  --tso: large segments cross the pipe whole (TSO/LRO).\n"
	    "--no-csum: no checksum offload (software checksums; not with --tso).\n"
	    "--family 6: over IPv6 (2001:2::1 to 2001:2::2; not with --tso).\n"
	    "--sysctl NAME=V: set a knob on both stacks (repeatable, up to 8).\n"
	    "Defaults: --mtu 1500 --bytes 1G --chunk 256K --buf 4M.\n");
}

static struct ust_stack *
stack_new(uint64_t seed, size_t buf)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL;

	ust_stack_config_init(&cfg);
	cfg.seed_set = 1;
	cfg.seed = seed;
	/* Room for the socket buffers plus a ring's worth of frames. */
	cfg.mem_limit = 1024u << 20;
	cfg.nmbufs = 262144;
	cfg.nmbclusters = 131072;
	cfg.nmbjumbo9 = 16384;
	if (ust_stack_create(&cfg, &st) != 0)
		return (NULL);
	if (ust_sysctl_set(st, "kern.ipc.maxsockbuf", 2 * (int64_t)buf) != 0 ||
	    ust_sysctl_set(st, "net.inet.tcp.sendspace", (int64_t)buf) != 0 ||
	    ust_sysctl_set(st, "net.inet.tcp.recvspace", (int64_t)buf) != 0) {
		ust_stack_destroy(st);
		return (NULL);
	}
	return (st);
}

int
main(int argc, char **argv)
{
	struct ust_pipe_config pc;
	struct ust_pipe *pipe = NULL;
	struct ust_if *ifa, *ifb;
	struct ust_pipe_stats ps;
	struct ust_tcpstat ts, tr;
	struct side snd, rcv;
	pthread_t ta, tb;
	uint64_t bytes = 1ull << 30;
	size_t chunk = 256u << 10, buf = 4u << 20;
	uint32_t mtu = 1500;
	int tso = 0, csum = 1, cpu_a = 0, cpu_b = 1, family = 4, i, err, nknobs = 0;
	const char *knobs[8];
	double secs;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--tso") == 0) {
			tso = 1;
		} else if (strcmp(a, "--no-csum") == 0) {
			csum = 0;
		} else if (strcmp(a, "--family") == 0 && v != NULL) {
			family = bench_family_parse(v);
			i++;
		} else if (strcmp(a, "--mtu") == 0 && v != NULL) {
			mtu = (uint32_t)strtoul(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--bytes") == 0 && v != NULL) {
			bytes = parse_size(v);
			i++;
		} else if (strcmp(a, "--chunk") == 0 && v != NULL) {
			chunk = (size_t)parse_size(v);
			i++;
		} else if (strcmp(a, "--buf") == 0 && v != NULL) {
			buf = (size_t)parse_size(v);
			i++;
		} else if (strcmp(a, "--pin") == 0 && v != NULL) {
			if (strcmp(v, "none") == 0)
				cpu_a = cpu_b = -1;
			else if (sscanf(v, "%d,%d", &cpu_a, &cpu_b) != 2)
				cpu_a = -2;
			i++;
		} else if (strcmp(a, "--sysctl") == 0 && v != NULL && nknobs < 8 &&
		    strchr(v, '=') != NULL) {
			knobs[nknobs++] = v;
			i++;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return (0);
		} else {
			usage(stderr);
			return (2);
		}
	}
	if (bytes == 0 || chunk < 8 || chunk > (64u << 20) || buf < 65536 || mtu < 576 ||
	    mtu > 65535 || cpu_a < -1 || cpu_b < -1 || (tso && !csum) || family < 0 ||
	    (tso && family == 6)) {
		usage(stderr);
		return (2);
	}

	memset(&snd, 0, sizeof(snd));
	memset(&rcv, 0, sizeof(rcv));
	snd.st = stack_new(1, buf);
	rcv.st = stack_new(2, buf);
	for (i = 0; i < nknobs && snd.st != NULL && rcv.st != NULL; i++) {
		char name[128];
		const char *eq = strchr(knobs[i], '=');
		size_t n = (size_t)(eq - knobs[i]);
		long long kv = strtoll(eq + 1, NULL, 0);

		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, knobs[i], n);
		name[n] = '\0';
		if (ust_sysctl_set(snd.st, name, kv) != 0 ||
		    ust_sysctl_set(rcv.st, name, kv) != 0) {
			fprintf(stderr, "bulk_pipe: --sysctl %s refused\n", knobs[i]);
			return (2);
		}
	}
	ust_pipe_config_init(&pc);
	pc.mtu = mtu;
	/* A link does not push back: the ring must hold a window's frames,
	 * or a descheduled receiver means drops.  TSO slots are 64 KiB. */
	pc.ring_size = tso ? 2048 : 8192;
	if (csum)
		pc.caps = UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM | UST_IFCAP_TXCSUM_IPV6;
	if (tso)
		pc.caps |= UST_IFCAP_TSO4 | UST_IFCAP_TSO6 | UST_IFCAP_LRO;
	pc.fault[UST_PIPE_A_TO_B].seed = 1;
	pc.fault[UST_PIPE_B_TO_A].seed = 2;
	if (snd.st == NULL || rcv.st == NULL || ust_pipe_create(&pc, &pipe) != 0 ||
	    ust_if_attach(snd.st, "pipe0", ust_pipe_ops(), ust_pipe_end(pipe, UST_PIPE_A), &ifa) !=
	        0 ||
	    ust_if_attach(rcv.st, "pipe0", ust_pipe_ops(), ust_pipe_end(pipe, UST_PIPE_B), &ifb) !=
	        0) {
		fprintf(stderr, "bulk_pipe: cannot set up the stacks and the pipe\n");
		return (1);
	}
	if ((err = bench_family_addrs(family, ifa, ifb)) != 0) {
		fprintf(stderr, "bulk_pipe: cannot add the IPv%d addresses: %s\n", family,
		    ust_strerror(err));
		return (1);
	}
	snd.family = rcv.family = family;
	snd.cpu = cpu_a;
	rcv.cpu = cpu_b;
	snd.bytes = bytes;
	snd.chunk = rcv.chunk = chunk;
	snd.peer_done = &rcv.done;
	rcv.peer_done = &snd.done;
	if (pthread_create(&tb, NULL, receiver_main, &rcv) != 0 ||
	    pthread_create(&ta, NULL, sender_main, &snd) != 0) {
		fprintf(stderr, "bulk_pipe: cannot start the threads\n");
		return (1);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);

	ust_stats_tcp(snd.st, &ts);
	ust_stats_tcp(rcv.st, &tr);
	ust_pipe_get_stats(pipe, UST_PIPE_A_TO_B, &ps);
	ust_stack_destroy(snd.st);
	ust_stack_destroy(rcv.st);
	ust_pipe_destroy(pipe);

	if (snd.error != 0 || rcv.error != 0) {
		fprintf(stderr, "bulk_pipe: sender %s, receiver %s\n",
		    snd.error ? ust_strerror(snd.error) : "ok",
		    rcv.error ? ust_strerror(rcv.error) : "ok");
		return (1);
	}
	if (rcv.badbyte != 0 || rcv.bytes != bytes) {
		fprintf(stderr, "bulk_pipe: received %llu of %llu bytes%s\n",
		    (unsigned long long)rcv.bytes, (unsigned long long)bytes,
		    rcv.badbyte ? ", with a wrong byte" : "");
		return (1);
	}
	secs = rcv.t1 - rcv.t0;
	printf("bulk_pipe bytes=%llu seconds=%.6f gbit_per_s=%.3f mtu=%u tso=%d csum=%d "
	       "rexmit=%llu pipe_frames=%llu pipe_drops=%llu family=%d rexmt_timeouts=%llu "
	       "rcv_badsum=%llu rcv_dup=%llu rcv_ooo=%llu\n",
	    (unsigned long long)bytes, secs, secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0.0, mtu,
	    tso, csum, (unsigned long long)ts.tcps_sndrexmitpack, (unsigned long long)ps.delivered,
	    (unsigned long long)(ps.dropped_queue + ps.dropped_mtu + ps.dropped_nombuf), family,
	    (unsigned long long)ts.tcps_rexmttimeo, (unsigned long long)tr.tcps_rcvbadsum,
	    (unsigned long long)tr.tcps_rcvduppack, (unsigned long long)tr.tcps_rcvoopack);
	return (0);
}
