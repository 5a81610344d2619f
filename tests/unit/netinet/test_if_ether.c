/*
 * test_if_ether.c - ARP (RFC 826, RFC 5227, RFC 1122 2.3.2.1): request and
 * reply frames byte by byte, cache states, the hold queue bound and flush
 * order, retransmission every second and giving up after maxtries on the
 * virtual clock, the arp_wait hold-down, expiry, probes answered without
 * learning, gratuitous announcements, address conflicts, static entries,
 * a full cache, malformed packets, the merge rule, and two stacks
 * resolving each other over a pipe.
 */
#include <ustack/ustack.h>

#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "net/linktest.h"
#include "netinet/if_ether.h"
#include "netinet/in_var.h"
#include "iptest.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero6[6] = { 0, 0, 0, 0, 0, 0 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x20 };
static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x30 };

#define OUR_IP tl_ip4addr(198, 18, 0, 1)
#define PEER_IP tl_ip4addr(198, 18, 0, 2)

/* A stack with one loop interface and, with_addr, 198.18.0.1/24 (its
 * announcement already taken off the driver). */
static void
rig_init(struct lt_rig *r, int with_addr)
{
	lt_rig_init(r, T0, with_addr ? OUR_IP : 0, 24);
}

/* A request from the peer for tpa, broadcast. */
static void
inject_request(struct lt_rig *r, const uint8_t *sha, uint32_t spa, uint32_t tpa)
{
	uint8_t f[64];

	lt_inject(r, f, lt_arp_frame(f, bcast, sha, 1, sha, spa, zero6, tpa));
}

static void
inject_reply(struct lt_rig *r, const uint8_t *sha, uint32_t spa, uint32_t tpa)
{
	uint8_t f[64];

	lt_inject(r, f, lt_arp_frame(f, r->drv.mac, sha, 2, sha, spa, r->drv.mac, tpa));
}

/* Checks tx frame i is an ARP packet with these fields. */
static void
check_arp_tx(struct lt_rig *r, int i, const uint8_t *edst, uint16_t op, uint32_t spa,
    const uint8_t *tha, uint32_t tpa)
{
	uint8_t want[42];

	REQUIRE(i < r->drv.tx_count);
	lt_arp_frame(want, edst, r->drv.mac, op, r->drv.mac, spa, tha, tpa);
	CHECK_EQ(r->drv.tx_len[i], 42);
	CHECK_MEM(r->drv.tx[i], want, 42);
}

/* A fake IPv4 packet of 20 bytes whose first byte after 0x45 is tag. */
static struct mbuf *
pkt(struct lt_rig *r, uint8_t tag)
{
	uint8_t b[20];

	memset(b, 0, sizeof(b));
	b[0] = 0x45;
	b[1] = tag;
	return (lt_mbuf(r->st, b, sizeof(b), 1));
}

