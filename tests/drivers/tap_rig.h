/*
 * tap_rig.h - what the TAP tests against the kernel share (test_tap_*.c):
 * a shell command with its failure said, the kernel side's MAC, and the
 * run of a test body in a forked child, which makes its own network
 * namespace there (root and /dev/net/tun, else skipped).
 */
#ifndef UST_TEST_TAP_RIG_H
#define UST_TEST_TAP_RIG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ust_test.h"

static int
sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "%s: %d\n", cmd, rc);
	return (rc);
}

/* The kernel side's MAC, from `ip -o link` (a child's /sys is still the
 * parent namespace's). */
static int
kernel_mac(const char *dev, uint8_t mac[6])
{
	char cmd[64], line[512], *p;
	unsigned v[6];
	FILE *fp;
	int i, n = 0;

	snprintf(cmd, sizeof(cmd), "ip -o link show dev %s", dev);
	if ((fp = popen(cmd, "r")) == NULL)
		return (-1);
	if (fgets(line, sizeof(line), fp) != NULL && (p = strstr(line, "link/ether ")) != NULL)
		n = sscanf(p + 11, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
	pclose(fp);
	if (n != 6)
		return (-1);
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return (0);
}

/* Runs body in a forked child (which unshares its network namespace, so
 * nothing it makes outlives it); the test fails with the child and is
 * skipped (77) when the child exits 77. */
static void
tap_rig_in_child(void (*body)(void))
{
	pid_t pid;
	int status;

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		fprintf(stderr, "SKIP: needs root and /dev/net/tun\n");
		exit(77);
	}
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		body();
		fflush(NULL);
		_exit(ust_test_failures == 0 ? 0 : 1);
	}
	REQUIRE_EQ(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		exit(77);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

#endif /* UST_TEST_TAP_RIG_H */
