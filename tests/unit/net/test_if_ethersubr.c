/*
 * test_if_ethersubr.c - Ethernet II: input filtering (ours, broadcast,
 * multicast groups joined or not, not ours), runts, source broadcast, VLAN and unknown
 * ethertypes counted and dropped, demultiplexing to ARP and IP through
 * the ethertype table the domains fill (ether_proto_register: order,
 * refusals, a new type reaching its handler, an emptied table); output
 * frames byte by byte (broadcast, multicast mapping, resolved unicast,
 * held then sent, unresolvable), no padding, no headroom, full queue.
 */
#include <ustack/ustack.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "net/linktest.h"
#include "netinet/if_ether.h"
#include "iptest.h"

/* The whole file needs the counters (ustack_opts.h). */
#if UST_STATS

#define SEC 1000000000ull

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero6[6] = { 0, 0, 0, 0, 0, 0 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x20 };

/* 198.18.0.1/24 on eth0, its announcement and the counters cleared. */
static void
rig_init(struct lt_rig *r)
{
	lt_rig_init(r, 1000 * SEC, tl_ip4addr(198, 18, 0, 1), 24);
	memset(&r->st->st_etherstat, 0, sizeof(r->st->st_etherstat));
	memset(&r->st->st_arpstat, 0, sizeof(r->st->st_arpstat));
}

static size_t
eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type, size_t paylen)
{
	size_t i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	for (i = 0; i < paylen; i++)
		f[14 + i] = (uint8_t)(i * 3 + 1);
	return (14 + paylen);
}

/* A valid ARP request from the peer for our address as payload. */
static size_t
arp_req(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	return (lt_arp_frame(f, dst, src, 1, src, tl_ip4addr(198, 18, 0, 2), zero6,
	    tl_ip4addr(198, 18, 0, 1)));
}

static struct mbuf *
payload(struct lt_rig *r, size_t len, uint8_t tag, int headroom)
{
	uint8_t b[256];
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(tag + i);
	return (lt_mbuf(r->st, b, len, headroom));
}

static void
check_frame(struct lt_rig *r, int i, const uint8_t *dst, uint16_t type, size_t paylen, uint8_t tag)
{
	const uint8_t *f;
	size_t k;

	REQUIRE(i < r->drv.tx_count);
	f = r->drv.tx[i];
	CHECK_EQ(r->drv.tx_len[i], 14 + paylen);
	CHECK_MEM(f, dst, 6);
	CHECK_MEM(f + 6, r->drv.mac, 6);
	CHECK_EQ(f[12], type >> 8);
	CHECK_EQ(f[13], type & 0xff);
	for (k = 0; k < paylen; k++)
		if (f[14 + k] != (uint8_t)(tag + k)) {
			CHECK_EQ(f[14 + k], (uint8_t)(tag + k));
			break;
		}
}

TEST(ether_input_accepts_ours_and_broadcast)
{
	struct lt_rig r;
	uint8_t f[64];

	rig_init(&r);
	lt_inject(&r, f, arp_req(f, bcast, peer_mac));
	CHECK_EQ(r.st->st_arpstat.received, 1);
	lt_inject(&r, f, arp_req(f, r.drv.mac, peer_mac));
	CHECK_EQ(r.st->st_arpstat.received, 2);
	CHECK_EQ(r.st->st_etherstat.ether_ipackets, 2);
	CHECK_EQ(r.st->st_etherstat.ether_notours, 0);
	/* IPv4 to our MAC reaches ip_input (which counts it). */
	lt_inject(&r, f, eth(f, r.drv.mac, peer_mac, ETHERTYPE_IP, 20));
	CHECK_EQ(r.st->st_ipstat.ips_total, 1);
	lt_rig_fini(&r);
}

TEST(ether_input_drops_not_ours)
{
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	struct ust_if_stats is;
	struct lt_rig r;
	uint8_t f[64];

	rig_init(&r);
	lt_inject(&r, f, arp_req(f, other, peer_mac));
	lt_inject(&r, f, arp_req(f, mcast, peer_mac)); /* no groups joined */
	lt_inject(&r, f, eth(f, other, peer_mac, ETHERTYPE_IP, 20));
	CHECK_EQ(r.st->st_etherstat.ether_notours, 3);
	CHECK_EQ(r.st->st_arpstat.received, 0);
	CHECK_EQ(r.st->st_ipstat.ips_total, 0);
	CHECK_EQ(r.drv.tx_count, 0);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.ierrors, 0);
	lt_rig_fini(&r);
}

