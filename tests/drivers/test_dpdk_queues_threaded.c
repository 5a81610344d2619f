/*
 * test_dpdk_queues_threaded.c - DPDK queue pairs on different threads
 * (ctest label "threaded"): two net_ring ports joined back to back with
 * two queue pairs each (ust_dpdk_ring_pair), queue i of each port one
 * interface of its own stack (ust_dpdk_softc(port, i) with ust_dpdk_ops(),
 * what ust_group_if_attach takes), every stack polled by its own thread,
 * frames both ways on every queue at once.  net_ring joins queue i to the
 * peer's queue i (no RSS), so every frame arrives on its queue's peer,
 * intact and in order; one port lends what it receives, the other copies.
 * Checks that the queues of one port share nothing unsafely (lend records,
 * tx contexts and backlogs are per queue; the mempools are DPDK's,
 * thread-safe).  Needs the EAL without hugepages (--no-huge): skipped (77)
 * when it cannot start.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/ustack.h>
#include <ustack/ustack_dpdk.h>
#include <ustack/ustack_osal.h>

#include "ust_test.h"

#define NQ 2
#define FRAMES 20000u /* per queue and direction */
#define WINDOW 256u   /* frames a sender has unacknowledged at most */
#define LIMIT_NS (120ull * 1000000000ull)
#define ETHERTYPE_TEST 0x88b5

static char eal_dir[64];

static void
eal_rmdir(void)
{
	(void)rmdir(eal_dir);
	(void)rmdir("/var/run/dpdk");
}

struct qthr {
	struct ust_stack *st;
	struct ust_if *ifp;
	unsigned side, queue;
	unsigned sent;
	/* What this queue's stack received (its input hook, its thread). */
	unsigned got, bad, out_of_order;
	uint32_t next;
	atomic_uint got_pub; /* got, for the peer's window */
	struct qthr *peer;   /* the queue that receives what this one sends */
	atomic_uint *done;   /* threads finished receiving */
	int timed_out;
	pthread_t tid;
};

