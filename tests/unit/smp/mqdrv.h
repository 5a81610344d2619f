/*
 * mqdrv.h - a multi-queue Ethernet device for the group tests: queue i of
 * a device is one ust_driver_ops softc (struct mq_port), attached to stack
 * i of a group by ust_group_if_attach.  Two devices are joined back to
 * back (a "wire"): a frame sent on any queue of one arrives on the queue
 * of the other that its policy picks:
 *
 *   MQ_RSS     the Toeplitz hash under the device's key (a NIC's RSS)
 *   MQ_QUEUE0  always queue 0 (a NIC without RSS: every flow lands on
 *              stack 0, which steers)
 *   MQ_LANE    the same queue index it was sent on (lane by lane)
 *   MQ_WRONG   the queue after the one RSS picks (always the wrong one)
 *
 * Queues are locked (the sender and the receiver are different stacks'
 * threads) and each has a pipe that is readable while frames wait
 * (get_fd), so a sleeping stack thread wakes when a frame arrives.
 * Header-only (static functions): every test of tests/unit/smp includes it.
 */
#ifndef UST_MQDRV_H
#define UST_MQDRV_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_group.h>

#define MQ_MAXQ 8
#define MQ_QLEN 512
#define MQ_FRAME 2048

enum { MQ_RSS, MQ_QUEUE0, MQ_LANE, MQ_WRONG };

struct mq_dev;

struct mq_port {
	struct mq_dev *dev;
	unsigned qi;
	/* frames waiting for rx_burst, under mtx */
	pthread_mutex_t mtx;
	uint32_t len[MQ_QLEN];
	uint8_t (*buf)[MQ_FRAME];
	unsigned head, count;
	int pfd[2]; /* readable while frames wait */
	_Atomic uint64_t rx, tx, drops;
};

struct mq_dev {
	uint8_t mac[6];
	unsigned nq;
	int policy;
	int give_hash; /* rx frames carry the device's hash (ust_mbuf_set_rss) */
	uint8_t key[UST_RSS_KEYLEN];
	struct mq_dev *peer;
	struct mq_port port[MQ_MAXQ];
	void *softc[MQ_MAXQ];
};

static inline void
mq_init(struct mq_dev *d, unsigned nq, uint8_t mac_last, int policy)
{
	unsigned i;

	memset(d, 0, sizeof(*d));
	d->mac[0] = 0x02;
	d->mac[5] = mac_last;
	d->nq = nq;
	d->policy = policy;
	ust_rss_default_key(d->key);
	for (i = 0; i < nq; i++) {
		struct mq_port *p = &d->port[i];

		p->dev = d;
		p->qi = i;
		pthread_mutex_init(&p->mtx, NULL);
		p->buf = calloc(MQ_QLEN, MQ_FRAME);
		if (pipe(p->pfd) != 0)
			abort();
		fcntl(p->pfd[0], F_SETFL, O_NONBLOCK);
		fcntl(p->pfd[1], F_SETFL, O_NONBLOCK);
		d->softc[i] = p;
	}
}

static inline void
mq_fini(struct mq_dev *d)
{
	unsigned i;

	for (i = 0; i < d->nq; i++) {
		pthread_mutex_destroy(&d->port[i].mtx);
		free(d->port[i].buf);
		close(d->port[i].pfd[0]);
		close(d->port[i].pfd[1]);
	}
}

static inline void
mq_wire(struct mq_dev *a, struct mq_dev *b)
{
	a->peer = b;
	b->peer = a;
}

/* Puts a frame on queue q of d, as if the wire delivered it there. */
static inline int
mq_inject(struct mq_dev *d, unsigned q, const void *frame, size_t len)
{
	struct mq_port *p = &d->port[q];
	char one = 1;
	int ok = 0;

	if (len > MQ_FRAME)
		return (-1);
	pthread_mutex_lock(&p->mtx);
	if (p->count < MQ_QLEN) {
		unsigned slot = (p->head + p->count) % MQ_QLEN;

		memcpy(p->buf[slot], frame, len);
		p->len[slot] = (uint32_t)len;
		p->count++;
		ok = 1;
	}
	pthread_mutex_unlock(&p->mtx);
	if (!ok) {
		atomic_fetch_add(&p->drops, 1);
		return (-1);
	}
	if (write(p->pfd[1], &one, 1) < 0 && errno != EAGAIN)
		abort();
	return (0);
}

/* The queue of d a frame arrives on. */
static inline unsigned
mq_pick(struct mq_dev *d, unsigned from_q, const uint8_t *frame, size_t len)
{
	uint32_t hash;

	switch (d->policy) {
	case MQ_QUEUE0:
		return (0);
	case MQ_LANE:
		return (from_q % d->nq);
	default:
		(void)ust_rss_hash_frame(d->key, frame, len, &hash);
		return ((ust_rss_queue(hash, d->nq) + (d->policy == MQ_WRONG)) % d->nq);
	}
}

static inline int
mq_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct mq_port *p = softc;
	struct mq_dev *d = p->dev;
	char sink[64];
	uint32_t hash;
	int n = 0, type;

	while (read(p->pfd[0], sink, sizeof(sink)) > 0)
		continue;
	pthread_mutex_lock(&p->mtx);
	while (n < max && p->count > 0) {
		struct ust_mbuf *m = ust_mbuf_from_buf(ifp, p->buf[p->head], p->len[p->head]);

		if (m == NULL)
			break;
		if (d->give_hash) {
			type = ust_rss_hash_frame(d->key, p->buf[p->head], p->len[p->head], &hash);
			ust_mbuf_set_rss(m, hash, type);
		}
		pkts[n++] = m;
		p->head = (p->head + 1) % MQ_QLEN;
		p->count--;
	}
	if (p->count > 0) {
		char one = 1;

		(void)!write(p->pfd[1], &one, 1);
	}
	pthread_mutex_unlock(&p->mtx);
	atomic_fetch_add(&p->rx, (uint64_t)n);
	return (n);
}

static inline int
mq_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct mq_port *p = softc;
	struct mq_dev *peer = p->dev->peer;
	uint8_t frame[MQ_FRAME];
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		len = ust_mbuf_pktlen(pkts[i]);
		if (peer != NULL && len <= sizeof(frame) &&
		    ust_mbuf_copydata(pkts[i], 0, len, frame) == 0)
			(void)mq_inject(peer, mq_pick(peer, p->qi, frame, len), frame, len);
		ust_mbuf_free(pkts[i]);
	}
	atomic_fetch_add(&p->tx, (uint64_t)n);
	return (n);
}

static inline void
mq_get_mac(void *softc, uint8_t mac[6])
{
	memcpy(mac, ((struct mq_port *)softc)->dev->mac, 6);
}

static uint32_t
mq_get_mtu(void *softc)
{
	(void)softc;
	return (1500);
}

static inline int
mq_get_fd(void *softc)
{
	return (((struct mq_port *)softc)->pfd[0]);
}

static inline void
mq_detach(void *softc)
{
	struct mq_port *p = softc;

	pthread_mutex_lock(&p->mtx);
	p->count = 0;
	pthread_mutex_unlock(&p->mtx);
}

static const struct ust_driver_ops mq_ops = {
	.name = "mq",
	.rx_burst = mq_rx_burst,
	.tx_burst = mq_tx_burst,
	.get_mac = mq_get_mac,
	.get_mtu = mq_get_mtu,
	.get_fd = mq_get_fd,
	.detach = mq_detach,
};

#endif /* UST_MQDRV_H */
