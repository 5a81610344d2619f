/*
 * scale_conns.c - N concurrent TCP connections between two stacks in one
 * process: the time to establish them and the stack memory each idle
 * connection costs, per end.
 *
 * Stack A (clients) and stack B (one listener on port 80) share a
 * virtual clock and a pipe without faults.  Clients connect in batches
 * (--batch, default 1000: the pipe ring and the syncache hold a batch);
 * B accepts after each batch and keeps every accepted socket open.  The
 * 4-tuples: 64,000 explicit ports per client address, as many addresses
 * on A's interface as N needs (1M: 16), since one address and one server
 * port give at most 64K connections.
 *
 * Memory is the stacks' own accounting (ust_stack_get_mem: zones, tables
 * and buffers, everything the stack allocates): in_use after all are
 * established minus in_use before the first connect, over N, for each
 * stack separately (A's sockets are the clients, B's the accepted ones;
 * the listener is in the baseline).  Printed as key=value lines for
 * bench/b_scale.py.
 *
 *   scale_conns [--conns N] [--batch B] [--seed S]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include <ustack/ustack_osal.h>
#include <ustack/ustack_stats.h>

#include "sim_util.h"

#define SC_PORT 80
#define SC_PORTS_PER_ADDR 64000u
#define SC_FIRST_PORT 1500u
#define SC_FIRST_HOST 10u

/* Wall-clock seconds (the OSAL's monotonic clock, not the virtual one). */
static double
wall_s(void)
{
	return ((double)ust_osal_clock_ns() / 1e9);
}

static struct ust_stack *
sc_stack(struct ust_vclock *vc, uint64_t seed, uint64_t n)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL;

	tl_stack_config(&cfg, vc, seed);
	cfg.mem_limit = 0; /* measured, not limited */
	if (ust_stack_create(&cfg, &st) != 0)
		return (NULL);
	/* Room for N sockets (the TCP zones follow kern.ipc.maxsockets) and
	 * the largest listen queue; the batch stays below both. */
	if (ust_sysctl_set(st, "kern.ipc.maxsockets", (int64_t)n + 64) != 0 ||
	    ust_sysctl_set(st, "kern.ipc.somaxconn", 65535) != 0) {
		ust_stack_destroy(st);
		return (NULL);
	}
	return (st);
}

/* Polls both stacks until idle; when nothing is left to do, moves the
 * clock to the next deadline (0: idle with none due within 10 s). */
static int
sc_settle(struct tl_pair *pr)
{
	uint64_t next;

	if (tl_pair_poll(pr) > 0)
		return (1);
	next = tl_pair_next_deadline(pr);
	if (next == UINT64_MAX || next > ust_vclock_now(pr->vc) + 10 * NS_S)
		return (0);
	if (next > ust_vclock_now(pr->vc))
		ust_vclock_set(pr->vc, next);
	return (1);
}

