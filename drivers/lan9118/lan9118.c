/*
 * lan9118.c - SMSC LAN9118 Ethernet driver (ustack_lan9118.h), polled, on
 * the public driver contract only (ustack_driver.h).
 *
 * Design.  The chip exposes four FIFOs through fixed registers: RX data
 * and RX status (one status word per received frame, in front of its
 * data), TX data (command words A and B, then the frame) and TX status.
 * There is no ring to own and nothing to lend, so every frame is copied
 * once, on the stack's thread:
 *
 *   rx_burst: [clear the wake-up IRQ] -> reap TX status words (errors)
 *             -> per RX status word: ust_mbuf_alloc(len - FCS) and read
 *             the data words into it (the FCS word(s) are read and
 *             dropped); a frame with an error or no mbuf is read out and
 *             dropped so the FIFO stays in step.
 *   tx_burst: per frame: room in the TX data FIFO (TX_FIFO_INF.TDFREE)
 *             for the command words and the data, else refuse it and
 *             the rest; write A, B, then the chain's bytes packed into
 *             little-endian words; ust_mbuf_free().
 *
 * Multicast: set_multicast programs the 64-bin hash filter (MAC_CR.HPFILT,
 * HASHH/HASHL, lan_mc_hash) for the stack's groups, or MAC_CR.MCPAS for
 * allmulti; unicast stays a perfect match on our address.
 *
 * Time: nothing is held back, so no next_deadline; the chip's drops on
 * RX overflow are its own (RX_DROP).  Register accesses are 32-bit
 * volatile loads and stores; the bytes of a FIFO word are in wire order
 * from its least significant byte (the chip's little-endian bus mode,
 * which is the reset default and what a Cortex-M uses).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_lan9118.h>

/* Register offsets (datasheet 5.3, "System Control and Status Registers"). */
#define L_RX_DATA 0x00u
#define L_TX_DATA 0x20u
#define L_RX_STATUS 0x40u
#define L_TX_STATUS 0x48u
#define L_BYTE_TEST 0x64u
#define L_IRQ_CFG 0x54u
#define L_INT_STS 0x58u
#define L_INT_EN 0x5cu
#define L_FIFO_INT 0x68u
#define L_RX_CFG 0x6cu
#define L_TX_CFG 0x70u
#define L_HW_CFG 0x74u
#define L_RX_FIFO_INF 0x7cu
#define L_TX_FIFO_INF 0x80u
#define L_PMT_CTRL 0x84u
#define L_RX_DROP 0xa0u
#define L_MAC_CSR_CMD 0xa4u
#define L_MAC_CSR_DATA 0xa8u

#define L_BYTE_TEST_VALUE 0x87654321u
#define L_IRQ_CFG_EN 0x100u
#define L_IRQ_CFG_POL 0x10u  /* active high */
#define L_IRQ_CFG_TYPE 0x01u /* push-pull */
#define L_INT_RSFL 0x08u     /* RX status FIFO above its FIFO_INT level */
#define L_TX_CFG_TX_ON 0x02u
#define L_TX_CFG_TXSAO 0x04u /* TX status may overrun: no stall if unread */
#define L_HW_CFG_SRST 0x01u
#define L_HW_CFG_TX_FIF_5K (5u << 16)
#define L_HW_CFG_MBO 0x00100000u /* must be one */
#define L_PMT_CTRL_READY 0x01u
#define L_MAC_CSR_BUSY 0x80000000u
#define L_MAC_CSR_READ 0x40000000u

/* MAC control and status registers, through MAC_CSR_CMD/DATA (5.4). */
#define L_MAC_CR 1u
#define L_MAC_ADDRH 2u
#define L_MAC_ADDRL 3u
#define L_MAC_HASHH 4u
#define L_MAC_HASHL 5u
#define L_MAC_MII_ACC 6u
#define L_MAC_MII_DATA 7u
#define L_MAC_CR_RXEN 0x00000004u
#define L_MAC_CR_TXEN 0x00000008u
#define L_MAC_CR_FDPX 0x00100000u
#define L_MAC_CR_MCPAS 0x00080000u  /* pass all multicast */
#define L_MAC_CR_HPFILT 0x00002000u /* multicast through the hash table */
/* Our unicast address and broadcast (MAC_CR.PRMS off: QEMU resets into
 * promiscuous mode), full duplex, both directions on; multicast per
 * lan_set_multicast. */
