/*
 * test_route.c - the IPv4 routing table: longest-prefix match over
 * overlapping prefixes, the default route, what rt_lookup() fills in
 * (next hop, source, MTU, flags), gateway validation, deletion, the table
 * bound, enumeration, and interface detach.
 */
#include <ustack/ustack.h>

#include "kern/stack_var.h"
#include "net/linktest.h"
#include "netinet/in_route.h"

/* eth0 198.18.0.1/24, eth1 198.19.0.1/16 (MTU 9000). */
static void
rig_init(struct lt_rig2 *r)
{
	lt_rig2_init(r, 9000);
	if (ust_if_addr_add(r->if0, tl_ip4addr(198, 18, 0, 1), 24) != 0 ||
	    ust_if_addr_add(r->if1, tl_ip4addr(198, 19, 0, 1), 16) != 0)
		abort();
}

/* The gateway rt_lookup() picks for dst (0 when on-link), or ~0 on error. */
static uint32_t
via(struct lt_rig2 *r, uint32_t dst)
{
	struct nhop4 nh;

	if (rt_lookup(r->st, ina(dst), &nh) != 0)
		return (0xffffffffu);
	return (nh.nh_addr.s_addr == dst ? 0 : nh.nh_addr.s_addr);
}

TEST(route_connected_and_nhop)
{
	struct ust_route_info ri;
	struct nhop4 nh;
	struct lt_rig2 r;

	rig_init(&r);
	REQUIRE_EQ(rt_lookup(r.st, ina(tl_ip4addr(198, 18, 0, 77)), &nh), 0);
	CHECK(nh.nh_ifp == IFP_FROM_UST(r.if0));
	CHECK_EQ(nh.nh_addr.s_addr, tl_ip4addr(198, 18, 0, 77));
	CHECK_EQ(nh.nh_src.s_addr, tl_ip4addr(198, 18, 0, 1));
	CHECK_EQ(nh.nh_mtu, 1500);
	CHECK_EQ(nh.nh_flags, UST_RTF_UP);
	REQUIRE_EQ(rt_lookup(r.st, ina(tl_ip4addr(198, 19, 200, 1)), &nh), 0);
	CHECK(nh.nh_ifp == IFP_FROM_UST(r.if1));
	CHECK_EQ(nh.nh_src.s_addr, tl_ip4addr(198, 19, 0, 1));
	CHECK_EQ(nh.nh_mtu, 9000);
	CHECK_EQ(rt_lookup(r.st, ina(tl_ip4addr(10, 0, 0, 1)), &nh), UST_ENETUNREACH);
	CHECK_EQ(ust_route_lookup(r.st, tl_ip4addr(10, 0, 0, 1), &ri), -UST_ENETUNREACH);
	REQUIRE_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 18, 0, 9), &ri), 0);
	CHECK_EQ(ri.dst, tl_ip4addr(198, 18, 0, 0));
	CHECK_EQ(ri.prefixlen, 24);
	CHECK_EQ(ri.gateway, 0);
	CHECK_EQ(ri.src, tl_ip4addr(198, 18, 0, 1));
	CHECK_EQ(ri.ifindex, 1);
	CHECK_EQ(ri.flags, UST_RTF_UP);
	lt_rig2_fini(&r);
}

