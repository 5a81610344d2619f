/*
 * test_loopdrv.h - a scripted driver for tests (unit tests, the hostile
 * suite, fuzz harnesses): frames the test puts
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
	/* frames waiting to be received (the bytes in rx, below) */
	size_t rx_len[LOOPDRV_MAX];
	uint32_t rx_csum[LOOPDRV_MAX]; /* UST_CSUM_* marks of the waiting frames */
	int rx_head, rx_count;
	/* frames the stack sent (the bytes in tx, below) */
	size_t tx_len[LOOPDRV_MAX];
	int tx_count;
	int tx_budget;  /* frames it will still take; -1: unlimited */
	int tx_discard; /* frees what the stack sends without keeping it */
	uint32_t caps;  /* UST_IFCAP_* the driver reports */
	int detached;
	int rx_nombuf;
	uint64_t dev_counter[4]; /* get_counter's answers, by UST_IFCOUNTER_* */
	/* The frame bytes last: loopdrv_init leaves them as they are (only
	 * the lengths above say what is valid), so a rig set up per input,
	 * as the fuzz harnesses' is, does not clear 256 KB each time. */
	uint8_t rx[LOOPDRV_MAX][LOOPDRV_FRAME];
	uint8_t tx[LOOPDRV_MAX][LOOPDRV_FRAME];
};

/* Empty queues, MAC 02:00:00:00:00:10, MTU 1500, no tx limit. */
void loopdrv_init(struct loopdrv *d);
/* Queues a frame for rx_burst (copied): 0, or -1 when the queue is full
 * or the frame too long.  _csum also marks it with UST_CSUM_* flags, as
 * a NIC that verified its checksums would. */
int loopdrv_inject(struct loopdrv *d, const void *frame, size_t len);
int loopdrv_inject_csum(struct loopdrv *d, const void *frame, size_t len, uint32_t csum);
extern const struct ust_driver_ops loopdrv_ops;

#endif
