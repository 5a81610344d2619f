/*
 * tcp_md5.c - TCP MD5 signatures (RFC 2385), as FreeBSD's TCP_MD5SIG.
 *
 * A socket with TCP_MD5SIG set (an int, on or off, as FreeBSD's) signs
 * every segment it sends and accepts only segments signed with the key
 * for their address pair; a listener with it signs its SYN-ACKs and drops
 * SYNs and ACKs without a good signature.  The keys are not the socket's:
 * FreeBSD takes them from IPsec security associations (setkey(8) "add SRC
 * DST tcp SPI -A tcp-md5 KEY"), one per direction.  Here they live in a
 * per-stack table of (source address, destination address, key) filled
 * with ust_tcp_md5_sa_add() (one direction, as setkey) or
 * ust_tcp_md5_key_add() (both directions of a local/remote pair).  Ports
 * do not count, as in FreeBSD.
 *
 *   tcp_output / tcp_respond / syncache_respond -> tcp_opts_write
 *       (TOF_SIGNATURE: NOP, NOP, kind 19, length 18, 16 bytes) ->
 *       tcp_md5_sign (key for local -> foreign) -> ip_output
 *   tcp_input_seg (tp with TF_SIGNATURE, listeners too) -> tcp_md5_verify
 *       (key for foreign -> local) -> drop or go on
 *
 * RFC 2385 2.0: the digest is MD5 over the pseudo-header (IPv4: source,
 * destination, zero, protocol, segment length; IPv6: the RFC 8200 8.1
 * pseudo-header), the TCP header without options with a zero checksum,
 * the data, and the key.
 */
#include <string.h>

#include "kern/endian.h"
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet/in.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_md5.h"
#include "netinet/tcp_var.h"
#if UST_INET6
#include "netinet6/in6.h"
#endif

/* ---------------------------------------------------------------------
 * MD5 (RFC 1321 3.1-3.5).
 * ------------------------------------------------------------------- */

/* RFC 1321 3.4: T[i] = floor(2^32 * abs(sin(i + 1))). */
static const uint32_t md5_t[64] = {
	0xd76aa478,
	0xe8c7b756,
	0x242070db,
	0xc1bdceee,
	0xf57c0faf,
	0x4787c62a,
	0xa8304613,
	0xfd469501,
	0x698098d8,
	0x8b44f7af,
	0xffff5bb1,
	0x895cd7be,
	0x6b901122,
	0xfd987193,
	0xa679438e,
	0x49b40821,
	0xf61e2562,
	0xc040b340,
	0x265e5a51,
	0xe9b6c7aa,
	0xd62f105d,
	0x02441453,
	0xd8a1e681,
	0xe7d3fbc8,
	0x21e1cde6,
	0xc33707d6,
	0xf4d50d87,
	0x455a14ed,
	0xa9e3e905,
	0xfcefa3f8,
	0x676f02d9,
	0x8d2a4c8a,
	0xfffa3942,
	0x8771f681,
	0x6d9d6122,
	0xfde5380c,
	0xa4beea44,
	0x4bdecfa9,
	0xf6bb4b60,
	0xbebfbc70,
	0x289b7ec6,
	0xeaa127fa,
	0xd4ef3085,
	0x04881d05,
	0xd9d4d039,
	0xe6db99e5,
	0x1fa27cf8,
	0xc4ac5665,
	0xf4292244,
	0x432aff97,
	0xab9423a7,
	0xfc93a039,
	0x655b59c3,
	0x8f0ccc92,
	0xffeff47d,
	0x85845dd1,
	0x6fa87e4f,
	0xfe2ce6e0,
	0xa3014314,
	0x4e0811a1,
	0xf7537e82,
	0xbd3af235,
	0x2ad7d2bb,
	0xeb86d391,
};

/* The rotations of each round's four steps (RFC 1321 3.4). */
static const uint8_t md5_s[4][4] = { { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 },
	{ 6, 10, 15, 21 } };