TEST(route_longest_prefix_match)
{
	struct ust_route_info ri;
	struct nhop4 nh;
	struct lt_rig2 r;

	rig_init(&r);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 0, 0, 0), 8, tl_ip4addr(198, 18, 0, 254), NULL),
	    0);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 1, 0, 0), 16, tl_ip4addr(198, 18, 0, 253),
	             NULL),
	    0);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 1, 2, 0), 24, tl_ip4addr(198, 19, 0, 252),
	             NULL),
	    0);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 1, 2, 3), 32, tl_ip4addr(198, 18, 0, 251),
	             NULL),
	    0);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 1, 2, 128), 25, tl_ip4addr(198, 18, 0, 250),
	             NULL),
	    0);
	CHECK_EQ(via(&r, tl_ip4addr(10, 200, 0, 1)), tl_ip4addr(198, 18, 0, 254));
	CHECK_EQ(via(&r, tl_ip4addr(10, 1, 9, 9)), tl_ip4addr(198, 18, 0, 253));
	CHECK_EQ(via(&r, tl_ip4addr(10, 1, 2, 4)), tl_ip4addr(198, 19, 0, 252));
	CHECK_EQ(via(&r, tl_ip4addr(10, 1, 2, 3)), tl_ip4addr(198, 18, 0, 251));
	CHECK_EQ(via(&r, tl_ip4addr(10, 1, 2, 200)), tl_ip4addr(198, 18, 0, 250));
	CHECK_EQ(via(&r, tl_ip4addr(10, 1, 2, 127)), tl_ip4addr(198, 19, 0, 252));
	CHECK_EQ(via(&r, tl_ip4addr(11, 0, 0, 1)), 0xffffffffu);
	/* The gateway's interface, source and MTU come with the route. */
	REQUIRE_EQ(rt_lookup(r.st, ina(tl_ip4addr(10, 1, 2, 4)), &nh), 0);
	CHECK(nh.nh_ifp == IFP_FROM_UST(r.if1));
	CHECK_EQ(nh.nh_src.s_addr, tl_ip4addr(198, 19, 0, 1));
	CHECK_EQ(nh.nh_mtu, 9000);
	CHECK_EQ(nh.nh_flags, UST_RTF_UP | UST_RTF_GATEWAY | UST_RTF_STATIC);
	REQUIRE_EQ(ust_route_lookup(r.st, tl_ip4addr(10, 1, 2, 3), &ri), 0);
	CHECK_EQ(ri.prefixlen, 32);
	CHECK_EQ(ri.gateway, tl_ip4addr(198, 18, 0, 251));
	CHECK_EQ(ri.ifindex, 1);
	/* A more specific route inside a connected network wins. */
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(198, 19, 5, 0), 24, tl_ip4addr(198, 18, 0, 254),
	             NULL),
	    0);
	CHECK_EQ(via(&r, tl_ip4addr(198, 19, 5, 1)), tl_ip4addr(198, 18, 0, 254));
	CHECK_EQ(via(&r, tl_ip4addr(198, 19, 6, 1)), 0);
	/* Deletion falls back to the next shorter prefix. */
	CHECK_EQ(ust_route_del(r.st, tl_ip4addr(10, 1, 2, 3), 32), 0);
	CHECK_EQ(via(&r, tl_ip4addr(10, 1, 2, 3)), tl_ip4addr(198, 19, 0, 252));
	CHECK_EQ(ust_route_del(r.st, tl_ip4addr(10, 1, 2, 0), 24), 0);
	CHECK_EQ(via(&r, tl_ip4addr(10, 1, 2, 3)), tl_ip4addr(198, 18, 0, 253));
	CHECK_EQ(ust_route_del(r.st, tl_ip4addr(10, 1, 2, 0), 24), -UST_ENOENT);
	CHECK_EQ(ust_route_del(r.st, tl_ip4addr(10, 0, 0, 0), 9), -UST_ENOENT);
	lt_rig2_fini(&r);
}

TEST(route_default)
{
	struct ust_route_info ri;
	struct lt_rig2 r;

	rig_init(&r);
	CHECK_EQ(via(&r, tl_ip4addr(8, 8, 8, 8)), 0xffffffffu);
	CHECK_EQ(ust_route_add(r.st, 0, 0, tl_ip4addr(198, 18, 0, 254), NULL), 0);
	CHECK_EQ(via(&r, tl_ip4addr(8, 8, 8, 8)), tl_ip4addr(198, 18, 0, 254));
	CHECK_EQ(via(&r, tl_ip4addr(255, 255, 255, 254)), tl_ip4addr(198, 18, 0, 254));
	CHECK_EQ(via(&r, tl_ip4addr(198, 19, 1, 1)), 0); /* connected still wins */
	CHECK_EQ(ust_route_add(r.st, 0, 0, tl_ip4addr(198, 19, 0, 254), NULL), -UST_EEXIST);
	REQUIRE_EQ(ust_route_lookup(r.st, tl_ip4addr(1, 2, 3, 4), &ri), 0);
	CHECK_EQ(ri.dst, 0);
	CHECK_EQ(ri.prefixlen, 0);
	CHECK_EQ(ri.src, tl_ip4addr(198, 18, 0, 1));
	CHECK_EQ(ri.flags, UST_RTF_UP | UST_RTF_GATEWAY | UST_RTF_STATIC);
	CHECK_EQ(ust_route_del(r.st, 0, 0), 0);
	CHECK_EQ(via(&r, tl_ip4addr(8, 8, 8, 8)), 0xffffffffu);
	lt_rig2_fini(&r);
}

