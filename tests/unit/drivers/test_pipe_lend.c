/*
 * test_pipe_lend.c - the pipe's copy-free path (ust_pipe_config.lend): bulk
 * TCP both ways with the payload lent (bytes intact, every lent frame
 * returned, every zone back to zero), with loss, reordering, duplicates and
 * corruption (duplicates and corrupted frames are copies), the budget
 * (lend_max) running out and falling back to copies, every order of
 * destroying the sending stack, the receiving stack and the pipe while the
 * receiver holds unread lent data (run under ASan: a stack must not free
 * memory its peer still reads), and two stacks on two threads (TSan).
 */
#include <pthread.h>
#include <stdatomic.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "netinet/bulkrig.h"
#include "test_env.h"

static void
lend_init(struct bulk *w, uint64_t seed, const struct ust_pipe_config *pc0)
{
	struct ust_pipe_config pc;

	bulk_stacks(w, seed, 64u << 20, 16384, 4096);
	if (pc0 != NULL)
		pc = *pc0;
	else {
		ust_pipe_config_init(&pc);
		pc.lend_min = 512; /* MTU-sized segments lend too */
	}
	pc.clock = ust_vclock_clock(w->vc);
	REQUIRE_EQ(ust_pipe_create(&pc, &w->p), 0);
	bulk_attach(w, ust_pipe_ops(), ust_pipe_end(w->p, UST_PIPE_A), ust_pipe_ops(),
	    ust_pipe_end(w->p, UST_PIPE_B));
	bulk_sockets(w);
	bulk_connect(w);
}

static void
lend_stats(const struct bulk *w, int dir, struct ust_pipe_stats *st)
{
	ust_pipe_get_stats(w->p, dir, st);
}

/* Sends total bytes from `from` and reads them on `to` (the pattern of
 * bulkrig, offset by salt), in 1 ms steps; 1 when every byte came. */
static int
lend_xfer(struct bulk *w, struct ust_socket *from, struct ust_socket *to, uint32_t total,
    uint32_t salt)
{
	static uint8_t buf[BULK_CHUNK];
	uint32_t sent = 0, got = 0, i;
	int rounds, intact = 1;
	ptrdiff_t n;

	for (rounds = 0; rounds < 20000 && got < total; rounds++) {
		while (sent < total) {
			uint32_t chunk = total - sent < BULK_CHUNK ? total - sent : BULK_CHUNK;

			for (i = 0; i < chunk; i++)
				buf[i] = bulk_byte(sent + i + salt);
			if ((n = ust_send(from, buf, chunk, 0)) <= 0)
				break;
			sent += (uint32_t)n;
		}
		bulk_run(w, BULK_MS);
		while ((n = ust_recv(to, buf, BULK_CHUNK, 0)) > 0) {
			for (i = 0; i < (uint32_t)n; i++)
				if (buf[i] != bulk_byte(got + i + salt))
					intact = 0;
			got += (uint32_t)n;
		}
	}
	return (intact && got == total);
}

/* Every lent frame came back once the sockets closed. */
static void
lend_check_returned(const struct bulk *w)
{
	struct ust_pipe_stats st;
	int d;

	for (d = 0; d < 2; d++) {
		lend_stats(w, d, &st);
		CHECK_EQ(st.returned, st.lent);
	}
}

/* Closes, lets TIME_WAIT pass, checks that every lent frame came back and
 * that both stacks' mbuf zones are back to zero, frees. */
static void
bulk_fini_nofree(struct bulk *w)
{
	ust_close(w->cli);
	ust_close(w->srv);
	ust_close(w->lso);
	bulk_run(w, 10000 * BULK_MS);
	lend_check_returned(w);
	test_stack_free(w->a);
	test_stack_free(w->b);
	ust_pipe_destroy(w->p);
	ust_vclock_destroy(w->vc);
}

TEST(lend_bulk_tcp_both_ways_intact)
{
	struct ust_pipe_stats ab, ba;
	struct bulk w;

	lend_init(&w, ust_test_seed, NULL);
	CHECK(lend_xfer(&w, w.cli, w.srv, 4u << 20, 0));
	CHECK(lend_xfer(&w, w.srv, w.cli, 4u << 20, 7));
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	lend_stats(&w, UST_PIPE_B_TO_A, &ba);
	/* Most full segments cross lent: the data frames of 4 MiB are about
	 * 2900 each way. */
	CHECK(ab.lent > 2500);
	CHECK(ba.lent > 2500);
	CHECK_EQ(ab.lend_copied, 0);
	CHECK_EQ(ab.dropped_nombuf, 0);
	bulk_fini_nofree(&w);
}