static void
frame_build(uint8_t *f, size_t len, unsigned queue, uint32_t seq)
{
	size_t i;

	memset(f, 0xff, 6); /* broadcast: every port accepts it */
	memset(f + 6, 0x02, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	f[14] = (uint8_t)queue;
	f[15] = (uint8_t)(seq >> 24);
	f[16] = (uint8_t)(seq >> 16);
	f[17] = (uint8_t)(seq >> 8);
	f[18] = (uint8_t)seq;
	for (i = 19; i < len; i++)
		f[i] = (uint8_t)(i * 11 + seq * 5 + queue);
}

static int
q_input(void *arg, struct ust_if *ifp, const struct ust_mbuf *m)
{
	struct qthr *t = arg;
	uint8_t got[1514], want[1514];
	size_t len = ust_mbuf_pktlen(m);
	uint32_t seq;

	(void)ifp;
	if (len < 60 || len > sizeof(got) || ust_mbuf_copydata(m, 0, len, got) != 0 ||
	    got[12] != (ETHERTYPE_TEST >> 8) || got[13] != (ETHERTYPE_TEST & 0xff))
		return (0); /* not ours (none expected): the stack's */
	seq = (uint32_t)got[15] << 24 | (uint32_t)got[16] << 16 | (uint32_t)got[17] << 8 | got[18];
	frame_build(want, len, t->queue, seq);
	if (got[14] != t->queue || memcmp(got, want, len) != 0)
		t->bad++;
	if (seq != t->next)
		t->out_of_order++;
	t->next = seq + 1;
	t->got++;
	atomic_store_explicit(&t->got_pub, t->got, memory_order_release);
	return (1);
}

static void *
q_main(void *arg)
{
	struct qthr *t = arg;
	uint64_t deadline = ust_osal_clock_ns() + LIMIT_NS;
	uint8_t f[1514];
	size_t len;
	int finished = 0, work;

	for (;;) {
		work = 0;
		if (t->sent < FRAMES &&
		    t->sent - atomic_load_explicit(&t->peer->got_pub, memory_order_acquire) <
		        WINDOW) {
			len = 60 + (t->sent * 13) % 1400;
			frame_build(f, len, t->queue, t->sent);
			if (ust_if_output_frame(t->ifp, f, len) == 0)
				t->sent++, work = 1;
		}
		work += ust_stack_poll(t->st);
		/* Four spinning threads share two cores here (and ctest runs
		 * other tests beside): an idle one gives its core away. */
		if (!work)
			sched_yield();
		if (!finished && t->got == FRAMES) {
			finished = 1;
			atomic_fetch_add_explicit(t->done, 1, memory_order_acq_rel);
		}
		if (finished && t->sent == FRAMES &&
		    atomic_load_explicit(t->done, memory_order_acquire) == 2 * NQ)
			break;
		if (ust_osal_clock_ns() > deadline) {
			t->timed_out = 1;
			break;
		}
	}
	return (NULL);
}

TEST(dpdk_two_queues_two_threads_each_side)
{
	struct ust_dpdk_port_config cfg;
	struct ust_dpdk_port *port[2];
	struct ust_stack_config sc;
	struct ust_dpdk_stats ds;
	struct qthr thr[2][NQ];
	atomic_uint done;
	uint16_t id[2];
	unsigned s, q;
	char args[200];

	snprintf(eal_dir, sizeof(eal_dir), "/var/run/dpdk/ustdq%ld", (long)getpid());
	snprintf(args, sizeof(args),
	    "--no-huge -m 256 --no-shconf --no-pci --no-telemetry --log-level=warning "
	    "--file-prefix=%s",
	    eal_dir + strlen("/var/run/dpdk/"));
	if (ust_dpdk_eal_init(args) != 0) {
		fprintf(stderr, "SKIP: the DPDK EAL does not start here\n");
		exit(77);
	}
	atexit(eal_rmdir);
	REQUIRE_EQ(ust_dpdk_ring_pair("dq", NQ, 512, &id[0], &id[1]), 0);
	for (s = 0; s < 2; s++) {
		ust_dpdk_port_config_init(&cfg);
		cfg.port_id = id[s];
		cfg.nb_queues = NQ;
		cfg.nb_mbufs = 8191;
		cfg.nb_rxd = cfg.nb_txd = 512;
		cfg.zero_copy = (uint8_t)s; /* side 0 copies, side 1 lends */
		REQUIRE_EQ(ust_dpdk_port_open(&cfg, &port[s]), 0);
	}
	atomic_init(&done, 0);
	memset(thr, 0, sizeof(thr));
	for (s = 0; s < 2; s++)
		for (q = 0; q < NQ; q++) {
			struct qthr *t = &thr[s][q];

			ust_stack_config_init(&sc);
			sc.seed_set = 1;
			sc.seed = ust_test_seed + s * NQ + q;
			REQUIRE_EQ(ust_stack_create(&sc, &t->st), 0);
			/* Exactly what a group does with softcs[q]. */
			REQUIRE_EQ(ust_if_attach(t->st, "d0", ust_dpdk_ops(),
			               ust_dpdk_softc(port[s], (uint16_t)q), &t->ifp),
			    0);
			ust_if_set_input_hook(t->ifp, q_input, t);
			t->side = s;
			t->queue = q;
			t->peer = &thr[1 - s][q];
			t->done = &done;
			atomic_init(&t->got_pub, 0);
		}
	CHECK(ust_dpdk_softc(port[0], NQ) == NULL);
	for (s = 0; s < 2; s++)
		for (q = 0; q < NQ; q++)
			REQUIRE_EQ(pthread_create(&thr[s][q].tid, NULL, q_main, &thr[s][q]), 0);
	for (s = 0; s < 2; s++)
		for (q = 0; q < NQ; q++)
			pthread_join(thr[s][q].tid, NULL);
	for (s = 0; s < 2; s++)
		for (q = 0; q < NQ; q++) {
			struct qthr *t = &thr[s][q];

			CHECK(!t->timed_out);
			CHECK_EQ(t->sent, FRAMES);
			CHECK_EQ(t->got, FRAMES);
			CHECK_EQ(t->bad, 0);
			CHECK_EQ(t->out_of_order, 0);
		}
	ust_dpdk_get_stats(port[1], &ds);
	CHECK(ds.rx_lent > 0);
	ust_dpdk_get_stats(port[0], &ds);
	CHECK(ds.rx_copied >= (uint64_t)NQ * FRAMES);
	for (s = 0; s < 2; s++)
		for (q = 0; q < NQ; q++) {
			ust_if_detach(thr[s][q].ifp);
			ust_stack_destroy(thr[s][q].st);
		}
	for (s = 0; s < 2; s++)
		ust_dpdk_port_close(port[s]);
}