TEST(route_add_validation)
{
	struct ust_route_info ri;
	struct lt_rig2 r;

	rig_init(&r);
	/* RFC 1122 3.3.1.1: the gateway must be on a connected network. */
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 0, 0, 0), 8, tl_ip4addr(172, 16, 0, 1), NULL),
	    -UST_ENETUNREACH);
	/* ... on the interface given, if one is. */
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 0, 0, 0), 8, tl_ip4addr(198, 18, 0, 254),
	             r.if1),
	    -UST_ENETUNREACH);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 0, 0, 0), 8, tl_ip4addr(198, 18, 0, 254),
	             r.if0),
	    0);
	/* Not through another gateway route. */
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(20, 0, 0, 0), 8, tl_ip4addr(10, 0, 0, 1), NULL),
	    -UST_ENETUNREACH);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(20, 0, 0, 0), 8, tl_ip4addr(224, 0, 0, 1), NULL),
	    -UST_EINVAL);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 0, 0, 0), 33, tl_ip4addr(198, 18, 0, 254),
	             NULL),
	    -UST_EINVAL);
	/* On-link without a gateway needs an interface. */
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(172, 16, 0, 0), 12, 0, NULL), -UST_EINVAL);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(172, 16, 0, 0), 12, 0, r.if1), 0);
	CHECK_EQ(via(&r, tl_ip4addr(172, 20, 1, 1)), 0);
	REQUIRE_EQ(ust_route_lookup(r.st, tl_ip4addr(172, 20, 1, 1), &ri), 0);
	CHECK_EQ(ri.flags, UST_RTF_UP | UST_RTF_STATIC);
	CHECK_EQ(ri.ifindex, 2);
	CHECK_EQ(ri.src, tl_ip4addr(198, 19, 0, 1)); /* the interface's first address */
	/* An on-link static route may serve as a gateway's network. */
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(30, 0, 0, 0), 8, tl_ip4addr(172, 16, 0, 9), NULL),
	    0);
	CHECK_EQ(via(&r, tl_ip4addr(30, 1, 1, 1)), tl_ip4addr(172, 16, 0, 9));
	/* Our own address as gateway: an on-link route through its interface. */
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(40, 0, 0, 0), 8, tl_ip4addr(198, 19, 0, 1), r.if0),
	    -UST_ENETUNREACH);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(40, 0, 0, 0), 8, tl_ip4addr(198, 19, 0, 1), NULL),
	    0);
	CHECK_EQ(via(&r, tl_ip4addr(40, 1, 1, 1)), 0);
	REQUIRE_EQ(ust_route_lookup(r.st, tl_ip4addr(40, 1, 1, 1), &ri), 0);
	CHECK_EQ(ri.flags, UST_RTF_UP | UST_RTF_STATIC);
	CHECK_EQ(ri.gateway, 0);
	CHECK_EQ(ri.ifindex, 2);
	/* Duplicates, host bits masked off. */
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 9, 9, 9), 8, tl_ip4addr(198, 18, 0, 9), NULL),
	    -UST_EEXIST);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(198, 18, 0, 0), 24, 0, r.if0), -UST_EEXIST);
	lt_rig2_fini(&r);
}