TEST(ether_input_runt_and_source_broadcast)
{
	struct ust_if_stats is;
	struct lt_rig r;
	uint8_t f[64];
	size_t n;

	rig_init(&r);
	n = arp_req(f, bcast, peer_mac);
	lt_inject(&r, f, 13);
	lt_inject(&r, f, 1);
	CHECK_EQ(r.st->st_etherstat.ether_tooshort, 2);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.ierrors, 2);
	/* A header and nothing else is not a runt: ARP finds it too short. */
	lt_inject(&r, f, 14);
	CHECK_EQ(r.st->st_etherstat.ether_tooshort, 2);
	CHECK_EQ(r.st->st_arpstat.rx_tooshort, 1);
	/* Source broadcast or multicast: never a station. */
	memcpy(f + 6, bcast, 6);
	lt_inject(&r, f, n);
	f[6] = 0x01;
	f[11] = 0x05;
	lt_inject(&r, f, n);
	CHECK_EQ(r.st->st_etherstat.ether_srcbcast, 2);
	CHECK_EQ(r.st->st_arpstat.received, 1);
	CHECK_EQ(r.drv.tx_count, 0);
	lt_rig_fini(&r);
}

TEST(ether_input_vlan_and_unknown_type)
{
	struct ust_if_stats is;
	struct lt_rig r;
	uint8_t f[64];

	rig_init(&r);
	lt_inject(&r, f, eth(f, r.drv.mac, peer_mac, ETHERTYPE_VLAN, 46));
	lt_inject(&r, f, eth(f, bcast, peer_mac, ETHERTYPE_VLAN, 46));
	CHECK_EQ(r.st->st_etherstat.ether_vlan, 2);
	lt_inject(&r, f, eth(f, r.drv.mac, peer_mac, 0x88b6, 46)); /* local experimental */
	lt_inject(&r, f, eth(f, r.drv.mac, peer_mac, 0x88cc, 46)); /* LLDP */
	lt_inject(&r, f, eth(f, r.drv.mac, peer_mac, 46, 46));     /* 802.3 length */
	CHECK_EQ(r.st->st_etherstat.ether_unknowntype, 3);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.noproto, 5);
	CHECK_EQ(is.ierrors, 0);
	CHECK_EQ(r.st->st_etherstat.ether_ipackets, 5);
	CHECK_EQ(r.st->st_ipstat.ips_total + r.st->st_arpstat.received, 0);
	lt_rig_fini(&r);
}

TEST(ether_proto_table_from_the_domains)
{
	const struct domain *dp;
	struct lt_rig r;
	unsigned d, i, k, n = 0;

	rig_init(&r);
	/* IPv4 first, so that the common case costs one compare. */
	REQUIRE(r.st->st_nether_protos >= 2);
	CHECK_EQ(r.st->st_ether_protos[0].ep_type, ETHERTYPE_IP);
	CHECK_EQ(r.st->st_ether_protos[1].ep_type, ETHERTYPE_ARP);
	/* Every domain's ethertypes, in domain order, and nothing else. */
	for (d = 0; (dp = domain_at(d)) != NULL; d++)
		for (i = 0; i < dp->dom_nethertypes; i++, n++) {
			REQUIRE(n < r.st->st_nether_protos);
			CHECK_EQ(r.st->st_ether_protos[n].ep_type, dp->dom_ethertypes[i].ep_type);
			CHECK(r.st->st_ether_protos[n].ep_input == dp->dom_ethertypes[i].ep_input);
			for (k = 0; k < n; k++)
				CHECK(r.st->st_ether_protos[k].ep_type !=
				    dp->dom_ethertypes[i].ep_type);
		}
	CHECK_EQ(n, r.st->st_nether_protos);
	lt_rig_fini(&r);
}

