/*
 * test_lan9118.c - the LAN9118 driver's multicast filter (set_multicast),
 * compiled on the host against a model of the chip's registers: the
 * driver's own file is included with LAN9118_TEST_REGS, so its register
 * accesses land in chip_rd/chip_wr below (MAC CSRs through MAC_CSR_CMD and
 * MAC_CSR_DATA, never busy).  The receive decision is QEMU's lan9118
 * model of the datasheet's filter (perfect unicast, broadcast, MCPAS,
 * HPFILT through the 64-bin hash); the hash is checked against a CRC-32
 * computed the other way round (reflected, as zlib does) and bit-reversed.
 */
#include <stdint.h>

struct ust_lan9118;
static uint32_t lan_rd(const struct ust_lan9118 *sc, uint32_t off);
static void lan_wr(const struct ust_lan9118 *sc, uint32_t off, uint32_t v);

#define LAN9118_TEST_REGS 1
#include "../../../drivers/lan9118/lan9118.c"

#include "kern/socketvar.h"
#include "net/if_var.h"
#include "test_env.h"
#include "ust_test.h"

static struct {
	uint32_t csr[16]; /* MAC CSRs by index */
	uint32_t data;    /* MAC_CSR_DATA */
	uint32_t log[64]; /* MAC CSR writes, in order: index << 24 | low bits */
	unsigned nlog;
} chip;

static uint32_t
lan_rd(const struct ust_lan9118 *sc, uint32_t off)
{
	(void)sc;
	switch (off) {
	case L_BYTE_TEST:
		return (L_BYTE_TEST_VALUE);
	case L_PMT_CTRL:
		return (L_PMT_CTRL_READY);
	case L_MAC_CSR_DATA:
		return (chip.data);
	default:
		return (0); /* reset done, never busy, FIFOs empty */
	}
}

static void
lan_wr(const struct ust_lan9118 *sc, uint32_t off, uint32_t v)
{
	uint32_t reg = v & 0xffu;

	(void)sc;
	if (off == L_MAC_CSR_DATA) {
		chip.data = v;
	} else if (off == L_MAC_CSR_CMD && (v & L_MAC_CSR_BUSY) != 0 && reg < 16) {
		if (v & L_MAC_CSR_READ) {
			chip.data = chip.csr[reg];
		} else {
			chip.csr[reg] = chip.data;
			if (reg == L_MAC_MII_ACC)
				chip.csr[reg] &= ~L_MII_ACC_BUSY;
			if (chip.nlog < 64)
				chip.log[chip.nlog++] = reg << 24 | (chip.data & 0xffffffu);
		}
	}
}

/* QEMU's lan9118_filter: would the chip take a frame to mac? */
static int
chip_accepts(const uint8_t *mac, const uint8_t *ours)
{
	uint32_t cr = chip.csr[L_MAC_CR];
	unsigned h;

	if ((cr & L_MAC_CR_RXEN) == 0)
		return (0);
	if (memcmp(mac, "\xff\xff\xff\xff\xff\xff", 6) == 0)
		return (1);
	if ((mac[0] & 1) == 0)
		return (memcmp(mac, ours, 6) == 0);
	if (cr & L_MAC_CR_MCPAS)
		return (1);
	if ((cr & L_MAC_CR_HPFILT) == 0)
		return (memcmp(mac, ours, 6) == 0);
	h = lan_mc_hash(mac);
	return (
	    (int)((h & 0x20u ? chip.csr[L_MAC_HASHH] : chip.csr[L_MAC_HASHL]) >> (h & 0x1fu) & 1u));
}

/* The reference: CRC-32 the zlib way (reflected, preset and final
 * inversion), undone and bit-reversed into the MAC's register order. */