TEST(route_src_selection_and_no_address)
{
	struct nhop4 nh;
	struct lt_rig2 r;

	rig_init(&r);
	/* A second subnet on eth0: its gateway's routes take its address. */
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 1, 1), 24), 0);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 0, 0, 0), 8, tl_ip4addr(198, 18, 1, 254), NULL),
	    0);
	REQUIRE_EQ(rt_lookup(r.st, ina(tl_ip4addr(10, 1, 1, 1)), &nh), 0);
	CHECK_EQ(nh.nh_src.s_addr, tl_ip4addr(198, 18, 1, 1));
	REQUIRE_EQ(rt_lookup(r.st, ina(tl_ip4addr(198, 18, 0, 5)), &nh), 0);
	CHECK_EQ(nh.nh_src.s_addr, tl_ip4addr(198, 18, 0, 1));
	/* An interface without addresses: the route exists but cannot send. */
	CHECK_EQ(ust_if_addr_del(r.if1, tl_ip4addr(198, 19, 0, 1)), 0);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(172, 16, 0, 0), 12, 0, r.if1), 0);
	CHECK_EQ(rt_lookup(r.st, ina(tl_ip4addr(172, 16, 0, 1)), &nh), UST_EHOSTUNREACH);
	lt_rig2_fini(&r);
}

TEST(route_table_bound_and_enumeration)
{
	struct ust_route_info ri;
	struct lt_rig2 r;
	unsigned i, n;
	int rc = 0;

	rig_init(&r);
	/* Two connected routes, then statics until the table is full. */
	for (i = 0; rc == 0; i++)
		rc = ust_route_add(r.st, htonl(0x0a000000u + (i << 8)), 24,
		    tl_ip4addr(198, 18, 0, 254), NULL);
	CHECK_EQ(rc, -UST_ENOSPC);
	CHECK_EQ(i - 1, 4096 - 2);
	for (n = 0; ust_route_get(r.st, n, &ri) == 0; n++)
		continue;
	CHECK_EQ(n, 4096);
	REQUIRE_EQ(ust_route_get(r.st, 0, &ri), 0);
	CHECK_EQ(ri.dst, tl_ip4addr(198, 18, 0, 0));
	REQUIRE_EQ(ust_route_get(r.st, 2, &ri), 0);
	CHECK_EQ(ri.dst, tl_ip4addr(10, 0, 0, 0));
	CHECK_EQ(ust_route_get(r.st, 4096, &ri), -UST_ENOENT);
	CHECK_EQ(via(&r, tl_ip4addr(10, 0, 17, 1)), tl_ip4addr(198, 18, 0, 254));
	/* One out, one in. */
	CHECK_EQ(ust_route_del(r.st, tl_ip4addr(10, 0, 17, 0), 24), 0);
	CHECK_EQ(via(&r, tl_ip4addr(10, 0, 17, 1)), 0xffffffffu);
	CHECK_EQ(ust_route_add(r.st, 0, 0, tl_ip4addr(198, 18, 0, 254), NULL), 0);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 0, 17, 0), 24, tl_ip4addr(198, 18, 0, 254),
	             NULL),
	    -UST_ENOSPC);
	lt_rig2_fini(&r);
}

TEST(route_ifdetach_and_address_removal)
{
	struct ust_route_info ri;
	struct lt_rig2 r;
	unsigned n;

	rig_init(&r);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(10, 0, 0, 0), 8, tl_ip4addr(198, 19, 0, 254), NULL),
	    0);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(11, 0, 0, 0), 8, tl_ip4addr(198, 18, 0, 254), NULL),
	    0);
	CHECK_EQ(ust_route_add(r.st, tl_ip4addr(172, 16, 0, 0), 12, 0, r.if1), 0);
	/* Removing the address removes its connected route only. */
	CHECK_EQ(ust_if_addr_del(r.if1, tl_ip4addr(198, 19, 0, 1)), 0);
	CHECK_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 19, 0, 9), &ri), -UST_ENETUNREACH);
	CHECK_EQ(ust_route_lookup(r.st, tl_ip4addr(172, 16, 0, 9), &ri), 0);
	/* Detach removes every route through the interface. */
	ust_if_detach(r.if1);
	CHECK_EQ(ust_route_lookup(r.st, tl_ip4addr(10, 0, 0, 1), &ri), -UST_ENETUNREACH);
	CHECK_EQ(ust_route_lookup(r.st, tl_ip4addr(172, 16, 0, 9), &ri), -UST_ENETUNREACH);
	CHECK_EQ(via(&r, tl_ip4addr(11, 1, 1, 1)), tl_ip4addr(198, 18, 0, 254));
	for (n = 0; ust_route_get(r.st, n, &ri) == 0; n++)
		CHECK_EQ(ri.ifindex, 1);
	CHECK_EQ(n, 2);
	lt_rig2_fini(&r);
}