/* What the test handler saw. */
static struct {
	int calls;
	uint32_t len;
	uint8_t first;
	uint8_t esrc[6];
	const struct ifnet *ifp;
	uint16_t mflags;
} seen;

static void
test_ether_input(struct ifnet *ifp, struct mbuf *m, const uint8_t esrc[ETHER_ADDR_LEN])
{
	seen.calls++;
	seen.len = m->m_pkthdr.len;
	seen.first = mtod(m, const uint8_t *)[0];
	memcpy(seen.esrc, esrc, 6);
	seen.ifp = ifp;
	seen.mflags = m->m_flags;
	m_freem(m);
}

TEST(ether_input_multicast_only_for_joined_groups)
{
	/* ff02::fb's group (mDNS): one IPv6 does not join by itself. */
	static const uint8_t g1[6] = { 0x33, 0x33, 0, 0, 0, 0xfb };
	static const uint8_t g2[6] = { 0x33, 0x33, 0xff, 0, 0, 0x10 };
	struct ether_proto ep = { 0x88b5, test_ether_input };
	struct ust_if_stats is;
	struct lt_rig r;
	uint8_t f[64];

	memset(&seen, 0, sizeof(seen));
	rig_init(&r);
	REQUIRE_EQ(ether_proto_register(r.st, &ep), 0);
	/* Not joined: not ours, whatever the driver passed up. */
	lt_inject(&r, f, eth(f, g1, peer_mac, 0x88b5, 46));
	CHECK_EQ(seen.calls, 0);
	CHECK_EQ(r.st->st_etherstat.ether_notours, 1);
	REQUIRE_EQ(if_addmulti(r.ifp, g1), 0);
	lt_inject(&r, f, eth(f, g1, peer_mac, 0x88b5, 46));
	CHECK_EQ(seen.calls, 1);
	CHECK_EQ(seen.mflags & (M_MCAST | M_BCAST), M_MCAST);
	CHECK_EQ(seen.len, 46);
	/* Another group stays out; unicast and broadcast are not M_MCAST. */
	lt_inject(&r, f, eth(f, g2, peer_mac, 0x88b5, 46));
	CHECK_EQ(seen.calls, 1);
	CHECK_EQ(r.st->st_etherstat.ether_notours, 2);
	lt_inject(&r, f, eth(f, r.drv.mac, peer_mac, 0x88b5, 46));
	CHECK_EQ(seen.calls, 2);
	CHECK_EQ(seen.mflags & (M_MCAST | M_BCAST), 0);
	lt_inject(&r, f, eth(f, bcast, peer_mac, 0x88b5, 46));
	CHECK_EQ(seen.calls, 3);
	CHECK_EQ(seen.mflags & (M_MCAST | M_BCAST), M_BCAST);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.imcasts, 1);
	/* allmulti lets every group in; leaving drops the group again. */
	if_allmulti(r.ifp, 1);
	lt_inject(&r, f, eth(f, g2, peer_mac, 0x88b5, 46));
	CHECK_EQ(seen.calls, 4);
	if_allmulti(r.ifp, 0);
	CHECK_EQ(if_delmulti(r.ifp, g1), 0);
	lt_inject(&r, f, eth(f, g1, peer_mac, 0x88b5, 46));
	CHECK_EQ(seen.calls, 4);
	CHECK_EQ(r.st->st_etherstat.ether_notours, 3);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.imcasts, 2);
	CHECK_EQ(is.ierrors, 0);
	lt_rig_fini(&r);
}

