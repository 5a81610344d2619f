/*
 * stellaris.c - the Stellaris (LM3S6965) Ethernet MAC, polled, through its
 * receive and transmit FIFOs (ustack_stellaris.h says what and why).
 *
 * Register facts (LM3S6965 data sheet, Ethernet Controller chapter; the
 * FIFO formats checked against QEMU's lm3s6965evb):
 *  - MACRIS (0x000, read) / MACIACK (write 1 to clear): RXINT, TXER,
 *    TXEMP, FOV (receive FIFO overrun), RXER (a bad frame was received).
 *  - MACIM (0x004): which MACRIS bits drive the interrupt line.
 *  - MACRCTL (0x008): RXEN, AMUL (every multicast frame: the MAC has no
 *    multicast filter; set while the stack has groups), PRMS, BADCRC (drop
 *    frames with a bad FCS), RSTFIFO (flushes the receive FIFO; with RXEN
 *    clear).
 *  - MACTCTL (0x00c): TXEN, PADEN (pad short frames to 60 bytes), CRC
 *    (append the FCS), DUPLEX.
 *  - MACDATA (0x010): reads pop the receive FIFO, writes push the transmit
 *    FIFO, 32 bits at a time, the frame's bytes in little-endian order.
 *  - MACIA0/1 (0x014/0x018): the station address, byte 0 in bits 7:0 of
 *    MACIA0, bytes 4-5 in MACIA1.
 *  - MACNP (0x034): frames whole in the receive FIFO (bits 5:0).
 *  - MACTR (0x038): NEWTX starts sending the frame in the transmit FIFO;
 *    it reads 1 until the frame is gone.
 *
 * Receive FIFO, per frame: the first word holds the frame length in bits
 * 15:0 (counting these two bytes, the frame and its 4-byte FCS) and the
 * frame's first two bytes in bits 31:16; then the rest of the frame, the
 * FCS and padding to the word.  Transmit FIFO: the first word holds the
 * data length (the frame less its 14-byte header) in bits 15:0 and the
 * frame's first two bytes in bits 31:16; then the rest; no FCS (the MAC
 * appends it).  The FIFOs are 2 KiB each.
 *
 * Call order: ust_stack_poll -> stl_rx_burst (MACNP, MACDATA reads,
 * ust_mbuf_alloc) and if_flush -> stl_tx_burst (MACTR, the chain,
 * MACDATA writes, NEWTX, ust_mbuf_free).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_stellaris.h>

#define STL_MACRIS 0x000u
#define STL_MACIM 0x004u
#define STL_MACRCTL 0x008u
#define STL_MACTCTL 0x00cu
#define STL_MACDATA 0x010u
#define STL_MACIA0 0x014u
#define STL_MACIA1 0x018u
#define STL_MACNP 0x034u
#define STL_MACTR 0x038u

#define STL_RIS_RXINT 0x01u
#define STL_RIS_TXER 0x02u
#define STL_RIS_FOV 0x08u
#define STL_RIS_RXER 0x10u
#define STL_RCTL_RXEN 0x01u
#define STL_RCTL_AMUL 0x02u
#define STL_RCTL_PRMS 0x04u
#define STL_RCTL_BADCRC 0x08u
#define STL_RCTL_RSTFIFO 0x10u
#define STL_TCTL_TXEN 0x01u
#define STL_TCTL_PADEN 0x02u
#define STL_TCTL_CRC 0x04u
#define STL_TCTL_DUPLEX 0x10u
#define STL_NP_MASK 0x3fu
#define STL_TR_NEWTX 0x01u

#define STL_FIFO_BYTES 2048u
#define STL_ETHER_HDR 14u
#define STL_MTU 1500u
/* Receive length word: itself (2) + frame + FCS (4). */
#define STL_RX_OVERHEAD 6u
/* Longest frame taken: a VLAN-tagged full-size one (no FCS). */
#define STL_FRAME_MAX (STL_ETHER_HDR + 4u + STL_MTU)
/* Transmit: the 2-byte length word and the frame, in the FIFO. */
#define STL_TX_MAX (STL_FIFO_BYTES - 2u)
/* Polls a frame may wait in the FIFO for a buffer before it is dropped:
 * bounded, because the acknowledgements that would free buffers may be
 * queued behind it. */
