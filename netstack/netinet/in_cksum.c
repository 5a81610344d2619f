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
#include "kern/mbuf.h"
#include "netinet/ip_var.h"

static uint32_t
cksum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint32_t)sum);
}

/* Adds len bytes at p to sum; *odd says whether the first byte sits at an
 * odd position of the whole stream (the low half of a word) and comes back
 * saying the same of the byte after the last. */
static uint64_t
cksum_add(uint64_t sum, const uint8_t *p, uint32_t len, int *odd)
{
	uint32_t i = 0;

	if (len == 0)
		return (sum);
	if (*odd) {
		sum += p[0];
		i = 1;
	}
	for (; i + 1 < len; i += 2)
		sum += ((uint32_t)p[i] << 8) | p[i + 1];
	if (i < len) {
		sum += (uint32_t)p[i] << 8;
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