TEST(lend_off_copies_everything)
{
	struct ust_pipe_config pc;
	struct ust_pipe_stats ab;
	struct bulk w;

	ust_pipe_config_init(&pc);
	CHECK_EQ(pc.lend, 1);
	CHECK_EQ(pc.lend_min, 2048);
	pc.lend = 0;
	lend_init(&w, ust_test_seed, &pc);
	CHECK(lend_xfer(&w, w.cli, w.srv, 1u << 20, 3));
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	CHECK_EQ(ab.lent, 0);
	CHECK_EQ(ab.lend_copied, 0);
	bulk_fini_nofree(&w);
}

TEST(lend_with_faults_intact_dup_and_corrupt_copied)
{
	struct ust_pipe_config pc;
	struct ust_pipe_stats ab, ba;
	struct bulk w;
	int d;

	ust_pipe_config_init(&pc);
	pc.lend_min = 512;
	for (d = 0; d < 2; d++) {
		pc.fault[d].seed = ust_test_seed + (uint64_t)d;
		pc.fault[d].loss_ppm = 10000;
		pc.fault[d].reorder_ppm = 10000;
		pc.fault[d].dup_ppm = 10000;
		pc.fault[d].corrupt_ppm = 10000;
		pc.fault[d].delay_ns = 2 * BULK_MS;
		pc.fault[d].jitter_ns = BULK_MS / 2;
		pc.fault[d].ce_ppm = 10000;
	}
	lend_init(&w, ust_test_seed, &pc);
	CHECK(lend_xfer(&w, w.cli, w.srv, 2u << 20, 1));
	CHECK(lend_xfer(&w, w.srv, w.cli, 2u << 20, 2));
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	lend_stats(&w, UST_PIPE_B_TO_A, &ba);
	CHECK(ab.lent > 500 && ba.lent > 500);
	CHECK(ab.duplicated > 0 && ab.corrupted > 0 && ab.reordered > 0 && ab.lost > 0);
	CHECK(ba.duplicated > 0 && ba.corrupted > 0);
	/* Lent frames are neither duplicated nor corrupted: what was
	 * delivered is the lent ones plus at least a copy per fault. */
	CHECK(ab.delivered >= ab.lent + ab.duplicated * 2 + ab.corrupted);
	bulk_fini_nofree(&w);
	(void)ba;
}

TEST(lend_budget_exhausted_falls_back_to_copies)
{
	struct ust_pipe_config pc;
	struct ust_pipe_stats ab;
	static uint8_t buf[BULK_CHUNK];
	uint32_t i, got = 0, sent = 0;
	ptrdiff_t n;
	int rounds, intact = 1;
	struct bulk w;

	ust_pipe_config_init(&pc);
	pc.lend_min = 512;
	pc.lend_max = 4;
	lend_init(&w, ust_test_seed, &pc);
	/* B does not read: its receive buffer holds lent frames, at most 4. */
	for (rounds = 0; rounds < 200; rounds++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = bulk_byte(sent + i);
		if ((n = ust_send(w.cli, buf, sizeof(buf), 0)) > 0)
			sent += (uint32_t)n;
		bulk_run(&w, BULK_MS);
		lend_stats(&w, UST_PIPE_A_TO_B, &ab);
		CHECK(ab.lent - ab.returned <= 4);
	}
	CHECK_EQ(ab.lent, 4);
	CHECK(ab.lend_copied > 20);
	while (got < sent) {
		while ((n = ust_recv(w.srv, buf, sizeof(buf), 0)) > 0) {
			for (i = 0; i < (uint32_t)n; i++)
				if (buf[i] != bulk_byte(got + i))
					intact = 0;
			got += (uint32_t)n;
		}
		bulk_run(&w, BULK_MS);
	}
	CHECK(intact);
	/* Read: the budget comes back and lending resumes (up to 4 out). */
	CHECK(lend_xfer(&w, w.cli, w.srv, 1u << 20, 0));
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	CHECK(ab.lent > 8);
	CHECK(ab.lent - ab.returned <= 4);
	bulk_fini_nofree(&w);
}

