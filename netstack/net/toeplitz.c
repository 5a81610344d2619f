/*
 * toeplitz.c - the Toeplitz hash of Microsoft's RSS specification ("Verifying
 * the RSS Hash Calculation"), as NICs compute it to pick a receive queue
 * and as FreeBSD's net/toeplitz.c does in software, and the hash of a frame
 * over the specification's inputs.
 *
 * For every set bit of the input, from the most significant bit of its
 * first byte on, the result is XORed with the 32 bits of the key that
 * start at that bit position.  The input of a TCP or UDP packet is its
 * source address, destination address, source port and destination port
 * as they are on the wire, so one flow's two directions hash differently
 * (a stack picks the port of an outgoing connection so that the replies'
 * hash leads back to it: in_pcb.c).
 *
 * This file sits in net/ and knows only enough of IPv4 and IPv6 to find
 * the hash inputs; the protocols' own views of their headers are in
 * netinet/ and netinet6/.
 */
#include <string.h>

#include <ustack/ustack_group.h>

/* The key of the specification's verification suite, which NICs ship as
 * their default (FreeBSD's rss_key default too). */
static const uint8_t rss_default_key[UST_RSS_KEYLEN] = {
	0x6d,
	0x5a,
	0x56,
	0xda,
	0x25,
	0x5b,
	0x0e,
	0xc2,
	0x41,
	0x67,
	0x25,
	0x3d,
	0x43,
	0xa3,
	0x8f,
	0xb0,
	0xd0,
	0xca,
	0x2b,
	0xcb,
	0xae,
	0x7b,
	0x30,
	0xb4,
	0x77,
	0xcb,
	0x2d,
	0xa3,
	0x80,
	0x30,
	0xf2,
	0x0c,
	0x6a,
	0x42,
	0xb7,
	0x3b,
	0xbe,
	0xac,
	0x01,
	0xfa,
};

/* Header facts the hash needs (RFC 791, RFC 8200, IANA protocol numbers). */
#define TZ_ETHER_HDR 14
#define TZ_VLAN_HDR 4
#define TZ_ETHERTYPE_IP 0x0800
#define TZ_ETHERTYPE_IPV6 0x86dd
#define TZ_ETHERTYPE_VLAN 0x8100
#define TZ_PROTO_TCP 6
#define TZ_PROTO_UDP 17
#define TZ_IP_MF 0x2000
#define TZ_IP_OFFMASK 0x1fff
#define TZ_IP6_HDR 40

void
ust_rss_default_key(uint8_t key[UST_RSS_KEYLEN])
{
	memcpy(key, rss_default_key, UST_RSS_KEYLEN);
}

uint32_t
ust_toeplitz_hash(const uint8_t *key, size_t keylen, const void *data, size_t len)
{
	const uint8_t *in = data;
	uint32_t hash = 0, window;
	size_t i, next;
	int b;

	if (keylen < 4)
		return (0);
	/* window holds the 32 key bits that start at the input bit being
	 * looked at; each input bit shifts one more key bit in. */
	window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
	next = 4;
	for (i = 0; i < len; i++) {
		uint8_t kb = next < keylen ? key[next] : 0;

		next++;
		for (b = 7; b >= 0; b--) {
			if (in[i] & (1u << b))
				hash ^= window;
			window = window << 1 | ((kb >> b) & 1u);
		}
	}
	return (hash);
}

uint32_t
ust_rss_hash_v4(const uint8_t key[UST_RSS_KEYLEN], uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, int with_ports)
{
	uint8_t in[12];

	memcpy(in, &src, 4);
	memcpy(in + 4, &dst, 4);
	memcpy(in + 8, &sport, 2);
	memcpy(in + 10, &dport, 2);
	return (ust_toeplitz_hash(key, UST_RSS_KEYLEN, in, with_ports ? 12u : 8u));
}

