/*
 * in_cksum.c - the Internet checksum (RFC 1071): the 16-bit one's
 * complement of the one's complement sum of the data taken as big-endian
 * 16-bit words, over plain buffers and over mbuf chains whose mbufs may
 * have odd lengths (a byte left over at the end of one mbuf pairs with the
 * first byte of the next).  Sums are kept as host-order numbers of the
 * big-endian words: a checksum returned here is written with be16enc().
 *
 *   ip_output/ip_input -> in_cksum_buf (header)
 *   icmp/udp/tcp -> in_cksum_skip / in4_cksum (with in_pseudo)
 */
#include <string.h>

#include "kern/mbuf.h"
#include "netinet/ip_var.h"

static uint32_t
cksum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint32_t)sum);
}

/* One's complement sum of the 16-bit words of an even-aligned run of len
 * bytes taken in the host's byte order, eight bytes per load, with the
 * carries out of the 64-bit accumulator counted apart (2^64 is 1 modulo
 * 0xffff, so each carry adds one).  RFC 1071 2(B): the sum in host order
 * is the byte swap of the sum in network order, so the caller swaps once
 * at the end on a little-endian host; 2(C): summing wider words and
 * folding afterwards gives the same result.  The byte-at-a-time loop
 * this replaces cost about 5.5 instructions per byte, two thirds of a
 * received segment's cost (bench/b_cost.py).  A build for size (-Os, a
 * small board) takes 32-bit words one at a time instead: 2^32 is 1
 * modulo 0xffff as well, so the sum is the same in far less code. */
#ifdef __OPTIMIZE_SIZE__
static uint64_t
cksum_words(const uint8_t *p, uint32_t len)
{
	uint64_t acc = 0;
	uint32_t w;
	uint16_t tail;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		acc += w;
	}
	if (len >= 2) {
		memcpy(&tail, p, 2);
		acc += tail;
	}
	return ((acc & 0xffffffffu) + (acc >> 32));
}
#else
static uint64_t
cksum_words(const uint8_t *p, uint32_t len)
{
	uint64_t acc = 0, carry = 0, w;
	uint16_t tail;

	for (; len >= 32; p += 32, len -= 32) {
		uint64_t x[4];

		memcpy(x, p, sizeof(x));
		acc += x[0];
		carry += acc < x[0];
		acc += x[1];
		carry += acc < x[1];
		acc += x[2];
		carry += acc < x[2];
		acc += x[3];
		carry += acc < x[3];
	}
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		acc += w;
		carry += acc < w;
	}
	for (; len >= 2; p += 2, len -= 2) {
		memcpy(&tail, p, 2);
		acc += tail;
		carry += acc < tail;
	}
	/* Fold the 64 bits to 32 before adding the carries: no overflow. */
	return ((acc & 0xffffffffu) + (acc >> 32) + carry);
}
#endif /* __OPTIMIZE_SIZE__ */

/* Adds len bytes at p to sum; *odd says whether the first byte sits at an
 * odd position of the whole stream (the low half of a word) and comes back
 * saying the same of the byte after the last. */
static uint64_t
cksum_add(uint64_t sum, const uint8_t *p, uint32_t len, int *odd)
{
	static const uint16_t one = 1;
	uint32_t even, host;

	if (len == 0)
		return (sum);
	if (*odd) {
		sum += p[0];
		p++;
		len--;
	}
	even = len & ~1u;
	host = cksum_fold(cksum_words(p, even));
	/* A little-endian host summed byte-swapped words: swap back. */
	if (*(const uint8_t *)&one == 1)
		host = ((host & 0xff) << 8) | (host >> 8);
	sum += host;
	if (len & 1) {
		sum += (uint32_t)p[even] << 8;
		*odd = 1;
	} else
		*odd = 0;
	return (sum);
}

uint16_t
in_cksum_skip(const struct mbuf *m, uint32_t off, uint32_t len, uint32_t initial)
{
	uint64_t sum = initial;
	uint32_t c;
	int odd = 0;

	while (m != NULL && off >= m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	for (; m != NULL && len > 0; m = m->m_next, off = 0) {
		c = m->m_len - off;
		if (c > len)
			c = len;
		sum = cksum_add(sum, m->m_data + off, c, &odd);
		len -= c;
	}
	return ((uint16_t)~cksum_fold(sum));
}

uint16_t
in_cksum_buf(const void *buf, uint32_t len, uint32_t initial)
{
	int odd = 0;

	return ((uint16_t)~cksum_fold(cksum_add(initial, buf, len, &odd)));
}

uint32_t
in_pseudo(struct in_addr src, struct in_addr dst, uint8_t proto, uint32_t len)
{
	uint32_t s = ntohl(src.s_addr), d = ntohl(dst.s_addr);
	uint64_t sum;

	/* RFC 768 / RFC 9293 3.1: source, destination, zero, protocol,
	 * length. */
	sum = (uint64_t)(s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + proto + (len >> 16) +
	    (len & 0xffff);
	return (cksum_fold(sum));
}

uint16_t
in4_cksum(const struct mbuf *m, uint8_t proto, uint32_t off, uint32_t len, struct in_addr src,
    struct in_addr dst)
{
	return (in_cksum_skip(m, off, len, in_pseudo(src, dst, proto, len)));
}
