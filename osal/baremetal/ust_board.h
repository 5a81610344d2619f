/*
 * ust_board.h - the hooks a board gives the bare-metal OSAL port
 * (osal/baremetal/osal_baremetal.c).
 *
 * Every hook has a weak default in the port, so a board that lacks a piece
 * of hardware simply does not define the hook:
 *
 *   ust_board_clock_ns()  monotonic time in ns.  Default: a counter that
 *                         advances UST_BAREMETAL_FALLBACK_TICK_NS per read,
 *                         so timers still make progress (slowly, and not in
 *                         real time) on a board without a timer.
 *   ust_board_entropy()   unpredictable bytes; 0 or UST_EIO.  Default:
 *                         UST_EIO (set a seed in the stack config instead).
 *   ust_board_putc()      one character of log output (a UART data
 *                         register).  Default: output is discarded.
 *   ust_board_panic()     a broken invariant (UST_DEBUG builds only), after
 *                         the message went out through ust_board_putc():
 *                         stop the way the board wants (breakpoint, reset,
 *                         semihosting exit).  If it returns, the port spins
 *                         forever.  Default: returns at once.
 *
 * A board defines them with ordinary (strong) definitions in an object file
 * it links; strong definitions replace the weak defaults at link time.
 * Put them in an object, not in an archive member that nothing else pulls
 * in: the linker does not search archives for a symbol it already has.
 */
#ifndef UST_BOARD_H
#define UST_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint64_t ust_board_clock_ns(void);
int ust_board_entropy(void *buf, size_t len);
void ust_board_putc(int c);
void ust_board_panic(const char *msg);

#ifdef __cplusplus
}
#endif
#endif /* UST_BOARD_H */
