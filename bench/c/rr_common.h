/*
 * rr_common.h - what rr_ustack.c and rr_linux.c share: the command line,
 * CPU pinning, the latency sample buffer and the one-line JSON result, so
 * that both report the same figures computed the same way.  Header only.
 */
#ifndef USTACK_BENCH_RR_COMMON_H
#define USTACK_BENCH_RR_COMMON_H

#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RR_MSG 64 /* request and response size (the 64 bytes) */

enum rr_work { RR_PINGPONG, RR_CRR };

struct rr_opts {
	enum rr_work work;
	long count; /* round trips, or connections */
	int cross;  /* 0: same core, 1: different cores */
	int busy;   /* rr_linux: non-blocking busy polling */
	int cpu[2]; /* client's and server's CPU */
	int family; /* 4 or 6 (--family) */
	/* rr_ustack: software checksums (--no-csum); by default the pipe
	 * offers checksum offload, as Linux's loopback skips them. */
	int no_csum;
	/* rr_linux: the server's address (default the loopback address of
	 * the family) and the network namespace its listening socket is made
	 * in (NULL: the process's own), for a run across a veth pair. */
	const char *server;
	const char *server_netns;
	const char *prog;
};

static inline uint64_t
rr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* The first two CPUs this process may run on (the same one twice when
 * there is only one). */
static inline void
rr_pick_cpus(int cpu[2])
{
	cpu_set_t set;
	int i, n = 0;

	cpu[0] = cpu[1] = 0;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[n++] = i;
	if (n == 1)
		cpu[1] = cpu[0];
}

/* Pins the calling thread (pid 0) to one CPU. */
static inline int
rr_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return (sched_setaffinity(0, sizeof(set), &set));
}

static inline void
rr_usage(FILE *f, const char *prog, const char *what)
{
	int linux = strstr(prog, "linux") != NULL;

	fprintf(f,
	    "usage: %s (--pingpong N | --crr N) [--same-core | --cross-core]\n"
	    "       [--family 4|6]%s\n"
	    "%s\n"
	    "--pingpong N: N round trips of a %d-byte request and response on one\n"
	    "connection; --crr N: N times connect, request, response, close.\n"
	    "--family 6: over IPv6 (default 4).\n%s"
	    "Prints one JSON line: ops_per_s, p50_us, p99_us (per operation).\n",
	    prog, linux ? " [--busy] [--server ADDR] [--server-netns NAME]" : " [--no-csum]", what,
	    RR_MSG,
	    linux ? "--server ADDR: the server's address (default 127.0.0.1 or ::1);\n"
	            "--server-netns NAME: its listening socket is made in the network\n"
	            "namespace NAME (/var/run/netns/NAME), e.g. across a veth pair.\n" :
	            "--no-csum: software TCP/IP checksums (by default the pipe offers\n"
	            "checksum offload: Linux's loopback computes none either).\n");
}

/* Parses argv; returns 0, 1 for --help, 2 for a bad line. */
static inline int
rr_parse(int argc, char **argv, struct rr_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->prog = argv[0];
	o->count = -1;
	o->family = 4;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pingpong") == 0 && i + 1 < argc) {
			o->work = RR_PINGPONG;
			o->count = atol(argv[++i]);
		} else if (strcmp(argv[i], "--crr") == 0 && i + 1 < argc) {
			o->work = RR_CRR;
			o->count = atol(argv[++i]);
		} else if (strcmp(argv[i], "--same-core") == 0)
			o->cross = 0;
		else if (strcmp(argv[i], "--cross-core") == 0)
			o->cross = 1;
		else if (strcmp(argv[i], "--busy") == 0)
			o->busy = 1;
		else if (strcmp(argv[i], "--no-csum") == 0)
			o->no_csum = 1;
		else if (strcmp(argv[i], "--family") == 0 && i + 1 < argc) {
			i++;
			o->family = strcmp(argv[i], "6") == 0 ? 6 :
			    strcmp(argv[i], "4") == 0         ? 4 :
			                                        -1;
			if (o->family < 0)
				return (2);
		} else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			o->server = argv[++i];
		else if (strcmp(argv[i], "--server-netns") == 0 && i + 1 < argc)
			o->server_netns = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return (1);
		else
			return (2);
	}
	if (o->count <= 0)
		return (2);
	rr_pick_cpus(o->cpu);
	if (!o->cross)
		o->cpu[1] = o->cpu[0];
	return (0);
}

static inline int
rr_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Nearest-rank percentile of sorted samples. */
static inline double
rr_pct(const uint64_t *s, long n, double p)
{
	long k = (long)(p / 100.0 * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return ((double)s[k - 1] / 1000.0);
}

/* Sorts the per-operation latencies (ns) and prints the result line. */
static inline void
rr_report(const struct rr_opts *o, const char *stack, uint64_t *lat, long n, uint64_t total_ns)
{
	qsort(lat, (size_t)n, sizeof(*lat), rr_cmp_u64);
	printf("{\"stack\": \"%s\", \"work\": \"%s\", \"cores\": \"%s\", \"cpus\": [%d, %d], "
	       "\"family\": %d, \"count\": %ld, \"seconds\": %.6f, \"ops_per_s\": %.1f, "
	       "\"p50_us\": %.3f, \"p99_us\": %.3f}\n",
	    stack, o->work == RR_PINGPONG ? "pingpong" : "crr", o->cross ? "cross" : "same",
	    o->cpu[0], o->cpu[1], o->family, n, (double)total_ns / 1e9,
	    total_ns ? (double)n * 1e9 / (double)total_ns : 0.0, rr_pct(lat, n, 50),
	    rr_pct(lat, n, 99));
}

#endif /* USTACK_BENCH_RR_COMMON_H */