uint32_t
ust_rss_hash_v6(const uint8_t key[UST_RSS_KEYLEN], const struct ust_in6_addr *src,
    const struct ust_in6_addr *dst, uint16_t sport, uint16_t dport, int with_ports)
{
	uint8_t in[36];

	memcpy(in, src, 16);
	memcpy(in + 16, dst, 16);
	memcpy(in + 32, &sport, 2);
	memcpy(in + 34, &dport, 2);
	return (ust_toeplitz_hash(key, UST_RSS_KEYLEN, in, with_ports ? 36u : 32u));
}

static uint16_t
tz_get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static int
tz_hash_ip4(const uint8_t *key, const uint8_t *ip, size_t len, uint32_t *hash)
{
	uint32_t src, dst;
	uint16_t ports[2] = { 0, 0 };
	size_t hl;
	int proto;

	if (len < 20 || (ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5)
		return (UST_RSS_NONE);
	hl = (size_t)(ip[0] & 0x0f) * 4;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	proto = ip[9];
	/* A fragment has its ports only in the first piece: every piece is
	 * hashed by addresses, so that they meet on one stack. */
	if ((proto == TZ_PROTO_TCP || proto == TZ_PROTO_UDP) &&
	    (tz_get16(ip + 6) & (TZ_IP_MF | TZ_IP_OFFMASK)) == 0 && len >= hl + 4) {
		memcpy(ports, ip + hl, 4);
		*hash = ust_rss_hash_v4(key, src, dst, ports[0], ports[1], 1);
		return (proto == TZ_PROTO_TCP ? UST_RSS_TCP_IPV4 : UST_RSS_UDP_IPV4);
	}
	*hash = ust_rss_hash_v4(key, src, dst, 0, 0, 0);
	return (UST_RSS_IPV4);
}

static int
tz_hash_ip6(const uint8_t *key, const uint8_t *ip, size_t len, uint32_t *hash)
{
	struct ust_in6_addr src, dst;
	uint16_t ports[2] = { 0, 0 };
	int nxt;

	if (len < TZ_IP6_HDR || (ip[0] >> 4) != 6)
		return (UST_RSS_NONE);
	memcpy(&src, ip + 8, 16);
	memcpy(&dst, ip + 24, 16);
	nxt = ip[6];
	/* Extension headers (a fragment header among them) are not walked:
	 * such packets are hashed by addresses, as NICs without the "_EX"
	 * hash types do. */
	if ((nxt == TZ_PROTO_TCP || nxt == TZ_PROTO_UDP) && len >= TZ_IP6_HDR + 4) {
		memcpy(ports, ip + TZ_IP6_HDR, 4);
		*hash = ust_rss_hash_v6(key, &src, &dst, ports[0], ports[1], 1);
		return (nxt == TZ_PROTO_TCP ? UST_RSS_TCP_IPV6 : UST_RSS_UDP_IPV6);
	}
	*hash = ust_rss_hash_v6(key, &src, &dst, 0, 0, 0);
	return (UST_RSS_IPV6);
}

int
ust_rss_hash_frame(const uint8_t key[UST_RSS_KEYLEN], const void *frame, size_t len, uint32_t *hash)
{
	const uint8_t *p = frame;
	size_t off = TZ_ETHER_HDR;
	uint16_t type;
	int t = UST_RSS_NONE;

	*hash = 0;
	if (len < TZ_ETHER_HDR)
		return (UST_RSS_NONE);
	type = tz_get16(p + 12);
	if (type == TZ_ETHERTYPE_VLAN) {
		if (len < TZ_ETHER_HDR + TZ_VLAN_HDR)
			return (UST_RSS_NONE);
		type = tz_get16(p + 16);
		off += TZ_VLAN_HDR;
	}
	if (type == TZ_ETHERTYPE_IP)
		t = tz_hash_ip4(key, p + off, len - off, hash);
	else if (type == TZ_ETHERTYPE_IPV6)
		t = tz_hash_ip6(key, p + off, len - off, hash);
	if (t == UST_RSS_NONE)
		*hash = 0;
	return (t);
}
