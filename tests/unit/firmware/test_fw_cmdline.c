/*
 * test_fw_cmdline.c - the board firmware's command line (firmware/
 * fw_cmdline.c, compiled here for the host): what QEMU's -append gives
 * turns into the address, prefix, gateway and seed, or into an error.
 */
#include <string.h>

#include <ustack/ustack.h>

#include "../../../firmware/fw_cmdline.c"
#include "ust_test.h"

static uint32_t
quad(unsigned a, unsigned b, unsigned c, unsigned d)
{
	uint8_t q[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d };
	uint32_t v;

	memcpy(&v, q, 4);
	return (v);
}

TEST(defaults_and_image_name_ignored)
{
	struct fw_conf c;

	/* QEMU puts the image's path before the -append words. */
	CHECK_EQ(fw_cmdline_parse("build/ustack-fw-mps2-an385.elf", &c), 0);
	CHECK(c.ip == quad(198, 18, 0, 2));
	CHECK_EQ(c.prefixlen, 24);
	CHECK_EQ(c.gw, 0);
	CHECK_EQ(c.seed_set, 0);
	CHECK_EQ(fw_cmdline_parse("", &c), 0);
	CHECK(c.ip == quad(198, 18, 0, 2));
}

TEST(all_words_in_any_order)
{
	struct fw_conf c;

	CHECK_EQ(fw_cmdline_parse(
	             "fw.elf  seed=18446744073709551615 gw=198.18.1.1 ip=198.19.7.200/16", &c),
	    0);
	CHECK(c.ip == quad(198, 19, 7, 200));
	CHECK_EQ(c.prefixlen, 16);
	CHECK(c.gw == quad(198, 18, 1, 1));
	CHECK_EQ(c.seed_set, 1);
	CHECK(c.seed == UINT64_MAX);
	/* No prefix: the default /24 stays. */
	CHECK_EQ(fw_cmdline_parse("ip=198.18.5.9", &c), 0);
	CHECK(c.ip == quad(198, 18, 5, 9));
	CHECK_EQ(c.prefixlen, 24);
}

TEST(malformed_values_are_errors)
{
	static const char *bad[] = { "ip=198.18.0", "ip=198.18.0.256", "ip=198.18.0.2/33",
		"ip=198.18.0.2/", "ip=198.18.0.2x", "gw=1.2.3.4.5", "seed=", "seed=12a",
		"seed=18446744073709551616", "ip=/24", "ip=198", "ip=198.18", "gw=1.2.3",
		"ip=1.2.3.", "ip=1.2.3.4/" };
	struct fw_conf c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(fw_cmdline_parse(bad[i], &c), -UST_EINVAL);
}

TEST(ip_to_string)
{
	char buf[16];

	fw_ip_str(quad(198, 18, 0, 2), buf);
	CHECK(strcmp(buf, "198.18.0.2") == 0);
	fw_ip_str(quad(255, 100, 10, 0), buf);
	CHECK(strcmp(buf, "255.100.10.0") == 0);
}

TEST(u64_to_string)
{
	char buf[21];

	*fw_u64_str(buf, 0) = '\0';
	CHECK(strcmp(buf, "0") == 0);
	*fw_u64_str(buf, 1048576) = '\0';
	CHECK(strcmp(buf, "1048576") == 0);
	*fw_u64_str(buf, UINT64_MAX) = '\0';
	CHECK(strcmp(buf, "18446744073709551615") == 0);
}