#if UST_STATS
TEST(arp_request_frame_layout)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t mac[6];
	const uint8_t *f;

	rig_init(&r, 1);
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), UST_EWOULDBLOCK);
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.drv.tx_count, 1);
	f = r.drv.tx[0];
	/* Ethernet: broadcast, from us, ARP. */
	CHECK_MEM(f, bcast, 6);
	CHECK_MEM(f + 6, r.drv.mac, 6);
	CHECK(f[12] == 0x08 && f[13] == 0x06);
	/* htype 1, ptype 0x0800, hlen 6, plen 4, op 1 (request). */
	CHECK(f[14] == 0 && f[15] == 1 && f[16] == 0x08 && f[17] == 0 && f[18] == 6 && f[19] == 4 &&
	    f[20] == 0 && f[21] == 1);
	CHECK_MEM(f + 22, r.drv.mac, 6);
	CHECK(f[28] == 198 && f[29] == 18 && f[30] == 0 && f[31] == 1);
	CHECK_MEM(f + 32, zero6, 6);
	CHECK(f[38] == 198 && f[39] == 18 && f[40] == 0 && f[41] == 2);
	CHECK_EQ(r.drv.tx_len[0], 42); /* not padded by us */
	CHECK_EQ(r.st->st_arpstat.txrequests, 1);
	/* INCOMPLETE: no MAC, not resolved. */
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.flags, 0);
	CHECK_EQ(e.ifindex, 1);
	CHECK_EQ(e.expire_ns, T0 + SEC);
	/* Asking again within the second sends nothing new. */
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), UST_EWOULDBLOCK);
	ust_stack_poll(r.st);
	CHECK_EQ(r.drv.tx_count, 1);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_reply_to_request_layout)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	const uint8_t *f;
	uint8_t mac[6];

	rig_init(&r, 1);
	inject_request(&r, peer_mac, PEER_IP, OUR_IP);
	REQUIRE_EQ(r.drv.tx_count, 1);
	f = r.drv.tx[0];
	CHECK_MEM(f, peer_mac, 6); /* unicast back to the asker */
	CHECK_MEM(f + 6, r.drv.mac, 6);
	CHECK(f[12] == 0x08 && f[13] == 0x06);
	CHECK(f[14] == 0 && f[15] == 1 && f[16] == 0x08 && f[17] == 0 && f[18] == 6 && f[19] == 4 &&
	    f[20] == 0 && f[21] == 2);
	CHECK_MEM(f + 22, r.drv.mac, 6);
	CHECK(f[28] == 198 && f[29] == 18 && f[30] == 0 && f[31] == 1);
	CHECK_MEM(f + 32, peer_mac, 6);
	CHECK(f[38] == 198 && f[39] == 18 && f[40] == 0 && f[41] == 2);
	CHECK_EQ(r.drv.tx_len[0], 42);
	CHECK_EQ(r.st->st_arpstat.received, 1);
	CHECK_EQ(r.st->st_arpstat.rxrequests, 1);
	CHECK_EQ(r.st->st_arpstat.txreplies, 1);
	/* RFC 826: we were the target, so the sender is now in the cache. */
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.flags, UST_ARP_RESOLVED);
	CHECK_MEM(e.mac, peer_mac, 6);
	CHECK_EQ(e.expire_ns, T0 + 1200 * SEC);
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), 0);
	CHECK_MEM(mac, peer_mac, 6);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_request_for_other_not_answered_nor_learned)
{
	struct ust_arp_entry e;
	struct lt_rig r;

	rig_init(&r, 1);
	inject_request(&r, peer_mac, PEER_IP, tl_ip4addr(198, 18, 0, 77));
	CHECK_EQ(r.drv.tx_count, 0);
	CHECK_EQ(ust_arp_lookup(r.st, PEER_IP, &e), -UST_ENOENT);
	CHECK_EQ(r.st->st_arpstat.rxrequests, 1);
	/* Our address on another interface is not answered on this one. */
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
/* ARP has no checksum: a sender hardware address that is not the frame's
 * Ethernet source (a damaged or forged packet) is neither answered nor
 * learned, so it cannot misdirect our traffic. */
TEST(arp_sender_mac_must_match_ethernet_source)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t f[64];

	rig_init(&r, 1);
	lt_inject(&r, f, lt_arp_frame(f, bcast, other_mac, 1, peer_mac, PEER_IP, zero6, OUR_IP));
	CHECK_EQ(r.drv.tx_count, 0);
	CHECK_EQ(ust_arp_lookup(r.st, PEER_IP, &e), -UST_ENOENT);
	CHECK_EQ(r.st->st_arpstat.rx_badaddr, 1);
	/* The same request, consistent, is answered and learned. */
	inject_request(&r, peer_mac, PEER_IP, OUR_IP);
	CHECK_EQ(r.drv.tx_count, 1);
	CHECK_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_MEM(e.mac, peer_mac, 6);
	lt_rig_fini(&r);
}
#endif

TEST(arp_merge_updates_known_sender)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t mac[6];

	rig_init(&r, 1);
	inject_request(&r, peer_mac, PEER_IP, OUR_IP);
	r.drv.tx_count = 0;
	lt_rig_advance(&r, 100 * SEC);
	/* The peer changed NIC and asks someone else: the entry follows
	 * (RFC 826 merge), its lifetime starts again, we stay silent. */
	inject_request(&r, other_mac, PEER_IP, tl_ip4addr(198, 18, 0, 9));
	CHECK_EQ(r.drv.tx_count, 0);
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_MEM(e.mac, other_mac, 6);
	CHECK_EQ(e.expire_ns, T0 + 100 * SEC + 1200 * SEC);
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), 0);
	CHECK_MEM(mac, other_mac, 6);
	/* A gratuitous ARP of a stranger creates nothing. */
	inject_request(&r, peer_mac, tl_ip4addr(198, 18, 0, 50), tl_ip4addr(198, 18, 0, 50));
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 50), &e), -UST_ENOENT);
	lt_rig_fini(&r);
}

