/*
 * tcp_seq.h - sequence number arithmetic modulo 2^32 (RFC 9293 3.4;
 * FreeBSD netinet/tcp_seq.h).  Comparisons go through the signed
 * difference, which is right as long as the two numbers are less than 2^31
 * apart: always true for numbers inside one window.
 */
#ifndef _USTACK_NETINET_TCP_SEQ_H_
#define _USTACK_NETINET_TCP_SEQ_H_

#include <stdint.h>

typedef uint32_t tcp_seq;

static inline int32_t
tcp_seq_diff(tcp_seq a, tcp_seq b)
{
	/* Unsigned subtraction wraps; converting the result to int32_t is
	 * done through a union-free, defined path. */
	uint32_t d = a - b;

	return (d <= INT32_MAX ? (int32_t)d : -(int32_t)(UINT32_MAX - d) - 1);
}

#define SEQ_LT(a, b) (tcp_seq_diff((a), (b)) < 0)
#define SEQ_LEQ(a, b) (tcp_seq_diff((a), (b)) <= 0)
#define SEQ_GT(a, b) (tcp_seq_diff((a), (b)) > 0)
#define SEQ_GEQ(a, b) (tcp_seq_diff((a), (b)) >= 0)
#define SEQ_MIN(a, b) (SEQ_LT((a), (b)) ? (a) : (b))
#define SEQ_MAX(a, b) (SEQ_GT((a), (b)) ? (a) : (b))
/* Bytes from b up to a (a at or after b). */
#define SEQ_SUB(a, b) ((uint32_t)((a) - (b)))

/* Timestamps compare the same way (RFC 7323 5.2: PAWS). */
#define TSTMP_LT(a, b) SEQ_LT((a), (b))
#define TSTMP_GEQ(a, b) SEQ_GEQ((a), (b))

#endif /* _USTACK_NETINET_TCP_SEQ_H_ */
