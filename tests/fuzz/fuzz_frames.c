/*
 * fuzz_frames.c - libFuzzer harness: each input is a sequence of frames
 * fed to the rig's stack (fuzz_rig.h) with virtual time passing between
 * them, so that timers (retransmission, persist, keepalive, TIME_WAIT,
 * reassembly and ARP expiry) fire in between and state built by one frame
 * meets the next.
 *
 * Input format, repeated until the input ends (at most FZ_SEQ_MAX frames):
 *   2 bytes  big-endian: bit 15 set = checksums verified by the NIC
 *            (UST_CSUM_L3_VALID | L4_VALID), bits 0..10 = frame length
 *            (cut to what is left of the input)
 *   n bytes  the Ethernet frame
 *   1 byte   time step after it: 0..127 ms, or 128..255 = 1..128 s
 * The stack is rebuilt for every input, so each input replays alone.
 */
#include "fuzz_rig.h"

#include <stdlib.h>

#define FZ_SEQ_MAX 64
#define FZ_MS 1000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
step_ns(uint8_t s)
{
	return (s < 128 ? s * FZ_MS : (uint64_t)(s - 127) * 1000 * FZ_MS);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_rig rig;
	size_t pos = 0;
	int n;

	if (fz_rig_init(&rig) != 0)
		abort();
	for (n = 0; n < FZ_SEQ_MAX && pos + 2 <= size; n++) {
		unsigned hdr = (unsigned)data[pos] << 8 | data[pos + 1];
		size_t len = hdr & 0x7ffu;

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		fz_rig_frame(&rig, data + pos, len,
		    (hdr & 0x8000u) ? UST_CSUM_L3_VALID | UST_CSUM_L4_VALID : 0);
		pos += len;
		fz_rig_drain(&rig);
		if (pos < size)
			fz_rig_advance(&rig, step_ns(data[pos++]));
	}
	fz_rig_advance(&rig, 1500 * FZ_MS);
	fz_rig_drain(&rig);
	if (fz_rig_fini(&rig) != 0)
		abort();
	return (0);
}
