/*
 * test_stellaris.c - the Stellaris MAC's multicast switch (set_multicast:
 * MACRCTL.AMUL), compiled on the host with its registers in plain memory
 * (the driver's file included; the registers it uses here read back what
 * was written).
 */
#include "../../../drivers/stellaris/stellaris.c"

#include "kern/socketvar.h"
#include "net/if_var.h"
#include "test_env.h"
#include "ust_test.h"

TEST(amul_follows_the_stack)
{
	static const uint8_t g1[6] = { 0x33, 0x33, 0xff, 0x34, 0x56, 0x78 };
	static const uint8_t g2[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	static uint32_t regs[16]; /* 0x000..0x03c */
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct ust_stellaris_config cfg;
	struct ust_stellaris sc;
	struct ust_if *uif;
	struct ifnet *ifp;
	const uint32_t on = STL_RCTL_RXEN | STL_RCTL_BADCRC;

	memset(regs, 0, sizeof(regs));
	ust_stellaris_config_init(&cfg);
	cfg.base = (uintptr_t)regs;
	cfg.mac[0] = 0x02;
	cfg.mac[5] = 0x65;
	REQUIRE_EQ(ust_stellaris_init(&sc, &cfg), 0);
	REQUIRE_EQ(ust_if_attach(st, "stl0", ust_stellaris_ops(), &sc, &uif), 0);
	ifp = IFP_FROM_UST(uif);
#if UST_INET6
	/* IPv6 joined all-nodes at attach (AMUL on); this test wants the
	 * filter to itself, so it takes IPv6 off the interface. */
	CHECK_EQ(regs[STL_MACRCTL / 4], on | STL_RCTL_AMUL);
	domain_ifdetach(pffinddomain(UST_AF_INET6), ifp);
#endif
	CHECK_EQ(regs[STL_MACRCTL / 4], on);

	REQUIRE_EQ(if_addmulti(ifp, g1), 0);
	CHECK_EQ(regs[STL_MACRCTL / 4], on | STL_RCTL_AMUL);
	REQUIRE_EQ(if_addmulti(ifp, g2), 0);
	CHECK_EQ(regs[STL_MACRCTL / 4], on | STL_RCTL_AMUL);
	REQUIRE_EQ(if_delmulti(ifp, g1), 0);
	CHECK_EQ(regs[STL_MACRCTL / 4], on | STL_RCTL_AMUL);
	REQUIRE_EQ(if_delmulti(ifp, g2), 0);
	CHECK_EQ(regs[STL_MACRCTL / 4], on);
	if_allmulti(ifp, 1);
	CHECK_EQ(regs[STL_MACRCTL / 4], on | STL_RCTL_AMUL);
	/* A receive-FIFO reset keeps it (stl_rx_reset rewrites MACRCTL). */
	stl_rx_reset(&sc, stl_rd(&sc, STL_MACRCTL) | STL_RCTL_RXEN);
	CHECK_EQ(regs[STL_MACRCTL / 4], on | STL_RCTL_AMUL);
	if_allmulti(ifp, 0);
	CHECK_EQ(regs[STL_MACRCTL / 4], on);

	ust_if_detach(uif);
	CHECK_EQ(regs[STL_MACRCTL / 4] & STL_RCTL_RXEN, 0u);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}