static unsigned
ref_hash(const uint8_t *mac)
{
	uint32_t c = 0xffffffffu, r = 0;
	unsigned i, k;

	for (i = 0; i < 6; i++) {
		c ^= mac[i];
		for (k = 0; k < 8; k++)
			c = (c & 1u) ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	/* c is zlib's result before its final inversion. */
	for (i = 0; i < 32; i++)
		r |= ((c >> i) & 1u) << (31 - i);
	return (r >> 26);
}

TEST(hash_reference)
{
	static const struct {
		uint8_t mac[6];
		unsigned h;
	} v[] = {
		/* zlib.crc32 in Python, bit-reversed after the inversion. */
		{ { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, 62 },
		{ { 0x33, 0x33, 0xff, 0x34, 0x56, 0x78 }, 5 },
		{ { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, 31 },
		{ { 0x33, 0x33, 0x00, 0x00, 0x00, 0x16 }, 6 },
		{ { 0x33, 0x33, 0x00, 0x00, 0x00, 0x02 }, 41 },
	};
	uint8_t m[6] = { 0x33, 0x33, 0xff, 0, 0, 0 };
	unsigned i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK_EQ(lan_mc_hash(v[i].mac), v[i].h);
		CHECK_EQ(ref_hash(v[i].mac), v[i].h);
	}
	for (i = 0; i < 5000; i++) {
		m[3] = (uint8_t)(i * 7);
		m[4] = (uint8_t)(i >> 3);
		m[5] = (uint8_t)(i * 131);
		CHECK_EQ(lan_mc_hash(m), ref_hash(m));
	}
}

TEST(filter_follows_the_stack)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0x91, 0x18 };
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0x91, 0x19 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t g1[6] = { 0x33, 0x33, 0xff, 0x34, 0x56, 0x78 };
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct ust_lan9118_config cfg;
	struct ust_lan9118 *nic = NULL;
	struct ust_if *uif;
	struct ifnet *ifp;
	uint8_t g[16][6];
	unsigned i, rejected;

	memset(&chip, 0, sizeof(chip));
	ust_lan9118_config_init(&cfg);
	cfg.base = 0x40200000u; /* never dereferenced: the model answers */
	memcpy(cfg.mac, mac, 6);
	REQUIRE_EQ(ust_lan9118_attach(st, "lan0", &cfg, &uif, &nic), 0);
	ifp = IFP_FROM_UST(uif);
#if UST_INET6
	/* IPv6 joined all-nodes at attach; this test wants the filter to
	 * itself, so it takes IPv6 off the interface. */
	domain_ifdetach(pffinddomain(UST_AF_INET6), ifp);
#endif
	/* At attach: unicast and broadcast, no multicast. */
	CHECK_EQ(chip.csr[L_MAC_CR], L_MAC_CR_BASE);
	CHECK(chip_accepts(mac, mac));
	CHECK(chip_accepts(bcast, mac));
	CHECK(!chip_accepts(other, mac));
	CHECK(!chip_accepts(g1, mac));

	/* One group: the hash filter, its bin set, unicast still perfect. */
	chip.nlog = 0;
	REQUIRE_EQ(if_addmulti(ifp, g1), 0);
	CHECK_EQ(chip.csr[L_MAC_CR], L_MAC_CR_BASE | L_MAC_CR_HPFILT);
	CHECK_EQ(chip.csr[L_MAC_HASHH], 0u);
	CHECK_EQ(chip.csr[L_MAC_HASHL], 1u << 5);
	CHECK(chip_accepts(g1, mac));
	CHECK(chip_accepts(mac, mac));
	CHECK(chip_accepts(bcast, mac));
	CHECK(!chip_accepts(other, mac));
	/* The table goes in before MAC_CR opens the filter. */
	REQUIRE_EQ(chip.nlog, 3u);
	CHECK_EQ(chip.log[0] >> 24, L_MAC_HASHH);
	CHECK_EQ(chip.log[1] >> 24, L_MAC_HASHL);
	CHECK_EQ(chip.log[2] >> 24, L_MAC_CR);

	/* Sixteen groups (the stack's most): all pass, most others do not. */
	for (i = 0; i < 15; i++) {
		memcpy(g[i], g1, 6);
		g[i][5] = (uint8_t)(0x80 + i);
		REQUIRE_EQ(if_addmulti(ifp, g[i]), 0);
	}
	CHECK(chip_accepts(g1, mac));
	for (i = 0; i < 15; i++)
		CHECK(chip_accepts(g[i], mac));
	for (i = 0, rejected = 0; i < 256; i++) {
		uint8_t x[6] = { 0x33, 0x33, 0x12, 0x00, 0x00, (uint8_t)i };

		rejected += !chip_accepts(x, mac);
	}
	CHECK(rejected > 64); /* at most 16 of 64 bins are open */

	/* allmulti: every group; off again: back to the table. */
	if_allmulti(ifp, 1);
	CHECK_EQ(chip.csr[L_MAC_CR], L_MAC_CR_BASE | L_MAC_CR_MCPAS);
	CHECK(chip_accepts(g1, mac));
	CHECK(chip_accepts((const uint8_t *)"\x01\x00\x5e\x01\x02\x03", mac));
	if_allmulti(ifp, 0);
	CHECK_EQ(chip.csr[L_MAC_CR], L_MAC_CR_BASE | L_MAC_CR_HPFILT);

	/* Every group left: no multicast, an empty table. */
	for (i = 0; i < 15; i++)
		REQUIRE_EQ(if_delmulti(ifp, g[i]), 0);
	REQUIRE_EQ(if_delmulti(ifp, g1), 0);
	CHECK_EQ(chip.csr[L_MAC_CR], L_MAC_CR_BASE);
	CHECK_EQ(chip.csr[L_MAC_HASHH], 0u);
	CHECK_EQ(chip.csr[L_MAC_HASHL], 0u);
	CHECK(!chip_accepts(g1, mac));

	ust_if_detach(uif);
	CHECK_EQ(chip.csr[L_MAC_CR], 0u);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}
