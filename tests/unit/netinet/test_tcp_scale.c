/*
 * test_tcp_scale.c - many TCP connections between two stacks in one
 * process over a pipe (a large ring, no faults, virtual clock): 10,000
 * connections open at once, each carrying a request and its response,
 * then all closed until every PCB is gone; and the stack memory an idle
 * established connection costs (memory delta / N, printed and bounded).
 */
#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "kern/endian.h"
#include "test_env.h"

#define NS_MS 1000000ull
#define SC_T0 (1000 * NS_MS)
#define SC_PORT 80
#define SC_BATCH 500
#define SC_REQ 32
#define SC_RESP 64

struct scale {
	struct ust_vclock *vc;
	struct ust_stack *a, *b; /* clients, server */
	struct ust_pipe *p;
	struct ust_if *ifa, *ifb;
	struct ust_socket *lso;
	int n;
	struct ust_socket **cli, **srv;
	uint16_t *cdone, *sdone; /* bytes of response got, request got */
	int *replied;
};

static struct ust_stack *
sc_stack(struct ust_vclock *vc, uint64_t seed)
{
	struct ust_stack *st = test_stack_new_sized(vc, seed, 1024u * 1024u * 1024u, 262144, 65536);

	/* Room for everything at once (kern.ipc.*, the listen queue and
	 * the syncache), and a short TIME_WAIT. */
	CHECK_EQ(ust_sysctl_set(st, "kern.ipc.maxsockets", 65536), 0);
	CHECK_EQ(ust_sysctl_set(st, "kern.ipc.somaxconn", 32768), 0);
	CHECK_EQ(ust_sysctl_set(st, "net.inet.tcp.msl", 1000), 0);
	return (st);
}

static void
sc_run(struct scale *s, uint64_t dt)
{
	struct ust_stack *st[2] = { s->a, s->b };

	tl_run(s->vc, st, 2, dt);
}

static void
sc_init(struct scale *s, int n)
{
	struct ust_pipe_config pc;
	struct ust_sockaddr_in la = tl_sin(test_ip4(2), SC_PORT);

	memset(s, 0, sizeof(*s));
	s->n = n;
	s->vc = ust_vclock_create(SC_T0);
	s->a = sc_stack(s->vc, 11);
	s->b = sc_stack(s->vc, 12);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(s->vc);
	pc.ring_size = 65536;
	if (ust_pipe_create(&pc, &s->p) != 0 ||
	    ust_if_attach(s->a, "p0", ust_pipe_ops(), ust_pipe_end(s->p, UST_PIPE_A), &s->ifa) !=
	        0 ||
	    ust_if_attach(s->b, "p0", ust_pipe_ops(), ust_pipe_end(s->p, UST_PIPE_B), &s->ifb) !=
	        0 ||
	    ust_if_addr_add(s->ifa, test_ip4(1), 24) != 0 ||
	    ust_if_addr_add(s->ifb, test_ip4(2), 24) != 0) {
		fprintf(stderr, "sc_init: pipe setup failed\n");
		abort();
	}
	sc_run(s, 10 * NS_MS);
	s->cli = calloc((size_t)n, sizeof(*s->cli));
	s->srv = calloc((size_t)n, sizeof(*s->srv));
	s->cdone = calloc((size_t)n, sizeof(*s->cdone));
	s->sdone = calloc((size_t)n, sizeof(*s->sdone));
	s->replied = calloc((size_t)n, sizeof(*s->replied));
	if (ust_socket(s->b, UST_AF_INET, UST_SOCK_STREAM, 0, &s->lso) != 0 ||
	    ust_bind(s->lso, (const struct ust_sockaddr *)&la, sizeof(la)) != 0 ||
	    ust_listen(s->lso, 32768) != 0) {
		fprintf(stderr, "sc_init: listener setup failed\n");
		abort();
	}
}