static inline uint32_t
md5_rol(uint32_t x, unsigned n)
{
	return ((x << n) | (x >> (32 - n)));
}

static inline uint32_t
md5_le32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* One 64-byte block (RFC 1321 3.4). */
static void
md5_block(uint32_t state[4], const uint8_t *blk)
{
	uint32_t x[16], a = state[0], b = state[1], c = state[2], d = state[3], f, tmp;
	unsigned i, g;

	for (i = 0; i < 16; i++)
		x[i] = md5_le32(blk + 4 * i);
	for (i = 0; i < 64; i++) {
		switch (i >> 4) {
		case 0: /* F(X,Y,Z) = XY v not(X) Z */
			f = (b & c) | (~b & d);
			g = i;
			break;
		case 1: /* G(X,Y,Z) = XZ v Y not(Z) */
			f = (b & d) | (c & ~d);
			g = (5 * i + 1) & 15;
			break;
		case 2: /* H(X,Y,Z) = X xor Y xor Z */
			f = b ^ c ^ d;
			g = (3 * i + 5) & 15;
			break;
		default: /* I(X,Y,Z) = Y xor (X v not(Z)) */
			f = c ^ (b | ~d);
			g = (7 * i) & 15;
			break;
		}
		tmp = d;
		d = c;
		c = b;
		b = b + md5_rol(a + f + md5_t[i] + x[g], md5_s[i >> 4][i & 3]);
		a = tmp;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

void
md5_init(struct md5_ctx *ctx)
{
	/* RFC 1321 3.3: words A, B, C, D. */
	ctx->state[0] = 0x67452301;
	ctx->state[1] = 0xefcdab89;
	ctx->state[2] = 0x98badcfe;
	ctx->state[3] = 0x10325476;
	ctx->bytes = 0;
}

void
md5_update(struct md5_ctx *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t have = (size_t)(ctx->bytes & 63), n;

	if (len == 0)
		return; /* data may be NULL then */
	ctx->bytes += len;
	if (have > 0) {
		n = 64 - have < len ? 64 - have : len;
		memcpy(ctx->buf + have, p, n);
		p += n;
		len -= n;
		if (have + n < 64)
			return;
		md5_block(ctx->state, ctx->buf);
	}
	for (; len >= 64; p += 64, len -= 64)
		md5_block(ctx->state, p);
	if (len > 0)
		memcpy(ctx->buf, p, len);
}

void
md5_final(struct md5_ctx *ctx, uint8_t digest[16])
{
	/* RFC 1321 3.1-3.2: a 1 bit, zeros to 56 mod 64, the bit length. */
	static const uint8_t pad[64] = { 0x80 };
	uint8_t lenb[8];
	uint64_t bits = ctx->bytes << 3;
	size_t have = (size_t)(ctx->bytes & 63);
	unsigned i;

	for (i = 0; i < 8; i++)
		lenb[i] = (uint8_t)(bits >> (8 * i));
	md5_update(ctx, pad, have < 56 ? 56 - have : 120 - have);
	md5_update(ctx, lenb, 8);
	for (i = 0; i < 4; i++) {
		digest[4 * i] = (uint8_t)ctx->state[i];
		digest[4 * i + 1] = (uint8_t)(ctx->state[i] >> 8);
		digest[4 * i + 2] = (uint8_t)(ctx->state[i] >> 16);
		digest[4 * i + 3] = (uint8_t)(ctx->state[i] >> 24);
	}
	memset(ctx, 0, sizeof(*ctx));
}

#if UST_TCP_SIGNATURE
/* ---------------------------------------------------------------------
 * The key table.
 * ------------------------------------------------------------------- */

struct tcp_md5_sa {
	uint8_t sa_family; /* 0: free slot, UST_AF_INET, UST_AF_INET6 */
	uint8_t sa_keylen;
	uint8_t sa_src[16]; /* IPv4: the first 4 bytes, network order */
	uint8_t sa_dst[16];
	uint8_t sa_key[UST_TCP_MD5_KEYLEN_MAX];
};

struct tcp_md5_state {
	uint32_t tm_count;
	struct tcp_md5_sa tm_sa[UST_TCP_MD5_MAXKEYS];
};

/* An address of a sockaddr: family and 4 or 16 bytes.  0 or -UST_E*. */
static int
tcp_md5_addr(const struct ust_sockaddr *sa, ust_socklen_t len, uint8_t *family, uint8_t out[16])
{
	if (sa == NULL || len < sa->sa_len)
		return (-UST_EINVAL);
	memset(out, 0, 16);
	if (sa->sa_family == UST_AF_INET) {
		const struct sockaddr_in *sin;

		if (in_satosin(sa, &sin) != 0)
			return (-UST_EINVAL);
		memcpy(out, &sin->sin_addr, 4);
		*family = UST_AF_INET;
		return (0);
	}
#if UST_INET6
	if (sa->sa_family == UST_AF_INET6) {
		const struct sockaddr_in6 *sin6;

		if (in6_satosin6(sa, &sin6) != 0)
			return (-UST_EINVAL);
		/* A v4-mapped pair means the IPv4 connection. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(out, sin6->sin6_addr.s6_addr8 + 12, 4);
			*family = UST_AF_INET;
		} else {
			memcpy(out, sin6->sin6_addr.s6_addr8, 16);
			*family = UST_AF_INET6;
		}
		return (0);
	}
#endif
	return (-UST_EAFNOSUPPORT);
}

static struct tcp_md5_sa *
tcp_md5_find(struct tcp_md5_state *tm, uint8_t family, const uint8_t src[16], const uint8_t dst[16])
{
	unsigned i;

	if (tm == NULL)
		return (NULL);
	for (i = 0; i < UST_TCP_MD5_MAXKEYS; i++) {
		struct tcp_md5_sa *sa = &tm->tm_sa[i];

		if (sa->sa_family == family && memcmp(sa->sa_src, src, 16) == 0 &&
		    memcmp(sa->sa_dst, dst, 16) == 0)
			return (sa);
	}
	return (NULL);
}

static int
tcp_md5_sa_put(struct ust_stack *st, uint8_t family, const uint8_t src[16], const uint8_t dst[16],
    const void *key, size_t keylen)
{
	struct tcp_md5_state *tm = st->st_tcpmd5;
	struct tcp_md5_sa *sa;
	unsigned i;

	if (tm == NULL) {
		if ((tm = st_malloc(st, sizeof(*tm))) == NULL)
			return (-UST_ENOMEM);
		memset(tm, 0, sizeof(*tm));
		st->st_tcpmd5 = tm;
	}
	/* An existing pair gets the new key (setkey's "update"). */
	if ((sa = tcp_md5_find(tm, family, src, dst)) == NULL) {
		for (i = 0; i < UST_TCP_MD5_MAXKEYS && sa == NULL; i++)
			if (tm->tm_sa[i].sa_family == 0)
				sa = &tm->tm_sa[i];
		if (sa == NULL)
			return (-UST_ENOSPC);
		tm->tm_count++;
	}
	sa->sa_family = family;
	memcpy(sa->sa_src, src, 16);
	memcpy(sa->sa_dst, dst, 16);
	memset(sa->sa_key, 0, sizeof(sa->sa_key));
	if (keylen > 0)
		memcpy(sa->sa_key, key, keylen);
	sa->sa_keylen = (uint8_t)keylen;
	return (0);
}

static int
tcp_md5_sa_remove(struct ust_stack *st, uint8_t family, const uint8_t src[16],
    const uint8_t dst[16])
{
	struct tcp_md5_state *tm = st->st_tcpmd5;
	struct tcp_md5_sa *sa = tcp_md5_find(tm, family, src, dst);

	if (sa == NULL)
		return (-UST_ENOENT);
	/* The key does not linger in memory. */
	memset(sa, 0, sizeof(*sa));
	tm->tm_count--;
	return (0);
}

UST_API int
ust_tcp_md5_sa_add(struct ust_stack *st, const struct ust_sockaddr *src, ust_socklen_t srclen,
    const struct ust_sockaddr *dst, ust_socklen_t dstlen, const void *key, size_t keylen)
{
	uint8_t fs, fd, a[16], b[16];
	int error;

	if (st == NULL || (key == NULL && keylen > 0) || keylen > UST_TCP_MD5_KEYLEN_MAX)
		return (-UST_EINVAL);
	if ((error = tcp_md5_addr(src, srclen, &fs, a)) != 0 ||
	    (error = tcp_md5_addr(dst, dstlen, &fd, b)) != 0)
		return (error);
	if (fs != fd)
		return (-UST_EINVAL);
	return (tcp_md5_sa_put(st, fs, a, b, key, keylen));
}

UST_API int
ust_tcp_md5_sa_del(struct ust_stack *st, const struct ust_sockaddr *src, ust_socklen_t srclen,
    const struct ust_sockaddr *dst, ust_socklen_t dstlen)
{
	uint8_t fs, fd, a[16], b[16];
	int error;

	if (st == NULL)
		return (-UST_EINVAL);
	if ((error = tcp_md5_addr(src, srclen, &fs, a)) != 0 ||
	    (error = tcp_md5_addr(dst, dstlen, &fd, b)) != 0)
		return (error);
	if (fs != fd)
		return (-UST_EINVAL);
	return (tcp_md5_sa_remove(st, fs, a, b));
}

UST_API int
ust_tcp_md5_key_add(struct ust_stack *st, const struct ust_sockaddr *local, ust_socklen_t llen,
    const struct ust_sockaddr *remote, ust_socklen_t rlen, const void *key, size_t keylen)
{
	int error;

	if ((error = ust_tcp_md5_sa_add(st, local, llen, remote, rlen, key, keylen)) != 0)
		return (error);
	if ((error = ust_tcp_md5_sa_add(st, remote, rlen, local, llen, key, keylen)) != 0)
		(void)ust_tcp_md5_sa_del(st, local, llen, remote, rlen);
	return (error);
}

UST_API int
ust_tcp_md5_key_del(struct ust_stack *st, const struct ust_sockaddr *local, ust_socklen_t llen,
    const struct ust_sockaddr *remote, ust_socklen_t rlen)
{
	int e1 = ust_tcp_md5_sa_del(st, local, llen, remote, rlen);
	int e2 = ust_tcp_md5_sa_del(st, remote, rlen, local, llen);

	return (e1 == 0 || e2 == 0 ? 0 : e1);
}

UST_API void
ust_tcp_md5_flush(struct ust_stack *st)
{
	if (st == NULL || st->st_tcpmd5 == NULL)
		return;
	memset(st->st_tcpmd5, 0, sizeof(*st->st_tcpmd5));
}

UST_API size_t
ust_tcp_md5_count(const struct ust_stack *st)
{
	return (st != NULL && st->st_tcpmd5 != NULL ? st->st_tcpmd5->tm_count : 0);
}

void
tcp_md5_fini(struct ust_stack *st)
{
	if (st->st_tcpmd5 == NULL)
		return;
	memset(st->st_tcpmd5, 0, sizeof(*st->st_tcpmd5));
	st_free(st, st->st_tcpmd5, sizeof(*st->st_tcpmd5));
	st->st_tcpmd5 = NULL;
}

/* ---------------------------------------------------------------------
 * Digests.
 * ------------------------------------------------------------------- */

int
tcp_md5_sigoff(const uint8_t *opt, unsigned optlen)
{
	unsigned i = 0;

	while (i < optlen) {
		if (opt[i] == TCPOPT_EOL)
			break;
		if (opt[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= optlen || opt[i + 1] < 2 || i + opt[i + 1] > optlen)
			break;
		if (opt[i] == TCPOPT_SIGNATURE && opt[i + 1] == TCPOLEN_SIGNATURE)
			return ((int)i + 2);
		i += opt[i + 1];
	}
	return (-1);
}

/*
 * The RFC 2385 2.0 digest of a segment from src to dst (4 or 16 bytes of
 * family), hdr its fixed 20-byte header, hlen + paylen its length, the
 * payload paylen bytes of m from payoff.  -1 without a key.
 */
static int
tcp_md5_digest(struct ust_stack *st, uint8_t family, const uint8_t src[16], const uint8_t dst[16],
    const uint8_t hdr[TCP_HDR_MIN], uint32_t hlen, const struct mbuf *m, uint32_t payoff,
    uint32_t paylen, uint8_t out[TCP_SIGLEN])
{
	const struct tcp_md5_sa *sa = tcp_md5_find(st->st_tcpmd5, family, src, dst);
	struct md5_ctx ctx;
	uint8_t ph[40], th[TCP_HDR_MIN];
	uint32_t seglen = hlen + paylen, n;
	size_t phlen;

	if (sa == NULL)
		return (-1);
	md5_init(&ctx);
	/* 1. The pseudo-header. */
	memset(ph, 0, sizeof(ph));
	if (family == UST_AF_INET) {
		/* RFC 9293 3.1: source, destination, zero, PTCL, TCP length. */
		memcpy(ph, src, 4);
		memcpy(ph + 4, dst, 4);
		ph[9] = IPPROTO_TCP;
		be16enc(ph + 10, (uint16_t)seglen);
		phlen = 12;
	} else {
		/* RFC 8200 8.1: source, destination, upper-layer length (32
		 * bits), three zero bytes, next header. */
		memcpy(ph, src, 16);
		memcpy(ph + 16, dst, 16);
		be32enc(ph + 32, seglen);
		ph[39] = IPPROTO_TCP;
		phlen = 40;
	}
	md5_update(&ctx, ph, phlen);
	/* 2. The header without options, checksum zero. */
	memcpy(th, hdr, TCP_HDR_MIN);
	th[16] = th[17] = 0;
	md5_update(&ctx, th, TCP_HDR_MIN);
	/* 3. The data. */
	while (m != NULL && payoff >= m->m_len) {
		payoff -= m->m_len;
		m = m->m_next;
	}
	for (; m != NULL && paylen > 0; m = m->m_next, payoff = 0) {
		n = m->m_len - payoff < paylen ? m->m_len - payoff : paylen;
		md5_update(&ctx, mtod(m, const uint8_t *) + payoff, n);
		paylen -= n;
	}
	/* 4. The key. */
	md5_update(&ctx, sa->sa_key, sa->sa_keylen);
	md5_final(&ctx, out);
	return (paylen == 0 ? 0 : -1);
}

/* inc's addresses as the table keeps them; out: local is the source. */
static uint8_t
tcp_md5_inc_addrs(const struct in_conninfo *inc, int out, uint8_t src[16], uint8_t dst[16])
{
	memset(src, 0, 16);
	memset(dst, 0, 16);
#if UST_INET6
	if (inc_isipv6(inc)) {
		memcpy(out ? src : dst, inc->inc6_laddr.s6_addr8, 16);
		memcpy(out ? dst : src, inc->inc6_faddr.s6_addr8, 16);
		return (UST_AF_INET6);
	}
#endif
	memcpy(out ? src : dst, &inc->inc_laddr.s_addr, 4);
	memcpy(out ? dst : src, &inc->inc_faddr.s_addr, 4);
	return (UST_AF_INET);
}

int
tcp_md5_sign(struct ust_stack *st, const struct in_conninfo *inc, uint8_t *th, uint32_t hlen,
    const struct mbuf *m, uint32_t payoff, uint32_t paylen)
{
	uint8_t src[16], dst[16], family;
	int off = tcp_md5_sigoff(th + TCP_HDR_MIN, hlen - TCP_HDR_MIN);

	family = tcp_md5_inc_addrs(inc, 1, src, dst);
	if (off < 0 ||
	    tcp_md5_digest(st, family, src, dst, th, hlen, m, payoff, paylen,
	        th + TCP_HDR_MIN + off) != 0) {
		TCPSTAT_INC(st, tcps_sig_err_buildsig);
		return (-1);
	}
	return (0);
}

int
tcp_md5_verify(struct ust_stack *st, const struct tcp_seg *seg, const struct mbuf *m)
{
	uint8_t src[16], dst[16], hdr[TCP_HDR_MIN], want[TCP_SIGLEN], family;
	struct tcphdr th;
	unsigned i, diff = 0;

	if (!(seg->to.to_flags & TOF_SIGNATURE)) {
		TCPSTAT_INC(st, tcps_sig_err_nosigopt);
		return (-1);
	}
	family = tcp_md5_inc_addrs(&seg->inc, 0, src, dst);
	th = seg->th;
	th.th_sum = 0;
	tcp_hdr_write(hdr, &th);
	if (tcp_md5_digest(st, family, src, dst, hdr, (uint32_t)th.th_off * 4, m, 0, seg->tlen,
	        want) != 0) {
		TCPSTAT_INC(st, tcps_sig_err_buildsig);
		return (-1);
	}
	/* Every byte compared: the time taken tells nothing. */
	for (i = 0; i < TCP_SIGLEN; i++)
		diff |= (unsigned)(want[i] ^ seg->to.to_sig[i]);
	if (diff != 0) {
		TCPSTAT_INC(st, tcps_sig_rcvbadsig);
		return (-1);
	}
	TCPSTAT_INC(st, tcps_sig_rcvgoodsig);
	return (0);
}
#else  /* !UST_TCP_SIGNATURE: the API stays, with nothing behind it. */
UST_API int
ust_tcp_md5_sa_add(struct ust_stack *st, const struct ust_sockaddr *src, ust_socklen_t srclen,
    const struct ust_sockaddr *dst, ust_socklen_t dstlen, const void *key, size_t keylen)
{
	(void)st, (void)src, (void)srclen, (void)dst, (void)dstlen, (void)key, (void)keylen;
	return (-UST_EOPNOTSUPP);
}

UST_API int
ust_tcp_md5_sa_del(struct ust_stack *st, const struct ust_sockaddr *src, ust_socklen_t srclen,
    const struct ust_sockaddr *dst, ust_socklen_t dstlen)
{
	(void)st, (void)src, (void)srclen, (void)dst, (void)dstlen;
	return (-UST_EOPNOTSUPP);
}

UST_API int
ust_tcp_md5_key_add(struct ust_stack *st, const struct ust_sockaddr *local, ust_socklen_t llen,
    const struct ust_sockaddr *remote, ust_socklen_t rlen, const void *key, size_t keylen)
{
	(void)st, (void)local, (void)llen, (void)remote, (void)rlen, (void)key, (void)keylen;
	return (-UST_EOPNOTSUPP);
}

UST_API int
ust_tcp_md5_key_del(struct ust_stack *st, const struct ust_sockaddr *local, ust_socklen_t llen,
    const struct ust_sockaddr *remote, ust_socklen_t rlen)
{
	(void)st, (void)local, (void)llen, (void)remote, (void)rlen;
	return (-UST_EOPNOTSUPP);
}

UST_API void
ust_tcp_md5_flush(struct ust_stack *st)
{
	(void)st;
}

UST_API size_t
ust_tcp_md5_count(const struct ust_stack *st)
{
	(void)st;
	return (0);
}
#endif /* UST_TCP_SIGNATURE */
