/*
 * test_tcp_autotune.c - socket buffer auto-sizing (tcp_autobuf.c,
 * net.inet.tcp.recvbuf_auto / sendbuf_auto) over a long fat pipe (20 ms
 * one way, 1 Gbit/s) on the virtual clock, with FreeBSD's default buffers
 * (sendspace 32768, recvspace 65536): the buffers grow, the advertised
 * window passes 64 KB, goodput rises several times over the same transfer
 * with the knobs off; growth stops at the maxima, at an application's
 * SO_RCVBUF / SO_SNDBUF and, without harm, at the stack's memory limit.
 * Every transfer is checked byte for byte.
 */
#include "bulkrig.h"
#include "kern/stack_var.h"

/* The whole file needs buffer auto-sizing (ustack_opts.h). */
#if UST_TCP_AUTOBUF

#define AT_TOTAL (4u * 1024u * 1024u)
#define AT_MEM (256u * 1024u * 1024u)
#define AT_SEED 31

/* A rig with FreeBSD's default buffers; auto-sizing on or off. */
static void
at_setup(struct bulk *w, uint64_t seed, int autosize)
{
	bulk_init(w, seed, AT_MEM, 65536, 16384, 20 * BULK_MS, 1000000000ull);
	bulk_sysctl(w, "net.inet.tcp.recvbuf_auto", autosize);
	bulk_sysctl(w, "net.inet.tcp.sendbuf_auto", autosize);
	bulk_sockets(w);
}

static void
at_check_intact(const struct bulk_result *r, uint32_t total)
{
	CHECK_EQ(r->sent, total);
	CHECK_EQ(r->got, total);
	CHECK(r->intact);
}

#if UST_STATS
#if UST_TCP_RFC1323
TEST(autotune_grows_buffers_and_goodput)
{
	struct bulk w;
	struct bulk_result on, off;
	uint64_t grown;

	at_setup(&w, AT_SEED, 0);
	bulk_connect(&w);
	bulk_transfer(&w, AT_TOTAL, 60000, &off);
	bulk_print("auto off", &w, &off);
	at_check_intact(&off, AT_TOTAL);
	bulk_fini(&w);

	at_setup(&w, AT_SEED, 1);
	bulk_connect(&w);
	bulk_transfer(&w, AT_TOTAL, 60000, &on);
	bulk_print("auto on", &w, &on);
	at_check_intact(&on, AT_TOTAL);
	/* RFC 7323 2.3: the shift was chosen for kern.ipc.maxsockbuf (2 MB:
	 * 6), so the grown buffer could be advertised. */
	CHECK_EQ(on.snd_wscale, 6u);
	CHECK_EQ(on.rcv_wscale, 6u);
	CHECK(on.rcvbuf_max > 4 * 65536);
	CHECK(on.sndbuf_max > 4 * 32768);
	CHECK(on.max_snd_wnd > 65535);
	CHECK(on.max_unacked > 65535);
	grown = w.b->st_tcpstat.tcps_autorcvbuf + w.a->st_tcpstat.tcps_autosndbuf;
	CHECK(w.b->st_tcpstat.tcps_autorcvbuf > 0);
	CHECK(w.a->st_tcpstat.tcps_autosndbuf > 0);
	CHECK(grown < 100); /* doubling: a handful of steps, not one per ACK */
	CHECK_EQ(w.a->st_tcpstat.tcps_autobuf_fail + w.b->st_tcpstat.tcps_autobuf_fail, 0u);
	/* 64 KB per 40 ms round trip is ~13 Mbit/s; the grown window does
	 * several times better on the same seed. */
	CHECK(bulk_mbps(&on) > 4.0 * bulk_mbps(&off));
	bulk_fini(&w);
}
#endif
#endif

#if UST_STATS
TEST(knob_off_buffers_never_change)
{
	struct bulk w;
	struct bulk_result r;

	at_setup(&w, AT_SEED + 1, 0);
	bulk_connect(&w);
	bulk_transfer(&w, AT_TOTAL / 4, 60000, &r);
	bulk_print("auto off", &w, &r);
	at_check_intact(&r, AT_TOTAL / 4);
	/* SO_RCVBUF is rounded to the MSS at the handshake (tcp_mss), then
	 * left alone. */
	CHECK_EQ(r.rcvbuf_min, r.rcvbuf_max);
	CHECK(r.rcvbuf_max < 65536 + 1460);
	CHECK_EQ(r.sndbuf_min, 32768);
	CHECK_EQ(r.sndbuf_max, 32768);
	CHECK(r.max_snd_wnd <= 65536 + 1460);
	CHECK_EQ(w.b->st_tcpstat.tcps_autorcvbuf + w.a->st_tcpstat.tcps_autosndbuf, 0u);
	bulk_fini(&w);
}
#endif