static void
sc_fini(struct scale *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		if (s->cli[i] != NULL)
			ust_close(s->cli[i]);
		if (s->srv[i] != NULL)
			ust_close(s->srv[i]);
	}
	if (s->lso != NULL)
		ust_close(s->lso);
	sc_run(s, 10000 * NS_MS);
	test_stack_free(s->a);
	test_stack_free(s->b);
	ust_pipe_destroy(s->p);
	ust_vclock_destroy(s->vc);
	free(s->cli);
	free(s->srv);
	free(s->cdone);
	free(s->sdone);
	free(s->replied);
}

/* Accepts what is queued; the server learns the client's index from
 * the request, so accepted sockets go to a pool first. */
static int
sc_accept_all(struct scale *s, struct ust_socket **pool, int *npool)
{
	struct ust_socket *so;
	int got = 0;

	while (ust_accept(s->lso, &so, NULL, NULL) == 0) {
		pool[(*npool)++] = so;
		got++;
	}
	return (got);
}

/* Server side: read each pooled socket's request ("req <index>"), file
 * the socket under that index, answer with SC_RESP bytes. */
static void
sc_serve(struct scale *s, struct ust_socket **pool, int *npool)
{
	char buf[SC_REQ + 1], resp[SC_RESP];
	int i, idx;

	for (i = 0; i < *npool;) {
		ptrdiff_t r = ust_recv(pool[i], buf, SC_REQ, UST_MSG_PEEK);

		if (r < SC_REQ) {
			i++;
			continue;
		}
		CHECK_EQ(ust_recv(pool[i], buf, SC_REQ, 0), SC_REQ);
		buf[SC_REQ] = '\0';
		idx = atoi(buf + 4);
		if (idx < 0 || idx >= s->n || s->srv[idx] != NULL) {
			CHECK(!"bad request");
			i++;
			continue;
		}
		s->srv[idx] = pool[i];
		s->sdone[idx] = SC_REQ;
		memset(resp, 'r', sizeof(resp));
		snprintf(resp, sizeof(resp), "resp %d", idx);
		s->replied[idx] = ust_send(pool[i], resp, sizeof(resp), 0) == SC_RESP;
		CHECK(s->replied[idx]);
		pool[i] = pool[--*npool];
	}
}

/* Opens n connections in batches, each sends its request and reads its
 * response; all stay open.  Returns the number completed. */
static int
sc_open_all(struct scale *s)
{
	struct ust_sockaddr_in to = tl_sin(test_ip4(2), SC_PORT);
	struct ust_socket **pool = calloc((size_t)s->n, sizeof(*pool));
	char req[SC_REQ], resp[SC_RESP];
	int npool = 0, i, b, done = 0, rounds;

	for (b = 0; b < s->n; b += SC_BATCH) {
		int end = b + SC_BATCH < s->n ? b + SC_BATCH : s->n;

		for (i = b; i < end; i++) {
			int err;

			if (ust_socket(s->a, UST_AF_INET, UST_SOCK_STREAM, 0, &s->cli[i]) != 0) {
				CHECK(!"client socket");
				break;
			}
			err = ust_connect(s->cli[i], (const struct ust_sockaddr *)&to, sizeof(to));
			if (err != -UST_EINPROGRESS && err != 0)
				UST_FAIL_AT(__FILE__, __LINE__, "connect #%d = %d", i, err);
		}
		/* Up to 6 s of virtual time per batch: the first SYNs of a
		 * batch wait for ARP on the client (at most maxhold of them
		 * are held), the rest go out on the 1 s SYN retransmission. */
		for (rounds = 0; rounds < 400; rounds++) {
			int pending = 0;

			sc_run(s, 5 * NS_MS);
			sc_accept_all(s, pool, &npool);
			for (i = b; i < end; i++) {
				if (s->cli[i] == NULL || s->cdone[i] == SC_RESP)
					continue;
				if (s->cdone[i] == 0) {
					memset(req, ' ', sizeof(req));
					snprintf(req, sizeof(req), "req %d", i);
					if (ust_send(s->cli[i], req, SC_REQ, 0) == SC_REQ)
						s->cdone[i] = 1;
				}
				pending++;
			}
			sc_run(s, 5 * NS_MS);
			sc_accept_all(s, pool, &npool);
			sc_serve(s, pool, &npool);
			sc_run(s, 5 * NS_MS);
			for (i = b; i < end; i++) {
				ptrdiff_t r;

				if (s->cli[i] == NULL || s->cdone[i] != 1)
					continue;
				r = ust_recv(s->cli[i], resp, SC_RESP, UST_MSG_PEEK);
				if (r < SC_RESP)
					continue;
				CHECK_EQ(ust_recv(s->cli[i], resp, SC_RESP, 0), SC_RESP);
				CHECK_EQ(atoi(resp + 5), i);
				s->cdone[i] = SC_RESP;
				done++;
			}
			if (pending == 0)
				break;
		}
	}
	CHECK_EQ(npool, 0);
	free(pool);
	return (done);
}

