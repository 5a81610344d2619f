/*
 * fw_ctl.h - the firmware's control channel: the host drives the stack on
 * the board (socket calls, sysctl, exit) over a byte stream that is not the
 * network under test (the board's control UART, board.h).
 *
 * Wire format (every integer big-endian), one request at a time:
 *
 *   request  u16 len | u8 op        | u8 tag | len bytes of arguments
 *   reply    u16 len | u8 op | 0x80 | u8 tag | i32 result | len-4 bytes
 *
 * result >= 0 is success (its meaning depends on op), < 0 is -UST_E*.
 * A request longer than FW_CTL_PAYLOAD_MAX is answered with -UST_EMSGSIZE
 * after its bytes have been skipped, so the stream stays in step.
 * The host side is python_bindings/ustack/board/protocol.py; the op table
 * lives in both files and nowhere else.
 */
#ifndef FW_CTL_H
#define FW_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

/* The largest argument block a request may carry (and reply data). */
#ifndef FW_CTL_PAYLOAD_MAX
#define FW_CTL_PAYLOAD_MAX 1536
#endif

#define FW_CTL_HDR 4
#define FW_CTL_REPLY 0x80

enum fw_ctl_op {
	FW_CTL_HELLO = 0x00, /* () -> 0, data: "<board> ustack <version>" */
	FW_CTL_EXIT = 0x01,  /* (i32 status) -> 0, then the firmware exits */
};

/* Byte stream of the channel: read returns what has arrived (at most len,
 * never blocks); write sends everything. */
typedef size_t (*fw_ctl_read_fn)(void *buf, size_t len);
typedef void (*fw_ctl_write_fn)(const void *buf, size_t len);
/* Called for FW_CTL_EXIT after the reply went out. */
typedef void (*fw_ctl_exit_fn)(int status);

struct fw_ctl {
	struct ust_stack *st;
	const char *board;
	fw_ctl_read_fn read;
	fw_ctl_write_fn write;
	fw_ctl_exit_fn exit;
	size_t have; /* bytes of the current request in buf */
	size_t skip; /* bytes of an oversized request still to discard */
	uint8_t buf[FW_CTL_HDR + FW_CTL_PAYLOAD_MAX];
	uint8_t out[FW_CTL_HDR + 4 + FW_CTL_PAYLOAD_MAX];
};

void fw_ctl_init(struct fw_ctl *c, struct ust_stack *st, const char *board, fw_ctl_read_fn rd,
    fw_ctl_write_fn wr, fw_ctl_exit_fn ex);
/* Reads what the channel has and runs every complete request.  Returns 1
 * when it handled a request, else 0. */
int fw_ctl_poll(struct fw_ctl *c);

#endif /* FW_CTL_H */
