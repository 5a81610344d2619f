/*
 * test_if_ethersubr.c - Ethernet II: input filtering (ours, broadcast,
 * multicast, not ours), runts, source broadcast, VLAN and unknown
 * ethertypes counted and dropped, demultiplexing to ARP and IP; output
 * frames byte by byte (broadcast, multicast mapping, resolved unicast,
 * held then sent, unresolvable), no padding, no headroom, full queue.
 */
#include <ustack/ustack.h>

#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "netinet/if_ether.h"
#include "test_env.h"
#include "test_loopdrv.h"

#define SEC 1000000000ull

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x20 };

struct rig {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct loopdrv drv;
	struct ust_if *uif;
	struct ifnet *ifp;
};

static uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	uint8_t x[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d };
	uint32_t v;

	memcpy(&v, x, 4);
	return (v);
}

static struct in_addr
ina(uint32_t a)
{
	struct in_addr r = { a };

	return (r);
}

static void
rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->vc = ust_vclock_create(1000 * SEC);
	r->st = test_stack_new(r->vc, ust_test_seed);
	loopdrv_init(&r->drv);
	if (ust_if_attach(r->st, "eth0", &loopdrv_ops, &r->drv, &r->uif) != 0 ||
	    ust_if_addr_add(r->uif, ip4(198, 18, 0, 1), 24) != 0)
		abort();
	r->ifp = IFP_FROM_UST(r->uif);
	ust_stack_poll(r->st);
	r->drv.tx_count = 0;
	memset(&r->st->st_etherstat, 0, sizeof(r->st->st_etherstat));
	memset(&r->st->st_arpstat, 0, sizeof(r->st->st_arpstat));
}

static void
rig_fini(struct rig *r)
{
	while (ust_stack_poll(r->st) > 0)
		continue;
	test_stack_free(r->st);
	ust_vclock_destroy(r->vc);
}

static void
rig_advance(struct rig *r, uint64_t ns)
{
	uint64_t until = ust_vclock_now(r->vc) + ns, next;

	/* From deadline to deadline, as a simulation runs. */
	for (;;) {
		while (ust_stack_poll(r->st) > 0)
			continue;
		next = ust_stack_next_deadline(r->st);
		if (next > until)
			break;
		if (next <= ust_vclock_now(r->vc))
			next = ust_vclock_now(r->vc) + 1;
		ust_vclock_set(r->vc, next);
	}
	ust_vclock_set(r->vc, until);
	while (ust_stack_poll(r->st) > 0)
		continue;
}

static void
inject(struct rig *r, const uint8_t *f, size_t len)
{
	REQUIRE(loopdrv_inject(&r->drv, f, len) == 0);
	while (ust_stack_poll(r->st) > 0)
		continue;
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
	uint32_t spa = ip4(198, 18, 0, 2), tpa = ip4(198, 18, 0, 1);
	static const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

	eth(f, dst, src, ETHERTYPE_ARP, 0);
	memcpy(f + 14, hdr, 8);
	memcpy(f + 22, src, 6);
	memcpy(f + 28, &spa, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, &tpa, 4);
	return (42);
}

static struct mbuf *
payload(struct rig *r, size_t len, uint8_t tag, int headroom)
{
	struct mbuf *m = m_gethdr(&r->st->st_mbz, MT_DATA);
	uint8_t b[256];
	size_t i;

	if (m == NULL)
		return (NULL);
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(tag + i);
	if (headroom)
		m_reserve(m, UST_MAX_HDR);
	if (m_append(m, (uint32_t)len, b) != 0) {
		m_freem(m);
		return (NULL);
	}
	return (m);
}

static void
check_frame(struct rig *r, int i, const uint8_t *dst, uint16_t type, size_t paylen, uint8_t tag)
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
	struct rig r;
	uint8_t f[64];

	rig_init(&r);
	inject(&r, f, arp_req(f, bcast, peer_mac));
	CHECK_EQ(r.st->st_arpstat.received, 1);
	inject(&r, f, arp_req(f, r.drv.mac, peer_mac));
	CHECK_EQ(r.st->st_arpstat.received, 2);
	CHECK_EQ(r.st->st_etherstat.ether_ipackets, 2);
	CHECK_EQ(r.st->st_etherstat.ether_notours, 0);
	/* IPv4 to our MAC reaches ip_input (which counts it). */
	inject(&r, f, eth(f, r.drv.mac, peer_mac, ETHERTYPE_IP, 20));
	CHECK_EQ(r.st->st_ipstat.ips_total, 1);
	rig_fini(&r);
}

