/*
 * lm3s6965evb.c - the TI LM3S6965 evaluation board as QEMU models it
 * (-M lm3s6965evb): a Cortex-M3 with 256 KiB of flash at 0x0 and 64 KiB of
 * SRAM at 0x20000000 (lm3s6965evb.ld), on top of cortex_m.c.
 *
 *   log       UART0 (0x4000c000), ust_board_putc()
 *   control   UART1 (0x4000d000), board_ctl_read/write(), IRQ 6
 *   network   the Ethernet MAC (0x40048000), drivers/stellaris, IRQ 42
 *   clock     SysTick on the reference clock (QEMU's lm3s6965evb counts
 *             only with CLKSOURCE = reference; measured 12.5 MHz against
 *             the host's clock, i.e. the 50 MHz system clock / 4)
 *   entropy   see ust_board_entropy() below
 *
 * The UARTs are PL011-like (LM3S6965 data sheet, UART chapter: DR at
 * 0x000, FR at 0x018 with RXFE bit 4 and TXFF bit 5, LCRH at 0x02c, CTL
 * at 0x030); the peripherals' clocks are gated on in RCGC1/RCGC2 first,
 * as the real part needs (QEMU ignores the gates).
 */
#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_stellaris.h>

#include "board.h"
#include "cortex_m.h"
#include "ust_board.h"

/* System control (data sheet, System Control chapter). */
#define SYSCTL_RCGC0 (*(volatile uint32_t *)0x400fe100u)
#define SYSCTL_RCGC1 (*(volatile uint32_t *)0x400fe104u)
#define SYSCTL_RCGC2 (*(volatile uint32_t *)0x400fe108u)
#define RCGC0_ADC 0x00010000u
#define RCGC1_UART0 0x00000001u
#define RCGC1_UART1 0x00000002u
#define RCGC2_EMAC0 0x10000000u
#define RCGC2_EPHY0 0x40000000u

#define UART0_BASE 0x4000c000u
#define UART1_BASE 0x4000d000u
#define UART_DR 0x000u
#define UART_FR 0x018u
#define UART_LCRH 0x02cu
#define UART_CTL 0x030u
#define UART_IM 0x038u
#define UART_FR_RXFE 0x10u
#define UART_FR_TXFF 0x20u
#define UART_LCRH_FEN_8BIT 0x70u /* FIFOs on, 8 data bits */
#define UART_CTL_EN_TX_RX 0x301u /* UARTEN, TXE, RXE */
#define UART_IM_RX_RT 0x50u      /* receive, receive time-out */

/* ADC0, sample sequencer 3 (one sample per trigger). */
#define ADC_BASE 0x40038000u
#define ADC_ACTSS 0x000u
#define ADC_RIS 0x004u
#define ADC_ISC 0x00cu
#define ADC_EMUX 0x014u
#define ADC_PSSI 0x028u
#define ADC_SSMUX3 0x0a0u
#define ADC_SSCTL3 0x0a4u
#define ADC_SSFIFO3 0x0a8u
#define ADC_SS3 0x08u
#define ADC_SSCTL_END0_IE0 0x06u
#define ADC_SPIN_MAX 10000u

/* SysTick's current count (ARMv7-M B3.3) and the MAC's address register
 * (MACIA0, ustack_stellaris.h's controller), read for entropy. */
#define SYST_CVR (*(volatile uint32_t *)0xe000e018u)
#define MACIA0 0x014u

/* Interrupt numbers (data sheet, interrupt table). */
#define LM3S_UART1_IRQ 6
#define LM3S_ETH_IRQ 42

/* The reference clock SysTick counts (above). */
#define LM3S_SYSTICK_REF_HZ 12500000u

#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))

const struct board_info board_info = {
	.name = "lm3s6965evb",
	.ram_bytes = 64u * 1024u,
	.cpu_hz = 50000000u,
};

/* The MAC (machine state, like the OSAL arena: one per board). */
static struct ust_stellaris lm3s_nic;

static void
lm3s_uart_init(uint32_t base)
{
	REG(base, UART_CTL) = 0;
	REG(base, UART_LCRH) = UART_LCRH_FEN_8BIT;
	REG(base, UART_CTL) = UART_CTL_EN_TX_RX;
}

void
board_init(void)
{
	SYSCTL_RCGC0 |= RCGC0_ADC;
	SYSCTL_RCGC1 |= RCGC1_UART0 | RCGC1_UART1;
	SYSCTL_RCGC2 |= RCGC2_EMAC0 | RCGC2_EPHY0;
	lm3s_uart_init(UART0_BASE);
	lm3s_uart_init(UART1_BASE);
	/* Received control bytes raise UART1's line: they wake board_idle()
	 * (never taken, like the MAC's). */
	REG(UART1_BASE, UART_IM) = UART_IM_RX_RT;
	/* ADC: sequencer 3, processor trigger, channel 0, one sample. */
	REG(ADC_BASE, ADC_ACTSS) &= ~ADC_SS3;
	REG(ADC_BASE, ADC_EMUX) &= ~0xf000u;
	REG(ADC_BASE, ADC_SSMUX3) = 0;
	REG(ADC_BASE, ADC_SSCTL3) = ADC_SSCTL_END0_IE0;
	REG(ADC_BASE, ADC_ACTSS) |= ADC_SS3;
	cm_systick_start(LM3S_SYSTICK_REF_HZ, CM_SYSTICK_REF);
}

