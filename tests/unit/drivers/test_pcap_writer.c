/*
 * test_pcap_writer.c - the pcap writer (drivers/pcap/pcap_writer.c): file
 * and record headers read back byte for byte, truncation to snaplen with
 * orig_len kept, mbuf chains, the capture hook, errors, and tshark reading
 * the file when it is installed.
 */
#include <stdint.h>
#include <unistd.h>

#include <ustack/ustack_pcap.h>

#include "test_env.h"

#define TSHARK "/usr/bin/tshark"

static void
tmp_path(char *buf, size_t size, const char *tag)
{
	snprintf(buf, size, "/tmp/ust_test_pcap_%ld_%s.pcap", (long)getpid(), tag);
}

/* The whole file in a malloc'ed buffer; *len its size. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (fp == NULL)
		return (NULL);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf != NULL && n > 0 && fread(buf, (size_t)n, 1, fp) != 1) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = (size_t)n;
	return (buf);
}

static uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4); /* host order, as written */
	return (v);
}

static uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return (v);
}

static void
fill_frame(uint8_t *f, size_t len, unsigned salt)
{
	size_t i;

	for (i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 7 + salt);
	if (len >= 14) {
		f[12] = 0x08; /* IPv4, so tshark has something to say */
		f[13] = 0x00;
	}
}

/* Runs tshark on path; returns the packets it read, or -1 if it failed. */
static long
tshark_count(const char *path)
{
	char cmd[512], out[300];
	size_t len;
	uint8_t *buf;
	long lines = 0;
	size_t i;
	int rc;

	snprintf(out, sizeof(out), "%s.txt", path);
	snprintf(cmd, sizeof(cmd), "%s -n -r '%s' > '%s' 2>/dev/null", TSHARK, path, out);
	rc = system(cmd);
	if (rc != 0) {
		unlink(out);
		return (-1);
	}
	buf = slurp(out, &len);
	unlink(out);
	if (buf == NULL)
		return (len == 0 ? 0 : -1);
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	free(buf);
	return (lines);
}

TEST(header_and_records_read_back)
{
	static const size_t lens[] = { 60, 1514, 14, 300 };
	uint8_t frame[1514], *file;
	struct ust_pcap *pc;
	char path[256];
	size_t flen, off, i;
	uint64_t ts;

	tmp_path(path, sizeof(path), "basic");
	REQUIRE_EQ(ust_pcap_open(path, 0, &pc), 0);
	for (i = 0; i < 4; i++) {
		fill_frame(frame, lens[i], (unsigned)i);
		ts = 1700000000ull * 1000000000ull + i * 1000000123ull;
		CHECK_EQ(ust_pcap_write(pc, ts, frame, lens[i]), 0);
	}
	CHECK_EQ(ust_pcap_count(pc), 4);
	REQUIRE_EQ(ust_pcap_close(pc), 0);

	file = slurp(path, &flen);
	REQUIRE(file != NULL);
	REQUIRE(flen >= 24);
	CHECK_EQ(rd32(file), 0xa1b23c4du);
	CHECK_EQ(rd16(file + 4), 2);
	CHECK_EQ(rd16(file + 6), 4);
	CHECK_EQ(rd32(file + 8), 0);
	CHECK_EQ(rd32(file + 12), 0);
	CHECK_EQ(rd32(file + 16), 65535);
	CHECK_EQ(rd32(file + 20), 1);
	off = 24;
	for (i = 0; i < 4; i++) {
		REQUIRE(off + 16 + lens[i] <= flen);
		ts = 1700000000ull * 1000000000ull + i * 1000000123ull;
		CHECK_EQ(rd32(file + off), ts / 1000000000u);
		CHECK_EQ(rd32(file + off + 4), ts % 1000000000u);
		CHECK_EQ(rd32(file + off + 8), lens[i]);
		CHECK_EQ(rd32(file + off + 12), lens[i]);
		fill_frame(frame, lens[i], (unsigned)i);
		CHECK_MEM(file + off + 16, frame, lens[i]);
		off += 16 + lens[i];
	}
	CHECK_EQ(off, flen);
	free(file);

	if (access(TSHARK, X_OK) != 0)
		printf("skip tshark check: %s not installed\n", TSHARK);
	else
		CHECK_EQ(tshark_count(path), 4);
	unlink(path);
}

