/*
 * in6.h - IPv6 addresses and their classes (RFC 4291; FreeBSD
 * netinet6/in6.h): struct in6_addr (network byte order, as on the wire
 * and in the public API), the IN6_IS_ADDR_* tests, scopes (RFC 4007),
 * the well-known groups, the link-layer mapping of groups (RFC 2464 7)
 * and the IPv6 protocol numbers.  Included by netinet/in.h, as FreeBSD's
 * in.h includes it, so that the PCB code sees both families; it holds
 * no code that needs netinet6 to be compiled in (UST_INET6).
 */
#ifndef _USTACK_NETINET6_IN6_H_
#define _USTACK_NETINET6_IN6_H_

#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>

#define in6_addr ust_in6_addr
#define sockaddr_in6 ust_sockaddr_in6

/* IPv6 protocol numbers (next header values, IANA). */
#define IPPROTO_HOPOPTS 0
#define IPPROTO_IPV6 41
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_ESP 50
#define IPPROTO_AH 51
#define IPPROTO_ICMPV6 58
#define IPPROTO_NONE 59
#define IPPROTO_DSTOPTS 60

#define IN6ADDR_ANY_INIT  \
	{                 \
		{         \
			0 \
		}         \
	}
#define IN6ADDR_LOOPBACK_INIT                                          \
	{                                                              \
		{                                                      \
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 \
		}                                                      \
	}
#define IN6ADDR_LINKLOCAL_ALLNODES_INIT                                         \
	{                                                                       \
		{                                                               \
			0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 \
		}                                                               \
	}
#define IN6ADDR_LINKLOCAL_ALLROUTERS_INIT                                       \
	{                                                                       \
		{                                                               \
			0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 \
		}                                                               \
	}
#define IN6ADDR_LINKLOCAL_ALLV2ROUTERS_INIT                                     \
	{                                                                       \
		{                                                               \
			0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16 \
		}                                                               \
	}

/* Constant addresses (in6_proto.c, or in6_none.c without netinet6). */
extern const struct in6_addr in6addr_any;
extern const struct in6_addr in6addr_loopback;
extern const struct in6_addr in6addr_linklocal_allnodes;
extern const struct in6_addr in6addr_linklocal_allrouters;
extern const struct in6_addr in6addr_linklocal_allv2routers;

static inline uint32_t
in6_word(const struct in6_addr *a, unsigned i)
{
	const uint8_t *p = a->s6_addr8 + 4 * i;

	return (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]);
}

static inline int
in6_are_addr_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	return (memcmp(a->s6_addr8, b->s6_addr8, 16) == 0);
}
#define IN6_ARE_ADDR_EQUAL(a, b) in6_are_addr_equal((a), (b))

/* The four 32-bit words of a in memory order: tests against zero and
 * against constants spelled in bytes (in6_bytes32) need no byte swap, and
 * the compiler loads them whole (in6_word's shifts cost about 4x on every
 * received segment). */
static inline void
in6_words(const struct in6_addr *a, uint32_t w[4])
{
	memcpy(w, a->s6_addr8, 16);
}

static inline uint32_t
in6_bytes32(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	const uint8_t b[4] = { b0, b1, b2, b3 };
	uint32_t v;

	memcpy(&v, b, 4);
	return (v);
}

static inline int
in6_is_addr_unspecified(const struct in6_addr *a)
{
	uint32_t w[4];

	in6_words(a, w);
	return ((w[0] | w[1] | w[2] | w[3]) == 0);
}
static inline int
in6_is_addr_loopback(const struct in6_addr *a)
{
	uint32_t w[4];

	in6_words(a, w);
	return ((w[0] | w[1] | w[2]) == 0 && w[3] == in6_bytes32(0, 0, 0, 1));
}
/* ::ffff:a.b.c.d */
static inline int
in6_is_addr_v4mapped(const struct in6_addr *a)
{
	uint32_t w[4];

	in6_words(a, w);
	return ((w[0] | w[1]) == 0 && w[2] == in6_bytes32(0, 0, 0xff, 0xff));
}
/* ::a.b.c.d (deprecated, RFC 4291 2.5.5.1), not :: or ::1 */
static inline int
in6_is_addr_v4compat(const struct in6_addr *a)
{
	return ((in6_word(a, 0) | in6_word(a, 1) | in6_word(a, 2)) == 0 && in6_word(a, 3) > 1);
}
#define IN6_IS_ADDR_UNSPECIFIED(a) in6_is_addr_unspecified(a)
#define IN6_IS_ADDR_LOOPBACK(a) in6_is_addr_loopback(a)
#define IN6_IS_ADDR_V4MAPPED(a) in6_is_addr_v4mapped(a)
#define IN6_IS_ADDR_V4COMPAT(a) in6_is_addr_v4compat(a)
#define IN6_IS_ADDR_LINKLOCAL(a) ((a)->s6_addr8[0] == 0xfe && ((a)->s6_addr8[1] & 0xc0) == 0x80)
#define IN6_IS_ADDR_SITELOCAL(a) ((a)->s6_addr8[0] == 0xfe && ((a)->s6_addr8[1] & 0xc0) == 0xc0)
#define IN6_IS_ADDR_MULTICAST(a) ((a)->s6_addr8[0] == 0xff)
/* Multicast scope (RFC 4291 2.7, RFC 7346), the low nibble of byte 1. */
#define IPV6_ADDR_MC_SCOPE(a) ((a)->s6_addr8[1] & 0x0f)
#define IPV6_ADDR_SCOPE_INTFACELOCAL 0x01
#define IPV6_ADDR_SCOPE_LINKLOCAL 0x02
#define IPV6_ADDR_SCOPE_REALMLOCAL 0x03
#define IPV6_ADDR_SCOPE_ADMINLOCAL 0x04
#define IPV6_ADDR_SCOPE_SITELOCAL 0x05
#define IPV6_ADDR_SCOPE_ORGLOCAL 0x08
#define IPV6_ADDR_SCOPE_GLOBAL 0x0e
#define IN6_IS_ADDR_MC_INTFACELOCAL(a) \
	(IN6_IS_ADDR_MULTICAST(a) && IPV6_ADDR_MC_SCOPE(a) == IPV6_ADDR_SCOPE_INTFACELOCAL)
