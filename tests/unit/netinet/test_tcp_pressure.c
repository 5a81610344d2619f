/*
 * test_tcp_pressure.c - memory pressure (issue 9, item 4): a bulk transfer
 * over the pipe whose receiver runs out of mbufs and clusters midway (the
 * zones' hard maxima lowered to what is in use), then recovers.  Frames
 * that find no buffer are dropped and counted (the pipe's dropped_nombuf,
 * the interface's iqdrops, the stack's nombuf/nocluster, zone failures);
 * TCP retransmits what was lost (RFC 9293 3.8.1) and the data arrives
 * byte-exact; once every socket is closed the zones and the memory account
 * are back at their baseline (bulk_fini's leak check, and here).
 */
#include "kern/stack_var.h"
#include "bulkrig.h"
#include "ust_test.h"

#define TOTAL (2u << 20)

/* The pipe's default MACs (ust_pipe_config_init). */
static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* On: holds an mbuf and a cluster (so that neither zone's maximum is 0,
 * "no limit") and lowers both maxima to what is in use; off: frees them
 * and restores the maxima. */
static struct mbuf *
squeeze(struct ust_stack *st, struct mbuf *hold, uint32_t nmbufs, uint32_t nclusters)
{
	struct ust_zone_stats m, c;
	int on = hold == NULL;

	if (on)
		hold = m_get2(&st->st_mbz, MCLBYTES, MT_DATA, M_PKTHDR);
	else
		m_freem(hold);
	CHECK(hold != NULL);
	ust_zone_get_stats(st->st_mbz.mz_mbuf, &m);
	ust_zone_get_stats(st->st_mbz.mz_clust, &c);
	ust_zone_set_max(st->st_mbz.mz_mbuf, on ? m.in_use : nmbufs);
	ust_zone_set_max(st->st_mbz.mz_clust, on ? c.in_use : nclusters);
	return (on ? hold : NULL);
}

TEST(pressure_receiver_exhausted_midway_recovers)
{
	struct bulk w;
	struct ust_pipe_stats ps;
	struct ust_if_stats is;
	struct ust_stack_stats ss;
	struct ust_zone_stats z0[16], z1;
	struct ust_mem m0, m1;
	struct mbuf *hold = NULL;
	uint8_t *buf = malloc(65536);
	uint32_t sent = 0, got = 0, i;
	unsigned nz, k;
	int round, intact = 1;

	REQUIRE(buf != NULL);
	bulk_init(&w, 9, 64u << 20, 4096, 2048, 5 * BULK_MS, 100000000);
	/* The baseline: both stacks idle, and the ARP entries (which stay
	 * cached after the connection) in place from the start. */
	REQUIRE_EQ(ust_arp_add_static(w.ifa, test_ip4(2), mac_b), 0);
	REQUIRE_EQ(ust_arp_add_static(w.ifb, test_ip4(1), mac_a), 0);
	bulk_run(&w, BULK_MS);
	for (nz = 0; nz < 16 && ust_stack_get_zone_stats(w.b, nz, &z0[nz]) == 0; nz++)
		continue;
	ust_stack_get_mem(w.b, &m0);
	bulk_sockets(&w);
	bulk_connect(&w);
	for (round = 0; round < 20000 && got < TOTAL; round++) {
		ptrdiff_t n;

		if (round == 30)
			hold = squeeze(w.b, NULL, 4096, 2048);
		if (round == 230)
			hold = squeeze(w.b, hold, 4096, 2048);
		while (sent < TOTAL) {
			uint32_t chunk = TOTAL - sent < 65536 ? TOTAL - sent : 65536;

			for (i = 0; i < chunk; i++)
				buf[i] = bulk_byte(sent + i);
			n = ust_send(w.cli, buf, chunk, 0);
			if (n <= 0)
				break;
			sent += (uint32_t)n;
		}
		bulk_run(&w, BULK_MS);
		/* Under pressure the application does not read: the receive
		 * buffer holds what it has, nothing more can be allocated. */
		if (round >= 30 && round < 230)
			continue;
		while ((n = ust_recv(w.srv, buf, 65536, 0)) > 0) {
			for (i = 0; i < (uint32_t)n; i++)
				if (buf[i] != bulk_byte(got + i))
					intact = 0;
			got += (uint32_t)n;
		}
	}
	CHECK_EQ(got, TOTAL);
	CHECK(intact);
	ust_pipe_get_stats(w.p, UST_PIPE_A_TO_B, &ps);
	ust_if_get_stats(w.ifb, &is);
	ust_stack_get_stats(w.b, &ss);
	printf("pressure: %llu frames dropped without mbuf, iqdrops %llu, nombuf %llu, "
	       "nocluster %llu, %d ms\n",
	    (unsigned long long)ps.dropped_nombuf, (unsigned long long)is.iqdrops,
	    (unsigned long long)ss.nombuf, (unsigned long long)ss.nocluster, round);
	CHECK(ps.dropped_nombuf > 0);
	CHECK_EQ(is.iqdrops, ps.dropped_nombuf);
	CHECK(ss.nombuf + ss.nocluster > 0);
	/* Everything closed and TIME_WAIT (2 MSL) over: back to the baseline. */
	bulk_sysctl(&w, "net.inet.tcp.msl", 1000);
	ust_close(w.cli);
	ust_close(w.srv);
	ust_close(w.lso);
	w.cli = w.srv = w.lso = NULL;
	bulk_run(&w, 10000 * BULK_MS);
	for (k = 0; k < nz; k++) {
		REQUIRE_EQ(ust_stack_get_zone_stats(w.b, k, &z1), 0);
		CHECK_EQ(z1.in_use, z0[k].in_use);
	}
	ust_stack_get_mem(w.b, &m1);
	CHECK(m1.peak <= m1.limit);
	/* What remains beyond the baseline is only the zones' cached slabs
	 * (kept as the high-water mark, osal_zone.c). */
	{
		size_t lo = 0, hi = 0;

		for (k = 0; k < nz; k++) {
			REQUIRE_EQ(ust_stack_get_zone_stats(w.b, k, &z1), 0);
			lo +=
			    (size_t)(z1.in_use + z1.cached - z0[k].in_use - z0[k].cached) * z1.size;
			hi += (size_t)(z1.in_use + z1.cached - z0[k].in_use - z0[k].cached) *
			    (z1.size + 16);
		}
		CHECK(m1.in_use >= m0.in_use + lo);
		printf("memory: baseline %zu, peak %zu, after %zu, zone caches %zu..%zu\n",
		    m0.in_use, m1.peak, m1.in_use, lo, hi);
		CHECK(m1.in_use <= m0.in_use + hi);
	}
	free(buf);
	bulk_fini(&w);
}