#if UST_STATS
TEST(arp_hold_queue_bound_and_flush_order)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	int i;

	rig_init(&r, 1);
	r.st->st_knobs.arp_maxhold = 3;
	for (i = 1; i <= 5; i++)
		CHECK_EQ(ether_output(r.ifp, pkt(&r, (uint8_t)i), ina(PEER_IP), 0), 0);
	ust_stack_poll(r.st);
	CHECK_EQ(r.drv.tx_count, 1);           /* one request only */
	CHECK_EQ(r.st->st_arpstat.dropped, 2); /* 1 and 2 made room */
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.held, 3);
	r.drv.tx_count = 0;
	inject_reply(&r, peer_mac, PEER_IP, OUR_IP);
	CHECK_EQ(r.st->st_arpstat.rxreplies, 1);
	REQUIRE_EQ(r.drv.tx_count, 3);
	for (i = 0; i < 3; i++) {
		CHECK_MEM(r.drv.tx[i], peer_mac, 6);
		CHECK_MEM(r.drv.tx[i] + 6, r.drv.mac, 6);
		CHECK(r.drv.tx[i][12] == 0x08 && r.drv.tx[i][13] == 0x00);
		CHECK_EQ(r.drv.tx_len[i], 34);
		CHECK_EQ(r.drv.tx[i][14], 0x45);
		CHECK_EQ(r.drv.tx[i][15], 3 + i); /* 3, 4, 5 in order */
	}
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.held, 0);
	CHECK_EQ(e.flags, UST_ARP_RESOLVED);
	/* A reply does not make us answer. */
	CHECK_EQ(r.st->st_arpstat.txreplies, 0);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_retransmit_every_second_then_give_up)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t mac[6];
	int i;

	rig_init(&r, 1);
	CHECK_EQ(arpresolve(r.ifp, pkt(&r, 1), ina(PEER_IP), mac), UST_EWOULDBLOCK);
	ust_stack_poll(r.st);
	CHECK_EQ(r.drv.tx_count, 1);
	/* maxtries = 5 requests, one a second (RFC 1122 2.3.2.1). */
	for (i = 2; i <= 5; i++) {
		lt_rig_advance(&r, SEC - MS);
		CHECK_EQ(r.drv.tx_count, i - 1);
		lt_rig_advance(&r, MS);
		CHECK_EQ(r.drv.tx_count, i);
		check_arp_tx(&r, i - 1, bcast, 1, OUR_IP, zero6, PEER_IP);
	}
	CHECK_EQ(r.st->st_arpstat.txrequests, 5);
	CHECK_EQ(r.st->st_arpstat.timeouts, 0);
	lt_rig_advance(&r, SEC);
	CHECK_EQ(r.drv.tx_count, 5);
	CHECK_EQ(r.st->st_arpstat.timeouts, 1);
	CHECK_EQ(r.st->st_arpstat.dropped, 1); /* the held packet */
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.held, 0);
	CHECK_EQ(e.expire_ns, T0 + 5 * SEC + 20 * SEC);
	/* arp_wait: traffic is refused at once, nothing asked. */
	CHECK_EQ(arpresolve(r.ifp, pkt(&r, 2), ina(PEER_IP), mac), UST_EHOSTDOWN);
	CHECK_EQ(ether_output(r.ifp, pkt(&r, 3), ina(PEER_IP), 0), UST_EHOSTDOWN);
	CHECK_EQ(r.st->st_etherstat.ether_noresolve, 1);
	lt_rig_advance(&r, 19 * SEC);
	CHECK_EQ(r.drv.tx_count, 5);
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), UST_EHOSTDOWN);
	lt_rig_advance(&r, SEC);
	CHECK_EQ(ust_arp_lookup(r.st, PEER_IP, &e), -UST_ENOENT);
	/* After the wait, the next packet asks again. */
	CHECK_EQ(arpresolve(r.ifp, pkt(&r, 4), ina(PEER_IP), mac), UST_EWOULDBLOCK);
	ust_stack_poll(r.st);
	CHECK_EQ(r.drv.tx_count, 6);
	CHECK_EQ(r.st->st_arpstat.txrequests, 6);
	CHECK_EQ(ust_arp_del(r.uif, PEER_IP), 0); /* frees the held packet */
	CHECK_EQ(r.st->st_arpstat.dropped, 2);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_reply_during_wait_resolves)
{
	struct lt_rig r;
	uint8_t mac[6];

	rig_init(&r, 1);
	r.st->st_knobs.arp_maxtries = 2;
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), UST_EWOULDBLOCK);
	lt_rig_advance(&r, 2 * SEC);
	CHECK_EQ(r.st->st_arpstat.timeouts, 1);
	CHECK_EQ(r.st->st_arpstat.txrequests, 2);
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), UST_EHOSTDOWN);
	inject_reply(&r, peer_mac, PEER_IP, OUR_IP);
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), 0);
	CHECK_MEM(mac, peer_mac, 6);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_entry_expires_after_max_age)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t mac[6];

	rig_init(&r, 1);
	r.st->st_knobs.arp_max_age = 60;
	inject_request(&r, peer_mac, PEER_IP, OUR_IP);
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.expire_ns, T0 + 60 * SEC);
	lt_rig_advance(&r, 60 * SEC - MS);
	CHECK_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(r.st->st_arpstat.expired, 0);
	lt_rig_advance(&r, MS);
	CHECK_EQ(ust_arp_lookup(r.st, PEER_IP, &e), -UST_ENOENT);
	CHECK_EQ(r.st->st_arpstat.expired, 1);
	r.drv.tx_count = 0;
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), UST_EWOULDBLOCK);
	ust_stack_poll(r.st);
	CHECK_EQ(r.drv.tx_count, 1);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_probe_answered_without_learning)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	const uint8_t *f;

	rig_init(&r, 1);
	/* RFC 5227 2.1.1: sender IP 0.0.0.0, target the address probed. */
	inject_request(&r, peer_mac, 0, OUR_IP);
	REQUIRE_EQ(r.drv.tx_count, 1);
	f = r.drv.tx[0];
	check_arp_tx(&r, 0, peer_mac, 2, OUR_IP, peer_mac, 0);
	CHECK(f[38] == 0 && f[39] == 0 && f[40] == 0 && f[41] == 0);
	CHECK_EQ(ust_arp_get(r.st, 0, &e), -UST_ENOENT);
	CHECK_EQ(r.st->st_arpstat.rx_badaddr, 0);
	/* A probe for an address that is not ours: silence, nothing learned. */
	inject_request(&r, peer_mac, 0, tl_ip4addr(198, 18, 0, 99));
	CHECK_EQ(r.drv.tx_count, 1);
	CHECK_EQ(ust_arp_get(r.st, 0, &e), -UST_ENOENT);
	/* A reply from 0.0.0.0 is nonsense. */
	inject_reply(&r, peer_mac, 0, OUR_IP);
	CHECK_EQ(r.st->st_arpstat.rx_badaddr, 1);
	CHECK_EQ(ust_arp_get(r.st, 0, &e), -UST_ENOENT);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_gratuitous_on_address_add)
{
	struct lt_rig r;

	rig_init(&r, 0);
	CHECK_EQ(ust_if_addr_add(r.uif, OUR_IP, 24), 0);
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.drv.tx_count, 1);
	/* RFC 5227 2.3: request, sender = target = the address, tha zero. */
	check_arp_tx(&r, 0, bcast, 1, OUR_IP, zero6, OUR_IP);
	CHECK_EQ(r.st->st_arpstat.txannounces, 1);
	CHECK_EQ(r.st->st_arpstat.txrequests, 0);
	/* garp_rexmit_count 3: the rest 2 s apart; stops with the address. */
	r.st->st_knobs.arp_garp_count = 3;
	CHECK_EQ(ust_if_addr_add(r.uif, tl_ip4addr(198, 19, 0, 1), 16), 0);
	ust_stack_poll(r.st);
	CHECK_EQ(r.drv.tx_count, 2);
	check_arp_tx(&r, 1, bcast, 1, tl_ip4addr(198, 19, 0, 1), zero6, tl_ip4addr(198, 19, 0, 1));
	lt_rig_advance(&r, 2 * SEC - MS);
	CHECK_EQ(r.drv.tx_count, 2);
	lt_rig_advance(&r, MS);
	CHECK_EQ(r.drv.tx_count, 3);
	check_arp_tx(&r, 2, bcast, 1, tl_ip4addr(198, 19, 0, 1), zero6, tl_ip4addr(198, 19, 0, 1));
	lt_rig_advance(&r, 2 * SEC);
	CHECK_EQ(r.drv.tx_count, 4);
	lt_rig_advance(&r, 10 * SEC);
	CHECK_EQ(r.drv.tx_count, 4);
	CHECK_EQ(r.st->st_arpstat.txannounces, 4);
	/* An address removed in the middle of its announcements. */
	CHECK_EQ(ust_if_addr_add(r.uif, tl_ip4addr(198, 20, 0, 1), 16), 0);
	CHECK_EQ(ust_if_addr_del(r.uif, tl_ip4addr(198, 20, 0, 1)), 0);
	lt_rig_advance(&r, 10 * SEC);
	CHECK_EQ(r.drv.tx_count, 5);
	/* Count 0: silent. */
	r.st->st_knobs.arp_garp_count = 0;
	CHECK_EQ(ust_if_addr_add(r.uif, tl_ip4addr(198, 21, 0, 1), 16), 0);
	lt_rig_advance(&r, 10 * SEC);
	CHECK_EQ(r.drv.tx_count, 5);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_address_conflict_not_poisoned)
{
	struct ust_arp_entry e;
	struct lt_rig r;

	rig_init(&r, 1);
	/* Someone announces our address. */
	inject_request(&r, other_mac, OUR_IP, OUR_IP);
	CHECK_EQ(r.st->st_arpstat.dupips, 1);
	CHECK_EQ(ust_arp_lookup(r.st, OUR_IP, &e), -UST_ENOENT);
	/* RFC 5227 2.4 (b): we defend once with our own announcement. */
	REQUIRE_EQ(r.drv.tx_count, 1);
	check_arp_tx(&r, 0, bcast, 1, OUR_IP, zero6, OUR_IP);
	/* A second claim within DEFEND_INTERVAL is counted, not defended. */
	inject_reply(&r, other_mac, OUR_IP, OUR_IP);
	CHECK_EQ(r.st->st_arpstat.dupips, 2);
	CHECK_EQ(r.drv.tx_count, 1);
	/* A request from "us" for the peer is not answered either. */
	inject_request(&r, other_mac, OUR_IP, PEER_IP);
	CHECK_EQ(r.st->st_arpstat.dupips, 3);
	CHECK_EQ(r.drv.tx_count, 1);
	CHECK_EQ(ust_arp_get(r.st, 0, &e), -UST_ENOENT);
	lt_rig_advance(&r, 10 * SEC);
	inject_request(&r, other_mac, OUR_IP, OUR_IP);
	CHECK_EQ(r.drv.tx_count, 2);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_static_entries)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t mac[6], mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };

	rig_init(&r, 1);
	CHECK_EQ(ust_arp_add_static(r.uif, PEER_IP, peer_mac), 0);
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.flags, UST_ARP_STATIC | UST_ARP_RESOLVED);
	CHECK_EQ(e.expire_ns, 0);
	CHECK_MEM(e.mac, peer_mac, 6);
	/* The wire never changes it: neither a reply nor a request to us. */
	inject_reply(&r, other_mac, PEER_IP, OUR_IP);
	inject_request(&r, other_mac, PEER_IP, OUR_IP);
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_MEM(e.mac, peer_mac, 6);
	CHECK_EQ(e.flags, UST_ARP_STATIC | UST_ARP_RESOLVED);
	CHECK_EQ(r.st->st_arpstat.txreplies, 1); /* the request was still answered */
	/* Never expires, resolves without a request. */
	r.drv.tx_count = 0;
	lt_rig_advance(&r, 100000 * SEC);
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(PEER_IP), mac), 0);
	CHECK_MEM(mac, peer_mac, 6);
	ust_stack_poll(r.st);
	CHECK_EQ(r.drv.tx_count, 0);
	/* Bad arguments. */
	CHECK_EQ(ust_arp_add_static(r.uif, 0, peer_mac), -UST_EINVAL);
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(255, 255, 255, 255), peer_mac), -UST_EINVAL);
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(224, 0, 0, 1), peer_mac), -UST_EINVAL);
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 3), mcast), -UST_EINVAL);
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 3), zero6), -UST_EINVAL);
	/* A static entry over a pending resolution sends the held packet. */
	CHECK_EQ(arpresolve(r.ifp, pkt(&r, 7), ina(tl_ip4addr(198, 18, 0, 3)), mac),
	    UST_EWOULDBLOCK);
	ust_stack_poll(r.st);
	r.drv.tx_count = 0;
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 3), other_mac), 0);
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.drv.tx_count, 1);
	CHECK_MEM(r.drv.tx[0], other_mac, 6);
	CHECK_EQ(r.drv.tx[0][15], 7);
	/* Delete, get, lookup. */
	CHECK_EQ(ust_arp_get(r.st, 0, &e), 0);
	CHECK_EQ(e.addr, PEER_IP);
	CHECK_EQ(ust_arp_get(r.st, 1, &e), 0);
	CHECK_EQ(e.addr, tl_ip4addr(198, 18, 0, 3));
	CHECK_EQ(ust_arp_get(r.st, 2, &e), -UST_ENOENT);
	CHECK_EQ(ust_arp_del(r.uif, PEER_IP), 0);
	CHECK_EQ(ust_arp_del(r.uif, PEER_IP), -UST_ENOENT);
	CHECK_EQ(ust_arp_lookup(r.st, PEER_IP, &e), -UST_ENOENT);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_cache_full)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t mac[6];
	unsigned i;

	rig_init(&r, 1);
	r.st->st_knobs.arp_max_entries = 4;
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 10), peer_mac), 0);
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 11), peer_mac), 0);
	CHECK_EQ(arpresolve(r.ifp, pkt(&r, 1), ina(tl_ip4addr(198, 18, 0, 20)), mac),
	    UST_EWOULDBLOCK);
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(tl_ip4addr(198, 18, 0, 21)), mac), UST_EWOULDBLOCK);
	/* Full: the oldest unresolved entry (.20, with its packet) goes. */
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(tl_ip4addr(198, 18, 0, 22)), mac), UST_EWOULDBLOCK);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 20), &e), -UST_ENOENT);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 21), &e), 0);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 22), &e), 0);
	CHECK_EQ(r.st->st_arpstat.dropped, 1);
	CHECK_EQ(r.st->st_arpstat.cachefull, 0);
	/* Resolve both: now only resolved and static entries. */
	inject_reply(&r, peer_mac, tl_ip4addr(198, 18, 0, 21), OUR_IP);
	inject_reply(&r, peer_mac, tl_ip4addr(198, 18, 0, 22), OUR_IP);
	for (i = 0; i < 4; i++) {
		REQUIRE_EQ(ust_arp_get(r.st, i, &e), 0);
		CHECK(e.flags & UST_ARP_RESOLVED);
	}
	/* A stranger asking for us is answered but cannot displace a
	 * resolved entry. */
	r.drv.tx_count = 0;
	inject_request(&r, other_mac, tl_ip4addr(198, 18, 0, 30), OUR_IP);
	CHECK_EQ(r.drv.tx_count, 1);
	CHECK_EQ(r.st->st_arpstat.cachefull, 1);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 30), &e), -UST_ENOENT);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 21), &e), 0);
	/* Our own traffic may displace the oldest resolved one. */
	CHECK_EQ(arpresolve(r.ifp, NULL, ina(tl_ip4addr(198, 18, 0, 31)), mac), UST_EWOULDBLOCK);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 21), &e), -UST_ENOENT);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 22), &e), 0);
	/* Statics are never evicted: with only statics, no room at all. */
	CHECK_EQ(ust_arp_del(r.uif, tl_ip4addr(198, 18, 0, 22)), 0);
	CHECK_EQ(ust_arp_del(r.uif, tl_ip4addr(198, 18, 0, 31)), 0);
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 12), peer_mac), 0);
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 13), peer_mac), 0);
	CHECK_EQ(ust_arp_add_static(r.uif, tl_ip4addr(198, 18, 0, 14), peer_mac), -UST_ENOSPC);
	CHECK_EQ(arpresolve(r.ifp, pkt(&r, 2), ina(tl_ip4addr(198, 18, 0, 40)), mac), UST_ENOBUFS);
	CHECK_EQ(r.st->st_arpstat.cachefull, 3);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 10), &e), 0);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 18, 0, 13), &e), 0);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
