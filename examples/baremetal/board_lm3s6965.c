/*
 * board_lm3s6965.c - start-up code and OSAL board hooks for a TI LM3S6965
 * (Cortex-M3, 256 KiB flash at 0, 64 KiB SRAM at 0x20000000), the board
 * QEMU calls lm3s6965evb.
 *
 * Reset_Handler() copies .data from flash, clears .bss and calls main().
 * ust_board_clock_ns() counts SysTick interrupts (1 ms) plus the elapsed
 * part of the current period; ust_board_putc() writes UART0.  There is no
 * entropy source, so the weak default of the port (UST_EIO) stays.  _sbrk()
 * keeps the C library's heap empty.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "ust_board.h"

/* Core clock after reset: the 12 MHz main oscillator (override with -D). */
#ifndef BOARD_CPU_HZ
#define BOARD_CPU_HZ 12000000u
#endif
#define BOARD_TICK_HZ 1000u
#define BOARD_RELOAD (BOARD_CPU_HZ / BOARD_TICK_HZ - 1u)

/* ARMv7-M SysTick (ARM DDI 0403, B3.3). */
#define SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR (*(volatile uint32_t *)0xe000e018u)
#define SYST_CSR_ENABLE 0x1u
#define SYST_CSR_TICKINT 0x2u
#define SYST_CSR_CLKSOURCE 0x4u

/* LM3S6965 UART0 (data sheet, ch. 12): data and flag registers. */
#define UART0_DR (*(volatile uint32_t *)0x4000c000u)
#define UART0_FR (*(volatile uint32_t *)0x4000c018u)
#define UART_FR_TXFF 0x20u

/* Symbols from lm3s6965.ld. */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);
void *_sbrk(ptrdiff_t incr);

/* Milliseconds since board_init(), advanced by the SysTick interrupt. */
static volatile uint32_t board_ms_lo;
static volatile uint32_t board_ms_hi;

void
board_init(void)
{
	SYST_RVR = BOARD_RELOAD;
	SYST_CVR = 0;
	SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
}

void
SysTick_Handler(void)
{
	if (++board_ms_lo == 0)
		board_ms_hi++;
}

uint64_t
ust_board_clock_ns(void)
{
	uint32_t hi, lo, cvr;

	/* Re-read if the tick interrupt moved the count under us. */
	do {
		hi = board_ms_hi;
		lo = board_ms_lo;
		cvr = SYST_CVR;
	} while (hi != board_ms_hi || lo != board_ms_lo);
	return ((((uint64_t)hi << 32) | lo) * 1000000u +
	    (uint64_t)(BOARD_RELOAD - cvr) * 1000000000u / BOARD_CPU_HZ);
}

void
ust_board_putc(int c)
{
	if (c == '\n')
		ust_board_putc('\r');
	while ((UART0_FR & UART_FR_TXFF) != 0)
		;
	UART0_DR = (uint32_t)(unsigned char)c;
}

/*
 * The C library's heap is empty: the OSAL arena is the only heap on this
 * board.  newlib's printf family refers to malloc (which calls this), so
 * it is linked, but vsnprintf() into a buffer never calls it; anything
 * else that does gets NULL instead of memory that overlaps the stack.
 */
void *
_sbrk(ptrdiff_t incr)
{
	(void)incr;
	errno = ENOMEM;
	return ((void *)-1);
}

void
Default_Handler(void)
{
	for (;;)
		;
}

void
Reset_Handler(void)
{
	uint32_t *src, *dst;

	for (src = _sidata, dst = _sdata; dst < _edata;)
		*dst++ = *src++;
	for (dst = _sbss; dst < _ebss;)
		*dst++ = 0;
	(void)main();
	for (;;)
		;
}

/* The vector table (ARMv7-M B1.5.3): the initial stack pointer, then the
 * handlers.  A union keeps the stack address a data pointer. */
union board_vector {
	uint32_t *sp;
	void (*fn)(void);
};

static const union board_vector board_vectors[16] __attribute__((section(".isr_vector"), used)) = {
	[0] = { .sp = _estack },
	[1] = { .fn = Reset_Handler },
	[2] = { .fn = Default_Handler },  /* NMI */
	[3] = { .fn = Default_Handler },  /* HardFault */
	[4] = { .fn = Default_Handler },  /* MemManage */
	[5] = { .fn = Default_Handler },  /* BusFault */
	[6] = { .fn = Default_Handler },  /* UsageFault */
	[11] = { .fn = Default_Handler }, /* SVCall */
	[12] = { .fn = Default_Handler }, /* DebugMonitor */
	[14] = { .fn = Default_Handler }, /* PendSV */
	[15] = { .fn = SysTick_Handler },
};
