/*
 * test_fault_wrap.c - the fault driver (drivers/fault) on an offloading
 * pipe.  A frame the wrapper must write (CE mark, corruption) is cut into
 * its TSO segments first, and those can be more than the wrapper has room
 * for when its capacity is small: they must be dropped as a full link
 * queue drops them, never pushed past the heap (the ASan tier sees any
 * write beyond it).  A segment the wrapper corrupted after filling its
 * checksums must not be vouched for by the pipe's receive offload, so the
 * receiver drops it and TCP still delivers every byte intact.
 */
#include <ustack/ustack_fault.h>
#include <ustack/ustack_pipe.h>

#include "test_env.h"

#if UST_TCP_ECN
TEST(tso_frames_cut_for_writing_never_exceed_a_small_capacity)
{
	struct ust_vclock *vc = ust_vclock_create(1000000000ull);
	struct ust_pipe_config pc;
	struct ust_fault_wrap_config fc;
	struct ust_fault_stats fs;
	struct ust_pipe *p;
	struct ust_fault *fw;
	struct ust_stack *st[2];
	struct ust_if *ifp[2];
	struct ust_socket *ls, *cs, *as = NULL;
	struct ust_sockaddr_in sin = tl_sin(UST_INADDR_ANY, 80), to = tl_sin(test_ip4(2), 80);
	static uint8_t out[1048576];
	int i;

	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(vc);
	pc.caps = UST_IFCAP_TSO4 | UST_IFCAP_LRO | UST_IFCAP_TXCSUM | UST_IFCAP_RXCSUM;
	pc.ring_size = 256;
	REQUIRE(ust_pipe_create(&pc, &p) == 0);
	ust_fault_wrap_config_init(&fc);
	fc.clock = ust_vclock_clock(vc);
	fc.capacity = 16; /* fewer than the 45 segments of one 64 KB frame */
	fc.fault[UST_FAULT_TX].corrupt_ppm = 100000;
	REQUIRE(ust_fault_wrap(ust_pipe_ops(), ust_pipe_end(p, 0), &fc, &fw) == 0);
	for (i = 0; i < 2; i++) {
		st[i] = test_stack_new(vc, 7 + (uint64_t)i);
		REQUIRE(ust_sysctl_set(st[i], "net.inet.tcp.ecn.enable", 1) == 0);
		REQUIRE(ust_if_attach(st[i], "f0", i == 0 ? ust_fault_wrap_ops() : ust_pipe_ops(),
		            i == 0 ? ust_fault_wrap_softc(fw) : ust_pipe_end(p, 1), &ifp[i]) == 0);
		REQUIRE(ust_if_addr_add(ifp[i], test_ip4(1 + (unsigned)i), 24) == 0);
	}
	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = (uint8_t)(i * 31 + 7);
	REQUIRE(ust_socket(st[1], UST_AF_INET, UST_SOCK_STREAM, 0, &ls) == 0);
	REQUIRE(ust_bind(ls, (const struct ust_sockaddr *)&sin, sizeof(sin)) == 0 &&
	    ust_listen(ls, 1) == 0);
	REQUIRE(ust_socket(st[0], UST_AF_INET, UST_SOCK_STREAM, 0, &cs) == 0);
	(void)ust_connect(cs, (const struct ust_sockaddr *)&to, sizeof(to));
	tl_run(vc, st, 2, 30000000000ull); /* the SYN or SYN-ACK may be corrupted */
	REQUIRE(ust_accept(ls, &as, NULL, NULL) == 0);
	CHECK_EQ(tl_stream(vc, st, 2, cs, as, out, sizeof(out), 1000000, 200000), sizeof(out));
	ust_fault_wrap_get_stats(fw, UST_FAULT_TX, &fs);
	/* Large frames were corrupted (cut into segments first) and some of
	 * them could not fit: dropped, not written past the heap. */
	CHECK(fs.corrupted > 0);
	CHECK(fs.dropped_queue > 0);
	ust_close(cs);
	ust_close(as);
	ust_close(ls);
	tl_run(vc, st, 2, 1000000000ull);
	for (i = 0; i < 2; i++) {
		ust_if_detach(ifp[i]);
		test_stack_free(st[i]);
	}
	ust_fault_wrap_destroy(fw);
	ust_pipe_destroy(p);
	ust_vclock_destroy(vc);
}
#endif

/* The stack's multicast list reaches the inner driver's filter. */
static struct {
	int calls;
	void *softc;
	unsigned n;
	int allmulti;
	uint8_t mac0[6];
} inner_mc;

static void
inner_set_multicast(void *softc, const uint8_t (*macs)[6], unsigned n, int allmulti)
{
	inner_mc.calls++;
	inner_mc.softc = softc;
	inner_mc.n = n;
	inner_mc.allmulti = allmulti;
	if (n > 0)
		memcpy(inner_mc.mac0, macs[0], 6);
}

TEST(set_multicast_forwarded_to_the_inner_driver)
{
	static const uint8_t g[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	struct ust_pipe_config pc;
	struct ust_fault_wrap_config fc;
	struct ust_driver_ops inner;
	const struct ust_driver_ops *wops;
	struct ust_pipe *p;
	struct ust_fault *fw;

	ust_pipe_config_init(&pc);
	REQUIRE(ust_pipe_create(&pc, &p) == 0);
	inner = *ust_pipe_ops();
	CHECK(inner.set_multicast == NULL); /* the pipe passes everything */
	inner.set_multicast = inner_set_multicast;
	ust_fault_wrap_config_init(&fc);
	REQUIRE(ust_fault_wrap(&inner, ust_pipe_end(p, 0), &fc, &fw) == 0);
	wops = ust_fault_wrap_ops();
	REQUIRE(wops->set_multicast != NULL);
	wops->set_multicast(ust_fault_wrap_softc(fw), &g, 1, 0);
	CHECK_EQ(inner_mc.calls, 1);
	CHECK(inner_mc.softc == ust_pipe_end(p, 0));
	CHECK_EQ(inner_mc.n, 1);
	CHECK_EQ(inner_mc.allmulti, 0);
	CHECK_MEM(inner_mc.mac0, g, 6);
	ust_fault_wrap_destroy(fw);
	ust_pipe_destroy(p);
}
