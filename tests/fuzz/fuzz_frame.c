/*
 * fuzz_frame.c - libFuzzer harness: each input is one Ethernet frame fed
 * to the rig's stack (a listener, an established connection with data in
 * flight, a UDP socket; fuzz_rig.h), after which the clock moves on so
 * that whatever the frame scheduled (delayed ACK, retransmission, ARP,
 * reassembly) runs too.
 *
 * The frame is marked as checksum-verified by the NIC (UST_CSUM_L3_VALID |
 * L4_VALID): a mutated byte then reaches the protocol code instead of
 * dying at the checksum; fuzz_frames covers the software checks.
 *
 * The stack is rebuilt for every input (about 0.1 ms), so that each input
 * replays alone exactly as the fuzzer ran it.
 */
#include "fuzz_rig.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_rig rig;

	if (size > FZ_FRAME_MAX)
		return (0);
	if (fz_rig_init(&rig) != 0)
		abort();
	fz_rig_frame(&rig, data, size, UST_CSUM_L3_VALID | UST_CSUM_L4_VALID);
	fz_rig_drain(&rig);
	/* Past the delayed-ACK and the first retransmission timeouts. */
	fz_rig_advance(&rig, 1500ull * 1000000ull);
	fz_rig_drain(&rig);
	if (fz_rig_fini(&rig) != 0)
		abort();
	return (0);
}
