/*
 * test_tcp_wscale.c - RFC 7323 window scaling in use: two stacks over a
 * pipe (20 ms one-way delay, 1 Gbit/s), 1 MB socket buffers on both
 * (net.inet.tcp.sendspace/recvspace set before the sockets exist), 8 MB
 * sent; TCP_INFO sampled on the sender during the transfer must show a
 * peer window and bytes in flight above 65535, both shifts non-zero, and
 * every byte must arrive intact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "kern/endian.h"
#include "test_env.h"

#define WS_MS 1000000ull
#define WS_T0 (1000 * WS_MS)
#define WS_PORT 5001
#define WS_BUF 1048576
#define WS_TOTAL (8u * 1024u * 1024u)

struct ws {
	struct ust_vclock *vc;
	struct ust_stack *a, *b;
	struct ust_pipe *p;
	struct ust_if *ifa, *ifb;
};

static struct ust_stack *
ws_stack(struct ust_vclock *vc, uint64_t seed)
{
	struct ust_stack *st = test_stack_new_sized(vc, seed, 256u * 1024u * 1024u, 65536, 16384);

	CHECK_EQ(ust_sysctl_set(st, "net.inet.tcp.sendspace", WS_BUF), 0);
	CHECK_EQ(ust_sysctl_set(st, "net.inet.tcp.recvspace", WS_BUF), 0);
	return (st);
}

static void
ws_run(struct ws *w, uint64_t dt)
{
	uint64_t until = ust_vclock_now(w->vc) + dt, next, nb;

	for (;;) {
		while (ust_stack_poll(w->a) + ust_stack_poll(w->b) > 0)
			continue;
		next = ust_stack_next_deadline(w->a);
		nb = ust_stack_next_deadline(w->b);
		if (nb < next)
			next = nb;
		if (next > until)
			break;
		if (next <= ust_vclock_now(w->vc))
			next = ust_vclock_now(w->vc) + 1;
		ust_vclock_set(w->vc, next);
	}
	ust_vclock_set(w->vc, until);
	while (ust_stack_poll(w->a) + ust_stack_poll(w->b) > 0)
		continue;
}

static uint8_t
ws_byte(uint32_t off)
{
	return ((uint8_t)((off * 2654435761u) >> 24));
}

TEST(window_above_64k_with_1mb_buffers)
{
	struct ws w;
	struct ust_pipe_config pc;
	struct ust_sockaddr_in la = test_sin(test_ip4(2), WS_PORT);
	struct ust_socket *lso = NULL, *cli = NULL, *srv = NULL;
	struct ust_tcp_info ti;
	uint8_t *buf = malloc(65536);
	uint32_t sent = 0, got = 0, max_wnd = 0, max_unacked = 0, i;
	unsigned snd_ws = 0, rcv_ws = 0;
	int err, rounds, intact = 1;
	size_t len;

	REQUIRE(buf != NULL);
	memset(&w, 0, sizeof(w));
	w.vc = ust_vclock_create(WS_T0);
	w.a = ws_stack(w.vc, 21);
	w.b = ws_stack(w.vc, 22);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(w.vc);
	pc.ring_size = 4096;
	for (i = 0; i < 2; i++) {
		pc.fault[i].delay_ns = 20 * WS_MS;
		pc.fault[i].rate_bps = 1000000000ull;
	}
	REQUIRE_EQ(ust_pipe_create(&pc, &w.p), 0);
	REQUIRE_EQ(ust_if_attach(w.a, "p0", ust_pipe_ops(), ust_pipe_end(w.p, UST_PIPE_A), &w.ifa),
	    0);
	REQUIRE_EQ(ust_if_attach(w.b, "p0", ust_pipe_ops(), ust_pipe_end(w.p, UST_PIPE_B), &w.ifb),
	    0);
	REQUIRE_EQ(ust_if_addr_add(w.ifa, test_ip4(1), 24), 0);
	REQUIRE_EQ(ust_if_addr_add(w.ifb, test_ip4(2), 24), 0);
	ws_run(&w, 10 * WS_MS);

	REQUIRE_EQ(ust_socket(w.b, UST_AF_INET, UST_SOCK_STREAM, 0, &lso), 0);
	REQUIRE_EQ(ust_bind(lso, &la), 0);
	REQUIRE_EQ(ust_listen(lso, 8), 0);
	REQUIRE_EQ(ust_socket(w.a, UST_AF_INET, UST_SOCK_STREAM, 0, &cli), 0);
	err = ust_connect(cli, &la);
	REQUIRE(err == 0 || err == -UST_EINPROGRESS);
	for (rounds = 0; rounds < 1000 && srv == NULL; rounds++) {
		ws_run(&w, 5 * WS_MS);
		if (ust_accept(lso, &srv, NULL) != 0)
			srv = NULL;
	}
	REQUIRE(srv != NULL);

	/* Up to 60 s of virtual time in 1 ms steps. */
	for (rounds = 0; rounds < 60000 && got < WS_TOTAL; rounds++) {
		ptrdiff_t n;

		while (sent < WS_TOTAL) {
			uint32_t chunk = WS_TOTAL - sent < 65536 ? WS_TOTAL - sent : 65536;

			for (i = 0; i < chunk; i++)
				buf[i] = ws_byte(sent + i);
			n = ust_send(cli, buf, chunk, 0);
			if (n <= 0)
				break;
			sent += (uint32_t)n;
		}
		ws_run(&w, WS_MS);
		while ((n = ust_recv(srv, buf, 65536, 0)) > 0) {
			for (i = 0; i < (uint32_t)n; i++)
				if (buf[i] != ws_byte(got + i))
					intact = 0;
			got += (uint32_t)n;
		}
		len = sizeof(ti);
		if (ust_getsockopt(cli, UST_IPPROTO_TCP, UST_TCP_INFO, &ti, &len) == 0) {
			if (ti.tcpi_snd_wnd > max_wnd)
				max_wnd = ti.tcpi_snd_wnd;
			if (ti.tcpi_unacked > max_unacked)
				max_unacked = ti.tcpi_unacked;
			snd_ws = ti.tcpi_snd_wscale;
			rcv_ws = ti.tcpi_rcv_wscale;
		}
	}
	printf("wscale: snd %u rcv %u, max snd_wnd %u, max unacked %u, %u/%u bytes in %d ms\n",
	    snd_ws, rcv_ws, max_wnd, max_unacked, got, WS_TOTAL, rounds);
	CHECK_EQ(sent, WS_TOTAL);
	CHECK_EQ(got, WS_TOTAL);
	CHECK(intact);
	CHECK(snd_ws > 0);
	CHECK(rcv_ws > 0);
	CHECK(max_wnd > 65535);
	CHECK(max_unacked > 65535);

	ust_close(cli);
	ust_close(srv);
	ust_close(lso);
	ws_run(&w, 10000 * WS_MS);
	test_stack_free(w.a);
	test_stack_free(w.b);
	ust_pipe_destroy(w.p);
	ust_vclock_destroy(w.vc);
	free(buf);
}
