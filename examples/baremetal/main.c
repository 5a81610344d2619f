/*
 * main.c - the smallest bare-metal ustack program: create a stack whose
 * clock is the board's, attach the board's Ethernet, poll it a few times,
 * destroy it, and exit 0.
 *
 * It is written against the board layer (osal/baremetal/board/board.h),
 * so the same file runs on every board there; the board build makes
 * build/board-<board>/baremetal_example.elf, and
 *
 *   qemu-system-arm -M lm3s6965evb -display none -serial stdio \
 *       -semihosting-config enable=on,target=native \
 *       -kernel build/board-lm3s6965evb/baremetal_example.elf
 *
 * prints one line on UART0 and exits with main()'s status (cortex_m.c's
 * Reset_Handler hands it to board_exit(), semihosting's exit).
 * Call order: Reset_Handler() -> main() -> board_init() ->
 * ust_stack_create() -> board_nic_attach() -> ust_stack_poll() x N ->
 * ust_stack_destroy() -> board_exit(0).
 */
#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

#include "board.h"
#include "ust_board.h"

#define EX_POLLS 8

/* The stack's clock: the board's timer, through the OSAL port's hook. */
static uint64_t
ex_board_now(void *ctx)
{
	(void)ctx;
	return (ust_board_clock_ns());
}

int
main(void)
{
	struct ust_stack_config cfg;
	struct ust_stack *st;
	struct ust_if *ifp;
	int error, i;

	board_init();
	ust_stack_config_init(&cfg);
	cfg.clock.now_ns = ex_board_now;
	cfg.clock.ctx = NULL;
	/* The PRNG is seeded from ust_board_entropy() (what the board has is
	 * documented in its file).  Memory: sized for the smallest board
	 * (64 KiB of SRAM); the hash tables scale with mem_limit, so it must
	 * be set on a small board rather than left to the arena. */
	cfg.mem_limit = 48u * 1024u;
	cfg.nmbufs = 32;
	cfg.nmbclusters = 8;
	cfg.nmbjumbo9 = 0;

	error = ust_stack_create(&cfg, &st);
	if (error != 0) {
		ust_log(&cfg.log, UST_LOG_ERR, "ust_stack_create: %s", ust_strerror(error));
		return (1);
	}
	error = board_nic_attach(st, "eth0", &ifp);
	if (error != 0) {
		ust_log(&cfg.log, UST_LOG_ERR, "board_nic_attach: %s", ust_strerror(error));
		ust_stack_destroy(st);
		return (1);
	}
	for (i = 0; i < EX_POLLS; i++)
		(void)ust_stack_poll(st);
	ust_stack_destroy(st);
	/* Through the OSAL log sink to ust_board_putc(), i.e. UART0. */
	ust_log(&cfg.log, UST_LOG_NOTICE,
	    "ustack %s on %s: bare-metal stack created, polled %d times, destroyed", ust_version(),
	    board_info.name, EX_POLLS);
	return (0);
}