TEST(snaplen_truncates_keeps_orig_len)
{
	uint8_t frame[1000], *file;
	struct ust_pcap *pc;
	char path[256];
	size_t flen;

	tmp_path(path, sizeof(path), "snap");
	REQUIRE_EQ(ust_pcap_open(path, 100, &pc), 0);
	fill_frame(frame, sizeof(frame), 3);
	CHECK_EQ(ust_pcap_write(pc, 5, frame, sizeof(frame)), 0);
	CHECK_EQ(ust_pcap_write(pc, 6, frame, 64), 0);
	REQUIRE_EQ(ust_pcap_close(pc), 0);

	file = slurp(path, &flen);
	REQUIRE(file != NULL);
	REQUIRE_EQ(flen, 24 + 16 + 100 + 16 + 64);
	CHECK_EQ(rd32(file + 16), 100);
	CHECK_EQ(rd32(file + 24), 0);
	CHECK_EQ(rd32(file + 28), 5);
	CHECK_EQ(rd32(file + 32), 100);
	CHECK_EQ(rd32(file + 36), 1000);
	CHECK_MEM(file + 40, frame, 100);
	CHECK_EQ(rd32(file + 140 + 8), 64);
	CHECK_EQ(rd32(file + 140 + 12), 64);
	CHECK_MEM(file + 156, frame, 64);
	free(file);

	if (access(TSHARK, X_OK) != 0)
		printf("skip tshark check: %s not installed\n", TSHARK);
	else
		CHECK_EQ(tshark_count(path), 2);
	unlink(path);
}

/* mbuf chains (several buffers) and the capture hook, through test_env. */
TEST(mbuf_chain_and_capture_hook)
{
	struct test_env te;
	struct mbuf *m;
	struct ust_pcap *pc;
	uint8_t frame[3000], *file;
	char path[256];
	size_t flen;

	test_env_init(&te, 64, 16, 0);
	fill_frame(frame, sizeof(frame), 9);
	m = m_gethdr(&te.mbz, MT_DATA);
	REQUIRE(m != NULL);
	REQUIRE_EQ(m_append(m, sizeof(frame), frame), 0);
	CHECK(m->m_next != NULL); /* really a chain */
	CHECK_EQ(ust_mbuf_pktlen((struct ust_mbuf *)(void *)m), sizeof(frame));

	tmp_path(path, sizeof(path), "mbuf");
	REQUIRE_EQ(ust_pcap_open(path, 2500, &pc), 0);
	CHECK_EQ(ust_pcap_write_mbuf(pc, 77, (struct ust_mbuf *)(void *)m), 0);
	ust_pcap_capture(pc, NULL, UST_CAPTURE_IN, 1000000001ull, (struct ust_mbuf *)(void *)m);
	CHECK_EQ(ust_pcap_count(pc), 2);
	REQUIRE_EQ(ust_pcap_close(pc), 0);
	m_freem(m);
	test_env_fini(&te);

	file = slurp(path, &flen);
	REQUIRE(file != NULL);
	REQUIRE_EQ(flen, 24 + 2 * (16 + 2500));
	CHECK_EQ(rd32(file + 24), 0);
	CHECK_EQ(rd32(file + 28), 77);
	CHECK_EQ(rd32(file + 32), 2500);
	CHECK_EQ(rd32(file + 36), 3000);
	CHECK_MEM(file + 40, frame, 2500);
	CHECK_EQ(rd32(file + 2540), 1);
	CHECK_EQ(rd32(file + 2544), 1);
	CHECK_MEM(file + 2556, frame, 2500);
	free(file);
	unlink(path);
}

TEST(errors)
{
	struct ust_pcap *pc = (struct ust_pcap *)(uintptr_t)1;
	uint8_t frame[64];
	char path[256];

	CHECK_EQ(ust_pcap_open("/nonexistent-dir/x.pcap", 0, &pc), -UST_EIO);
	CHECK(pc == NULL);
	CHECK_EQ(ust_pcap_open("", 0, &pc), -UST_EINVAL);
	CHECK_EQ(ust_pcap_open("/tmp/x.pcap", 0, NULL), -UST_EINVAL);

	/* A full device: the write (or at the latest the close) fails. */
	if (access("/dev/full", W_OK) == 0) {
		int err = 0, i;

		REQUIRE_EQ(ust_pcap_open("/dev/full", 0, &pc), 0);
		memset(frame, 0, sizeof(frame));
		for (i = 0; i < 1000 && err == 0; i++)
			err = ust_pcap_write(pc, 0, frame, sizeof(frame));
		if (err == 0)
			err = ust_pcap_close(pc);
		else
			CHECK_EQ(ust_pcap_close(pc), -UST_EIO);
		CHECK_EQ(err, -UST_EIO);
	} else
		printf("skip /dev/full check: not writable\n");

	/* An empty capture is a valid file. */
	tmp_path(path, sizeof(path), "empty");
	REQUIRE_EQ(ust_pcap_open(path, 0, &pc), 0);
	CHECK_EQ(ust_pcap_count(pc), 0);
	CHECK_EQ(ust_pcap_close(pc), 0);
	if (access(TSHARK, X_OK) != 0)
		printf("skip tshark check: %s not installed\n", TSHARK);
	else
		CHECK_EQ(tshark_count(path), 0);
	unlink(path);
}