TEST(ether_proto_register_dispatches_and_refuses)
{
	struct ether_proto ep = { 0x88b5, test_ether_input }; /* IEEE 802 local experimental */
	struct ust_if_stats is;
	struct lt_rig r;
	uint8_t f[64];
	unsigned n0;

	memset(&seen, 0, sizeof(seen));
	rig_init(&r);
	n0 = r.st->st_nether_protos;
	/* Unknown until registered. */
	lt_inject(&r, f, eth(f, r.drv.mac, peer_mac, 0x88b5, 46));
	CHECK_EQ(r.st->st_etherstat.ether_unknowntype, 1);
	CHECK_EQ(seen.calls, 0);
	CHECK_EQ(ether_proto_register(r.st, &ep), 0);
	lt_inject(&r, f, eth(f, r.drv.mac, peer_mac, 0x88b5, 46));
	CHECK_EQ(seen.calls, 1);
	CHECK_EQ(seen.len, 46); /* past the Ethernet header */
	CHECK_EQ(seen.first, 1);
	CHECK_MEM(seen.esrc, peer_mac, 6);
	CHECK(seen.ifp == r.ifp);
	CHECK_EQ(r.st->st_etherstat.ether_unknowntype, 1);
	/* Refusals: a taken type (ours or the domains'), an 802.3 length,
	 * no handler, a full table. */
	CHECK_EQ(ether_proto_register(r.st, &ep), UST_EEXIST);
	ep.ep_type = ETHERTYPE_IP;
	CHECK_EQ(ether_proto_register(r.st, &ep), UST_EEXIST);
	ep.ep_type = ETHERTYPE_MIN - 1;
	CHECK_EQ(ether_proto_register(r.st, &ep), UST_EINVAL);
	ep.ep_type = 0x88b6;
	ep.ep_input = NULL;
	CHECK_EQ(ether_proto_register(r.st, &ep), UST_EINVAL);
	ep.ep_input = test_ether_input;
	while (r.st->st_nether_protos < ETHER_NPROTO_MAX) {
		CHECK_EQ(ether_proto_register(r.st, &ep), 0);
		ep.ep_type++;
	}
	CHECK_EQ(ether_proto_register(r.st, &ep), UST_ENOSPC);
	CHECK_EQ(r.st->st_nether_protos, ETHER_NPROTO_MAX);
	CHECK(n0 < ETHER_NPROTO_MAX);
	/* An emptied table (domains_fini) drops even IPv4 and ARP as unknown. */
	ether_proto_flush(r.st);
	lt_inject(&r, f, arp_req(f, bcast, peer_mac));
	lt_inject(&r, f, eth(f, r.drv.mac, peer_mac, ETHERTYPE_IP, 46));
	CHECK_EQ(r.st->st_etherstat.ether_unknowntype, 3);
	CHECK_EQ(r.st->st_ipstat.ips_total + r.st->st_arpstat.received, 0);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.noproto, 3);
	lt_rig_fini(&r);
}

TEST(ether_output_broadcast_and_multicast)
{
	static const uint8_t mdst[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0xfb };
	struct lt_rig r;

	rig_init(&r);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x10, 1), ina(tl_ip4addr(198, 18, 0, 9)),
	             ETHER_OUT_BCAST),
	    0);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x20, 1), ina(tl_ip4addr(198, 18, 0, 255)), 0),
	    0);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x30, 1), ina(tl_ip4addr(255, 255, 255, 255)),
	             0),
	    0);
	/* RFC 1112 6.4: 239.255.0.251 -> 01:00:5e:7f:00:fb (23 bits). */
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x40, 1), ina(tl_ip4addr(239, 255, 0, 251)),
	             0),
	    0);
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.drv.tx_count, 4);
	check_frame(&r, 0, bcast, ETHERTYPE_IP, 20, 0x10);
	check_frame(&r, 1, bcast, ETHERTYPE_IP, 20, 0x20);
	check_frame(&r, 2, bcast, ETHERTYPE_IP, 20, 0x30);
	check_frame(&r, 3, mdst, ETHERTYPE_IP, 20, 0x40);
	CHECK_EQ(r.st->st_etherstat.ether_opackets, 4);
	CHECK_EQ(r.st->st_arpstat.txrequests, 0);
	lt_rig_fini(&r);
}