#define L_MAC_CR_BASE (L_MAC_CR_RXEN | L_MAC_CR_TXEN | L_MAC_CR_FDPX)
#define L_MII_ACC_WRITE 0x2u
#define L_MII_ACC_BUSY 0x1u
#define L_PHY_ADDR 1u
#define L_PHY_BCR 0u
#define L_PHY_BCR_ANENABLE 0x1000u
#define L_PHY_BCR_ANRESTART 0x0200u

/* RX status word (5.2.1) and TX command words and status (5.5). */
#define L_RXS_LEN(s) (((s) >> 16) & 0x3fffu)
#define L_RXS_ES 0x00008000u /* error summary */
#define L_TXA_FIRST 0x00002000u
#define L_TXA_LAST 0x00001000u
#define L_TXS_ES 0x00008000u
#define L_TX_FIFO_TDFREE(v) ((v)&0xffffu)
#define L_TX_FIFO_TXSUSED(v) (((v) >> 16) & 0xffu)
#define L_RX_FIFO_RXSUSED(v) (((v) >> 16) & 0xffu)

#define L_ETHER_HDR 14u
#define L_FCS 4u
#define L_MTU 1500u
#define L_FRAME_MAX (L_ETHER_HDR + L_MTU)
#define L_SPIN_MAX 100000u /* register polls before a reset counts as failed */

struct ust_lan9118 {
	uintptr_t base;
	int rx_irq;
	uint8_t mac[6];
	uint16_t tx_tag; /* packet tag of command word B, for debugging */
	uint32_t mac_cr; /* MAC_CR as last written */
	struct ust_lan9118_stats stats;
};

/* Register access; a host test that includes this file brings its own
 * (a model of the chip) with LAN9118_TEST_REGS. */
#ifndef LAN9118_TEST_REGS
static uint32_t
lan_rd(const struct ust_lan9118 *sc, uint32_t off)
{
	return (*(volatile const uint32_t *)(sc->base + off));
}

static void
lan_wr(const struct ust_lan9118 *sc, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(sc->base + off) = v;
}
#endif

/* Waits for MAC_CSR_CMD.BUSY to clear; 0, or -UST_EIO if it never does. */
static int
lan_mac_wait(const struct ust_lan9118 *sc)
{
	uint32_t i;

	for (i = 0; i < L_SPIN_MAX; i++)
		if ((lan_rd(sc, L_MAC_CSR_CMD) & L_MAC_CSR_BUSY) == 0)
			return (0);
	return (-UST_EIO);
}

static uint32_t
lan_mac_read(const struct ust_lan9118 *sc, uint32_t reg)
{
	(void)lan_mac_wait(sc);
	lan_wr(sc, L_MAC_CSR_CMD, L_MAC_CSR_BUSY | L_MAC_CSR_READ | reg);
	(void)lan_mac_wait(sc);
	return (lan_rd(sc, L_MAC_CSR_DATA));
}

static void
lan_mac_write(const struct ust_lan9118 *sc, uint32_t reg, uint32_t v)
{
	(void)lan_mac_wait(sc);
	lan_wr(sc, L_MAC_CSR_DATA, v);
	lan_wr(sc, L_MAC_CSR_CMD, L_MAC_CSR_BUSY | reg);
	(void)lan_mac_wait(sc);
}

/* Writes a PHY register through the MAC's MII interface (5.4.6). */
static void
lan_phy_write(const struct ust_lan9118 *sc, uint32_t reg, uint32_t v)
{
	uint32_t i;

	lan_mac_write(sc, L_MAC_MII_DATA, v);
	lan_mac_write(sc, L_MAC_MII_ACC,
	    L_PHY_ADDR << 11 | reg << 6 | L_MII_ACC_WRITE | L_MII_ACC_BUSY);
	for (i = 0; i < L_SPIN_MAX; i++)
		if ((lan_mac_read(sc, L_MAC_MII_ACC) & L_MII_ACC_BUSY) == 0)
			break;
}

/* Soft reset, then the MAC, PHY and FIFOs programmed for polled use.
 * 0, or -UST_ENODEV / -UST_EIO. */