#define IN6_IS_ADDR_MC_LINKLOCAL(a) \
	(IN6_IS_ADDR_MULTICAST(a) && IPV6_ADDR_MC_SCOPE(a) == IPV6_ADDR_SCOPE_LINKLOCAL)
#define IN6_IS_ADDR_MC_SITELOCAL(a) \
	(IN6_IS_ADDR_MULTICAST(a) && IPV6_ADDR_MC_SCOPE(a) == IPV6_ADDR_SCOPE_SITELOCAL)
#define IN6_IS_ADDR_MC_GLOBAL(a) \
	(IN6_IS_ADDR_MULTICAST(a) && IPV6_ADDR_MC_SCOPE(a) == IPV6_ADDR_SCOPE_GLOBAL)

/* The scope of an address (RFC 4007 4; FreeBSD in6_addrscope): unicast
 * loopback is interface-local, fe80::/10 link-local, fec0::/10 site-local
 * (deprecated), everything else global; multicast says its own. */
static inline unsigned
in6_addrscope(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_MULTICAST(a))
		return (IPV6_ADDR_MC_SCOPE(a));
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return (IPV6_ADDR_SCOPE_LINKLOCAL);
	if (IN6_IS_ADDR_SITELOCAL(a))
		return (IPV6_ADDR_SCOPE_SITELOCAL);
	if (IN6_IS_ADDR_LOOPBACK(a))
		return (IPV6_ADDR_SCOPE_INTFACELOCAL);
	return (IPV6_ADDR_SCOPE_GLOBAL);
}

/* An address whose meaning depends on a zone (RFC 4007 6): it needs a
 * scope id (an interface index) to be used (link-local unicast, loopback,
 * interface- and link-local multicast; FreeBSD IN6_IS_SCOPE_EMBED). */
static inline int
in6_is_scoped(const struct in6_addr *a)
{
	unsigned s = in6_addrscope(a);

	return (s == IPV6_ADDR_SCOPE_LINKLOCAL || s == IPV6_ADDR_SCOPE_INTFACELOCAL);
}
#define IN6_IS_SCOPE_LINKLOCAL(a) (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MC_LINKLOCAL(a))

/* Nonzero when the first plen bits of a and b agree (plen 0..128). */
static inline int
in6_prefix_match(const struct in6_addr *a, const struct in6_addr *b, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (plen > 128)
		return (0);
	if (memcmp(a->s6_addr8, b->s6_addr8, bytes) != 0)
		return (0);
	if (bits == 0)
		return (1);
	return (((a->s6_addr8[bytes] ^ b->s6_addr8[bytes]) & (uint8_t)(0xff00u >> bits)) == 0);
}

/* a with every bit after the first plen cleared. */
static inline void
in6_prefix_mask(struct in6_addr *a, unsigned plen)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		if (plen <= 8 * i)
			a->s6_addr8[i] = 0;
		else
			a->s6_addr8[i] &= (uint8_t)(0xff00u >> (plen - 8 * i));
	}
}

/* The solicited-node group of a (RFC 4291 2.7.1): ff02::1:ffXX:XXXX. */
static inline void
in6_solicited_node(const struct in6_addr *a, struct in6_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->s6_addr8[0] = 0xff;
	out->s6_addr8[1] = 0x02;
	out->s6_addr8[11] = 0x01;
	out->s6_addr8[12] = 0xff;
	memcpy(&out->s6_addr8[13], &a->s6_addr8[13], 3);
}

/* The Ethernet group of an IPv6 group (RFC 2464 7): 33:33 and its last
 * 32 bits. */
static inline void
in6_mcast_mac(const struct in6_addr *a, uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, &a->s6_addr8[12], 4);
}

/*
 * The struct sockaddr_in6 behind a generic address from the socket
 * layer (as in_satosin): EAFNOSUPPORT unless AF_INET6, EINVAL unless
 * sa_len is sizeof(struct sockaddr_in6); 0 with *sin6p set.
 */
static inline int
in6_satosin6(const struct ust_sockaddr *sa, const struct sockaddr_in6 **sin6p)
{
	if (sa->sa_family != UST_AF_INET6)
		return (UST_EAFNOSUPPORT);
	if (sa->sa_len != sizeof(struct sockaddr_in6))
		return (UST_EINVAL);
	*sin6p = (const struct sockaddr_in6 *)(const void *)sa;
	return (0);
}

#endif /* _USTACK_NETINET6_IN6_H_ */