#define STL_RX_WAIT_POLLS 8u

static inline uint32_t
stl_rd(const struct ust_stellaris *sc, uint32_t off)
{
	return (*(volatile const uint32_t *)(sc->sc_base + off));
}

static inline void
stl_wr(const struct ust_stellaris *sc, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(sc->sc_base + off) = v;
}

void
ust_stellaris_config_init(struct ust_stellaris_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->base = UST_STELLARIS_BASE;
}

/* Empties the receive FIFO (RSTFIFO takes effect with RXEN clear), then
 * turns receive back on: after a length word we cannot trust, nothing
 * else in the FIFO can be trusted either. */
static void
stl_rx_reset(struct ust_stellaris *sc, uint32_t rctl)
{
	stl_wr(sc, STL_MACRCTL, rctl & ~STL_RCTL_RXEN);
	stl_wr(sc, STL_MACRCTL, (rctl & ~STL_RCTL_RXEN) | STL_RCTL_RSTFIFO);
	stl_wr(sc, STL_MACRCTL, rctl);
}

int
ust_stellaris_init(struct ust_stellaris *sc, const struct ust_stellaris_config *cfg)
{
	static const uint8_t zero[6];
	uint32_t ia0, ia1, rctl;

	if (sc == NULL || cfg == NULL || cfg->base == 0)
		return (-UST_EINVAL);
	memset(sc, 0, sizeof(*sc));
	sc->sc_base = cfg->base;
	stl_wr(sc, STL_MACIM, 0);
	stl_wr(sc, STL_MACTCTL, 0);
	if (memcmp(cfg->mac, zero, sizeof(zero)) != 0) {
		stl_wr(sc, STL_MACIA0,
		    (uint32_t)cfg->mac[0] | (uint32_t)cfg->mac[1] << 8 |
		        (uint32_t)cfg->mac[2] << 16 | (uint32_t)cfg->mac[3] << 24);
		stl_wr(sc, STL_MACIA1, (uint32_t)cfg->mac[4] | (uint32_t)cfg->mac[5] << 8);
	}
	ia0 = stl_rd(sc, STL_MACIA0);
	ia1 = stl_rd(sc, STL_MACIA1);
	sc->sc_mac[0] = (uint8_t)ia0;
	sc->sc_mac[1] = (uint8_t)(ia0 >> 8);
	sc->sc_mac[2] = (uint8_t)(ia0 >> 16);
	sc->sc_mac[3] = (uint8_t)(ia0 >> 24);
	sc->sc_mac[4] = (uint8_t)ia1;
	sc->sc_mac[5] = (uint8_t)(ia1 >> 8);
	rctl = STL_RCTL_RXEN | STL_RCTL_BADCRC | (cfg->promisc ? STL_RCTL_PRMS : 0);
	stl_rx_reset(sc, rctl);
	sc->sc_rx_w0 = 0;
	sc->sc_rx_waits = 0;
	stl_wr(sc, STL_MACRIS, 0xffffffffu); /* MACIACK: forget stale events */
	sc->sc_rx_irq = cfg->rx_irq ? 1u : 0u;
	stl_wr(sc, STL_MACIM, sc->sc_rx_irq ? STL_RIS_RXINT : 0u);
	stl_wr(sc, STL_MACTCTL, STL_TCTL_TXEN | STL_TCTL_PADEN | STL_TCTL_CRC | STL_TCTL_DUPLEX);
	return (0);
}

