/*
 * ustack_lan9118.h - driver for the SMSC (Microchip) LAN9118 10/100
 * Ethernet controller, memory-mapped in 32-bit mode: the NIC of ARM's MPS2
 * boards (and of QEMU's mps2-an385, mps2-an386, mps2-an500).
 *
 * The chip has FIFOs instead of descriptor rings, so the driver copies:
 * rx_burst reads each frame out of the RX data FIFO into an mbuf
 * (ust_mbuf_alloc) and tx_burst gathers each mbuf chain into the TX data
 * FIFO word by word; no mbuf is held after a call returns.  Polled: the
 * chip's interrupt line is used, if at all, only to wake a sleeping core
 * (rx_irq), never serviced.  No offloads (caps 0): the LAN9118 has none
 * (its sibling LAN9220 has checksum offload, not used here).
 *
 * Back-pressure: tx_burst takes a frame only while the TX data FIFO has
 * room for all of it and refuses the rest.  Receive overflow is the
 * chip's: frames that do not fit its RX FIFO are dropped by the chip
 * (counted in RX_DROP, rx_fifo_drops below).
 *
 * Datasheet facts relied on (SMSC LAN9118 rev. 1.5): the RX status word
 * gives the frame length including the 4-byte FCS, which stays in the
 * data FIFO and is discarded here; MAC_CR.RXEN/TXEN and TX_CFG.TX_ON must
 * be set or nothing moves; the station address is read from the MAC's
 * ADDRH/ADDRL registers (loaded from the EEPROM, or set by QEMU's
 * -nic macaddr=).
 */
#ifndef USTACK_LAN9118_H
#define USTACK_LAN9118_H

#include <stdint.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_lan9118_config {
	uintptr_t base; /* register block (MPS2: 0x40200000); required */
	/* 1: enable the chip's IRQ output (active high, push-pull) for
	 * "receive status FIFO not empty", for a board that wakes from WFI
	 * on it; the driver clears the source at each rx_burst.  Default 0. */
	int rx_irq;
	/* Station address to program; all zero (default): keep the one the
	 * chip has, or 02:00:00:00:91:18 if that is zero too. */
	uint8_t mac[6];
};

struct ust_lan9118_stats {
	uint64_t rx_frames;     /* frames handed to the stack */
	uint64_t rx_errors;     /* frames with the error summary bit, or a bad length */
	uint64_t rx_nombuf;     /* frames dropped: the stack had no mbuf */
	uint64_t rx_fifo_drops; /* frames the chip dropped (RX_DROP register) */
	uint64_t tx_frames;     /* frames written to the TX FIFO */
	uint64_t tx_full;       /* offers refused: no room in the TX FIFO */
	uint64_t tx_errors;     /* TX status words with the error summary bit,
				 * and frames dropped as too long */
};

struct ust_lan9118;

UST_API void ust_lan9118_config_init(struct ust_lan9118_config *cfg);
/* Resets the chip at cfg->base, programs it and attaches it to st as
 * interface `name`.  0, or -UST_ENODEV (no LAN9118 answers at base),
 * -UST_ENOMEM, or ust_if_attach()'s error.  *nic (if nic is not NULL) is
 * the driver's handle for ust_lan9118_get_stats(), valid until the
 * interface is detached (the driver frees it then). */
UST_API int ust_lan9118_attach(struct ust_stack *st, const char *name,
    const struct ust_lan9118_config *cfg, struct ust_if **ifp, struct ust_lan9118 **nic);
UST_API void ust_lan9118_get_stats(struct ust_lan9118 *nic, struct ust_lan9118_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_LAN9118_H */