static int
lan_reset(struct ust_lan9118 *sc, const struct ust_lan9118_config *cfg)
{
	static const uint8_t zero[6];
	uint32_t i, hi, lo;

	if (lan_rd(sc, L_BYTE_TEST) != L_BYTE_TEST_VALUE)
		return (-UST_ENODEV);
	lan_wr(sc, L_HW_CFG, L_HW_CFG_SRST);
	for (i = 0; i < L_SPIN_MAX; i++)
		if ((lan_rd(sc, L_HW_CFG) & L_HW_CFG_SRST) == 0 &&
		    (lan_rd(sc, L_PMT_CTRL) & L_PMT_CTRL_READY) != 0)
			break;
	if (i == L_SPIN_MAX)
		return (-UST_EIO);
	lan_wr(sc, L_HW_CFG, L_HW_CFG_TX_FIF_5K | L_HW_CFG_MBO);
	lan_wr(sc, L_INT_EN, 0);
	lan_wr(sc, L_INT_STS, 0xffffffffu);
	if (cfg->rx_irq) {
		/* RSFL fires while the RX status FIFO holds more than its
		 * FIFO_INT level: 0, i.e. any frame. */
		lan_wr(sc, L_FIFO_INT, lan_rd(sc, L_FIFO_INT) & ~0xffu);
		lan_wr(sc, L_IRQ_CFG, L_IRQ_CFG_EN | L_IRQ_CFG_POL | L_IRQ_CFG_TYPE);
		lan_wr(sc, L_INT_EN, L_INT_RSFL);
	}

	if (memcmp(cfg->mac, zero, 6) != 0) {
		memcpy(sc->mac, cfg->mac, 6);
		lan_mac_write(sc, L_MAC_ADDRL,
		    (uint32_t)sc->mac[0] | (uint32_t)sc->mac[1] << 8 | (uint32_t)sc->mac[2] << 16 |
		        (uint32_t)sc->mac[3] << 24);
		lan_mac_write(sc, L_MAC_ADDRH, (uint32_t)sc->mac[4] | (uint32_t)sc->mac[5] << 8);
	} else {
		lo = lan_mac_read(sc, L_MAC_ADDRL);
		hi = lan_mac_read(sc, L_MAC_ADDRH);
		for (i = 0; i < 4; i++)
			sc->mac[i] = (uint8_t)(lo >> (8 * i));
		sc->mac[4] = (uint8_t)hi;
		sc->mac[5] = (uint8_t)(hi >> 8);
		if (memcmp(sc->mac, zero, 6) == 0) {
			/* No EEPROM: a locally administered address. */
			static const uint8_t dflt[6] = { 0x02, 0x00, 0x00, 0x00, 0x91, 0x18 };
			struct ust_lan9118_config c2 = *cfg;

			memcpy(c2.mac, dflt, 6);
			return (lan_reset(sc, &c2));
		}
	}

	/* Autonegotiation on (a no-op for QEMU, whose link is up). */
	lan_phy_write(sc, L_PHY_BCR, L_PHY_BCR_ANENABLE | L_PHY_BCR_ANRESTART);
	sc->mac_cr = L_MAC_CR_BASE;
	lan_mac_write(sc, L_MAC_HASHH, 0);
	lan_mac_write(sc, L_MAC_HASHL, 0);
	lan_mac_write(sc, L_MAC_CR, sc->mac_cr);
	lan_wr(sc, L_RX_CFG, 0); /* data at word 0 of the FIFO, 4-byte end alignment */
	lan_wr(sc, L_TX_CFG, L_TX_CFG_TX_ON | L_TX_CFG_TXSAO);
	return (0);
}

/* Reads n bytes of frame data out of the RX data FIFO into dst (NULL:
 * discard them), then the rest of the frame's words (FCS, padding). */
static void
lan_rx_read(const struct ust_lan9118 *sc, uint8_t *dst, size_t n, size_t fifo_bytes)
{
	size_t words = (fifo_bytes + 3) / 4, i, off;
	uint32_t w;

	for (i = 0; i < words; i++) {
		w = lan_rd(sc, L_RX_DATA);
		off = i * 4;
		if (dst == NULL || off >= n)
			continue;
		memcpy(dst + off, &w, n - off < 4 ? n - off : 4);
	}
}

/* TX status words: one per frame sent; TXSAO lets them overrun, read
 * them only to count errors. */
static void
lan_tx_reap(struct ust_lan9118 *sc)
{
	uint32_t n;

	for (n = L_TX_FIFO_TXSUSED(lan_rd(sc, L_TX_FIFO_INF)); n > 0; n--)
		if ((lan_rd(sc, L_TX_STATUS) & L_TXS_ES) != 0)
			sc->stats.tx_errors++;
}