/* Each malformed packet is counted under its reason, answered by nothing
 * and teaches nothing. */
TEST(arp_malformed_dropped)
{
	struct ust_arp_entry e;
	struct ust_arpstat *as;
	struct lt_rig r;
	uint8_t f[64], g[64];
	size_t n;

	rig_init(&r, 1);
	as = &r.st->st_arpstat;
	n = lt_arp_frame(f, bcast, peer_mac, 1, peer_mac, PEER_IP, zero6, OUR_IP);
	memcpy(g, f, n);
	g[15] = 6; /* htype 6 (IEEE 802) */
	lt_inject(&r, g, n);
	memcpy(g, f, n);
	g[16] = 0x86;
	g[17] = 0xdd; /* ptype IPv6 */
	lt_inject(&r, g, n);
	memcpy(g, f, n);
	g[18] = 8; /* hlen */
	lt_inject(&r, g, n);
	memcpy(g, f, n);
	g[19] = 16; /* plen */
	lt_inject(&r, g, n);
	CHECK_EQ(as->rx_badformat, 4);
	memcpy(g, f, n);
	g[21] = 3; /* RARP request */
	lt_inject(&r, g, n);
	memcpy(g, f, n);
	g[21] = 0;
	lt_inject(&r, g, n);
	CHECK_EQ(as->rx_badop, 2);
	lt_inject(&r, f, 14 + 27); /* one byte short */
	lt_inject(&r, f, 14 + 4);  /* not even the fixed header */
	CHECK_EQ(as->rx_tooshort, 2);
	/* Bad sender addresses. */
	memcpy(g, f, n);
	memcpy(g + 22, bcast, 6);
	lt_inject(&r, g, n);
	memcpy(g, f, n);
	memcpy(g + 22, zero6, 6);
	lt_inject(&r, g, n);
	memcpy(g, f, n);
	memcpy(g + 22, r.drv.mac, 6); /* our own MAC */
	lt_inject(&r, g, n);
	inject_request(&r, peer_mac, tl_ip4addr(255, 255, 255, 255), OUR_IP);
	inject_request(&r, peer_mac, tl_ip4addr(198, 18, 0, 255), OUR_IP); /* directed bcast */
	inject_request(&r, peer_mac, tl_ip4addr(224, 0, 0, 5), OUR_IP);
	inject_request(&r, peer_mac, tl_ip4addr(127, 0, 0, 1), OUR_IP);
	inject_request(&r, peer_mac, tl_ip4addr(240, 0, 0, 1), OUR_IP);
	CHECK_EQ(as->rx_badaddr, 8);
	CHECK_EQ(as->received, 16);
	CHECK_EQ(r.drv.tx_count, 0);
	CHECK_EQ(ust_arp_get(r.st, 0, &e), -UST_ENOENT);
	/* The good one padded to the Ethernet minimum: the pad is ignored. */
	memset(f + n, 0xee, 60 - n);
	lt_inject(&r, f, 60);
	CHECK_EQ(r.drv.tx_count, 1);
	CHECK_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	lt_rig_fini(&r);
}
#endif

