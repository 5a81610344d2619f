/*
 * ustack_stellaris.h - driver for the Ethernet MAC of TI's Stellaris
 * LM3S6x/LM3S8x/LM3S9x microcontrollers (QEMU's lm3s6965evb models the
 * LM3S6965's), polled, through its register FIFOs.
 *
 * The controller has no DMA: received frames sit in a 2 KiB receive FIFO
 * that software reads a word at a time, each frame preceded by a 16-bit
 * length that counts itself, the frame and the FCS (QEMU's model does the
 * same, measured: a 60-byte frame reads as 66); a frame to send is written
 * word by word into the transmit FIFO after a 16-bit length of the data
 * field (the frame less its 14-byte header) and goes when MACTR.NEWTX is
 * set.  So both directions copy: rx_burst reads each frame into a new mbuf
 * (ust_mbuf_alloc), tx_burst gathers the frame's chain into the FIFO and
 * frees it at once.  No offload (caps 0: the stack
 * computes every checksum), no interrupts (the MAC's are masked; the
 * firmware polls).
 *
 * Use:
 *	static struct ust_stellaris nic;
 *	ust_stellaris_config_init(&cfg);              (MAC from MACIA0/1)
 *	ust_stellaris_init(&nic, &cfg);
 *	ust_if_attach(st, "eth0", ust_stellaris_ops(), &nic, &ifp);
 */
#ifndef USTACK_STELLARIS_H
#define USTACK_STELLARIS_H

#include <stdint.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The LM3S6965's Ethernet controller (data sheet, memory map). */
#define UST_STELLARIS_BASE 0x40048000u

struct ust_stellaris_config {
	uintptr_t base; /* register block, default UST_STELLARIS_BASE */
	/* The station address.  All zero (default): keep what MACIA0/1 hold
	 * (QEMU loads its -nic mac= there); else written into them. */
	uint8_t mac[6];
	uint32_t promisc; /* 1: receive every frame (MACRCTL.PRMS); default 0 */
	/* 1: unmask the receive interrupt (MACIM.RXINT) so that the MAC's
	 * interrupt line rises while a frame waits, for a firmware that sleeps
	 * in WFI with the line enabled in the NVIC but never takes the
	 * interrupt (cortex_m.h cm_idle).  rx_burst acknowledges it before
	 * reading.  Default 0: every interrupt masked. */
	uint32_t rx_irq;
};

struct ust_stellaris_stats {
	uint32_t rx_frames;   /* handed to the stack */
	uint32_t rx_bytes;    /* their bytes (Ethernet header, no FCS) */
	uint32_t rx_deferred; /* polls that left a frame in the FIFO: no mbuf yet */
	uint32_t rx_nombuf;   /* dropped: still no mbuf after those polls */
	uint32_t rx_badlen;   /* impossible length word: FIFO flushed */
	uint32_t rx_overflow; /* MACRIS.FOV seen: the FIFO dropped frames */
	uint32_t rx_errors;   /* MACRIS.RXER seen: a frame was received bad */
	uint32_t tx_frames;   /* written into the transmit FIFO and sent */
	uint32_t tx_bytes;    /* their bytes (no FCS, no padding) */
	uint32_t tx_busy;     /* tx_burst found the FIFO still sending */
	uint32_t tx_toolong;  /* dropped: more than the FIFO takes */
	uint32_t tx_errors;   /* MACRIS.TXER seen */
};

/* One controller.  Fields are the driver's; the struct is public so that
 * a board can place it statically (there may be no heap to ask). */
struct ust_stellaris {
	uintptr_t sc_base;
	uint32_t sc_rx_irq;
	uint32_t sc_rx_w0;    /* length word of a frame left in the FIFO; 0: none */
	uint32_t sc_rx_waits; /* polls it has waited for a buffer */
	uint8_t sc_mac[6];
	struct ust_stellaris_stats sc_stats;
};

void ust_stellaris_config_init(struct ust_stellaris_config *cfg);
/* Resets the FIFOs, programs the address and enables receive and
 * transmit, interrupts masked.  0, or -UST_EINVAL (NULL, or base 0). */
int ust_stellaris_init(struct ust_stellaris *sc, const struct ust_stellaris_config *cfg);
/* The operations to give ust_if_attach() with sc as the softc. */
const struct ust_driver_ops *ust_stellaris_ops(void);
void ust_stellaris_get_stats(const struct ust_stellaris *sc, struct ust_stellaris_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_STELLARIS_H */
