/*
 * mps2_an385.c - ARM MPS2 with the AN385 FPGA image (Cortex-M3 at 25 MHz),
 * QEMU's -M mps2-an385; the same image runs on mps2-an386 (Cortex-M4) and
 * mps2-an500 (Cortex-M7), whose maps differ only where noted.
 *
 *   0x00000000  4 MiB ZBT SSRAM1: code, read-only data, .data's image
 *   0x20000000  4 MiB ZBT SSRAM2/3: .data, .bss with the OSAL heap
 *               arena, the main stack (mps2_an385.ld)
 *   0x40004000  CMSDK APB UART0: the log (ust_board_putc)
 *   0x40005000  CMSDK APB UART1: the control channel (board_ctl_*), RX IRQ 2
 *   0x4002f000  the FPGA's serial configuration controller: SCC_ID tells
 *               AN385 / AN386 / AN500 apart
 *   0x40200000  SMSC LAN9118 Ethernet (AN500: 0xa0000000), IRQ 13
 *
 * Entropy: the board has no random-number generator.  ust_board_entropy()
 * mixes what differs between boots of a real board: the LAN9118's
 * free-running 25 MHz counter (started at its power-on, read after a
 * variable amount of start-up work), SysTick's current count, the
 * millisecond count, through a 64-bit mixer.  Under
 * QEMU with -icount all of that repeats exactly, and on hardware it has
 * little unpredictability; it is enough for test runs to differ, NOT for
 * ISNs or ports an attacker must not guess.  A product built on this
 * board must add a real source (a TRNG, or a seed provisioned per device
 * and kept in flash) or pass seed= on the command line.
 */
#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>
#include <ustack/ustack_lan9118.h>

#include "board.h"
#include "cortex_m.h"
#include "ust_board.h"

#define MPS2_CPU_HZ 25000000u

/* CMSDK APB UART (ARM DDI 0479, 4.3): data, state, control, baud divider. */
#define MPS2_UART0 0x40004000u
#define MPS2_UART1 0x40005000u
#define UART_DATA(b) (*(volatile uint32_t *)((b) + 0x00u))
#define UART_STATE(b) (*(volatile uint32_t *)((b) + 0x04u))
#define UART_CTRL(b) (*(volatile uint32_t *)((b) + 0x08u))
#define UART_INTSTATUS(b) (*(volatile uint32_t *)((b) + 0x0cu))
#define UART_BAUDDIV(b) (*(volatile uint32_t *)((b) + 0x10u))
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_CTRL_TXEN 0x1u
#define UART_CTRL_RXEN 0x2u
#define UART_CTRL_RXINTEN 0x8u
#define UART_INT_RX 0x2u
#define MPS2_UART1_RX_IRQ 2
#define MPS2_BAUD 115200u

/* Serial configuration controller: its ID register names the image. */
#define MPS2_SCC_ID (*(volatile uint32_t *)0x4002fffcu)
#define MPS2_SCC_ID_AN500 0x500u

#define MPS2_ETH_BASE 0x40200000u
#define MPS2_AN500_ETH_BASE 0xa0000000u
#define MPS2_ETH_IRQ 13
#define LAN9118_FREE_RUN_OFF 0x9cu

const struct board_info board_info = {
	.name = "mps2-an385",
	.ram_bytes = 4u * 1024u * 1024u,
	.cpu_hz = MPS2_CPU_HZ,
};

static uintptr_t
mps2_eth_base(void)
{
	return (((MPS2_SCC_ID >> 4) & 0xfffu) == MPS2_SCC_ID_AN500 ? MPS2_AN500_ETH_BASE :
	                                                             MPS2_ETH_BASE);
}

static void
mps2_uart_init(uintptr_t base, uint32_t ctrl)
{
	UART_BAUDDIV(base) = MPS2_CPU_HZ / MPS2_BAUD;
	UART_CTRL(base) = ctrl;
}

void
board_init(void)
{
	mps2_uart_init(MPS2_UART0, UART_CTRL_TXEN | UART_CTRL_RXEN);
	/* The control UART's receive interrupt wakes board_idle(). */
	mps2_uart_init(MPS2_UART1, UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN);
	cm_systick_start(MPS2_CPU_HZ, CM_SYSTICK_CPU);
}

int
board_nic_attach(struct ust_stack *st, const char *name, struct ust_if **ifp)
{
	struct ust_lan9118_config cfg;

	ust_lan9118_config_init(&cfg);
	cfg.base = mps2_eth_base();
	/* The chip's IRQ line wakes board_idle()'s WFI when a frame comes
	 * in; the interrupt itself is never taken (see board_idle). */
	cfg.rx_irq = 1;
	return (ust_lan9118_attach(st, name, &cfg, ifp, NULL));
}

/* Sleep until SysTick, a received frame or a control byte (cortex_m.h:
 * the interrupts wake the WFI but are never taken: no handlers).  Without
 * the control UART's, each control byte would wait for the next tick. */
void
board_idle(void)
{
	cm_idle_mask(1ull << MPS2_ETH_IRQ | 1ull << MPS2_UART1_RX_IRQ);
}

void
ust_board_putc(int c)
{
	if (c == '\n')
		ust_board_putc('\r');
	while ((UART_STATE(MPS2_UART0) & UART_STATE_TXFULL) != 0)
		;
	UART_DATA(MPS2_UART0) = (uint32_t)(unsigned char)c;
}

size_t
board_ctl_read(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t n = 0;

	/* Clear the wake-up source first: a byte arriving after this sets
	 * it again. */
	UART_INTSTATUS(MPS2_UART1) = UART_INT_RX;
	while (n < len && (UART_STATE(MPS2_UART1) & UART_STATE_RXFULL) != 0)
		p[n++] = (unsigned char)UART_DATA(MPS2_UART1);
	return (n);
}

void
board_ctl_write(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len-- > 0) {
		while ((UART_STATE(MPS2_UART1) & UART_STATE_TXFULL) != 0)
			;
		UART_DATA(MPS2_UART1) = *p++;
	}
}

/* SplitMix64's finaliser (Steele, Lea, Flood 2014): every input bit
 * moves every output bit. */
static uint64_t
mps2_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

/* See "Entropy" at the top: weak, documented, for tests only. */
int
ust_board_entropy(void *buf, size_t len)
{
	volatile uint32_t *free_run = (volatile uint32_t *)(mps2_eth_base() + LAN9118_FREE_RUN_OFF);
	volatile uint32_t *syst_cvr = (volatile uint32_t *)0xe000e018u;
	static uint64_t pool; /* machine state, like the clock */
	unsigned char *p = buf;
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0) {
			pool = mps2_mix(
			    pool ^ ((uint64_t)*free_run << 32 | *syst_cvr) ^ ust_board_clock_ns());
			v = pool;
		}
		p[i] = (unsigned char)(v >> (8 * (i % 8)));
	}
	return (0);
}