#if UST_STATS
TEST(arp_ifdetach_and_destroy_with_pending)
{
	struct ust_arp_entry e;
	struct loopdrv d2;
	struct ust_if *u2;
	struct lt_rig r;
	uint8_t mac[6];

	rig_init(&r, 1);
	loopdrv_init(&d2);
	d2.mac[5] = 0x11;
	REQUIRE_EQ(ust_if_attach(r.st, "eth1", &loopdrv_ops, &d2, &u2), 0);
	REQUIRE_EQ(ust_if_addr_add(u2, tl_ip4addr(198, 19, 0, 1), 24), 0);
	CHECK_EQ(arpresolve(IFP_FROM_UST(u2), pkt(&r, 1), ina(tl_ip4addr(198, 19, 0, 2)), mac),
	    UST_EWOULDBLOCK);
	CHECK_EQ(arpresolve(r.ifp, pkt(&r, 2), ina(PEER_IP), mac), UST_EWOULDBLOCK);
	ust_if_detach(u2);
	CHECK_EQ(ust_arp_lookup(r.st, tl_ip4addr(198, 19, 0, 2), &e), -UST_ENOENT);
	CHECK_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	/* The timers of the freed entry must not fire. */
	lt_rig_advance(&r, 3 * SEC);
	CHECK_EQ(r.st->st_arpstat.txrequests, 2 + 3);
	/* Destroy with a packet still held and timers armed (ASan watches). */
	ust_stack_destroy(r.st);
	ust_vclock_destroy(r.vc);
}
#endif

