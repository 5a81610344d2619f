/*
 * test_in.c - interface addresses: add/del/get with their connected
 * routes and announcements, the addresses refused, duplicates, several
 * addresses per subnet, /31 and /32, in_broadcast, in_localip,
 * in_ifaddr_first, and interface detach.
 */
#include <ustack/ustack.h>

#include "kern/stack_var.h"
#include "net/linktest.h"
#include "netinet/in_var.h"

TEST(in_addr_add_get_del)
{
	struct ust_route_info ri;
	struct lt_rig2 r;
	uint32_t a;
	unsigned plen;
	const uint8_t *f;

	lt_rig2_init(&r, 1500);
	CHECK_EQ(ust_if_addr_get(r.if0, 0, &a, &plen), -UST_ENOENT);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 1), 24), 0);
	REQUIRE_EQ(ust_if_addr_get(r.if0, 0, &a, &plen), 0);
	CHECK_EQ(a, tl_ip4addr(198, 18, 0, 1));
	CHECK_EQ(plen, 24);
	CHECK_EQ(ust_if_addr_get(r.if0, 1, &a, &plen), -UST_ENOENT);
	CHECK_EQ(ust_if_addr_get(r.if1, 0, &a, &plen), -UST_ENOENT);
	/* The connected route. */
	REQUIRE_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 18, 0, 200), &ri), 0);
	CHECK_EQ(ri.dst, tl_ip4addr(198, 18, 0, 0));
	CHECK_EQ(ri.prefixlen, 24);
	CHECK_EQ(ri.gateway, 0);
	CHECK_EQ(ri.src, tl_ip4addr(198, 18, 0, 1));
	CHECK_EQ(ri.ifindex, 1);
	/* The announcement went out on eth0 only. */
	ust_stack_poll(r.st);
	REQUIRE_EQ(r.d0.tx_count, 1);
	CHECK_EQ(r.d1.tx_count, 0);
	f = r.d0.tx[0];
	CHECK(f[12] == 0x08 && f[13] == 0x06 && f[21] == 1);
	CHECK(memcmp(f + 28, f + 38, 4) == 0 && f[28] == 198 && f[31] == 1);
	/* Queries. */
	CHECK(in_localip(r.st, ina(tl_ip4addr(198, 18, 0, 1))));
	CHECK(!in_localip(r.st, ina(tl_ip4addr(198, 18, 0, 2))));
	REQUIRE(in_ifaddr_find(r.st, ina(tl_ip4addr(198, 18, 0, 1))) != NULL);
	CHECK(in_ifaddr_find(r.st, ina(tl_ip4addr(198, 18, 0, 1)))->ia_ifp == r.ifp0);
	CHECK_EQ(in_ifaddr_find(r.st, ina(tl_ip4addr(198, 18, 0, 1)))->ia_broadaddr.s_addr,
	    tl_ip4addr(198, 18, 0, 255));
	CHECK_EQ(in_ifaddr_find(r.st, ina(tl_ip4addr(198, 18, 0, 1)))->ia_netmask.s_addr,
	    tl_ip4addr(255, 255, 255, 0));
	/* Delete. */
	CHECK_EQ(ust_if_addr_del(r.if1, tl_ip4addr(198, 18, 0, 1)), -UST_EADDRNOTAVAIL);
	CHECK_EQ(ust_if_addr_del(r.if0, tl_ip4addr(198, 18, 0, 2)), -UST_EADDRNOTAVAIL);
	CHECK_EQ(ust_if_addr_del(r.if0, tl_ip4addr(198, 18, 0, 1)), 0);
	CHECK_EQ(ust_if_addr_del(r.if0, tl_ip4addr(198, 18, 0, 1)), -UST_EADDRNOTAVAIL);
	CHECK(!in_localip(r.st, ina(tl_ip4addr(198, 18, 0, 1))));
	CHECK_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 18, 0, 200), &ri), -UST_ENETUNREACH);
	CHECK_EQ(ust_route_get(r.st, 0, &ri), -UST_ENOENT);
	lt_rig2_fini(&r);
}

TEST(in_addr_add_rejects)
{
	struct lt_rig2 r;

	lt_rig2_init(&r, 1500);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(0, 0, 0, 0), 24), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(0, 1, 2, 3), 8), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(255, 255, 255, 255), 24), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(224, 0, 0, 1), 24), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(239, 1, 1, 1), 24), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(240, 0, 0, 1), 24), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(127, 0, 0, 1), 8), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 1), 33), -UST_EINVAL);
	/* The subnet's own network and broadcast addresses. */
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 0), 24), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 255), 24), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 3), 30), -UST_EINVAL);
	CHECK_EQ(ust_if_addr_get(r.if0, 0, NULL, NULL), -UST_ENOENT);
	CHECK_EQ(ust_route_get(r.st, 0, &(struct ust_route_info){ 0 }), -UST_ENOENT);
	/* Duplicates, on the same or another interface. */
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 1), 24), 0);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 1), 24), -UST_EEXIST);
	CHECK_EQ(ust_if_addr_add(r.if1, tl_ip4addr(198, 18, 0, 1), 16), -UST_EEXIST);
	ust_stack_poll(r.st);
	CHECK_EQ(r.d0.tx_count, 1); /* only the accepted one was announced */
	CHECK_EQ(r.d1.tx_count, 0);
	lt_rig2_fini(&r);
}