/* A sender whose stack runs low on clusters copies instead of lending. */
TEST(lend_low_sender_pool_copies)
{
	struct ust_pipe_config pc;
	struct ust_pipe_stats ab;
	struct bulk w;

	memset(&w, 0, sizeof(w));
	w.seed = ust_test_seed;
	w.vc = ust_vclock_create(BULK_T0);
	w.a = test_stack_new_sized(w.vc, w.seed, 64u << 20, 16384, 16);
	w.b = test_stack_new_sized(w.vc, w.seed + 1, 64u << 20, 16384, 4096);
	REQUIRE(w.a != NULL && w.b != NULL);
	ust_pipe_config_init(&pc);
	pc.lend_min = 512;
	pc.clock = ust_vclock_clock(w.vc);
	REQUIRE_EQ(ust_pipe_create(&pc, &w.p), 0);
	bulk_attach(&w, ust_pipe_ops(), ust_pipe_end(w.p, UST_PIPE_A), ust_pipe_ops(),
	    ust_pipe_end(w.p, UST_PIPE_B));
	bulk_sockets(&w);
	bulk_connect(&w);
	CHECK(lend_xfer(&w, w.cli, w.srv, 1u << 20, 5));
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	CHECK(ab.lend_copied > 0);
	bulk_fini_nofree(&w);
}

/* Sends about 200 KB from A to B and leaves it unread in B's socket
 * buffer, most of it lent (the receive buffer holds it). */
static uint32_t
lend_fill_unread(struct bulk *w)
{
	static uint8_t buf[BULK_CHUNK];
	struct ust_pipe_stats ab;
	uint32_t sent = 0, i;
	ptrdiff_t n;
	int rounds;

	for (rounds = 0; rounds < 50 && sent < 200000; rounds++) {
		for (i = 0; i < 16384; i++)
			buf[i] = bulk_byte(sent + i);
		if ((n = ust_send(w->cli, buf, 16384, 0)) > 0)
			sent += (uint32_t)n;
		bulk_run(w, BULK_MS);
	}
	bulk_run(w, 50 * BULK_MS);
	lend_stats(w, UST_PIPE_A_TO_B, &ab);
	CHECK(ab.lent - ab.returned > 10);
	return (sent);
}

/* Reads what B holds (up to want bytes) straight from B's socket: 1 when
 * it is the pattern. */
