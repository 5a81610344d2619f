/*
 * rr_ustack.c - request/response over ustack (bench/b_rr.py): a client
 * stack and a server stack joined by the in-memory pipe, on the real clock.
 *
 *   --same-core:  one thread pinned to one CPU polls both stacks in turn
 *                 (the like-for-like of a Linux client and server on one
 *                 core: no cross-core handoff anywhere);
 *   --cross-core: one busy-polling thread per stack, pinned to two CPUs
 *                 (the pipe's rings are single-producer single-consumer).
 *
 *   --pingpong N: N round trips of a 64-byte request and a 64-byte response
 *                 on one connection (TCP_NODELAY on both ends);
 *   --crr N:      N times connect + request + response + close (the client
 *                 closes first, so TIME_WAIT stays on the client as with
 *                 netperf's TCP_CRR; the server closes on EOF).
 *
 *   --family 6:   over IPv6 (bench_family.h: 2001:2::1 and 2001:2::2 with
 *                 static neighbor entries) instead of 198.18.0.1 and .2.
 *
 * Prints one JSON line (rr_common.h).  Uses only the public headers.
 */
#include "rr_ustack_core.h"

#include <pthread.h>

#include <ustack/ustack_pipe.h>

#include "bench_family.h"

static int
setup(int family, int csum, struct ust_stack **cli, struct ust_stack **srv, struct ust_pipe **pipe)
{
	struct ust_stack_config cfg;
	struct ust_pipe_config pc;
	struct ust_if *ifa, *ifb;
	int err;

	ust_stack_config_init(&cfg);
	cfg.mem_limit = 0; /* --crr leaves a TIME_WAIT per connection */
	ust_pipe_config_init(&pc);
	if (csum)
		pc.caps = UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM | UST_IFCAP_TXCSUM_IPV6;
	pc.fault[UST_PIPE_A_TO_B].seed = 1;
	pc.fault[UST_PIPE_B_TO_A].seed = 2;
	if (ust_stack_create(&cfg, cli) != 0 || ust_stack_create(&cfg, srv) != 0 ||
	    ust_pipe_create(&pc, pipe) != 0 ||
	    ust_if_attach(*cli, "pipe0", ust_pipe_ops(), ust_pipe_end(*pipe, UST_PIPE_A), &ifa) !=
	        0 ||
	    ust_if_attach(*srv, "pipe0", ust_pipe_ops(), ust_pipe_end(*pipe, UST_PIPE_B), &ifb) !=
	        0)
		return (-UST_ENOMEM);
	if ((err = bench_family_addrs(family, ifa, ifb)) != 0) {
		fprintf(stderr, "rr_ustack: the IPv%d addresses: %s\n", family, ust_strerror(err));
		return (err);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	struct rr_opts o;
	struct server srv;
	struct client cli;
	struct ust_pipe *pipe = NULL;
	struct ust_stack *cst = NULL;
	struct ust_sockaddr_storage me;
	ust_socklen_t melen;
	pthread_t tid;
	uint64_t *lat, total = 0;
	long warm;
	int err, rc = rr_parse(argc, argv, &o);

	if (rc != 0) {
		rr_usage(rc == 1 ? stdout : stderr, argv[0],
		    "Two ustack stacks joined by the in-memory pipe (real clock).");
		return (rc == 1 ? 0 : 2);
	}
	if (o.server != NULL || o.server_netns != NULL) {
		rr_usage(stderr, argv[0], "(--server and --server-netns are rr_linux's)");
		return (2);
	}
	if ((lat = calloc((size_t)o.count, sizeof(*lat))) == NULL)
		return (1);
	memset(&srv, 0, sizeof(srv));
	memset(&cli, 0, sizeof(cli));
	melen = bench_sockaddr(o.family, 2, PORT, &me);
	if ((err = setup(o.family, !o.no_csum, &cst, &srv.st, &pipe)) != 0 ||
	    (err = ust_socket(srv.st, bench_family_af(o.family), UST_SOCK_STREAM, 0, &srv.lso)) !=
	        0 ||
	    (err = ust_bind(srv.lso, (const struct ust_sockaddr *)&me, melen)) != 0 ||
	    (err = ust_listen(srv.lso, 128)) != 0) {
		fprintf(stderr, "rr_ustack: setup failed: %s\n", ust_strerror(err));
		return (1);
	}
	cli.st = cst;
	cli.to = me;
	cli.tolen = melen;
	cli.af = bench_family_af(o.family);
	srv.cpu = o.cpu[1];
	rr_pin(o.cpu[0]);
	if (o.cross) {
		if (pthread_create(&tid, NULL, server_thread, &srv) != 0)
			return (1);
	} else
		cli.srv = &srv;
	warm = o.count / 10 < 1000 ? o.count / 10 : 1000;
	if (o.work == RR_PINGPONG)
		err = pingpong(&cli, o.count, warm, lat, &total);
	else
		err = crr(&cli, o.count, warm, lat, &total);
	if (o.cross) {
		srv.stop = 1;
		pthread_join(tid, NULL);
	}
	if (err != 0 || srv.error != 0) {
		fprintf(stderr, "rr_ustack: %s\n", err ? ust_strerror(err) : "server send failed");
		return (1);
	}
	rr_report(&o, "ustack", lat, o.count, total);
	for (int i = 0; i < srv.nconn; i++)
		ust_close(srv.conn[i]);
	ust_close(srv.lso);
	ust_stack_destroy(cst);
	ust_stack_destroy(srv.st);
	ust_pipe_destroy(pipe);
	free(lat);
	return (0);
}