TEST(ether_input_drops_not_ours)
{
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	struct ust_if_stats is;
	struct rig r;
	uint8_t f[64];

	rig_init(&r);
	inject(&r, f, arp_req(f, other, peer_mac));
	inject(&r, f, arp_req(f, mcast, peer_mac)); /* no groups joined */
	inject(&r, f, eth(f, other, peer_mac, ETHERTYPE_IP, 20));
	CHECK_EQ(r.st->st_etherstat.ether_notours, 3);
	CHECK_EQ(r.st->st_arpstat.received, 0);
	CHECK_EQ(r.st->st_ipstat.ips_total, 0);
	CHECK_EQ(r.drv.tx_count, 0);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.ierrors, 0);
	rig_fini(&r);
}

TEST(ether_input_runt_and_source_broadcast)
{
	struct ust_if_stats is;
	struct rig r;
	uint8_t f[64];
	size_t n;

	rig_init(&r);
	n = arp_req(f, bcast, peer_mac);
	inject(&r, f, 13);
	inject(&r, f, 1);
	CHECK_EQ(r.st->st_etherstat.ether_tooshort, 2);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.ierrors, 2);
	/* A header and nothing else is not a runt: ARP finds it too short. */
	inject(&r, f, 14);
	CHECK_EQ(r.st->st_etherstat.ether_tooshort, 2);
	CHECK_EQ(r.st->st_arpstat.rx_tooshort, 1);
	/* Source broadcast or multicast: never a station. */
	memcpy(f + 6, bcast, 6);
	inject(&r, f, n);
	f[6] = 0x01;
	f[11] = 0x05;
	inject(&r, f, n);
	CHECK_EQ(r.st->st_etherstat.ether_srcbcast, 2);
	CHECK_EQ(r.st->st_arpstat.received, 1);
	CHECK_EQ(r.drv.tx_count, 0);
	rig_fini(&r);
}

TEST(ether_input_vlan_and_unknown_type)
{
	struct ust_if_stats is;
	struct rig r;
	uint8_t f[64];

	rig_init(&r);
	inject(&r, f, eth(f, r.drv.mac, peer_mac, ETHERTYPE_VLAN, 46));
	inject(&r, f, eth(f, bcast, peer_mac, ETHERTYPE_VLAN, 46));
	CHECK_EQ(r.st->st_etherstat.ether_vlan, 2);
	inject(&r, f, eth(f, r.drv.mac, peer_mac, ETHERTYPE_IPV6, 46));
	inject(&r, f, eth(f, r.drv.mac, peer_mac, 0x88cc, 46)); /* LLDP */
	inject(&r, f, eth(f, r.drv.mac, peer_mac, 46, 46));     /* 802.3 length */
	CHECK_EQ(r.st->st_etherstat.ether_unknowntype, 3);
	ust_if_get_stats(r.uif, &is);
	CHECK_EQ(is.noproto, 5);
	CHECK_EQ(is.ierrors, 0);
	CHECK_EQ(r.st->st_etherstat.ether_ipackets, 5);
	CHECK_EQ(r.st->st_ipstat.ips_total + r.st->st_arpstat.received, 0);
	rig_fini(&r);
}

TEST(ether_output_broadcast_and_multicast)
{
	static const uint8_t mdst[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0xfb };
	struct rig r;

	rig_init(&r);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x10, 1), ina(ip4(198, 18, 0, 9)),
	             ETHER_OUT_BCAST),
	    0);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x20, 1), ina(ip4(198, 18, 0, 255)), 0), 0);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x30, 1), ina(ip4(255, 255, 255, 255)), 0), 0);
	/* RFC 1112 6.4: 239.255.0.251 -> 01:00:5e:7f:00:fb (23 bits). */
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x40, 1), ina(ip4(239, 255, 0, 251)), 0), 0);
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.drv.tx_count, 4);
	check_frame(&r, 0, bcast, ETHERTYPE_IP, 20, 0x10);
	check_frame(&r, 1, bcast, ETHERTYPE_IP, 20, 0x20);
	check_frame(&r, 2, bcast, ETHERTYPE_IP, 20, 0x30);
	check_frame(&r, 3, mdst, ETHERTYPE_IP, 20, 0x40);
	CHECK_EQ(r.st->st_etherstat.ether_opackets, 4);
	CHECK_EQ(r.st->st_arpstat.txrequests, 0);
	rig_fini(&r);
}

