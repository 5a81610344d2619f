/*
 * test_tcp_wscale.c - RFC 7323 window scaling in use: two stacks over a
 * pipe (20 ms one-way delay, 1 Gbit/s), 1 MB socket buffers on both
 * (net.inet.tcp.sendspace/recvspace set before the sockets exist), 8 MB
 * sent; TCP_INFO sampled on the sender during the transfer must show a
 * peer window and bytes in flight above 65535, both shifts non-zero, and
 * every byte must arrive intact.
 */
#include "bulkrig.h"

#define WS_BUF 1048576
#define WS_TOTAL (8u * 1024u * 1024u)

#if UST_TCP_RFC1323
TEST(window_above_64k_with_1mb_buffers)
{
	struct bulk w;
	struct bulk_result r;

	bulk_init(&w, 21, 256u * 1024u * 1024u, 65536, 16384, 20 * BULK_MS, 1000000000ull);
	bulk_sysctl(&w, "net.inet.tcp.sendspace", WS_BUF);
	bulk_sysctl(&w, "net.inet.tcp.recvspace", WS_BUF);
	bulk_sockets(&w);
	bulk_connect(&w);
	/* Up to 60 s of virtual time in 1 ms steps. */
	bulk_transfer(&w, WS_TOTAL, 60000, &r);
	bulk_print("wscale", &w, &r);
	CHECK_EQ(r.sent, WS_TOTAL);
	CHECK_EQ(r.got, WS_TOTAL);
	CHECK(r.intact);
	CHECK(r.snd_wscale > 0);
	CHECK(r.rcv_wscale > 0);
	CHECK(r.max_snd_wnd > 65535);
	CHECK(r.max_unacked > 65535);
	bulk_fini(&w);
}
#endif
