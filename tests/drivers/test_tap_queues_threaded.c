/*
 * test_tap_queues_threaded.c - a two-queue TAP (IFF_MULTI_QUEUE) with a
 * stack and a thread per queue against the Linux kernel (ctest label
 * "threaded": ThreadSanitizer sees both queues run at once while the main
 * thread reads the counters).  Root only (77: skipped otherwise): the test
 * forks a child that unshares a network namespace of its own (it goes
 * with the child: nothing is left behind), makes the device there
 * (198.18.0.0/15), and
 *
 *  - the kernel sends UDP datagrams on 64 flows to 198.18.0.1: each
 *    arrives once, intact, on one queue (the kernel's choice), both queues
 *    get some;
 *  - each queue's thread writes UDP datagrams to the kernel's sockets: all
 *    arrive, from both queues;
 *  - the counters of each queue agree with what its thread saw, and
 *    ust_tap_get_stats is their sum.
 */
#define _GNU_SOURCE /* unshare, CLONE_NEWNET */

#include <errno.h>
#include <fcntl.h>
#include <linux/in.h> /* not <netinet/in.h>: the harness's include path has netstack's */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ustack/ustack.h>
#include <ustack/ustack_osal.h>
#include <ustack/ustack_tap.h>

#include "tap_rig.h"
#include "ust_test.h"

#define NQ 2
#define FLOWS 64
#define ROUNDS 40                        /* kernel datagrams per flow */
#define TO_KERNEL 1500u                  /* datagrams each queue writes */
#define KPORT 30000                      /* kernel sockets: KPORT + flow */
#define UPORT 9000                       /* ustack's side */
#define LIMIT_NS (60ull * 1000000000ull) /* per phase */
#define PAYLEN 64

struct qthr {
	struct ust_tap *tap;
	struct ust_stack *st;
	struct ust_if *ifp;
	unsigned q;
	uint8_t kmac[6], mac[6];
	/* Received (the input hook, this thread). */
	unsigned got, bad;
	unsigned per_flow[FLOWS];
	atomic_uint got_pub;
	/* To send: set by the main thread before it starts the phase. */
	atomic_int phase; /* 0 receive only, 1 also send TO_KERNEL, 2 stop */
	unsigned sent;
	atomic_uint sent_pub;
	pthread_t tid;
};

static uint16_t
ip_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ((uint16_t)~s);
}

/* Payload of datagram seq of flow f from queue or kernel `who`. */
static void
payload(uint8_t *b, unsigned who, unsigned f, unsigned seq)
{
	unsigned i;

	b[0] = (uint8_t)who;
	b[1] = (uint8_t)f;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (i = 4; i < PAYLEN; i++)
		b[i] = (uint8_t)(i * 3 + f * 5 + seq + who);
}

