/*
 * fw_ctl.c - the control channel's server (fw_ctl.h): frames requests off
 * the byte stream and answers each with one reply.
 */
#include <string.h>

#include "fw_ctl.h"

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sends the reply to request (op, tag): result, then dlen bytes already
 * placed at c->out + FW_CTL_HDR + 4. */
static void
fw_ctl_reply(struct fw_ctl *c, uint8_t op, uint8_t tag, int32_t result, size_t dlen)
{
	put16(c->out, (uint32_t)(4 + dlen));
	c->out[2] = (uint8_t)(op | FW_CTL_REPLY);
	c->out[3] = tag;
	put32(c->out + FW_CTL_HDR, (uint32_t)result);
	c->write(c->out, FW_CTL_HDR + 4 + dlen);
}

static void
fw_ctl_run(struct fw_ctl *c, uint8_t op, uint8_t tag, const uint8_t *arg, size_t alen)
{
	uint8_t *data = c->out + FW_CTL_HDR + 4;
	const char *ver = ust_version();
	size_t n, vn;

	switch (op) {
	case FW_CTL_HELLO:
		n = strlen(c->board);
		if (n > FW_CTL_PAYLOAD_MAX - 32)
			n = FW_CTL_PAYLOAD_MAX - 32;
		memcpy(data, c->board, n);
		memcpy(data + n, " ustack ", 8);
		n += 8;
		vn = strlen(ver);
		if (vn > 16)
			vn = 16;
		memcpy(data + n, ver, vn);
		n += vn;
		fw_ctl_reply(c, op, tag, 0, n);
		break;
	case FW_CTL_EXIT:
		if (alen != 4) {
			fw_ctl_reply(c, op, tag, -UST_EINVAL, 0);
			break;
		}
		fw_ctl_reply(c, op, tag, 0, 0);
		c->exit((int)(int32_t)get32(arg));
		break;
	default:
		fw_ctl_reply(c, op, tag, -UST_EOPNOTSUPP, 0);
		break;
	}
}

void
fw_ctl_init(struct fw_ctl *c, struct ust_stack *st, const char *board, fw_ctl_read_fn rd,
    fw_ctl_write_fn wr, fw_ctl_exit_fn ex)
{
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->board = board;
	c->read = rd;
	c->write = wr;
	c->exit = ex;
}

int
fw_ctl_poll(struct fw_ctl *c)
{
	uint8_t junk[64];
	size_t len, want, n;
	int did = 0;

	for (;;) {
		if (c->skip > 0) {
			n = c->read(junk, c->skip < sizeof(junk) ? c->skip : sizeof(junk));
			if (n == 0)
				return (did);
			c->skip -= n;
			if (c->skip == 0) {
				fw_ctl_reply(c, c->buf[2], c->buf[3], -UST_EMSGSIZE, 0);
				did = 1;
			}
			continue;
		}
		want = FW_CTL_HDR;
		if (c->have >= FW_CTL_HDR) {
			len = (size_t)c->buf[0] << 8 | c->buf[1];
			if (len > FW_CTL_PAYLOAD_MAX) {
				c->skip = len;
				c->have = 0;
				continue;
			}
			want += len;
		}
		if (c->have < want) {
			n = c->read(c->buf + c->have, want - c->have);
			if (n == 0)
				return (did);
			c->have += n;
			continue;
		}
		c->have = 0;
		fw_ctl_run(c, c->buf[2], c->buf[3], c->buf + FW_CTL_HDR, want - FW_CTL_HDR);
		did = 1;
	}
}