/* Error events since the last look, counted and acknowledged. */
static void
stl_events(struct ust_stellaris *sc)
{
	uint32_t ris;

	ris = stl_rd(sc, STL_MACRIS) & (STL_RIS_FOV | STL_RIS_RXER | STL_RIS_TXER);
	if (ris == 0)
		return;
	stl_wr(sc, STL_MACRIS, ris);
	if (ris & STL_RIS_FOV)
		sc->sc_stats.rx_overflow++;
	if (ris & STL_RIS_RXER)
		sc->sc_stats.rx_errors++;
	if (ris & STL_RIS_TXER)
		sc->sc_stats.tx_errors++;
}

/* Reads one frame of flen bytes (the first two already in w0's upper half)
 * into dst, or discards it when dst is NULL, and the FCS and padding after
 * it: total bytes from the length word on. */
static void
stl_rx_copy(struct ust_stellaris *sc, uint32_t w0, uint8_t *dst, uint32_t flen, uint32_t total)
{
	uint32_t off, w, i;

	if (dst != NULL) {
		dst[0] = (uint8_t)(w0 >> 16);
		dst[1] = (uint8_t)(w0 >> 24);
	}
	/* off counts frame bytes; the FIFO position is off + 2. */
	for (off = 2; off + 2 < total; off += 4) {
		w = stl_rd(sc, STL_MACDATA);
		if (dst == NULL)
			continue;
		for (i = 0; i < 4 && off + i < flen; i++)
			dst[off + i] = (uint8_t)(w >> (8 * i));
	}
}

static int
stl_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct ust_stellaris *sc = softc;
	struct ust_mbuf *m;
	uint32_t w0, total, flen;
	int n = 0;

	stl_events(sc);
	/* Acknowledge before reading: a frame that lands after this raises
	 * the line again, so a WFI after an empty FIFO cannot miss it. */
	if (sc->sc_rx_irq)
		stl_wr(sc, STL_MACRIS, STL_RIS_RXINT);
	while (n < max && (stl_rd(sc, STL_MACNP) & STL_NP_MASK) != 0) {
		/* A frame whose length word was read at an earlier poll
		 * (no buffer then) is still in the FIFO behind it. */
		w0 = sc->sc_rx_w0 != 0 ? sc->sc_rx_w0 : stl_rd(sc, STL_MACDATA);
		sc->sc_rx_w0 = 0;
		total = w0 & 0xffffu;
		if (total < STL_RX_OVERHEAD + STL_ETHER_HDR ||
		    total > STL_RX_OVERHEAD + STL_FRAME_MAX) {
			sc->sc_stats.rx_badlen++;
			stl_rx_reset(sc, stl_rd(sc, STL_MACRCTL) | STL_RCTL_RXEN);
			break;
		}
		flen = total - STL_RX_OVERHEAD;
		m = ust_mbuf_alloc(ifp, flen);
		if (m == NULL && sc->sc_rx_waits < STL_RX_WAIT_POLLS) {
			/* Leave it in the FIFO for a few polls: buffers come
			 * back as TCP's peers acknowledge and applications
			 * read, and a frame not taken now is not lost (the
			 * FIFO, or QEMU's queue behind it, holds the next
			 * ones), where a drop costs a retransmission timeout
			 * at the sender. */
			sc->sc_rx_w0 = w0;
			sc->sc_rx_waits++;
			sc->sc_stats.rx_deferred++;
			break;
		}
		sc->sc_rx_waits = 0;
		if (m == NULL)
			sc->sc_stats.rx_nombuf++;
		stl_rx_copy(sc, w0, m != NULL ? ust_mbuf_data(m) : NULL, flen, total);
		if (m == NULL)
			continue;
		sc->sc_stats.rx_frames++;
		sc->sc_stats.rx_bytes += flen;
		pkts[n++] = m;
	}
	return (n);
}

/* Pushes the frame's bytes into the transmit FIFO a word at a time,
 * carrying partial words across the chain's buffers (the chain is read in
 * place: no descriptor limit, nothing flattened); the first word carries
 * the data length. */
