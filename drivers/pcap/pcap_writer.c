/*
 * pcap_writer.c - writes the classic libpcap file format with nanosecond
 * timestamps, as tcpdump, tshark and Wireshark read it:
 *
 *   file header (24 bytes): magic 0xa1b23c4d (nanosecond variant), version
 *     2.4, thiszone 0, sigfigs 0, snaplen, linktype 1 (LINKTYPE_ETHERNET);
 *   per record (16 bytes + data): ts_sec, ts_nsec, incl_len (at most
 *     snaplen), orig_len (the frame's full length).
 *
 * All fields are written in the host's byte order; readers recognise it by
 * the magic.  Timestamps are the stack's clock as given (a monotonic or a
 * virtual clock, so "seconds since 1970" in a viewer are really seconds
 * since the clock's origin).
 *
 * One struct ust_pcap may be shared by the capture hooks of several
 * interfaces, even on several stacks polled by different threads: records
 * are written under an OSAL mutex, whole.  Errors are sticky: after a
 * failed write every later write and the close return -UST_EIO.
 *
 * Call order: ust_pcap_open() -> ust_if_set_capture(ifp, ust_pcap_capture,
 * pc) -> if_input/if_flush -> ust_pcap_capture() -> ust_pcap_write_mbuf()
 * -> ... -> ust_pcap_close().
 */
#include <stdio.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_osal.h>
#include <ustack/ustack_pcap.h>

#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define PCAP_LINKTYPE_ETHERNET 1u
#define PCAP_SNAPLEN_DEFAULT 65535u
#define PCAP_CHUNK 2048u

struct ust_pcap {
	FILE *pc_fp;
	struct ust_osal_mutex *pc_mtx;
	uint32_t pc_snaplen;
	int pc_error; /* a write failed */
	uint64_t pc_count;
};

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec;
	uint32_t ts_nsec;
	uint32_t incl_len;
	uint32_t orig_len;
};

int
ust_pcap_open(const char *path, uint32_t snaplen, struct ust_pcap **out)
{
	struct pcap_file_hdr fh;
	struct ust_pcap *pc;

	if (out == NULL)
		return (-UST_EINVAL);
	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return (-UST_EINVAL);
	pc = ust_osal_mem_alloc(sizeof(*pc));
	if (pc == NULL)
		return (-UST_ENOMEM);
	memset(pc, 0, sizeof(*pc));
	pc->pc_snaplen = snaplen != 0 ? snaplen : PCAP_SNAPLEN_DEFAULT;
	pc->pc_mtx = ust_osal_mutex_create();
	if (pc->pc_mtx == NULL) {
		ust_osal_mem_free(pc, sizeof(*pc));
		return (-UST_ENOMEM);
	}
	pc->pc_fp = fopen(path, "wb");
	if (pc->pc_fp == NULL)
		goto fail;

	memset(&fh, 0, sizeof(fh));
	fh.magic = PCAP_MAGIC_NSEC;
	fh.version_major = PCAP_VERSION_MAJOR;
	fh.version_minor = PCAP_VERSION_MINOR;
	fh.thiszone = 0;
	fh.sigfigs = 0;
	fh.snaplen = pc->pc_snaplen;
	fh.linktype = PCAP_LINKTYPE_ETHERNET;
	if (fwrite(&fh, sizeof(fh), 1, pc->pc_fp) != 1) {
		fclose(pc->pc_fp);
		goto fail;
	}
	*out = pc;
	return (0);
fail:
	ust_osal_mutex_destroy(pc->pc_mtx);
	ust_osal_mem_free(pc, sizeof(*pc));
	return (-UST_EIO);
}

static void
pcap_rec_hdr_fill(struct pcap_rec_hdr *rh, uint64_t ts_ns, uint32_t incl, size_t len)
{
	rh->ts_sec = (uint32_t)(ts_ns / 1000000000u);
	rh->ts_nsec = (uint32_t)(ts_ns % 1000000000u);
	rh->incl_len = incl;
	rh->orig_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

static uint32_t
pcap_incl(const struct ust_pcap *pc, size_t len)
{
	return (len > pc->pc_snaplen ? pc->pc_snaplen : (uint32_t)len);
}

int
ust_pcap_write(struct ust_pcap *pc, uint64_t ts_ns, const void *frame, size_t len)
{
	struct pcap_rec_hdr rh;
	uint32_t incl;
	int error = 0;

	if (pc == NULL || (frame == NULL && len != 0))
		return (-UST_EIO);
	incl = pcap_incl(pc, len);
	pcap_rec_hdr_fill(&rh, ts_ns, incl, len);
	ust_osal_mutex_lock(pc->pc_mtx);
	if (pc->pc_error || fwrite(&rh, sizeof(rh), 1, pc->pc_fp) != 1 ||
	    (incl != 0 && fwrite(frame, incl, 1, pc->pc_fp) != 1)) {
		pc->pc_error = 1;
		error = -UST_EIO;
	} else
		pc->pc_count++;
	ust_osal_mutex_unlock(pc->pc_mtx);
	return (error);
}

/* Copies incl bytes of the chain to the file in chunks.  Locked. */
static int
pcap_write_chain(struct ust_pcap *pc, const struct ust_mbuf *m, uint32_t incl)
{
	uint8_t buf[PCAP_CHUNK];
	uint32_t off, n;

	for (off = 0; off < incl; off += n) {
		n = incl - off < PCAP_CHUNK ? incl - off : PCAP_CHUNK;
		if (ust_mbuf_copydata(m, off, n, buf) != 0 || fwrite(buf, n, 1, pc->pc_fp) != 1)
			return (-UST_EIO);
	}
	return (0);
}

int
ust_pcap_write_mbuf(struct ust_pcap *pc, uint64_t ts_ns, const struct ust_mbuf *m)
{
	struct pcap_rec_hdr rh;
	uint32_t incl;
	size_t len;
	int error = 0;

	if (pc == NULL || m == NULL)
		return (-UST_EIO);
	len = ust_mbuf_pktlen(m);
	incl = pcap_incl(pc, len);
	pcap_rec_hdr_fill(&rh, ts_ns, incl, len);
	ust_osal_mutex_lock(pc->pc_mtx);
	if (pc->pc_error || fwrite(&rh, sizeof(rh), 1, pc->pc_fp) != 1 ||
	    pcap_write_chain(pc, m, incl) != 0) {
		pc->pc_error = 1;
		error = -UST_EIO;
	} else
		pc->pc_count++;
	ust_osal_mutex_unlock(pc->pc_mtx);
	return (error);
}

void
ust_pcap_capture(void *arg, struct ust_if *ifp, int dir, uint64_t ts_ns, const struct ust_mbuf *m)
{
	(void)ifp;
	(void)dir;
	/* A capture hook cannot report; the error is sticky for close. */
	(void)ust_pcap_write_mbuf(arg, ts_ns, m);
}

uint64_t
ust_pcap_count(const struct ust_pcap *pc)
{
	uint64_t n;

	if (pc == NULL)
		return (0);
	ust_osal_mutex_lock(pc->pc_mtx);
	n = pc->pc_count;
	ust_osal_mutex_unlock(pc->pc_mtx);
	return (n);
}

int
ust_pcap_close(struct ust_pcap *pc)
{
	int error;

	if (pc == NULL)
		return (0);
	error = pc->pc_error ? -UST_EIO : 0;
	if (fclose(pc->pc_fp) != 0)
		error = -UST_EIO;
	ust_osal_mutex_destroy(pc->pc_mtx);
	ust_osal_mem_free(pc, sizeof(*pc));
	return (error);
}