static int
lend_read_unread(struct ust_socket *so, uint32_t want)
{
	static uint8_t buf[BULK_CHUNK];
	uint32_t got = 0, i;
	ptrdiff_t n;
	int intact = 1;

	while (got < want && (n = ust_recv(so, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < (uint32_t)n; i++)
			if (buf[i] != bulk_byte(got + i))
				intact = 0;
		got += (uint32_t)n;
	}
	if (!intact || got <= 50000)
		printf("read %u of %u, intact %d\n", got, want, intact);
	return (intact && got > 50000);
}

TEST(lend_destroy_sender_first_receiver_reads_after)
{
	struct bulk w;
	uint32_t sent;

	lend_init(&w, ust_test_seed, NULL);
	sent = lend_fill_unread(&w);
	/* A goes with its frames lent: its zones stay until B lets go. */
	ust_stack_destroy(w.a);
	w.a = NULL;
	w.cli = NULL;
	CHECK(lend_read_unread(w.srv, sent));
	ust_close(w.srv);
	ust_close(w.lso);
	ust_stack_destroy(w.b);
	ust_pipe_destroy(w.p);
	ust_vclock_destroy(w.vc);
}

TEST(lend_destroy_sender_first_receiver_never_reads)
{
	struct bulk w;

	lend_init(&w, ust_test_seed, NULL);
	(void)lend_fill_unread(&w);
	ust_stack_destroy(w.a);
	ust_stack_destroy(w.b); /* frees the unread data: the last holds */
	ust_pipe_destroy(w.p);
	ust_vclock_destroy(w.vc);
}

TEST(lend_destroy_receiver_first)
{
	struct ust_pipe_stats ab;
	struct bulk w;

	lend_init(&w, ust_test_seed, NULL);
	(void)lend_fill_unread(&w);
	ust_stack_destroy(w.b);
	w.b = NULL;
	/* Everything B held came back: A frees it at its next poll. */
	ust_stack_poll(w.a);
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	CHECK_EQ(ab.returned, ab.lent);
	ust_stack_destroy(w.a);
	ust_pipe_destroy(w.p);
	ust_vclock_destroy(w.vc);
}

TEST(lend_destroy_pipe_first_receiver_reads_after)
{
	struct bulk w;
	uint32_t sent;

	lend_init(&w, ust_test_seed, NULL);
	sent = lend_fill_unread(&w);
	ust_if_detach(w.ifa);
	ust_if_detach(w.ifb);
	ust_pipe_destroy(w.p); /* B's lent frames keep the pipe's records */
	CHECK(lend_read_unread(w.srv, sent));
	ust_stack_destroy(w.b);
	ust_stack_destroy(w.a);
	ust_vclock_destroy(w.vc);
}

TEST(lend_destroy_sender_pipe_then_receiver_with_data)
{
	struct bulk w;

	lend_init(&w, ust_test_seed, NULL);
	(void)lend_fill_unread(&w);
	ust_stack_destroy(w.a);
	ust_if_detach(w.ifb);
	ust_pipe_destroy(w.p);
	ust_stack_destroy(w.b); /* frees the unread data: the last holds */
	ust_vclock_destroy(w.vc);
}

TEST(lend_detach_sender_cancels_frames_in_the_ring)
{
	struct ust_pipe_stats ab;
	static uint8_t buf[16384];
	struct bulk w;

	lend_init(&w, ust_test_seed, NULL);
	memset(buf, 0x5a, sizeof(buf));
	CHECK(ust_send(w.cli, buf, sizeof(buf), 0) > 0);
	ust_stack_poll(w.a); /* sent, not received */
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	CHECK(ab.lent > 0);
	ust_if_detach(w.ifa);
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	CHECK_EQ(ab.returned, ab.lent);
	/* B finds the cancelled frames and drops them. */
	ust_stack_poll(w.b);
	ust_if_detach(w.ifb);
	ust_stack_destroy(w.a);
	ust_stack_destroy(w.b);
	ust_pipe_destroy(w.p);
	ust_vclock_destroy(w.vc);
}

/* Two stacks on two threads, the pipe's lanes crossing threads: A sends,
 * B reads, each thread polling its own stack on the monotonic clock. */
struct lend_thr {
	_Atomic int *stop; /* set by the receiver once it has every byte */
	struct ust_stack *st;
	struct ust_socket *so;
	int sender;
	uint32_t total, done;
	int intact;
};

static void *
lend_thread_main(void *arg)
{
	struct lend_thr *t = arg;
	static _Thread_local uint8_t buf[BULK_CHUNK];
	uint32_t i;
	ptrdiff_t n;

	t->intact = 1;
	while (!atomic_load(t->stop)) {
		if (t->sender && t->done < t->total) {
			uint32_t chunk = t->total - t->done < 16384 ? t->total - t->done : 16384;

			for (i = 0; i < chunk; i++)
				buf[i] = bulk_byte(t->done + i);
			if ((n = ust_send(t->so, buf, chunk, 0)) > 0)
				t->done += (uint32_t)n;
		} else if (!t->sender) {
			while ((n = ust_recv(t->so, buf, sizeof(buf), 0)) > 0) {
				for (i = 0; i < (uint32_t)n; i++)
					if (buf[i] != bulk_byte(t->done + i))
						t->intact = 0;
				t->done += (uint32_t)n;
			}
			if (t->done >= t->total)
				atomic_store(t->stop, 1);
		}
		ust_stack_poll(t->st);
	}
	/* Keep polling briefly: the last ACKs and returns. */
	for (i = 0; i < 20000; i++) {
		ust_stack_poll(t->st);
	}
	return (NULL);
}

TEST(lend_two_threads_bulk_intact)
{
	struct ust_pipe_config pc;
	struct ust_stack_config cfg;
	struct ust_pipe_stats ab;
	struct ust_stack *a, *b;
	struct ust_pipe *p;
	struct ust_if *ifa, *ifb;
	struct ust_socket *lso, *cli, *srv = NULL;
	struct ust_sockaddr_in la = tl_sin(test_ip4(2), BULK_PORT);
	struct lend_thr ta, tb;
	_Atomic int stop = 0;
	pthread_t tha, thb;
	int err, i;

	ust_stack_config_init(&cfg);
	cfg.seed = ust_test_seed;
	cfg.seed_set = 1;
	REQUIRE_EQ(ust_stack_create(&cfg, &a), 0);
	cfg.seed = ust_test_seed + 1;
	REQUIRE_EQ(ust_stack_create(&cfg, &b), 0);
	ust_pipe_config_init(&pc);
	pc.lend_min = 512;
	REQUIRE_EQ(ust_pipe_create(&pc, &p), 0);
	REQUIRE_EQ(ust_if_attach(a, "p0", ust_pipe_ops(), ust_pipe_end(p, UST_PIPE_A), &ifa), 0);
	REQUIRE_EQ(ust_if_attach(b, "p0", ust_pipe_ops(), ust_pipe_end(p, UST_PIPE_B), &ifb), 0);
	REQUIRE_EQ(ust_if_addr_add(ifa, test_ip4(1), 24), 0);
	REQUIRE_EQ(ust_if_addr_add(ifb, test_ip4(2), 24), 0);
	REQUIRE_EQ(ust_socket(b, UST_AF_INET, UST_SOCK_STREAM, 0, &lso), 0);
	REQUIRE_EQ(ust_bind(lso, (const struct ust_sockaddr *)&la, sizeof(la)), 0);
	REQUIRE_EQ(ust_listen(lso, 8), 0);
	REQUIRE_EQ(ust_socket(a, UST_AF_INET, UST_SOCK_STREAM, 0, &cli), 0);
	err = ust_connect(cli, (const struct ust_sockaddr *)&la, sizeof(la));
	REQUIRE(err == 0 || err == -UST_EINPROGRESS);
	for (i = 0; i < 1000000 && srv == NULL; i++) {
		ust_stack_poll(a);
		ust_stack_poll(b);
		if (ust_accept(lso, &srv, NULL, NULL) != 0)
			srv = NULL;
	}
	REQUIRE(srv != NULL);
	memset(&ta, 0, sizeof(ta));
	memset(&tb, 0, sizeof(tb));
	ta.stop = tb.stop = &stop;
	ta.st = a;
	ta.so = cli;
	ta.sender = 1;
	ta.total = tb.total = 8u << 20;
	tb.st = b;
	tb.so = srv;
	REQUIRE_EQ(pthread_create(&tha, NULL, lend_thread_main, &ta), 0);
	REQUIRE_EQ(pthread_create(&thb, NULL, lend_thread_main, &tb), 0);
	pthread_join(tha, NULL);
	pthread_join(thb, NULL);
	CHECK(tb.intact);
	CHECK_EQ(tb.done, ta.total);
	ust_pipe_get_stats(p, UST_PIPE_A_TO_B, &ab);
	CHECK(ab.lent > 1000);
	ust_close(cli);
	ust_close(srv);
	ust_close(lso);
	ust_stack_destroy(a);
	ust_stack_destroy(b);
	ust_pipe_destroy(p);
}

/* The default lend_min (2048): MTU-sized segments are copied, the large
 * segments of a TSO pipe are lent. */
#if UST_TCP_TSO
TEST(lend_default_copies_mtu_frames_lends_tso)
{
	struct ust_pipe_config pc;
	struct ust_pipe_stats ab;
	struct bulk w;

	ust_pipe_config_init(&pc);
	lend_init(&w, ust_test_seed, &pc);
	CHECK(lend_xfer(&w, w.cli, w.srv, 1u << 20, 4));
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	CHECK_EQ(ab.lent, 0);
	CHECK(ab.delivered > 700);
	bulk_fini_nofree(&w);

	ust_pipe_config_init(&pc);
	pc.caps = UST_IFCAP_TSO4 | UST_IFCAP_LRO | UST_IFCAP_TXCSUM | UST_IFCAP_RXCSUM;
	pc.ring_size = 256;
	lend_init(&w, ust_test_seed, &pc);
	CHECK(lend_xfer(&w, w.cli, w.srv, 4u << 20, 6));
	lend_stats(&w, UST_PIPE_A_TO_B, &ab);
	CHECK(ab.lent > 20);
	CHECK(ab.delivered_bytes > 4 * 1514 * ab.delivered); /* large segments */
	bulk_fini_nofree(&w);
}
#endif /* UST_TCP_TSO */