TEST(ether_output_unicast_resolved_held_and_failed)
{
	struct lt_rig r;
	uint8_t f[64];

	rig_init(&r);
	/* Resolved (static): straight out, 34 bytes, no padding by us. */
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 7), peer_mac), 0);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x50, 1), ina(tl_ip4addr(198, 18, 0, 7)), 0),
	    0);
	/* No headroom: M_PREPEND takes a new mbuf. */
	CHECK_EQ(ether_output(r.ifp, payload(&r, 100, 0x60, 0), ina(tl_ip4addr(198, 18, 0, 7)), 0),
	    0);
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.drv.tx_count, 2);
	check_frame(&r, 0, peer_mac, ETHERTYPE_IP, 20, 0x50);
	check_frame(&r, 1, peer_mac, ETHERTYPE_IP, 100, 0x60);
	/* Unresolved: held (returns 0), a request goes out; sent on reply. */
	r.drv.tx_count = 0;
	CHECK_EQ(ether_output(r.ifp, payload(&r, 30, 0x70, 1), ina(tl_ip4addr(198, 18, 0, 2)), 0),
	    0);
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.drv.tx_count, 1);
	CHECK_EQ(r.drv.tx[0][13], 0x06);
	arp_req(f, r.drv.mac, peer_mac);
	f[21] = 2; /* make it a reply */
	memcpy(f + 32, r.drv.mac, 6);
	lt_inject(&r, f, 42);
	REQUIRE_EQ(r.drv.tx_count, 2);
	check_frame(&r, 1, peer_mac, ETHERTYPE_IP, 30, 0x70);
	CHECK_EQ(r.st->st_etherstat.ether_opackets, 2 + 2);
	/* Unresolvable: EHOSTDOWN after maxtries, counted. */
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x80, 1), ina(tl_ip4addr(198, 18, 0, 3)), 0),
	    0);
	lt_rig_advance(&r, 5 * SEC);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x90, 1), ina(tl_ip4addr(198, 18, 0, 3)), 0),
	    UST_EHOSTDOWN);
	CHECK_EQ(r.st->st_etherstat.ether_noresolve, 1);
	lt_rig_fini(&r);
}

TEST(ether_output_frame_queue_full)
{
	struct ust_if_stats is;
	struct lt_rig r;
	unsigned i, n;

	rig_init(&r);
	n = r.ifp->if_snd.ifq_maxlen;
	for (i = 0; i < n; i++)
		REQUIRE_EQ(ether_output_frame(r.ifp, payload(&r, 20, 1, 1), peer_mac, ETHERTYPE_IP),
		    0);
	CHECK_EQ(ether_output_frame(r.ifp, payload(&r, 20, 1, 1), peer_mac, ETHERTYPE_IP),
	    UST_ENOBUFS);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.oqdrops, 1);
	CHECK_EQ(r.st->st_etherstat.ether_opackets, n);
	if_purge(r.ifp);
	lt_rig_fini(&r);
}

/* An ICMP echo request 198.18.0.2 -> 198.18.0.1 in a frame to dst (from
 * iptest.h's peer MAC, the same as peer_mac). */
static size_t
echo_frame(uint8_t *f, const uint8_t *dst)
{
	static const uint8_t data[4] = { 'p', 'i', 'n', 'g' };

	ipt_eth(f, dst);
	tl_ip4(f + 14, 0xc6120002u, 0xc6120001u, 1, 0x1234, 0, 64, NULL, 0, 12);
	tl_icmp(f + 34, 8, 0, 0xabcd0001u, data, sizeof(data));
	return (46);
}

/* M_BCAST reaches IP: an echo request that came as a link broadcast is
 * not answered (net.inet.icmp.bmcastecho=0), the same as unicast is. */
TEST(ether_input_marks_link_broadcast)
{
	struct lt_rig r;
	uint8_t f[64];

	rig_init(&r);
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 2), peer_mac), 0);
	lt_inject(&r, f, echo_frame(f, bcast));
	CHECK_EQ(r.st->st_icmpstat.icps_bmcastecho, 1);
	CHECK_EQ(r.drv.tx_count, 0);
	lt_inject(&r, f, echo_frame(f, r.drv.mac));
	CHECK_EQ(r.st->st_icmpstat.icps_bmcastecho, 1);
	REQUIRE_EQ(r.drv.tx_count, 1);
	CHECK_MEM(r.drv.tx[0], peer_mac, 6);
	CHECK_EQ(r.drv.tx[0][12], 0x08);
	CHECK_EQ(r.drv.tx[0][13], 0x00);
	CHECK_EQ(r.drv.tx[0][14 + 20], 0); /* echo reply */
	lt_rig_fini(&r);
}
#endif /* UST_STATS */
