/*
 * board.h - what main.c uses of the example board (board_lm3s6965.c)
 * besides the OSAL hooks in ust_board.h.
 */
#ifndef EX_BOARD_H
#define EX_BOARD_H

/* Starts the 1 ms SysTick that drives ust_board_clock_ns(). */
void board_init(void);

#endif /* EX_BOARD_H */
