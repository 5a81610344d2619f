/*
 * test_tcp_pressure.c - memory pressure (issue 9, item 4): a bulk transfer
 * over the pipe whose receiver (and in the second case the sender too)
 * runs out of mbufs and clusters midway (the zones' hard maxima lowered to
 * what is in use), then recovers.  Frames that find no buffer are dropped
 * and counted (the pipe's dropped_nombuf, the interface's iqdrops, the
 * stack's nombuf/nocluster); segments the sender cannot build wait for
 * the retransmission timer (tcp_output keeps one running); TCP recovers
 * what was lost (RFC 9293 3.8.1) and the data arrives byte-exact; once
 * every socket is closed and TIME_WAIT is over, every zone's in_use and
 * the memory account are back at their baseline (plus only the slabs the
 * zones keep cached as their high-water mark, osal_zone.c).
 */
#include "kern/stack_var.h"
#include "bulkrig.h"
#include "ust_test.h"

#define TOTAL (2u << 20)
#define NMBUFS 4096
#define NCLUSTERS 2048
#define SQUEEZE_AT 30   /* ms into the transfer */
#define SQUEEZE_FOR 200 /* ms */

/* The pipe's default MACs (ust_pipe_config_init). */
static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* On (hold NULL): holds an mbuf and a cluster, so that neither zone's
 * maximum becomes 0 ("no limit"), and lowers both maxima to what is in
 * use; off: frees them and restores the maxima. */
static struct mbuf *
squeeze(struct ust_stack *st, struct mbuf *hold)
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
	ust_zone_set_max(st->st_mbz.mz_mbuf, on ? m.in_use : NMBUFS);
	ust_zone_set_max(st->st_mbz.mz_clust, on ? c.in_use : NCLUSTERS);
	return (on ? hold : NULL);
}

/* A stack's zones and memory account at one moment. */
struct snap {
	unsigned nz;
	struct ust_zone_stats z[16];
	struct ust_mem mem;
};

static void
snap_take(struct ust_stack *st, struct snap *s)
{
	for (s->nz = 0; s->nz < 16 && ust_stack_get_zone_stats(st, s->nz, &s->z[s->nz]) == 0;
	     s->nz++)
		continue;
	ust_stack_get_mem(st, &s->mem);
}

/* Every zone's in_use as at the baseline; memory the baseline plus the
 * slabs the zones grew by (item size, plus at most a 16-byte slab header
 * per item); the peak within the limit. */
static void
snap_check(const char *who, struct ust_stack *st, const struct snap *s0)
{
	struct snap s1;
	size_t lo = 0, hi = 0;
	unsigned k;

	snap_take(st, &s1);
	REQUIRE_EQ(s1.nz, s0->nz);
	for (k = 0; k < s1.nz; k++) {
		size_t grew =
		    (size_t)(s1.z[k].in_use + s1.z[k].cached) - (s0->z[k].in_use + s0->z[k].cached);

		CHECK_EQ(s1.z[k].in_use, s0->z[k].in_use);
		lo += grew * s1.z[k].size;
		hi += grew * (s1.z[k].size + 16);
	}
	printf("%s: memory baseline %zu, peak %zu, after %zu, zone caches %zu..%zu\n", who,
	    s0->mem.in_use, s1.mem.peak, s1.mem.in_use, lo, hi);
	CHECK(s1.mem.peak <= s1.mem.limit);
	CHECK(s1.mem.in_use >= s0->mem.in_use + lo);
	CHECK(s1.mem.in_use <= s0->mem.in_use + hi);
}

/* Sends TOTAL bytes A -> B in 1 ms steps; B (and A too with both) has
 * no buffers from SQUEEZE_AT for SQUEEZE_FOR ms, during which B's
 * application does not read (its receive buffer keeps what it holds). */
