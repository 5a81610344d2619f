/*
 * bench_family.h - the address family of a two-stack benchmark rig
 * (bulk_pipe, pkt_cost, rr_ustack: their --family 4|6), so that IPv4 and
 * IPv6 runs differ in nothing but the family.  Header only.
 *
 * Host 1 and host 2 of the rig are 198.18.0.1 and 198.18.0.2 (/24) with
 * IPv4, 2001:2::1 and 2001:2::2 (/64, added without duplicate address
 * detection) with IPv6, where each end also gets a static neighbor entry
 * for the other (as ndp -s), so that no neighbor discovery runs before
 * or during a measurement.
 */
#ifndef USTACK_BENCH_FAMILY_H
#define USTACK_BENCH_FAMILY_H

#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>

#include "example_util.h"

/* "4" or "6" (also "inet", "inet6"): 4 or 6; anything else -1. */
static inline int
bench_family_parse(const char *v)
{
	if (strcmp(v, "4") == 0 || strcmp(v, "inet") == 0)
		return (4);
	if (strcmp(v, "6") == 0 || strcmp(v, "inet6") == 0)
		return (6);
	return (-1);
}

static inline int
bench_family_af(int family)
{
	return (family == 6 ? UST_AF_INET6 : UST_AF_INET);
}

/* 2001:2::host */
static inline struct ust_in6_addr
bench_ip6(unsigned host)
{
	struct ust_in6_addr a;

	memset(&a, 0, sizeof(a));
	a.s6_addr8[0] = 0x20;
	a.s6_addr8[1] = 0x01;
	a.s6_addr8[3] = 0x02;
	a.s6_addr8[15] = (uint8_t)host;
	return (a);
}

/* The socket address of host 1 or 2 at port; returns its length. */
static inline ust_socklen_t
bench_sockaddr(int family, unsigned host, uint16_t port, struct ust_sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == 6) {
		struct ust_sockaddr_in6 s6;
		uint8_t p[2] = { (uint8_t)(port >> 8), (uint8_t)port };

		memset(&s6, 0, sizeof(s6));
		s6.sin6_len = (uint8_t)sizeof(s6);
		s6.sin6_family = UST_AF_INET6;
		memcpy(&s6.sin6_port, p, 2);
		s6.sin6_addr = bench_ip6(host);
		memcpy(ss, &s6, sizeof(s6));
		return (sizeof(s6));
	}
	{
		struct ust_sockaddr_in s4 = sin4(ip4(198, 18, 0, host), port);

		memcpy(ss, &s4, sizeof(s4));
		return (sizeof(s4));
	}
}

/* Gives interface a (host 1) and b (host 2) their addresses; 0 or a
 * negative UST_E*. */
static inline int
bench_family_addrs(int family, struct ust_if *a, struct ust_if *b)
{
	struct ust_in6_addr a6 = bench_ip6(1), b6 = bench_ip6(2);
	uint8_t mac_a[6], mac_b[6];
	int err;

	if (family != 6) {
		if ((err = ust_if_addr_add(a, ip4(198, 18, 0, 1), 24)) != 0)
			return (err);
		return (ust_if_addr_add(b, ip4(198, 18, 0, 2), 24));
	}
	ust_if_get_mac(a, mac_a);
	ust_if_get_mac(b, mac_b);
	if ((err = ust_if_addr6_add(a, &a6, 64, UST_IN6_IFF_NODAD)) != 0 ||
	    (err = ust_if_addr6_add(b, &b6, 64, UST_IN6_IFF_NODAD)) != 0 ||
	    (err = ust_nd6_add_static(a, &b6, mac_b)) != 0)
		return (err);
	return (ust_nd6_add_static(b, &a6, mac_a));
}

#endif /* USTACK_BENCH_FAMILY_H */
