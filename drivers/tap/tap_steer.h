/*
 * tap_steer.h - the multi-queue TAP's steering program: an eBPF socket
 * filter, generated from the Toeplitz key, whose return value is the queue
 * ust_rss_queue(ust_rss_hash_frame(key, frame), nq) (private to
 * drivers/tap; Linux only).
 */
#ifndef USTACK_TAP_STEER_H
#define USTACK_TAP_STEER_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#define TAP_STEER_KEYLEN 40 /* UST_RSS_KEYLEN */
#define TAP_STEER_INSNS_MAX 4096

/* Writes the program for nq queues (2..) under key into prog (room for
 * TAP_STEER_INSNS_MAX); returns the number of instructions. */
size_t tap_steer_build(const uint8_t key[TAP_STEER_KEYLEN], unsigned nq, struct bpf_insn *prog);
/* Loads it (BPF_PROG_LOAD) and attaches it to the device of descriptor
 * fd (TUNSETSTEERINGEBPF); the device holds the program from then on.
 * Returns 0 or -errno.  When the kernel refuses the program, its
 * verifier's last words go to log (of loglen bytes) when log is not
 * NULL. */
int tap_steer_attach(int fd, const uint8_t key[TAP_STEER_KEYLEN], unsigned nq, char *log,
    size_t loglen);

#endif /* USTACK_TAP_STEER_H */