static void
pressure_run(int both)
{
	struct bulk w;
	struct ust_pipe_stats ps;
	struct ust_if_stats is;
	struct ust_stack_stats sa, sb;
	struct snap s0a, s0b;
	struct mbuf *hold_a = NULL, *hold_b = NULL;
	uint8_t *buf = malloc(65536);
	uint32_t sent = 0, got = 0, i;
	int round, intact = 1, squeezed;

	REQUIRE(buf != NULL);
	bulk_init(&w, 9, 64u << 20, NMBUFS, NCLUSTERS, 5 * BULK_MS, 100000000);
	/* The baseline: both stacks idle, and the ARP entries (which stay
	 * cached after the connection) in place from the start. */
	REQUIRE_EQ(ust_arp_add_static(w.ifa, test_ip4(2), mac_b), 0);
	REQUIRE_EQ(ust_arp_add_static(w.ifb, test_ip4(1), mac_a), 0);
	bulk_run(&w, BULK_MS);
	snap_take(w.a, &s0a);
	snap_take(w.b, &s0b);
	bulk_sockets(&w);
	bulk_connect(&w);
	for (round = 0; round < 20000 && got < TOTAL; round++) {
		ptrdiff_t n;

		if (round == SQUEEZE_AT || round == SQUEEZE_AT + SQUEEZE_FOR) {
			hold_b = squeeze(w.b, hold_b);
			if (both)
				hold_a = squeeze(w.a, hold_a);
		}
		squeezed = round >= SQUEEZE_AT && round < SQUEEZE_AT + SQUEEZE_FOR;
		while (sent < TOTAL) {
			uint32_t chunk = TOTAL - sent < 65536 ? TOTAL - sent : 65536;

			for (i = 0; i < chunk; i++)
				buf[i] = bulk_byte(sent + i);
			n = ust_send(w.cli, buf, chunk, 0);
			if (n <= 0) {
				/* Out of buffers is transient for the caller. */
				CHECK(n == -UST_EAGAIN || n == -UST_ENOBUFS);
				break;
			}
			sent += (uint32_t)n;
		}
		bulk_run(&w, BULK_MS);
		if (squeezed)
			continue;
		while ((n = ust_recv(w.srv, buf, 65536, 0)) > 0) {
			for (i = 0; i < (uint32_t)n; i++)
				if (buf[i] != bulk_byte(got + i))
					intact = 0;
			got += (uint32_t)n;
		}
	}
	free(buf);
	CHECK_EQ(got, TOTAL);
	CHECK(intact);
	ust_pipe_get_stats(w.p, UST_PIPE_A_TO_B, &ps);
	ust_if_get_stats(w.ifb, &is);
	ust_stack_get_stats(w.a, &sa);
	ust_stack_get_stats(w.b, &sb);
	printf("pressure: %llu frames dropped without mbuf, iqdrops %llu, nombuf B %llu A %llu, "
	       "%d ms\n",
	    (unsigned long long)ps.dropped_nombuf, (unsigned long long)is.iqdrops,
	    (unsigned long long)sb.nombuf, (unsigned long long)sa.nombuf, round);
	CHECK(ps.dropped_nombuf > 0);
	CHECK_EQ(is.iqdrops, ps.dropped_nombuf);
	CHECK(sb.nombuf + sb.nocluster > 0);
	if (both)
		CHECK(sa.nombuf + sa.nocluster > 0);
	/* Everything closed and TIME_WAIT (2 MSL) over: the baseline. */
	bulk_sysctl(&w, "net.inet.tcp.msl", 1000);
	ust_close(w.cli);
	ust_close(w.srv);
	ust_close(w.lso);
	w.cli = w.srv = w.lso = NULL;
	bulk_run(&w, 10000 * BULK_MS);
	snap_check("A", w.a, &s0a);
	snap_check("B", w.b, &s0b);
	bulk_fini(&w);
}

TEST(pressure_receiver_exhausted_midway_recovers)
{
	pressure_run(0);
}

#if UST_ZONE_SLAB_ITEMS == 64
/* Where both ends run dry is sized for zones that grow 64 at a time. */
TEST(pressure_both_ends_exhausted_midway_recover)
{
	pressure_run(1);
}
#endif