/* A UDP datagram 198.18.0.1:UPORT -> 198.18.0.2:KPORT+f (checksum 0). */
static size_t
frame_to_kernel(struct qthr *t, uint8_t *b, unsigned f, unsigned seq)
{
	uint8_t *ip = b + 14, *udp = ip + 20;
	uint16_t iplen = 20 + 8 + PAYLEN, s;

	memcpy(b, t->kmac, 6);
	memcpy(b + 6, t->mac, 6);
	b[12] = 0x08;
	b[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 198;
	ip[13] = 18;
	ip[15] = 1;
	ip[16] = 198;
	ip[17] = 18;
	ip[19] = 2;
	s = ip_sum(ip, 20);
	ip[10] = (uint8_t)(s >> 8);
	ip[11] = (uint8_t)s;
	udp[0] = UPORT >> 8;
	udp[1] = UPORT & 0xff;
	udp[2] = (uint8_t)((KPORT + f) >> 8);
	udp[3] = (uint8_t)(KPORT + f);
	udp[4] = 0;
	udp[5] = 8 + PAYLEN;
	udp[6] = udp[7] = 0;
	payload(udp + 8, 100 + t->q, f, seq);
	return (14u + iplen);
}

/* The kernel's datagrams to UPORT: checked and consumed; anything else
 * (IPv6 neighbour discovery, MLD) is the stack's. */
static int
q_input(void *arg, struct ust_if *ifp, const struct ust_mbuf *m)
{
	struct qthr *t = arg;
	uint8_t b[256], want[PAYLEN];
	size_t len = ust_mbuf_pktlen(m);
	unsigned f, seq;

	(void)ifp;
	if (len < 14 + 20 + 8 || len > sizeof(b) || ust_mbuf_copydata(m, 0, len, b) != 0 ||
	    b[12] != 0x08 || b[13] != 0x00 || b[14 + 9] != 17 || b[14 + 22] != (UPORT >> 8) ||
	    b[14 + 23] != (UPORT & 0xff))
		return (0);
	f = (unsigned)(b[14 + 20] << 8 | b[14 + 21]) - KPORT;
	seq = (unsigned)(b[42 + 2] << 8 | b[42 + 3]);
	if (len != 42 + PAYLEN || f >= FLOWS) {
		t->bad++;
		return (1);
	}
	payload(want, 200, f, seq);
	if (memcmp(b + 42, want, PAYLEN) != 0)
		t->bad++;
	t->per_flow[f]++;
	t->got++;
	atomic_store_explicit(&t->got_pub, t->got, memory_order_release);
	return (1);
}

static void *
q_main(void *arg)
{
	struct qthr *t = arg;
	uint8_t f[128];
	size_t len;
	int ph;

	while ((ph = atomic_load_explicit(&t->phase, memory_order_acquire)) != 2) {
		if (ph == 1 && t->sent < TO_KERNEL) {
			len = frame_to_kernel(t, f, t->sent % FLOWS, t->sent / FLOWS);
			if (ust_if_output_frame(t->ifp, f, len) == 0) {
				t->sent++;
				atomic_store_explicit(&t->sent_pub, t->sent, memory_order_release);
			}
		}
		ust_stack_poll(t->st);
		if (ph == 0 || t->sent == TO_KERNEL)
			usleep(50);
	}
	return (NULL);
}

/* An IPv4 socket address 198.18.0.d:port. */
static void
sin_set(struct sockaddr_in *sa, unsigned d, unsigned port)
{
	const uint8_t a[4] = { 198, 18, 0, (uint8_t)d };
	const uint8_t p[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	memcpy(&sa->sin_port, p, 2);
	memcpy(&sa->sin_addr.s_addr, a, 4);
}

/* The whole test, in the child's namespace; returns the failures. */
static void
child_main(void)
{
	struct ust_tap_config cfg;
	struct ust_tap_stats ts, qs[NQ];
	struct ust_stack_config sc;
	struct ust_tap *tap;
	struct qthr thr[NQ];
	struct sockaddr_in sa;
	uint8_t buf[256], want[PAYLEN];
	int ks[FLOWS], k_ok[NQ] = { 0 };
	unsigned q, f, r, got, flows_on[NQ] = { 0 }, kgot = 0, kbad = 0;
	uint64_t deadline;
	char cmd[256];

	REQUIRE_EQ(unshare(CLONE_NEWNET), 0);
	ust_tap_config_init(&cfg);
	CHECK_EQ(cfg.queues, 1);
	snprintf(cfg.name, sizeof(cfg.name), "ust0");
	cfg.queues = NQ;
	REQUIRE_EQ(ust_tap_open(&cfg, &tap), 0);
	CHECK_EQ(ust_tap_queues(tap), NQ);
	CHECK(ust_tap_queue_softc(tap, NQ) == NULL);
	CHECK_EQ(ust_tap_queue_fd(tap, NQ), -1);
	CHECK(ust_tap_queue_softc(tap, 0) == ust_tap_softc(tap));
	CHECK_EQ(ust_tap_queue_fd(tap, 0), ust_tap_fd(tap));
	CHECK(ust_tap_queue_fd(tap, 1) >= 0 && ust_tap_queue_fd(tap, 1) != ust_tap_fd(tap));
	CHECK_EQ(ust_tap_get_queue_stats(tap, NQ, &ts), -UST_EINVAL);
	memset(thr, 0, sizeof(thr));
	for (q = 0; q < NQ; q++) {
		struct qthr *t = &thr[q];

		ust_stack_config_init(&sc);
		sc.seed_set = 1;
		sc.seed = ust_test_seed + q;
		REQUIRE_EQ(ust_stack_create(&sc, &t->st), 0);
		REQUIRE_EQ(ust_if_attach(t->st, "tap0", ust_tap_ops(), ust_tap_queue_softc(tap, q),
		               &t->ifp),
		    0);
		ust_if_set_input_hook(t->ifp, q_input, t);
		ust_if_get_mac(t->ifp, t->mac);
		t->tap = tap;
		t->q = q;
		atomic_init(&t->phase, 0);
		atomic_init(&t->got_pub, 0);
		atomic_init(&t->sent_pub, 0);
	}
	CHECK_MEM(thr[0].mac, thr[1].mac, 6); /* one device, one MAC */
	snprintf(cmd, sizeof(cmd),
	    "ip link set lo up && ip link set ust0 up && ip addr add 198.18.0.2/24 dev ust0 && "
	    "ip neigh replace 198.18.0.1 lladdr %02x:%02x:%02x:%02x:%02x:%02x dev ust0 nud "
	    "permanent",
	    thr[0].mac[0], thr[0].mac[1], thr[0].mac[2], thr[0].mac[3], thr[0].mac[4],
	    thr[0].mac[5]);
	REQUIRE_EQ(sh(cmd), 0);
	REQUIRE_EQ(kernel_mac("ust0", thr[0].kmac), 0);
	memcpy(thr[1].kmac, thr[0].kmac, 6);
	for (f = 0; f < FLOWS; f++) {
		ks[f] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		REQUIRE(ks[f] >= 0);
		sin_set(&sa, 2, KPORT + f);
		REQUIRE_EQ(bind(ks[f], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	for (q = 0; q < NQ; q++)
		REQUIRE_EQ(pthread_create(&thr[q].tid, NULL, q_main, &thr[q]), 0);

	/* Kernel to ustack: a round of one datagram per flow at a time, so
	 * that no queue of the device overflows. */
	sin_set(&sa, 1, UPORT);
	deadline = ust_osal_clock_ns() + LIMIT_NS;
	for (r = 0; r < ROUNDS; r++) {
		for (f = 0; f < FLOWS; f++) {
			payload(buf, 200, f, r);
			CHECK_EQ(sendto(ks[f], buf, PAYLEN, 0, (struct sockaddr *)&sa, sizeof(sa)),
			    PAYLEN);
		}
		do {
			got = 0;
			for (q = 0; q < NQ; q++)
				got += atomic_load_explicit(&thr[q].got_pub, memory_order_acquire);
			/* The counters, read while the queues run. */
			ust_tap_get_stats(tap, &ts);
			usleep(100);
		} while (got < (r + 1) * FLOWS && ust_osal_clock_ns() < deadline);
	}
	/* ustack to the kernel: both queues at once. */
	for (q = 0; q < NQ; q++)
		atomic_store_explicit(&thr[q].phase, 1, memory_order_release);
	deadline = ust_osal_clock_ns() + LIMIT_NS;
	while (kgot < NQ * TO_KERNEL && ust_osal_clock_ns() < deadline) {
		int any = 0;

		for (f = 0; f < FLOWS; f++) {
			ssize_t n = recv(ks[f], buf, sizeof(buf), 0);

			if (n < 0)
				continue;
			any = 1;
			kgot++;
			q = buf[0] - 100u;
			payload(want, buf[0], f, (unsigned)(buf[2] << 8 | buf[3]));
			if (n != PAYLEN || q >= NQ || buf[1] != f || memcmp(buf, want, PAYLEN) != 0)
				kbad++;
			else
				k_ok[q]++;
		}
		if (!any)
			usleep(100);
	}
	for (q = 0; q < NQ; q++)
		atomic_store_explicit(&thr[q].phase, 2, memory_order_release);
	for (q = 0; q < NQ; q++)
		pthread_join(thr[q].tid, NULL);

	got = 0;
	for (q = 0; q < NQ; q++) {
		struct qthr *t = &thr[q];
		struct ust_if_stats is;

		CHECK_EQ(t->bad, 0);
		got += t->got;
		for (f = 0; f < FLOWS; f++) {
			/* A flow stays on one queue (the kernel's flow hash). */
			CHECK(t->per_flow[f] == 0 || t->per_flow[f] == ROUNDS);
			flows_on[q] += t->per_flow[f] != 0;
		}
		CHECK_EQ(t->sent, TO_KERNEL);
		CHECK_EQ((unsigned)k_ok[q], TO_KERNEL);
		REQUIRE_EQ(ust_tap_get_queue_stats(tap, q, &qs[q]), 0);
		CHECK(qs[q].rx_frames >= t->got);
		CHECK(qs[q].tx_frames >= TO_KERNEL);
		ust_if_get_stats(t->ifp, &is);
		CHECK_EQ(is.ipackets, qs[q].rx_frames);
	}
	CHECK_EQ(got, ROUNDS * FLOWS);
	CHECK_EQ(kgot, NQ * TO_KERNEL);
	CHECK_EQ(kbad, 0);
	/* 64 flows over two queues: both get some (all on one: p = 2^-63). */
	CHECK(flows_on[0] > 0 && flows_on[1] > 0);
	CHECK_EQ(flows_on[0] + flows_on[1], FLOWS);
	ust_tap_get_stats(tap, &ts);
	CHECK_EQ(ts.rx_frames, qs[0].rx_frames + qs[1].rx_frames);
	CHECK_EQ(ts.tx_frames, qs[0].tx_frames + qs[1].tx_frames);
	CHECK_EQ(ts.rx_bytes, qs[0].rx_bytes + qs[1].rx_bytes);
	CHECK_EQ(ts.tx_bytes, qs[0].tx_bytes + qs[1].tx_bytes);
	printf("flows per queue %u/%u, rx_frames %llu/%llu, tx_frames %llu/%llu\n", flows_on[0],
	    flows_on[1], (unsigned long long)qs[0].rx_frames, (unsigned long long)qs[1].rx_frames,
	    (unsigned long long)qs[0].tx_frames, (unsigned long long)qs[1].tx_frames);

	for (f = 0; f < FLOWS; f++)
		close(ks[f]);
	for (q = 0; q < NQ; q++) {
		ust_if_detach(thr[q].ifp);
		ust_stack_destroy(thr[q].st);
	}
	ust_tap_close(tap);
}

TEST(tap_two_queues_two_threads)
{
	tap_rig_in_child(child_main);
}
