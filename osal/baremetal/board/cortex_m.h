/*
 * cortex_m.h - what every Cortex-M board of this folder shares
 * (cortex_m.c): the vector table and Reset_Handler, the SysTick clock
 * behind ust_board_clock_ns(), semihosting (command line, exit), the
 * newlib system-call stubs, board_cmdline(), board_exit(),
 * ust_board_panic() and the WFI sleep behind board_idle().
 *
 * A board file (mps2_an385.c, lm3s6965evb.c) adds the rest of board.h and
 * ust_board.h (board_info, board_init, the NIC, the UARTs, entropy) and
 * starts the clock from its board_init():
 *
 *   Reset_Handler() -> copy .data, zero .bss -> main() -> board_init()
 *     -> cm_systick_start() ...  main() returns -> board_exit(status)
 *
 * The linker script of the board provides the symbols of cm_link below
 * and puts .isr_vector first in the code region.
 */
#ifndef UST_BOARD_CORTEX_M_H
#define UST_BOARD_CORTEX_M_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SysTick's clock source (ARMv7-M B3.3.3, SYST_CSR.CLKSOURCE). */
enum cm_systick_source {
	CM_SYSTICK_CPU = 1, /* the processor clock */
	CM_SYSTICK_REF = 0, /* the implementation's reference clock (QEMU's
			     * lm3s6965evb counts only with this one) */
};

/* Starts SysTick interrupting at 1 kHz from a clock of clk_hz on `src`;
 * ust_board_clock_ns() counts the interrupts and reads the current
 * count down for the time within the millisecond.  clk_hz must be a
 * multiple of 1000 between 1 kHz and 16.7 GHz (a 24-bit reload). */
void cm_systick_start(uint32_t clk_hz, enum cm_systick_source src);

/*
 * Sleeps (WFI) until an interrupt: SysTick's, or one of the device
 * interrupts in `irqs` (bit n: NVIC interrupt n, 0..63) becoming pending.
 * They are enabled in the NVIC only around the WFI, with PRIMASK set: a
 * pending interrupt then wakes the core (ARMv7-M B1.5.19) without being
 * taken, and is disabled and cleared again before interrupts are back
 * on.  So a device can wake a polling firmware without a handler (the
 * driver clears the device's own interrupt status as it polls); SysTick,
 * pended meanwhile, runs at the final cpsie.  A board's board_idle() is
 * one call of this, naming its NIC's and control UART's receive
 * interrupts.  cm_idle(irq) is the same with one interrupt (-1: none).
 */
void cm_idle_mask(uint64_t irqs);
void cm_idle(int irq);

/* Semihosting (ARM "Semihosting for AArch32 and AArch64", v2): the
 * operation number and parameter block go in r0 and r1 of a BKPT 0xAB.
 * Without a debugger or QEMU's -semihosting the BKPT faults; the
 * HardFault handler then skips it and the call returns -1, so a board
 * running alone is not stopped by a semihosting call. */
#define CM_SYS_GET_CMDLINE 0x15
#define CM_SYS_EXIT_EXTENDED 0x20
#define CM_ADP_STOPPED_APPLICATION_EXIT 0x20026
intptr_t cm_semihost(uint32_t op, void *arg);

/* The handlers of the vector table, for boards that add device
 * interrupts to their own table (none does today). */
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void SysTick_Handler(void);

#ifdef __cplusplus
}
#endif
#endif /* UST_BOARD_CORTEX_M_H */
