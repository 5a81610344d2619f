/*
 * main.c - the board firmware (being written: this first version only
 * brings the board up and exits, so that the board build links).
 */
#include "board.h"

int main(void);

int
main(void)
{
	board_init();
	return (0);
}