int
main(int argc, char **argv)
{
	uint64_t n = 10000, batch = 1000, seed = 1, i, b, accepted = 0, naddr;
	struct ust_socket **cli, **srv, *lso = NULL;
	struct ust_sockaddr_in la;
	struct ust_mem ma0, mb0, ma1, mb1;
	struct ust_tcpstat tsa;
	struct ust_pipe_config pc;
	struct tl_pair pr;
	struct rusage ru;
	double t0, t1;
	int rc = 1;

	for (int k = 1; k < argc; k++) {
		if (k + 1 < argc && strcmp(argv[k], "--conns") == 0)
			n = strtoull(argv[++k], NULL, 10);
		else if (k + 1 < argc && strcmp(argv[k], "--batch") == 0)
			batch = strtoull(argv[++k], NULL, 10);
		else if (k + 1 < argc && strcmp(argv[k], "--seed") == 0)
			seed = strtoull(argv[++k], NULL, 10);
		else {
			fprintf(stderr, "usage: scale_conns [--conns N] [--batch B] [--seed S]\n");
			return (2);
		}
	}
	naddr = (n + SC_PORTS_PER_ADDR - 1) / SC_PORTS_PER_ADDR;
	if (n == 0 || batch == 0 || batch > 30000 || naddr > 200) {
		fprintf(stderr, "scale_conns: --conns 1..12800000, --batch 1..30000\n");
		return (2);
	}
	cli = calloc(n, sizeof(*cli));
	srv = calloc(n, sizeof(*srv));
	memset(&pr, 0, sizeof(pr));
	if (cli == NULL || srv == NULL)
		goto out;
	/* The rig of sim_util.h, built here: the stacks need their limits
	 * raised and the pipe a ring that holds a batch. */
	pr.vc = ust_vclock_create(1000 * NS_MS);
	if (pr.vc == NULL)
		goto out;
	pr.a = sc_stack(pr.vc, seed * 2 + 1, n);
	pr.b = sc_stack(pr.vc, seed * 2 + 2, n);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(pr.vc);
	pc.ring_size = 65536;
	if (pr.a == NULL || pr.b == NULL || ust_pipe_create(&pc, &pr.p) != 0 ||
	    ust_if_attach(pr.a, "p0", ust_pipe_ops(), ust_pipe_end(pr.p, UST_PIPE_A), &pr.ifa) !=
	        0 ||
	    ust_if_attach(pr.b, "p0", ust_pipe_ops(), ust_pipe_end(pr.p, UST_PIPE_B), &pr.ifb) !=
	        0 ||
	    ust_if_addr_add(pr.ifb, tl_ip4addr(198, 18, 0, 2), 24) != 0) {
		fprintf(stderr, "scale_conns: rig set-up failed\n");
		goto out;
	}
	for (i = 0; i < naddr; i++)
		if (ust_if_addr_add(pr.ifa, tl_ip4addr(198, 18, 0, (unsigned)(SC_FIRST_HOST + i)),
		        24) != 0) {
			fprintf(stderr, "scale_conns: address %" PRIu64 " refused\n", i);
			goto out;
		}
	la = tl_sin(tl_ip4addr(198, 18, 0, 2), SC_PORT);
	if (ust_socket(pr.b, UST_AF_INET, UST_SOCK_STREAM, 0, &lso) != 0 ||
	    ust_bind(lso, (const struct ust_sockaddr *)&la, sizeof(la)) != 0 ||
	    ust_listen(lso, 65535) != 0) {
		fprintf(stderr, "scale_conns: listener set-up failed\n");
		goto out;
	}
	while (sc_settle(&pr) && ust_vclock_now(pr.vc) < 2000 * NS_MS)
		continue; /* gratuitous ARP and the like, before the baseline */
	ust_stack_get_mem(pr.a, &ma0);
	ust_stack_get_mem(pr.b, &mb0);
	t0 = wall_s();
	for (b = 0; b < n; b += batch) {
		uint64_t end = b + batch < n ? b + batch : n;

		for (i = b; i < end; i++) {
			struct ust_sockaddr_in ca =
			    tl_sin(tl_ip4addr(198, 18, 0,
			               (unsigned)(SC_FIRST_HOST + i / SC_PORTS_PER_ADDR)),
			        (uint16_t)(SC_FIRST_PORT + i % SC_PORTS_PER_ADDR));
			int err;

			if (ust_socket(pr.a, UST_AF_INET, UST_SOCK_STREAM, 0, &cli[i]) != 0 ||
			    ust_bind(cli[i], (const struct ust_sockaddr *)&ca, sizeof(ca)) != 0) {
				fprintf(stderr, "scale_conns: client socket %" PRIu64 " failed\n",
				    i);
				goto out;
			}
			err = ust_connect(cli[i], (const struct ust_sockaddr *)&la, sizeof(la));
			if (err != 0 && err != -UST_EINPROGRESS) {
				fprintf(stderr, "scale_conns: connect %" PRIu64 ": %d\n", i, err);
				goto out;
			}
		}
		while (accepted < end) {
			int progress = sc_settle(&pr);

			while (accepted < n && ust_accept(lso, &srv[accepted], NULL, NULL) == 0) {
				accepted++;
				progress = 1;
			}
			if (!progress) {
				fprintf(stderr,
				    "scale_conns: stalled at %" PRIu64 " of %" PRIu64 " accepted\n",
				    accepted, end);
				goto out;
			}
		}
	}
	t1 = wall_s();
	(void)tl_pair_poll(&pr);
	ust_stack_get_mem(pr.a, &ma1);
	ust_stack_get_mem(pr.b, &mb1);
	ust_stats_tcp(pr.a, &tsa);
	if (tsa.tcps_connects != n) {
		fprintf(stderr, "scale_conns: A counts %" PRIu64 " connects, not %" PRIu64 "\n",
		    tsa.tcps_connects, n);
		goto out;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("conns=%" PRIu64 "\n", n);
	printf("establish_s=%.6f\n", t1 - t0);
	printf("conns_per_s=%.0f\n", (double)n / (t1 - t0));
	printf("mem_a_before=%zu\nmem_a_after=%zu\nmem_a_peak=%zu\n", ma0.in_use, ma1.in_use,
	    ma1.peak);
	printf("mem_b_before=%zu\nmem_b_after=%zu\nmem_b_peak=%zu\n", mb0.in_use, mb1.in_use,
	    mb1.peak);
	printf("bytes_per_conn_client=%.1f\n", (double)(ma1.in_use - ma0.in_use) / (double)n);
	printf("bytes_per_conn_server=%.1f\n", (double)(mb1.in_use - mb0.in_use) / (double)n);
	printf("maxrss_kb=%ld\n", ru.ru_maxrss);
	rc = 0;
out:
	for (i = 0; i < n && cli != NULL && srv != NULL; i++) {
		if (cli[i] != NULL)
			ust_close(cli[i]);
		if (srv[i] != NULL)
			ust_close(srv[i]);
	}
	if (lso != NULL)
		ust_close(lso);
	tl_pair_close(&pr);
	free(cli);
	free(srv);
	return (rc);
}