static void
stl_tx_write(struct ust_stellaris *sc, struct ust_mbuf *m, uint32_t len)
{
	const uint8_t *p;
	uint32_t word, nb;
	size_t k, n;

	word = (len - STL_ETHER_HDR) & 0xffffu;
	nb = 2;
	for (; m != NULL; m = ust_mbuf_next(m)) {
		p = ust_mbuf_data(m);
		n = ust_mbuf_len(m);
		for (k = 0; k < n; k++) {
			word |= (uint32_t)p[k] << (8 * nb);
			if (++nb == 4) {
				stl_wr(sc, STL_MACDATA, word);
				word = 0;
				nb = 0;
			}
		}
	}
	if (nb != 0)
		stl_wr(sc, STL_MACDATA, word);
}

static int
stl_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct ust_stellaris *sc = softc;
	struct ust_mbuf *m, *seg;
	uint32_t len;
	int i;

	stl_events(sc);
	for (i = 0; i < n; i++) {
		/* The FIFO holds one frame: the previous one must be gone. */
		if (stl_rd(sc, STL_MACTR) & STL_TR_NEWTX) {
			sc->sc_stats.tx_busy++;
			break;
		}
		m = pkts[i];
		len = 0;
		for (seg = m; seg != NULL; seg = ust_mbuf_next(seg))
			len += (uint32_t)ust_mbuf_len(seg);
		if (len < STL_ETHER_HDR || len > STL_TX_MAX) {
			/* Longer than the FIFO: the stack never makes one
			 * for this MTU. */
			sc->sc_stats.tx_toolong++;
			ust_mbuf_free(m);
			continue;
		}
		stl_tx_write(sc, m, len);
		stl_wr(sc, STL_MACTR, STL_TR_NEWTX);
		sc->sc_stats.tx_frames++;
		sc->sc_stats.tx_bytes += len;
		ust_mbuf_free(m);
	}
	return (i);
}

static void
stl_get_mac(void *softc, uint8_t mac[6])
{
	const struct ust_stellaris *sc = softc;

	memcpy(mac, sc->sc_mac, 6);
}

static uint32_t
stl_get_mtu(void *softc)
{
	(void)softc;
	return (STL_MTU);
}

/* The stack's groups (ustack_driver.h set_multicast).  The MAC has no
 * multicast filter, only MACRCTL.AMUL (every multicast frame, or none
 * but broadcast): on while any group is joined; the stack filters.
 * (QEMU's lm3s6965evb filters nothing, so only hardware tells.) */
static void
stl_set_multicast(void *softc, const uint8_t (*macs)[6], unsigned n, int allmulti)
{
	struct ust_stellaris *sc = softc;
	uint32_t rctl = stl_rd(sc, STL_MACRCTL);

	(void)macs;
	if (n > 0 || allmulti)
		rctl |= STL_RCTL_AMUL;
	else
		rctl &= ~STL_RCTL_AMUL;
	stl_wr(sc, STL_MACRCTL, rctl);
}

/* Nothing is held (both directions copy); stop receiving so that the
 * FIFO does not fill with frames no one reads. */
static void
stl_detach(void *softc)
{
	struct ust_stellaris *sc = softc;

	stl_wr(sc, STL_MACIM, 0);
	stl_wr(sc, STL_MACRCTL, stl_rd(sc, STL_MACRCTL) & ~STL_RCTL_RXEN);
}

static const struct ust_driver_ops stl_ops = {
	.name = "stellaris",
	.rx_burst = stl_rx_burst,
	.tx_burst = stl_tx_burst,
	.get_mac = stl_get_mac,
	.get_mtu = stl_get_mtu,
	.detach = stl_detach,
	.set_multicast = stl_set_multicast,
};

const struct ust_driver_ops *
ust_stellaris_ops(void)
{
	return (&stl_ops);
}

void
ust_stellaris_get_stats(const struct ust_stellaris *sc, struct ust_stellaris_stats *out)
{
	*out = sc->sc_stats;
}