#if UST_STATS
/* Two stacks on a pipe: A resolves B, and both end up knowing each other. */
TEST(arp_two_stacks_over_pipe)
{
	struct ust_arp_entry e;
	struct tl_pair pr;
	uint8_t maca[6], macb[6], mac[6];
	int i;

	REQUIRE_EQ(lt_pair_init(&pr, T0, ust_test_seed), 0);
	ust_if_get_mac(pr.ifa, maca);
	ust_if_get_mac(pr.ifb, macb);
	REQUIRE_EQ(ust_if_addr_add(pr.ifa, tl_ip4addr(198, 18, 0, 1), 24), 0);
	REQUIRE_EQ(ust_if_addr_add(pr.ifb, tl_ip4addr(198, 18, 0, 2), 24), 0);
	/* The announcements taught nothing (nobody was their target). */
	for (i = 0; i < 10; i++)
		ust_stack_poll(pr.a), ust_stack_poll(pr.b);
	CHECK_EQ(ust_arp_get(pr.a, 0, &e), -UST_ENOENT);
	CHECK_EQ(ust_arp_get(pr.b, 0, &e), -UST_ENOENT);
	/* An IPv4 packet from A to B waits for ARP, then goes. */
	{
		struct ifnet *ifp = IFP_FROM_UST(pr.ifa);
		uint8_t ip[28] = { 0x45, 0, 0, 28, 0, 1, 0, 0, 64, 253, 0, 0, 198, 18, 0, 1, 198,
			18, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8 };
		struct mbuf *m = m_gethdr(&pr.a->st_mbz, MT_DATA);
		uint16_t s;

		REQUIRE(m != NULL);
		s = tl_cksum(ip, 20, 0);
		ip[10] = (uint8_t)(s >> 8);
		ip[11] = (uint8_t)s;
		m_reserve(m, UST_MAX_HDR);
		REQUIRE_EQ(m_append(m, sizeof(ip), ip), 0);
		CHECK_EQ(ether_output(ifp, m, ina(tl_ip4addr(198, 18, 0, 2)), 0), 0);
	}
	for (i = 0; i < 10; i++)
		ust_stack_poll(pr.a), ust_stack_poll(pr.b);
	REQUIRE_EQ(ust_arp_lookup(pr.a, tl_ip4addr(198, 18, 0, 2), &e), 0);
	CHECK_EQ(e.flags, UST_ARP_RESOLVED);
	CHECK_MEM(e.mac, macb, 6);
	REQUIRE_EQ(ust_arp_lookup(pr.b, tl_ip4addr(198, 18, 0, 1), &e), 0);
	CHECK_EQ(e.flags, UST_ARP_RESOLVED);
	CHECK_MEM(e.mac, maca, 6);
	CHECK_EQ(pr.a->st_arpstat.txrequests, 1);
	CHECK_EQ(pr.a->st_arpstat.rxreplies, 1);
	CHECK_EQ(pr.b->st_arpstat.rxrequests, 2); /* A's announcement, then the request */
	CHECK_EQ(pr.b->st_arpstat.txreplies, 1);
	/* The held packet reached B's IP layer. */
	CHECK_EQ(pr.b->st_ipstat.ips_total, 1);
	CHECK_EQ(pr.b->st_etherstat.ether_ipackets, 3); /* garp, request, packet */
	/* And B resolves A without asking. */
	CHECK_EQ(arpresolve(IFP_FROM_UST(pr.ifb), NULL, ina(tl_ip4addr(198, 18, 0, 1)), mac), 0);
	CHECK_MEM(mac, maca, 6);
	lt_pair_fini(&pr);
}
#endif
