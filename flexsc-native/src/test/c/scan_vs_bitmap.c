/* SPDX-License-Identifier: MIT */
/*
 * Measures the executor's cost to find and claim k submitted entries among a group's
 * 512 with (a) a scan of every entry's status and (b) the submission bitmap that
 * flexsc_abi.h defines (one 64-byte line of bits, fetched and cleared a word at a time).
 * A submitter thread on another CPU posts k entries per round, so the status lines and
 * the bitmap line really move between caches as they do in the engine.
 * Build and run: gcc -O2 -pthread -I../../main/c scan_vs_bitmap.c -o /tmp/svb && /tmp/svb
 */
#define _GNU_SOURCE
#include "flexsc/flexsc_abi.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENTRIES 512
static struct flexsc_entry entries[ENTRIES];
static _Atomic uint64_t bits[ENTRIES / 64] __attribute__((aligned(64)));
static _Atomic int round_no, done_no;
static int k_per_round, use_bitmap, rounds;

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static void *submitter(void *arg)
{
	(void)arg;
	pin(0);
	unsigned seed = 1;
	for (int r = 1; r <= rounds; r++) {
		while (atomic_load(&done_no) != r - 1)
			__builtin_ia32_pause();
		for (int i = 0; i < k_per_round; i++) {
			int idx = rand_r(&seed) % ENTRIES;
			while (atomic_load_explicit((_Atomic uint32_t *)&entries[idx].status, memory_order_relaxed) != FLEXSC_FREE)
				idx = (idx + 1) % ENTRIES;
			atomic_store_explicit((_Atomic uint32_t *)&entries[idx].status, FLEXSC_SUBMITTED, memory_order_release);
			if (use_bitmap)
				atomic_fetch_or(&bits[idx / 64], 1ull << (idx % 64));
		}
		atomic_store(&round_no, r);
	}
	return NULL;
}

static int claim(int idx)
{
	uint32_t e = FLEXSC_SUBMITTED;
	if (!atomic_compare_exchange_strong((_Atomic uint32_t *)&entries[idx].status, &e, FLEXSC_BUSY))
		return 0;
	atomic_store_explicit((_Atomic uint32_t *)&entries[idx].status, FLEXSC_FREE, memory_order_release);
	return 1;
}

static double run(int k, int bitmap)
{
	memset(entries, 0, sizeof(entries));
	for (int i = 0; i < ENTRIES / 64; i++)
		atomic_store(&bits[i], 0);
	k_per_round = k;
	use_bitmap = bitmap;
	rounds = 20000;
	atomic_store(&round_no, 0);
	atomic_store(&done_no, 0);
	pthread_t t;
	pthread_create(&t, NULL, submitter, NULL);
	pin(1);
	struct timespec a, b;
	long long spent = 0;
	for (int r = 1; r <= rounds; r++) {
		while (atomic_load(&round_no) != r)
			__builtin_ia32_pause();
		clock_gettime(CLOCK_MONOTONIC, &a);
		int got = 0;
		if (bitmap) {
			for (int w = 0; w < ENTRIES / 64; w++) {
				if (!atomic_load_explicit(&bits[w], memory_order_relaxed))
					continue;
				uint64_t v = atomic_exchange(&bits[w], 0);
				while (v) {
					int bit = __builtin_ctzll(v);
					v &= v - 1;
					got += claim(w * 64 + bit);
				}
			}
		} else {
			for (int i = 0; i < ENTRIES; i++)
				if (atomic_load_explicit((_Atomic uint32_t *)&entries[i].status, memory_order_acquire) == FLEXSC_SUBMITTED)
					got += claim(i);
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		spent += (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
		if (got != k) {
			fprintf(stderr, "round %d: claimed %d of %d\n", r, got, k);
			exit(1);
		}
		atomic_store(&done_no, r);
	}
	pthread_join(t, NULL);
	return (double)spent / rounds;
}

int main(void)
{
	printf("%-6s %18s %18s %10s\n", "batch", "scan ns/round", "bitmap ns/round", "scan/bitmap");
	int ks[] = {1, 8, 64, 256};
	for (unsigned i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		double s = run(ks[i], 0), b = run(ks[i], 1);
		printf("%-6d %18.0f %18.0f %10.1fx\n", ks[i], s, b, s / b);
	}
	return 0;
}