TEST(in_addr_two_in_one_subnet)
{
	struct ust_route_info ri;
	struct lt_rig2 r;
	uint32_t a;

	lt_rig2_init(&r, 1500);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 1), 24), 0);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 2), 24), 0);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 19, 0, 1), 24), 0);
	REQUIRE_EQ(ust_if_addr_get(r.if0, 1, &a, NULL), 0);
	CHECK_EQ(a, tl_ip4addr(198, 18, 0, 2));
	REQUIRE(in_ifaddr_first(r.st, r.ifp0) != NULL);
	CHECK_EQ(in_ifaddr_first(r.st, r.ifp0)->ia_addr.s_addr, tl_ip4addr(198, 18, 0, 1));
	CHECK(in_ifaddr_first(r.st, r.ifp1) == NULL);
	CHECK_EQ(ust_route_get(r.st, 2, &ri), -UST_ENOENT); /* one route per subnet */
	/* The first goes: the subnet's route stays, sourced from the second. */
	CHECK_EQ(ust_if_addr_del(r.if0, tl_ip4addr(198, 18, 0, 1)), 0);
	REQUIRE_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 18, 0, 9), &ri), 0);
	CHECK_EQ(ri.src, tl_ip4addr(198, 18, 0, 2));
	CHECK_EQ(in_ifaddr_first(r.st, r.ifp0)->ia_addr.s_addr, tl_ip4addr(198, 18, 0, 2));
	CHECK_EQ(ust_if_addr_del(r.if0, tl_ip4addr(198, 18, 0, 2)), 0);
	CHECK_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 18, 0, 9), &ri), -UST_ENETUNREACH);
	CHECK_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 19, 0, 9), &ri), 0);
	lt_rig2_fini(&r);
}

TEST(in_broadcast_and_point_to_point)
{
	struct ust_route_info ri;
	struct lt_rig2 r;

	lt_rig2_init(&r, 1500);
	CHECK(in_broadcast(ina(tl_ip4addr(255, 255, 255, 255)), r.ifp0));
	CHECK(in_broadcast(ina(0), r.ifp0));
	CHECK(in_broadcast(ina(tl_ip4addr(255, 255, 255, 255)), NULL));
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 1), 24), 0);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(10, 1, 0, 1), 16), 0);
	CHECK(in_broadcast(ina(tl_ip4addr(198, 18, 0, 255)), r.ifp0));
	CHECK(in_broadcast(ina(tl_ip4addr(10, 1, 255, 255)), r.ifp0));
	CHECK(!in_broadcast(ina(tl_ip4addr(198, 18, 0, 254)), r.ifp0));
	CHECK(!in_broadcast(ina(tl_ip4addr(198, 18, 0, 0)), r.ifp0));
	CHECK(!in_broadcast(ina(tl_ip4addr(198, 18, 0, 255)), r.ifp1)); /* not eth1's */
	/* RFC 3021 /31: both addresses are hosts, no broadcast; host part 0
	 * is fine. */
	CHECK_EQ(ust_if_addr_add(r.if1, tl_ip4addr(198, 19, 0, 0), 31), 0);
	CHECK(!in_broadcast(ina(tl_ip4addr(198, 19, 0, 1)), r.ifp1));
	CHECK_EQ(in_ifaddr_find(r.st, ina(tl_ip4addr(198, 19, 0, 0)))->ia_broadaddr.s_addr, 0);
	REQUIRE_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 19, 0, 1), &ri), 0);
	CHECK_EQ(ri.prefixlen, 31);
	CHECK_EQ(ri.src, tl_ip4addr(198, 19, 0, 0));
	/* /32: a host route to itself, no broadcast. */
	CHECK_EQ(ust_if_addr_add(r.if1, tl_ip4addr(198, 20, 0, 7), 32), 0);
	CHECK(!in_broadcast(ina(tl_ip4addr(198, 20, 0, 7)), r.ifp1));
	REQUIRE_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 20, 0, 7), &ri), 0);
	CHECK_EQ(ri.prefixlen, 32);
	CHECK_EQ(ri.ifindex, 2);
	CHECK_EQ(ust_route_lookup(r.st, tl_ip4addr(198, 20, 0, 8), &ri), -UST_ENETUNREACH);
	lt_rig2_fini(&r);
}

TEST(in_ifdetach_removes_addresses_and_routes)
{
	struct ust_route_info ri;
	struct lt_rig2 r;
	unsigned n;

	lt_rig2_init(&r, 1500);
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 18, 0, 1), 24), 0);
	CHECK_EQ(ust_if_addr_add(r.if1, tl_ip4addr(198, 19, 0, 1), 24), 0);
	CHECK_EQ(ust_if_addr_add(r.if1, tl_ip4addr(198, 20, 0, 1), 24), 0);
	ust_if_detach(r.if1);
	CHECK(!in_localip(r.st, ina(tl_ip4addr(198, 19, 0, 1))));
	CHECK(!in_localip(r.st, ina(tl_ip4addr(198, 20, 0, 1))));
	CHECK(in_localip(r.st, ina(tl_ip4addr(198, 18, 0, 1))));
	for (n = 0; ust_route_get(r.st, n, &ri) == 0; n++)
		CHECK_EQ(ri.dst, tl_ip4addr(198, 18, 0, 0));
	CHECK_EQ(n, 1);
	/* The address is free to be used again. */
	CHECK_EQ(ust_if_addr_add(r.if0, tl_ip4addr(198, 19, 0, 1), 24), 0);
	lt_rig2_fini(&r);
}
