/*
 * endian.h - byte order, and loads/stores of wire fields that never assume
 * alignment (FreeBSD's sys/endian.h names: be16dec, be32enc, ...).  Packet
 * data sits at any offset in a buffer (an IPv4 header 14 bytes into a
 * frame), so header code reads and writes through these, never through
 * casts to wider types.
 */
#ifndef _USTACK_KERN_ENDIAN_H_
#define _USTACK_KERN_ENDIAN_H_

#include <stdint.h>

static inline uint16_t
be16dec(const void *pp)
{
	const uint8_t *p = pp;

	return ((uint16_t)((p[0] << 8) | p[1]));
}

static inline uint32_t
be32dec(const void *pp)
{
	const uint8_t *p = pp;

	return (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]);
}

static inline void
be16enc(void *pp, uint16_t v)
{
	uint8_t *p = pp;

	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
be32enc(void *pp, uint32_t v)
{
	uint8_t *p = pp;

	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Network-order values held in host variables (in_addr.s_addr, ports). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define UST_BIG_ENDIAN 1
#else
#define UST_BIG_ENDIAN 0
#endif

static inline uint16_t
ust_bswap16(uint16_t x)
{
	return ((uint16_t)((x >> 8) | (x << 8)));
}

static inline uint32_t
ust_bswap32(uint32_t x)
{
	return (((x & 0xffu) << 24) | ((x & 0xff00u) << 8) | ((x >> 8) & 0xff00u) | (x >> 24));
}

#if UST_BIG_ENDIAN
#define htons(x) ((uint16_t)(x))
#define ntohs(x) ((uint16_t)(x))
#define htonl(x) ((uint32_t)(x))
#define ntohl(x) ((uint32_t)(x))
#else
#define htons(x) ust_bswap16((uint16_t)(x))
#define ntohs(x) ust_bswap16((uint16_t)(x))
#define htonl(x) ust_bswap32((uint32_t)(x))
#define ntohl(x) ust_bswap32((uint32_t)(x))
#endif

#endif /* _USTACK_KERN_ENDIAN_H_ */