TEST(ether_output_unicast_resolved_held_and_failed)
{
	struct rig r;
	uint8_t f[64];

	rig_init(&r);
	/* Resolved (static): straight out, 34 bytes, no padding by us. */
	CHECK_EQ(ust_arp_add_static(r.uif, ip4(198, 18, 0, 7), peer_mac), 0);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x50, 1), ina(ip4(198, 18, 0, 7)), 0), 0);
	/* No headroom: M_PREPEND takes a new mbuf. */
	CHECK_EQ(ether_output(r.ifp, payload(&r, 100, 0x60, 0), ina(ip4(198, 18, 0, 7)), 0), 0);
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.drv.tx_count, 2);
	check_frame(&r, 0, peer_mac, ETHERTYPE_IP, 20, 0x50);
	check_frame(&r, 1, peer_mac, ETHERTYPE_IP, 100, 0x60);
	/* Unresolved: held (returns 0), a request goes out; sent on reply. */
	r.drv.tx_count = 0;
	CHECK_EQ(ether_output(r.ifp, payload(&r, 30, 0x70, 1), ina(ip4(198, 18, 0, 2)), 0), 0);
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.drv.tx_count, 1);
	CHECK_EQ(r.drv.tx[0][13], 0x06);
	arp_req(f, r.drv.mac, peer_mac);
	f[21] = 2; /* make it a reply */
	memcpy(f + 32, r.drv.mac, 6);
	inject(&r, f, 42);
	REQUIRE_EQ(r.drv.tx_count, 2);
	check_frame(&r, 1, peer_mac, ETHERTYPE_IP, 30, 0x70);
	CHECK_EQ(r.st->st_etherstat.ether_opackets, 2 + 2);
	/* Unresolvable: EHOSTDOWN after maxtries, counted. */
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x80, 1), ina(ip4(198, 18, 0, 3)), 0), 0);
	rig_advance(&r, 5 * SEC);
	CHECK_EQ(ether_output(r.ifp, payload(&r, 20, 0x90, 1), ina(ip4(198, 18, 0, 3)), 0),
	    UST_EHOSTDOWN);
	CHECK_EQ(r.st->st_etherstat.ether_noresolve, 1);
	rig_fini(&r);
}

TEST(ether_output_frame_queue_full)
{
	struct ust_if_stats is;
	struct rig r;
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
	rig_fini(&r);
}

static void
cksum_put(uint8_t *p, size_t len, size_t at)
{
	uint32_t s = 0;
	size_t i;

	p[at] = p[at + 1] = 0;
	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	p[at] = (uint8_t)(~s >> 8);
	p[at + 1] = (uint8_t)~s;
}

/* An ICMP echo request 198.18.0.2 -> 198.18.0.1 in a frame to dst. */
static size_t
echo_frame(uint8_t *f, const uint8_t *dst)
{
	static const uint8_t iph[20] = { 0x45, 0, 0, 32, 0x12, 0x34, 0, 0, 64, 1, 0, 0, 198, 18, 0,
		2, 198, 18, 0, 1 };
	static const uint8_t icmp[12] = { 8, 0, 0, 0, 0xab, 0xcd, 0, 1, 'p', 'i', 'n', 'g' };

	eth(f, dst, peer_mac, ETHERTYPE_IP, 0);
	memcpy(f + 14, iph, 20);
	cksum_put(f + 14, 20, 10);
	memcpy(f + 34, icmp, 12);
	cksum_put(f + 34, 12, 2);
	return (46);
}

/* M_BCAST reaches IP: an echo request that came as a link broadcast is
 * not answered (net.inet.icmp.bmcastecho=0), the same as unicast is. */
TEST(ether_input_marks_link_broadcast)
{
	struct rig r;
	uint8_t f[64];

	rig_init(&r);
	CHECK_EQ(ust_arp_add_static(r.uif, ip4(198, 18, 0, 2), peer_mac), 0);
	inject(&r, f, echo_frame(f, bcast));
	CHECK_EQ(r.st->st_icmpstat.icps_bmcastecho, 1);
	CHECK_EQ(r.drv.tx_count, 0);
	inject(&r, f, echo_frame(f, r.drv.mac));
	CHECK_EQ(r.st->st_icmpstat.icps_bmcastecho, 1);
	REQUIRE_EQ(r.drv.tx_count, 1);
	CHECK_MEM(r.drv.tx[0], peer_mac, 6);
	CHECK_EQ(r.drv.tx[0][12], 0x08);
	CHECK_EQ(r.drv.tx[0][13], 0x00);
	CHECK_EQ(r.drv.tx[0][14 + 20], 0); /* echo reply */
	rig_fini(&r);
}