static size_t
sc_mem(struct ust_stack *st)
{
	struct ust_mem m;

	ust_stack_get_mem(st, &m);
	return (m.in_use);
}

static int
sc_count_established(struct ust_socket **v, int n)
{
	struct ust_tcp_info ti;
	size_t len;
	int i, c = 0;

	for (i = 0; i < n; i++) {
		len = sizeof(ti);
		if (v[i] != NULL &&
		    ust_getsockopt(v[i], UST_IPPROTO_TCP, UST_TCP_INFO, &ti, &len) == 0 &&
		    ti.tcpi_state == UST_TCPS_ESTABLISHED)
			c++;
	}
	return (c);
}

#if UST_STATS
/* 10,000 connections open at once, each a request and a response, then
 * all closed: every PCB and buffer is freed (test_stack_free). */
TEST(ten_thousand_connections)
{
	struct scale s;
	struct ust_tcpstat ta, tb;
	int n = 10000, done;

	sc_init(&s, n);
	done = sc_open_all(&s);
	CHECK_EQ(done, n);
	sc_run(&s, 1000 * NS_MS);
	CHECK_EQ(sc_count_established(s.cli, n), n);
	CHECK_EQ(sc_count_established(s.srv, n), n);
	ust_stats_tcp(s.a, &ta);
	ust_stats_tcp(s.b, &tb);
	CHECK_EQ(ta.tcps_connects, n);
	CHECK_EQ(tb.tcps_accepts, n);
	printf("10000 connections: A sent %llu segments, B %llu; B syncache added %llu, "
	       "cookies %llu\n",
	    (unsigned long long)ta.tcps_sndtotal, (unsigned long long)tb.tcps_sndtotal,
	    (unsigned long long)tb.tcps_sc_added, (unsigned long long)tb.tcps_sc_recvcookie);
	sc_fini(&s);
}
#endif

/* Stack memory per idle established connection: (delta of both stacks'
 * memory accounts) / N per endpoint, with every request answered and
 * read and the delayed ACKs gone out. */
TEST(idle_connection_memory)
{
	struct scale s;
	size_t ma0, mb0, ma1, mb1;
	double per_cli, per_srv;
	int n = 2000;

	sc_init(&s, n);
	ma0 = sc_mem(s.a);
	mb0 = sc_mem(s.b);
	REQUIRE_EQ(sc_open_all(&s), n);
	sc_run(&s, 1000 * NS_MS);
	ma1 = sc_mem(s.a);
	mb1 = sc_mem(s.b);
	per_cli = (double)(ma1 - ma0) / n;
	per_srv = (double)(mb1 - mb0) / n;
	printf("memory per idle established connection: client side %.0f bytes, server side "
	       "%.0f bytes (N = %d)\n",
	    per_cli, per_srv, n);
	CHECK(per_cli < 4096);
	CHECK(per_srv < 4096);
	sc_fini(&s);
}
