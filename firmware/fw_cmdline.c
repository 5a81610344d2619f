/*
 * fw_cmdline.c - the firmware's network configuration from the command
 * line the host gave (board_cmdline(): QEMU's -append), see fw.h, and
 * the number-to-text helpers the firmware prints with.
 */
#include <string.h>

#include "fw.h"

/* A decimal number of at most max, ending at a character in `end`;
 * *pp moves past it.  0, or -UST_EINVAL. */
static int
fw_num(const char **pp, uint64_t max, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return (-UST_EINVAL);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return (-UST_EINVAL);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0' && strchr(end, *p) == NULL)
		return (-UST_EINVAL);
	*pp = p;
	*out = v;
	return (0);
}

/* A.B.C.D into *ip (network byte order). */
static int
fw_quad(const char **pp, const char *end, uint32_t *ip)
{
	uint64_t v;
	uint8_t b[4];
	int i;

	for (i = 0; i < 4; i++) {
		if (fw_num(pp, 255, i < 3 ? "." : end, &v) != 0)
			return (-UST_EINVAL);
		b[i] = (uint8_t)v;
		/* fw_num also stops at the NUL: "1.2.3" must not step past it. */
		if (i < 3 && *(*pp)++ != '.')
			return (-UST_EINVAL);
	}
	memcpy(ip, b, 4);
	return (0);
}

int
fw_cmdline_parse(const char *line, struct fw_conf *conf)
{
	const char *p = line;
	uint64_t v;

	memset(conf, 0, sizeof(*conf));
	memcpy(&conf->ip, (const uint8_t[4]){ 198, 18, 0, 2 }, 4);
	conf->prefixlen = 24;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (strncmp(p, "ip=", 3) == 0) {
			p += 3;
			if (fw_quad(&p, " /", &conf->ip) != 0)
				return (-UST_EINVAL);
			if (*p == '/') {
				p++;
				if (fw_num(&p, 32, " ", &v) != 0)
					return (-UST_EINVAL);
				conf->prefixlen = (unsigned)v;
			}
		} else if (strncmp(p, "gw=", 3) == 0) {
			p += 3;
			if (fw_quad(&p, " ", &conf->gw) != 0)
				return (-UST_EINVAL);
		} else if (strncmp(p, "seed=", 5) == 0) {
			p += 5;
			if (fw_num(&p, UINT64_MAX, " ", &conf->seed) != 0)
				return (-UST_EINVAL);
			conf->seed_set = 1;
		}
		while (*p != ' ' && *p != '\0')
			p++;
	}
	return (0);
}

void
fw_ip_str(uint32_t ip, char *buf)
{
	uint8_t b[4];
	char *p = buf;
	int i;

	memcpy(b, &ip, 4);
	for (i = 0; i < 4; i++) {
		if (b[i] >= 100)
			*p++ = (char)('0' + b[i] / 100);
		if (b[i] >= 10)
			*p++ = (char)('0' + b[i] / 10 % 10);
		*p++ = (char)('0' + b[i] % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

char *
fw_u64_str(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return (p);
}
