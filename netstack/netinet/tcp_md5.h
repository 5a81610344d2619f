/*
 * tcp_md5.h - TCP MD5 signatures (RFC 2385) as FreeBSD's TCP_MD5SIG: MD5
 * (RFC 1321), the per-stack table of keys per (source, destination)
 * address pair that FreeBSD keeps in its IPsec security associations
 * (setkey(8) "add SRC DST tcp SPI -A tcp-md5 KEY"), and the signing and
 * checking of segments.  tcp_md5.c says how the pieces fit.
 */
#ifndef _USTACK_NETINET_TCP_MD5_H_
#define _USTACK_NETINET_TCP_MD5_H_

#include <stddef.h>
#include <stdint.h>

#include "ustack/ustack_opts.h"

struct ust_stack;
struct in_conninfo;
struct mbuf;
struct tcp_seg;

#define TCPOPT_SIGNATURE 19      /* RFC 2385 2.0 */
#define TCPOLEN_SIGNATURE 18     /* kind, length, 16-byte digest */
#define TCP_SIGLEN 16            /* the MD5 digest */
#define TCPOLEN_SIGNATURE_PAD 20 /* with the two NOPs before it */

/* MD5 (RFC 1321). */
struct md5_ctx {
	uint32_t state[4];
	uint64_t bytes; /* message length so far */
	uint8_t buf[64];
};

void md5_init(struct md5_ctx *ctx);
void md5_update(struct md5_ctx *ctx, const void *data, size_t len);
void md5_final(struct md5_ctx *ctx, uint8_t digest[16]);

#if UST_TCP_SIGNATURE
/* The offset of the digest (after kind and length) in the option bytes
 * opt[0..optlen), or -1 without a signature option. */
int tcp_md5_sigoff(const uint8_t *opt, unsigned optlen);

/*
 * Signs an outbound segment: th is its TCP header (hlen bytes, contiguous,
 * with the signature option in place), the payload paylen bytes of m from
 * paylen's offset payoff; inc the connection (local = the source).  Writes
 * the digest at th + TCP_HDR_MIN + sigoff.  0, or -1 when no key is known
 * for (local, foreign) (tcps_sig_err_buildsig counted): the segment must
 * not be sent (RFC 2385 3.0: never unsigned on a signed connection).
 */
int tcp_md5_sign(struct ust_stack *st, const struct in_conninfo *inc, uint8_t *th, uint32_t hlen,
    const struct mbuf *m, uint32_t payoff, uint32_t paylen);

/*
 * Checks an inbound segment for a connection or listener with
 * TCP_MD5SIG: m holds its payload only (seg->tlen bytes).  0 when the
 * signature is right (tcps_sig_rcvgoodsig), -1 when it must be dropped:
 * no signature option (tcps_sig_err_nosigopt), no key for (peer, us)
 * (tcps_sig_err_buildsig), a wrong digest (tcps_sig_rcvbadsig).
 */
int tcp_md5_verify(struct ust_stack *st, const struct tcp_seg *seg, const struct mbuf *m);

/* Frees the key table (tcp_fini). */
void tcp_md5_fini(struct ust_stack *st);
#endif

#endif /* _USTACK_NETINET_TCP_MD5_H_ */