static int
lan_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct ust_lan9118 *sc = softc;
	struct ust_mbuf *m;
	uint32_t st, len, ready;
	int n = 0;

	if (sc->rx_irq)
		lan_wr(sc, L_INT_STS, L_INT_RSFL);
	lan_tx_reap(sc);
	ready = L_RX_FIFO_RXSUSED(lan_rd(sc, L_RX_FIFO_INF));
	while (n < max && ready > 0) {
		ready--;
		st = lan_rd(sc, L_RX_STATUS);
		len = L_RXS_LEN(st);
		if ((st & L_RXS_ES) != 0 || len < L_ETHER_HDR + L_FCS ||
		    len > L_FRAME_MAX + 4 + L_FCS) {
			/* +4: a VLAN tag, which the stack drops itself. */
			sc->stats.rx_errors++;
			lan_rx_read(sc, NULL, 0, len);
			continue;
		}
		m = ust_mbuf_alloc(ifp, len - L_FCS);
		if (m == NULL) {
			sc->stats.rx_nombuf++;
			lan_rx_read(sc, NULL, 0, len);
			continue;
		}
		lan_rx_read(sc, ust_mbuf_data(m), len - L_FCS, len);
		pkts[n++] = m;
		sc->stats.rx_frames++;
		if (ready == 0 && n < max)
			ready = L_RX_FIFO_RXSUSED(lan_rd(sc, L_RX_FIFO_INF));
	}
	return (n);
}

/* Writes the frame m into the TX data FIFO as little-endian words.  A
 * word split across two buffers of the chain (TCP's 54-byte header mbuf,
 * then the data) is completed byte by byte; the rest of each buffer goes
 * a word at a time. */
static void
lan_tx_write(struct ust_lan9118 *sc, struct ust_mbuf *m, uint32_t len)
{
	struct ust_mbuf *b;
	const uint8_t *p;
	uint32_t w = 0, x;
	size_t i, blen;
	unsigned k = 0; /* bytes already in w */

	lan_wr(sc, L_TX_DATA, L_TXA_FIRST | L_TXA_LAST | len);
	lan_wr(sc, L_TX_DATA, (uint32_t)sc->tx_tag++ << 16 | len);
	for (b = m; b != NULL; b = ust_mbuf_next(b)) {
		p = ust_mbuf_data(b);
		blen = ust_mbuf_len(b);
		i = 0;
		for (; k != 0 && i < blen; i++) {
			w |= (uint32_t)p[i] << (8 * k);
			if (++k == 4) {
				lan_wr(sc, L_TX_DATA, w);
				k = 0;
				w = 0;
			}
		}
		for (; i + 4 <= blen; i += 4) {
			memcpy(&x, p + i, 4);
			lan_wr(sc, L_TX_DATA, x);
		}
		for (; i < blen; i++)
			w |= (uint32_t)p[i] << (8 * k++);
	}
	if (k != 0)
		lan_wr(sc, L_TX_DATA, w);
}

static int
lan_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct ust_lan9118 *sc = softc;
	uint32_t len, room;
	int i;

	room = L_TX_FIFO_TDFREE(lan_rd(sc, L_TX_FIFO_INF));
	for (i = 0; i < n; i++) {
		len = (uint32_t)ust_mbuf_pktlen(pkts[i]);
		if (len > L_FRAME_MAX) {
			sc->stats.tx_errors++;
			ust_mbuf_free(pkts[i]);
			continue;
		}
		/* Command words A and B, then the data rounded up to words. */
		if (room < 8 + (len + 3) / 4 * 4) {
			room = L_TX_FIFO_TDFREE(lan_rd(sc, L_TX_FIFO_INF));
			if (room < 8 + (len + 3) / 4 * 4) {
				sc->stats.tx_full++;
				break;
			}
		}
		lan_tx_write(sc, pkts[i], len);
		room -= 8 + (len + 3) / 4 * 4;
		sc->stats.tx_frames++;
		ust_mbuf_free(pkts[i]);
	}
	return (i);
}

static void
lan_get_mac(void *softc, uint8_t mac[6])
{
	const struct ust_lan9118 *sc = softc;

	memcpy(mac, sc->mac, 6);
}

static uint32_t
lan_get_mtu(void *softc)
{
	(void)softc;
	return (L_MTU);
}

/*
 * The multicast hash (datasheet, "Hash Filter"): the high 6 bits of the
 * CRC-32 of the destination address as the MAC computes it on the wire
 * (IEEE 802.3 polynomial, register preset to all ones, each byte least
 * significant bit first, no final inversion).  Bit 5 picks HASHH or
 * HASHL, bits 4:0 the bit in it.
 */