int
board_nic_attach(struct ust_stack *st, const char *name, struct ust_if **ifp)
{
	struct ust_stellaris_config cfg;
	int error;

	ust_stellaris_config_init(&cfg);
	/* The MAC's interrupt line wakes board_idle()'s WFI when a frame
	 * comes in; the interrupt itself is never taken (cortex_m.h). */
	cfg.rx_irq = 1;
	error = ust_stellaris_init(&lm3s_nic, &cfg);
	if (error != 0)
		return (error);
	return (ust_if_attach(st, name, ust_stellaris_ops(), &lm3s_nic, ifp));
}

/* Sleeps until SysTick, a received frame or control bytes. */
void
board_idle(void)
{
	cm_idle_mask(1ull << LM3S_ETH_IRQ | 1ull << LM3S_UART1_IRQ);
}

void
ust_board_putc(int c)
{
	if (c == '\n')
		ust_board_putc('\r');
	while (REG(UART0_BASE, UART_FR) & UART_FR_TXFF)
		;
	REG(UART0_BASE, UART_DR) = (uint32_t)(unsigned char)c;
}

size_t
board_ctl_read(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t n = 0;

	while (n < len && (REG(UART1_BASE, UART_FR) & UART_FR_RXFE) == 0)
		p[n++] = (uint8_t)REG(UART1_BASE, UART_DR);
	return (n);
}

void
board_ctl_write(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		while (REG(UART1_BASE, UART_FR) & UART_FR_TXFF)
			;
		REG(UART1_BASE, UART_DR) = p[i];
	}
}

/* One ADC conversion (10 bits), or 0 when none completes; after one
 * that did not, the ADC is not tried again (QEMU: below). */
static uint32_t
lm3s_adc_sample(void)
{
	static int lm3s_adc_dead;
	uint32_t spin;

	if (lm3s_adc_dead)
		return (0);
	REG(ADC_BASE, ADC_PSSI) = ADC_SS3;
	for (spin = 0; spin < ADC_SPIN_MAX; spin++) {
		if (REG(ADC_BASE, ADC_RIS) & ADC_SS3) {
			REG(ADC_BASE, ADC_ISC) = ADC_SS3;
			return (REG(ADC_BASE, ADC_SSFIFO3) & 0x3ffu);
		}
	}
	lm3s_adc_dead = 1;
	return (0);
}

/* A 32-bit mixing step (an odd multiply and xor-shifts, the finaliser of
 * a common hash): spreads every input bit over the word. */
static uint32_t
lm3s_mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return (h);
}

/*
 * Entropy.  The LM3S6965 has no random number generator.  What the board
 * has that varies:
 *  - the ADC: on the real part, the low bits of a conversion of a
 *    floating input are noise.  QEMU's lm3s6965evb (7.2) does not start a
 *    conversion on the processor trigger (ADCPSSI): measured, ADCRIS never
 *    sets, so under QEMU the ADC adds nothing; the first conversion
 *    that does not complete turns the ADC off here;
 *  - timing: SysTick's count, read after each ADC attempt.  Under QEMU
 *    without -icount, virtual time follows the host's clock, so the count
 *    at a given instruction varies from run to run (measured: different
 *    bytes at every boot); with -icount it repeats exactly (measured: the
 *    same bytes at every boot).
 *  - the station address (per board on real hardware; QEMU's -nic mac=).
 * All of it goes through lm3s_mix() per output word.  This is enough to
 * make ISNs, ports and IDs differ between boots under QEMU without
 * -icount and on a real board; it is not a cryptographic source, and a
 * run that must repeat passes seed=N on the command line instead.
 */
int
ust_board_entropy(void *buf, size_t len)
{
	static uint32_t pool; /* carried between calls: bytes never repeat */
	uint8_t *p = buf;
	uint32_t w, cvr, i;
	size_t k;

	for (k = 0; k < len; k += 4) {
		for (i = 0; i < 4; i++) {
			w = lm3s_adc_sample();
			cvr = SYST_CVR;
			pool = lm3s_mix(pool, w << 24 ^ cvr ^ REG(UST_STELLARIS_BASE, MACIA0));
		}
		w = pool;
		for (i = 0; i < 4 && k + i < len; i++)
			p[k + i] = (uint8_t)(w >> (8 * i));
	}
	return (0);
}
