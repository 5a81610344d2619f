/*
 * test_gather.c - the transmit side of the driver contract seen from a
 * driver: TCP's data segments reach tx_burst as chains (header mbuf plus
 * the send buffer's clusters, shared for retransmission, so read-only to
 * the driver), never flattened, and ust_mbuf_sglist lists them.  A
 * recording shim sits between the stack and the skeleton driver.
 */
#include <ustack/ustack_skeleton.h>

#include "test_env.h"

struct shim {
	const struct ust_driver_ops *ops;
	void *softc;
	int frames, chains, shared, maxsegs;
	size_t bytes_in_segs, bytes;
};

static struct shim shims[2];

static int
shim_tx(void *softc, struct ust_mbuf **pkts, int n)
{
	struct shim *s = softc;
	struct ust_iovec v[16];
	int i, k, j;

	for (i = 0; i < n; i++) {
		k = ust_mbuf_sglist(pkts[i], v, 16);
		s->frames++;
		s->bytes += ust_mbuf_pktlen(pkts[i]);
		for (j = 0; j < k && j < 16; j++)
			s->bytes_in_segs += v[j].iov_len;
		if (k > 1)
			s->chains++;
		if (k > s->maxsegs)
			s->maxsegs = k;
		if (!ust_mbuf_writable(pkts[i]))
			s->shared++;
	}
	return (s->ops->tx_burst(s->softc, pkts, n));
}

static int
shim_rx(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct shim *s = softc;

	return (s->ops->rx_burst(s->softc, ifp, pkts, max));
}

static void
shim_mac(void *softc, uint8_t mac[6])
{
	struct shim *s = softc;

	s->ops->get_mac(s->softc, mac);
}

static uint32_t
shim_mtu(void *softc)
{
	struct shim *s = softc;

	return (s->ops->get_mtu(s->softc));
}

static const struct ust_driver_ops shim_ops = {
	.name = "shim",
	.rx_burst = shim_rx,
	.tx_burst = shim_tx,
	.get_mac = shim_mac,
	.get_mtu = shim_mtu,
};

TEST(tcp_segments_reach_the_driver_as_shared_chains)
{
	struct ust_vclock *vc = ust_vclock_create(1000000000ull);
	struct ust_skeleton_config cfg;
	struct ust_skeleton *sk;
	struct ust_stack *st[2];
	struct ust_if *ifp[2];
	struct ust_socket *ls, *cs, *as = NULL;
	struct ust_sockaddr_in sin = tl_sin(UST_INADDR_ANY, 80), to = tl_sin(test_ip4(2), 80);
	static uint8_t out[200000];
	int i;

	ust_skeleton_config_init(&cfg);
	REQUIRE(ust_skeleton_create(&cfg, &sk) == 0);
	for (i = 0; i < 2; i++) {
		memset(&shims[i], 0, sizeof(shims[i]));
		shims[i].ops = ust_skeleton_ops();
		shims[i].softc = ust_skeleton_end(sk, i);
		st[i] = test_stack_new(vc, 1 + (uint64_t)i);
		REQUIRE(ust_if_attach(st[i], "s0", &shim_ops, &shims[i], &ifp[i]) == 0);
		REQUIRE(ust_if_addr_add(ifp[i], test_ip4(1 + (unsigned)i), 24) == 0);
	}
	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (uint8_t)(i * 13);
	REQUIRE(ust_socket(st[1], UST_AF_INET, UST_SOCK_STREAM, 0, &ls) == 0);
	REQUIRE(ust_bind(ls, (const struct ust_sockaddr *)&sin, sizeof(sin)) == 0 &&
	    ust_listen(ls, 1) == 0);
	REQUIRE(ust_socket(st[0], UST_AF_INET, UST_SOCK_STREAM, 0, &cs) == 0);
	(void)ust_connect(cs, (const struct ust_sockaddr *)&to, sizeof(to));
	tl_run(vc, st, 2, 10000000);
	REQUIRE(ust_accept(ls, &as, NULL, NULL) == 0);
	CHECK_EQ(tl_stream(vc, st, 2, cs, as, out, sizeof(out), 1000000, 10000), sizeof(out));
	/* The data segments were chains the stack did not flatten, whose
	 * data the send buffer shares; every byte was in the gather list. */
	CHECK(shims[0].chains > 100);
	CHECK(shims[0].shared > 100);
	CHECK(shims[0].maxsegs >= 2 && shims[0].maxsegs <= 16);
	CHECK_EQ(shims[0].bytes_in_segs, shims[0].bytes);
	ust_close(cs);
	ust_close(as);
	ust_close(ls);
	tl_run(vc, st, 2, 1000000000ull);
	for (i = 0; i < 2; i++) {
		ust_if_detach(ifp[i]);
		test_stack_free(st[i]);
	}
	ust_skeleton_destroy(sk);
	ust_vclock_destroy(vc);
}