static unsigned
lan_mc_hash(const uint8_t mac[6])
{
	uint32_t crc = 0xffffffffu, bit;
	unsigned i, b;

	for (i = 0; i < 6; i++) {
		for (b = 0; b < 8; b++) {
			bit = (crc >> 31 ^ (uint32_t)(mac[i] >> b)) & 1u;
			crc <<= 1;
			if (bit)
				crc ^= 0x04c11db7u;
		}
	}
	return (crc >> 26);
}

/* MAC_CR's multicast bits and the hash table for the stack's groups:
 * every multicast frame (MCPAS) for allmulti, the hash filter (HPFILT;
 * unicast stays a perfect match) for a list, neither for none (multicast
 * then has to match our unicast address, so none passes).  The 64-bin
 * table holds any number of groups, with false positives the stack drops
 * itself. */
static uint32_t
lan_mc_filter(const uint8_t (*macs)[6], unsigned n, int allmulti, uint32_t *hashh, uint32_t *hashl)
{
	unsigned i, h;

	*hashh = *hashl = 0;
	if (allmulti)
		return (L_MAC_CR_MCPAS);
	for (i = 0; i < n; i++) {
		h = lan_mc_hash(macs[i]);
		if (h & 0x20u)
			*hashh |= 1u << (h & 0x1fu);
		else
			*hashl |= 1u << (h & 0x1fu);
	}
	return (n > 0 ? L_MAC_CR_HPFILT : 0);
}

/* The stack's groups (ustack_driver.h set_multicast): the table first,
 * then MAC_CR, so that the filter never opens on a stale table. */
static void
lan_set_multicast(void *softc, const uint8_t (*macs)[6], unsigned n, int allmulti)
{
	struct ust_lan9118 *sc = softc;
	uint32_t hh, hl, mc;

	mc = lan_mc_filter(macs, n, allmulti, &hh, &hl);
	lan_mac_write(sc, L_MAC_HASHH, hh);
	lan_mac_write(sc, L_MAC_HASHL, hl);
	sc->mac_cr = L_MAC_CR_BASE | mc;
	lan_mac_write(sc, L_MAC_CR, sc->mac_cr);
}

/* Nothing is held between calls: stop the MAC and free the handle. */
static void
lan_detach(void *softc)
{
	struct ust_lan9118 *sc = softc;

	lan_mac_write(sc, L_MAC_CR, 0);
	lan_wr(sc, L_TX_CFG, 0);
	lan_wr(sc, L_INT_EN, 0);
	lan_wr(sc, L_IRQ_CFG, 0);
	ust_osal_mem_free(sc, sizeof(*sc));
}

static const struct ust_driver_ops lan_ops = {
	.name = "lan9118",
	.rx_burst = lan_rx_burst,
	.tx_burst = lan_tx_burst,
	.get_mac = lan_get_mac,
	.get_mtu = lan_get_mtu,
	.detach = lan_detach,
	.set_multicast = lan_set_multicast,
};

void
ust_lan9118_config_init(struct ust_lan9118_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

int
ust_lan9118_attach(struct ust_stack *st, const char *name, const struct ust_lan9118_config *cfg,
    struct ust_if **ifp, struct ust_lan9118 **nic)
{
	struct ust_lan9118 *sc;
	int error;

	if (cfg == NULL || cfg->base == 0)
		return (-UST_EINVAL);
	sc = ust_osal_mem_alloc(sizeof(*sc));
	if (sc == NULL)
		return (-UST_ENOMEM);
	memset(sc, 0, sizeof(*sc));
	sc->base = cfg->base;
	sc->rx_irq = cfg->rx_irq;
	error = lan_reset(sc, cfg);
	if (error == 0)
		error = ust_if_attach(st, name, &lan_ops, sc, ifp);
	if (error != 0) {
		ust_osal_mem_free(sc, sizeof(*sc));
		return (error);
	}
	if (nic != NULL)
		*nic = sc;
	return (0);
}

void
ust_lan9118_get_stats(struct ust_lan9118 *nic, struct ust_lan9118_stats *out)
{
	/* RX_DROP counts frames lost to a full RX FIFO and clears on read. */
	nic->stats.rx_fifo_drops += lan_rd(nic, L_RX_DROP);
	*out = nic->stats;
}
