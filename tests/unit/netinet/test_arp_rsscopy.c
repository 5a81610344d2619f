/*
 * test_arp_rsscopy.c - a group's copies of ARP frames (M_RSSCOPY, decision
 * 2 of docs/multicore.md): a stack learns from a copy exactly as from the
 * frame (a request or reply for our address teaches the sender, a known
 * sender is merged, held packets leave) but never answers it: no reply,
 * no answer to a probe, no defence of an address.  The copies are handed
 * to ether_input as the group's hand-off does.
 */
#include <ustack/ustack.h>

#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "net/linktest.h"
#include "netinet/if_ether.h"
#include "netinet/in_var.h"
#include "iptest.h"

#define SEC 1000000000ull
#define T0 (1000 * SEC)

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero6[6] = { 0, 0, 0, 0, 0, 0 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x20 };
static const uint8_t peer2_mac[6] = { 0x02, 0, 0, 0, 0, 0x22 };
static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x30 };

#define OUR_IP tl_ip4addr(198, 18, 0, 1)
#define PEER_IP tl_ip4addr(198, 18, 0, 2)
#define PEER2_IP tl_ip4addr(198, 18, 0, 3)

/* The frame as a copy another stack of the group received. */
static void
inject_copy(struct lt_rig *r, const uint8_t *f, size_t len)
{
	struct mbuf *m = lt_mbuf(r->st, f, len, 0);

	REQUIRE(m != NULL);
	m->m_pkthdr.rcvif = r->ifp;
	m->m_flags |= M_RSSCOPY;
	ether_input(r->ifp, m);
	lt_rig_advance(r, 0);
}

TEST(arp_copy_request_learned_not_answered)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t f[64];

	lt_rig_init(&r, T0, OUR_IP, 24);
	inject_copy(&r, f, lt_arp_frame(f, bcast, peer_mac, 1, peer_mac, PEER_IP, zero6, OUR_IP));
	CHECK_EQ(r.drv.tx_count, 0);
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.flags, UST_ARP_RESOLVED);
	CHECK_MEM(e.mac, peer_mac, 6);
#if UST_STATS
	CHECK_EQ(r.st->st_arpstat.rxrequests, 1);
	CHECK_EQ(r.st->st_arpstat.txreplies, 0);
#endif
	/* The same request as a frame of our own queue is answered. */
	lt_inject(&r, f, lt_arp_frame(f, bcast, peer_mac, 1, peer_mac, PEER_IP, zero6, OUR_IP));
	CHECK_EQ(r.drv.tx_count, 1);
	/* A request for another address from a new sender: nothing, as for
	 * the frame itself. */
	inject_copy(&r, f,
	    lt_arp_frame(f, bcast, peer2_mac, 1, peer2_mac, PEER2_IP, zero6, PEER_IP));
	CHECK_EQ(ust_arp_lookup(r.st, PEER2_IP, &e), -UST_ENOENT);
	CHECK_EQ(r.drv.tx_count, 1);
	lt_rig_fini(&r);
}

/* A reply copy (our address asked by another stack of the group) resolves
 * our own pending entry and sends the packets it held; a copy from a known
 * sender with a new address merges it. */
TEST(arp_copy_reply_resolves_and_flushes_holds)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t f[64];
	uint8_t b[20];
	struct mbuf *m;
	int tx;

	lt_rig_init(&r, T0, OUR_IP, 24);
	memset(b, 0, sizeof(b));
	b[0] = 0x45;
	m = lt_mbuf(r.st, b, sizeof(b), 1);
	REQUIRE(m != NULL);
	CHECK_EQ(ether_output(r.ifp, m, ina(PEER_IP), 0), 0); /* held; a request leaves */
	ust_stack_poll(r.st);
	tx = r.drv.tx_count;
	CHECK_EQ(tx, 1);
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.held, 1);
	inject_copy(&r, f,
	    lt_arp_frame(f, r.drv.mac, peer_mac, 2, peer_mac, PEER_IP, r.drv.mac, OUR_IP));
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_EQ(e.flags, UST_ARP_RESOLVED);
	CHECK_EQ(e.held, 0);
	/* Only the held packet went out, to the peer's address. */
	REQUIRE_EQ(r.drv.tx_count, tx + 1);
	CHECK_MEM(r.drv.tx[tx], peer_mac, 6);
	CHECK(r.drv.tx[tx][12] == 0x08 && r.drv.tx[tx][13] == 0x00);
	/* Merge: a broadcast request for someone else from the known peer,
	 * now at another MAC, updates the entry; still nothing sent. */
	inject_copy(&r, f,
	    lt_arp_frame(f, bcast, other_mac, 1, other_mac, PEER_IP, zero6, PEER2_IP));
	REQUIRE_EQ(ust_arp_lookup(r.st, PEER_IP, &e), 0);
	CHECK_MEM(e.mac, other_mac, 6);
	CHECK_EQ(r.drv.tx_count, tx + 1);
	lt_rig_fini(&r);
}

/* A probe for our address (RFC 5227, sender ::) and a frame claiming our
 * address: the stack that received them answers and defends; a copy does
 * neither, and learns nothing. */
TEST(arp_copy_probe_and_conflict_silent)
{
	struct ust_arp_entry e;
	struct lt_rig r;
	uint8_t f[64];

	lt_rig_init(&r, T0, OUR_IP, 24);
	inject_copy(&r, f, lt_arp_frame(f, bcast, peer_mac, 1, peer_mac, 0, zero6, OUR_IP));
	CHECK_EQ(r.drv.tx_count, 0);
	inject_copy(&r, f, lt_arp_frame(f, bcast, peer_mac, 1, peer_mac, OUR_IP, zero6, OUR_IP));
	CHECK_EQ(r.drv.tx_count, 0);
	CHECK_EQ(ust_arp_lookup(r.st, OUR_IP, &e), -UST_ENOENT);
	CHECK_EQ(ust_arp_lookup(r.st, 0, &e), -UST_ENOENT);
	/* The same frames off our own queue: a reply and an announcement. */
	lt_inject(&r, f, lt_arp_frame(f, bcast, peer_mac, 1, peer_mac, 0, zero6, OUR_IP));
	CHECK_EQ(r.drv.tx_count, 1);
	lt_inject(&r, f, lt_arp_frame(f, bcast, peer_mac, 1, peer_mac, OUR_IP, zero6, OUR_IP));
	CHECK_EQ(r.drv.tx_count, 2);
	lt_rig_fini(&r);
}