#if UST_TCP_RFC1323
TEST(growth_stops_at_recvbuf_max_and_sendbuf_max)
{
	struct bulk w;
	struct bulk_result r;

	at_setup(&w, AT_SEED + 2, 1);
	bulk_sysctl(&w, "net.inet.tcp.recvbuf_max", 262144);
	bulk_sysctl(&w, "net.inet.tcp.sendbuf_max", 196608);
	bulk_connect(&w);
	bulk_transfer(&w, AT_TOTAL, 60000, &r);
	bulk_print("maxima", &w, &r);
	at_check_intact(&r, AT_TOTAL);
	CHECK_EQ(r.rcvbuf_max, 262144);
	CHECK_EQ(r.sndbuf_max, 196608);
	CHECK(r.max_snd_wnd <= 262144);
	bulk_fini(&w);
}
#endif

#if UST_STATS
TEST(application_sizes_disable_autosizing)
{
	struct bulk w;
	struct bulk_result r;
	int rcv;

	at_setup(&w, AT_SEED + 3, 1);
	/* On the listener: the accepted socket inherits the size and that
	 * its receive buffer is the application's; its send side stays
	 * automatic. */
	CHECK_EQ(ust_setsockopt(w.lso, UST_SOL_SOCKET, UST_SO_RCVBUF, &(int){ 131072 },
	             sizeof(int)),
	    0);
	bulk_connect(&w);
	rcv = bulk_getint(w.srv, UST_SO_RCVBUF);
	CHECK(rcv >= 131072 && rcv < 131072 + 1460);
	bulk_transfer(&w, AT_TOTAL, 60000, &r);
	bulk_print("SO_RCVBUF set", &w, &r);
	at_check_intact(&r, AT_TOTAL);
	CHECK_EQ(r.rcvbuf_min, rcv);
	CHECK_EQ(r.rcvbuf_max, rcv);
	CHECK(r.sndbuf_max > 32768); /* the sender's buffer is still automatic */
	CHECK_EQ(w.b->st_tcpstat.tcps_autorcvbuf, 0u);
	bulk_fini(&w);

	/* On the sender, after the connection exists. */
	at_setup(&w, AT_SEED + 4, 1);
	bulk_connect(&w);
	CHECK_EQ(ust_setsockopt(w.cli, UST_SOL_SOCKET, UST_SO_SNDBUF, &(int){ 49152 }, sizeof(int)),
	    0);
	bulk_transfer(&w, AT_TOTAL / 4, 60000, &r);
	bulk_print("SO_SNDBUF set", &w, &r);
	at_check_intact(&r, AT_TOTAL / 4);
	CHECK_EQ(r.sndbuf_min, 49152);
	CHECK_EQ(r.sndbuf_max, 49152);
	CHECK_EQ(w.a->st_tcpstat.tcps_autosndbuf, 0u);
	bulk_fini(&w);
}
#endif

#if UST_STATS
#if UST_TCP_RFC1323
TEST(growth_under_tight_memory_fails_gracefully)
{
	struct bulk w;
	struct bulk_result r;
	uint64_t fails;

	/* 4 MB of memory and 384 clusters (768 KB) per stack: the buffers
	 * cannot reach recvbuf_max / sendbuf_max (2 MB). */
	bulk_init(&w, AT_SEED + 5, 4u * 1024u * 1024u, 4096, 384, 20 * BULK_MS, 1000000000ull);
	bulk_sockets(&w);
	bulk_connect(&w);
	bulk_transfer(&w, AT_TOTAL, 60000, &r);
	bulk_print("tight memory", &w, &r);
	fails = w.a->st_tcpstat.tcps_autobuf_fail + w.b->st_tcpstat.tcps_autobuf_fail;
	printf("autobuf_fail %llu, autorcvbuf %llu, autosndbuf %llu\n", (unsigned long long)fails,
	    (unsigned long long)w.b->st_tcpstat.tcps_autorcvbuf,
	    (unsigned long long)w.a->st_tcpstat.tcps_autosndbuf);
	at_check_intact(&r, AT_TOTAL);
	CHECK(fails > 0);
	CHECK(r.rcvbuf_max > 65536 + 1460); /* it grew while memory allowed */
	CHECK(r.rcvbuf_max < 2097152);
	CHECK(r.sndbuf_max < 2097152);
	bulk_fini(&w);
}
#endif
#endif
#endif /* UST_TCP_AUTOBUF */
