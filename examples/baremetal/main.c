/*
 * main.c - the smallest bare-metal ustack program: create a stack whose
 * clock is the board's, poll it a few times, destroy it.
 *
 * It is linked for an LM3S6965-like Cortex-M3 (board_lm3s6965.c,
 * lm3s6965.ld) by scripts/cross-build.sh, so that any symbol the portable
 * core needs and the bare-metal OSAL port does not provide fails the link.
 * Call order: Reset_Handler() -> main() -> ust_stack_create() ->
 * ust_stack_poll() x N -> ust_stack_destroy().
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
	int error, i;

	board_init();
	ust_stack_config_init(&cfg);
	cfg.clock.now_ns = ex_board_now;
	cfg.clock.ctx = NULL;
	/* No entropy source on this board: a fixed seed (a real product mixes
	 * in something unpredictable, e.g. ADC noise, per device). */
	cfg.seed_set = 1;
	cfg.seed = 0x5eed;
	/* Sized for 64 KiB of SRAM, not for a server. */
	cfg.mem_limit = 24u * 1024u;
	cfg.nmbufs = 32;
	cfg.nmbclusters = 8;
	cfg.nmbjumbo9 = 0;

	error = ust_stack_create(&cfg, &st);
	if (error != 0) {
		ust_log(&cfg.log, UST_LOG_ERR, "ust_stack_create: %s", ust_strerror(error));
		return (1);
	}
	for (i = 0; i < EX_POLLS; i++)
		(void)ust_stack_poll(st);
	ust_stack_destroy(st);
	/* Through the OSAL log sink to ust_board_putc(), i.e. UART0. */
	ust_log(&cfg.log, UST_LOG_NOTICE,
	    "ustack %s: bare-metal stack created, polled %d times, destroyed", ust_version(),
	    EX_POLLS);
	return (0);
}
