/*
 * test_loopdrv.h - a scripted driver for unit tests: frames the test puts
 * in its rx queue come up through rx_burst; frames the stack transmits are
 * kept (as bytes) for the test to inspect; tx_budget makes it refuse frames
 * to exercise backpressure.
 */
#ifndef UST_TEST_LOOPDRV_H
#define UST_TEST_LOOPDRV_H

#include <ustack/ustack_driver.h>

#define LOOPDRV_MAX 64
#define LOOPDRV_FRAME 2048

struct loopdrv {
	uint8_t mac[6];
	uint32_t mtu;
	/* frames waiting to be received */
	uint8_t rx[LOOPDRV_MAX][LOOPDRV_FRAME];
	size_t rx_len[LOOPDRV_MAX];
	int rx_head, rx_count;
	/* frames the stack sent */
	uint8_t tx[LOOPDRV_MAX][LOOPDRV_FRAME];
	size_t tx_len[LOOPDRV_MAX];
	int tx_count;
	int tx_budget; /* frames it will still take; -1: unlimited */
	int detached;
	int rx_nombuf;
};

void loopdrv_init(struct loopdrv *d);
int loopdrv_inject(struct loopdrv *d, const void *frame, size_t len);
extern const struct ust_driver_ops loopdrv_ops;

#endif
