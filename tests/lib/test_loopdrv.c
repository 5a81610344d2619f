/*
 * test_loopdrv.c - the scripted unit-test driver (test_loopdrv.h).
 */
#include "test_loopdrv.h"

#include <stddef.h>
#include <string.h>

void
loopdrv_init(struct loopdrv *d)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x10 };

	memset(d, 0, offsetof(struct loopdrv, rx));
	memcpy(d->mac, mac, 6);
	d->mtu = 1500;
	d->tx_budget = -1;
}

int
loopdrv_inject(struct loopdrv *d, const void *frame, size_t len)
{
	return (loopdrv_inject_csum(d, frame, len, 0));
}

int
loopdrv_inject_csum(struct loopdrv *d, const void *frame, size_t len, uint32_t csum)
{
	int slot;

	if (d->rx_count == LOOPDRV_MAX || len > LOOPDRV_FRAME)
		return (-1);
	slot = (d->rx_head + d->rx_count) % LOOPDRV_MAX;
	memcpy(d->rx[slot], frame, len);
	d->rx_len[slot] = len;
	d->rx_csum[slot] = csum;
	d->rx_count++;
	return (0);
}

static int
loop_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct loopdrv *d = softc;
	int n = 0;

	while (n < max && d->rx_count > 0) {
		struct ust_mbuf *m =
		    ust_mbuf_from_buf(ifp, d->rx[d->rx_head], d->rx_len[d->rx_head]);

		if (m == NULL) {
			d->rx_nombuf++;
			break;
		}
		if (d->rx_csum[d->rx_head] != 0)
			ust_mbuf_set_csum_flags(m, d->rx_csum[d->rx_head]);
		pkts[n++] = m;
		d->rx_head = (d->rx_head + 1) % LOOPDRV_MAX;
		d->rx_count--;
	}
	return (n);
}

static int
loop_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct loopdrv *d = softc;
	int i;

	for (i = 0; i < n; i++) {
		size_t len = ust_mbuf_pktlen(pkts[i]);

		if (d->tx_discard) {
			ust_mbuf_free(pkts[i]);
			continue;
		}
		if (d->tx_budget == 0 || d->tx_count == LOOPDRV_MAX)
			break;
		if (d->tx_budget > 0)
			d->tx_budget--;
		if (len > LOOPDRV_FRAME)
			len = LOOPDRV_FRAME;
		ust_mbuf_copydata(pkts[i], 0, len, d->tx[d->tx_count]);
		d->tx_len[d->tx_count++] = len;
		ust_mbuf_free(pkts[i]);
	}
	return (i);
}

static void
loop_get_mac(void *softc, uint8_t mac[6])
{
	memcpy(mac, ((struct loopdrv *)softc)->mac, 6);
}

static uint32_t
loop_get_mtu(void *softc)
{
	return (((struct loopdrv *)softc)->mtu);
}

static uint32_t
loop_get_caps(void *softc)
{
	return (((struct loopdrv *)softc)->caps);
}

static uint64_t
loop_get_counter(void *softc, int which)
{
	const struct loopdrv *d = softc;

	return (which > 0 && which < 4 ? d->dev_counter[which] : 0);
}

static void
loop_detach(void *softc)
{
	((struct loopdrv *)softc)->detached++;
}

const struct ust_driver_ops loopdrv_ops = {
	.name = "loop",
	.rx_burst = loop_rx_burst,
	.tx_burst = loop_tx_burst,
	.get_mac = loop_get_mac,
	.get_mtu = loop_get_mtu,
	.get_caps = loop_get_caps,
	.detach = loop_detach,
	.get_counter = loop_get_counter,
};
