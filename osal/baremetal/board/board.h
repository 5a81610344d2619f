/*
 * board.h - what firmware uses of a board, besides the OSAL hooks of
 * ust_board.h (clock, entropy, log output, panic), which every board in
 * this folder also defines.
 *
 * One board = one C file and one linker script in this folder
 * (mps2_an385.c + mps2_an385.ld, lm3s6965evb.c + lm3s6965evb.ld), on top of
 * the Cortex-M common part (cortex_m.c: vector table, reset, SysTick,
 * semihosting).  The firmware (firmware/) and the bare-metal example
 * (examples/baremetal) are written against this header only, so a new
 * board needs no change above it.
 *
 * Channels a board gives:
 *   log      UART0 (ust_board_putc), the serial console QEMU shows first.
 *   control  UART1: a byte stream to the host that is not the network
 *            under test (firmware/fw_ctl.c speaks the control protocol on
 *            it; QEMU connects it to a chardev socket).
 *   network  the board's Ethernet MAC, attached as an ustack interface.
 */
#ifndef UST_BOARD_BOARD_H
#define UST_BOARD_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

#ifdef __cplusplus
extern "C" {
#endif

struct board_info {
	const char *name;   /* "mps2-an385": QEMU's -M name */
	uint32_t ram_bytes; /* RAM the linker script gives to data, heap and stacks */
	uint32_t cpu_hz;    /* core clock SysTick is programmed from */
};

extern const struct board_info board_info;

/* Clocks, the 1 kHz SysTick behind ust_board_clock_ns(), the UARTs. */
void board_init(void);

/* The board's Ethernet as interface `name` of `st` (MAC address from the
 * NIC).  0 or an UST_E* code. */
int board_nic_attach(struct ust_stack *st, const char *name, struct ust_if **ifp);

/* The control UART: the bytes that have arrived, at most len, without
 * blocking (0 when none). */
size_t board_ctl_read(void *buf, size_t len);
/* Sends len bytes on the control UART, waiting for room as needed. */
void board_ctl_write(const void *buf, size_t len);

/* The command line the host gave (semihosting SYS_GET_CMDLINE; QEMU's
 * -kernel path, a space and -append), NUL-terminated in buf.  Its length,
 * 0 when there is none; len (buf empty) when there is one longer than
 * len - 1 bytes, which semihosting does not give in part. */
size_t board_cmdline(char *buf, size_t len);

/* Ends the program with `status` (semihosting SYS_EXIT_EXTENDED: QEMU with
 * -semihosting-config enable=on,target=native exits with it).  Without a
 * debugger or QEMU it stops the core. */
_Noreturn void board_exit(int status);

/* Sleeps until the next interrupt (SysTick at the latest): the idle loop of
 * a firmware that polls. */
void board_idle(void);

#ifdef __cplusplus
}
#endif
#endif /* UST_BOARD_BOARD_H */
