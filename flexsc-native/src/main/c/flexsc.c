/* SPDX-License-Identifier: MIT */
/*
 * libflexsc: the SYSCALL_THREADS engine.
 *
 * Each group (one per syscall CPU) owns `pages` syscall pages and a pool of
 * executor pthreads pinned to its CPU. Executors claim submitted entries from
 * the group's submission bitmap, execute them with syscall(2) (allow-list
 * checked here: never trust the page), publish DONE, and sleep on a futex
 * with the NEED_WAKEUP protocol when there is nothing to do.
 *
 * The pool: `running` counts executors that are awake and not inside a call
 * that may block without bound. Whoever drops it to zero (going to sleep, or
 * entering a blocking call) sets NEED_WAKEUP so that the next submitter wakes
 * a sleeper; an executor entering a blocking call also makes sure a spare
 * exists (waking or starting one) so that the other entries never stall
 * behind a read on an empty pipe.
 */
#define _GNU_SOURCE
#include "flexsc.h"
#include "flexsc/flexsc_calls.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(struct flexsc_entry) == FLEXSC_ENTRY_SIZE, "entry is one cache line");
_Static_assert(sizeof(struct flexsc_group) == FLEXSC_GROUP_SIZE, "group control block size");
_Static_assert(sizeof(struct flexsc_ctrl) == FLEXSC_CTRL_HEADER_SIZE, "control header size");
_Static_assert(offsetof(struct flexsc_group, flags) == 64, "executor line starts at 64");
_Static_assert(offsetof(struct flexsc_group, done_seq) == 128, "completion line starts at 128");
_Static_assert(offsetof(struct flexsc_group, stat_executed) == 192, "stats line starts at 192");

/* Signal used to knock an executor out of a blocking call (close, cancel). */
#define FLEXSC_SIG (SIGRTMIN + 6)

/*
 * The stall monitor (monitor_main). A group whose done_seq has not moved for
 * STALL_TICKS ticks of STALL_TICK_NS while entries wait is stalled: every
 * executor sits in a call that has not returned (a read on an empty pipe, or a
 * call the allow-list does not flag as may-block, such as fsync or statx on a
 * hung NFS or FUSE mount). 50 ms is far above any call that does not wait
 * (microseconds) and short enough that a call queued behind a stuck one is not
 * noticeably late. The monitor then hands the stuck executors' unrun bits back
 * and wakes or starts another executor, beyond poolThreads if need be, up to
 * STALL_POOL_FACTOR x poolThreads (at most STALL_POOL_MAX): the call that would
 * unblock the others (the write to that pipe) must get a thread, but a dead
 * server must not make the pool start a thread per tick without bound. At the
 * cap the waiting calls run when a stuck one returns, and libflexsc says so
 * once per group on stderr.
 */
#define STALL_TICK_NS 10000000LL
#define STALL_TICKS 5
#define STALL_IDLE_TICK_NS 100000000LL   /* nothing in flight: look ten times a second */
#define STALL_POOL_FACTOR 4
#define STALL_POOL_MAX 1024

/* The allow-list, indexed by number: 0 = refused, 1 = allowed, 2 = allowed, may block. */
static const uint8_t allow_table[FLEXSC_NR_LIMIT] = {
#define FLEXSC_ALLOW(nr, name, flags) [nr] = 1 + ((flags) & FLEXSC_MAY_BLOCK ? 1 : 0),
	FLEXSC_CALL_TABLE(FLEXSC_ALLOW)
#undef FLEXSC_ALLOW
};

int flexsc_call_allowed(uint32_t nr, int *may_block)
{
	uint8_t a = nr < FLEXSC_NR_LIMIT ? allow_table[nr] : 0;
	if (may_block)
		*may_block = a == 2;
	return a != 0;
}

struct flexsc_st;

struct executor {
	struct flexsc_st *st;
	int group;
	pthread_t thread;
	_Atomic int in_call;   /* 1 while inside syscall(2): close and cancel signal it */
	_Atomic int current;   /* entry index being executed, -1 if none */
	_Atomic int call_lock; /* spinlock: a signal for a call is sent before the call's end passes it */
	_Atomic uint64_t sigs_sent; /* FLEXSC_SIG sent to this executor (call_lock) */
	_Atomic uint64_t sigs_seen; /* ... and handled by it (the handler counts, through si_value) */
	_Atomic uint64_t rest; /* claimed bits of submit_bits[rest_word] not yet run: the monitor may take them */
	int rest_word;
	_Atomic int exited;
	struct executor *next;
};

struct group_state {
	pthread_mutex_t lock;          /* guards the executor list and spawning */
	struct executor *executors;
	_Atomic int idle;              /* executors asleep on wake_seq */
	_Atomic int watching;          /* idle executors in timed (watcher) sleep */
	_Atomic int blocked;           /* executors inside a MAY_BLOCK call */
	_Atomic uint64_t blocking_calls; /* MAY_BLOCK calls started, ever */
	_Atomic int cursor;            /* entry index after the last one run: where scans start */
	int cpu;
	/* stall monitor state (monitor thread only) */
	uint32_t mon_done_seq;
	int mon_quiet_ticks;
	int mon_warned;
} __attribute__((aligned(64)));

/* A watcher re-checks the group this often while calls that may block are running. */
#define WATCH_TICK_NS 50000LL
/* ...and keeps watching for this many quiet ticks after the last such call. */
#define WATCH_QUIET_TICKS 40

struct flexsc_st {
	void *base;
	size_t size;
	int groups, pages, entries, pool_max, pool_hard_max, spin_iters;
	_Atomic int stopping;
	_Atomic int threads;
	struct group_state *gs;
	pthread_t monitor;
	int monitor_started;
	uint32_t monitor_seq;          /* futex word: stop wakes the monitor */
};

static inline struct flexsc_ctrl *ctrl(struct flexsc_st *st) { return st->base; }
static inline struct flexsc_group *grp(struct flexsc_st *st, int g) { return &ctrl(st)->group[g]; }
static inline struct flexsc_entry *entry_at(struct flexsc_st *st, int g, int idx)
{
	return (struct flexsc_entry *)((char *)st->base +
		FLEXSC_GROUP_PAGES_OFFSET(st->groups, st->pages, g)) + idx;
}

int flexsc_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
	struct timespec ts, *tp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000LL;
		ts.tv_nsec = timeout_ns % 1000000000LL;
		tp = &ts;
	}
	long r = syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, tp, NULL, 0);
	return r < 0 ? -errno : 0;
}

int flexsc_futex_wake(uint32_t *addr, int count)
{
	long r = syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
	return r < 0 ? -errno : (int)r;
}

int flexsc_pin_self(int cpu)
{
	cpu_set_t set;
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int flexsc_gettid(void) { return (int)syscall(SYS_gettid); }

/* Interrupts the call; counts the delivery for the executor named in si_value (signal_call). */
static void on_flexsc_sig(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si && si->si_code == SI_QUEUE && si->si_value.sival_ptr)
		atomic_fetch_add(&((struct executor *)si->si_value.sival_ptr)->sigs_seen, 1);
}

static pthread_once_t sig_once = PTHREAD_ONCE_INIT;
static void install_sig(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_flexsc_sig;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: a blocked call returns EINTR */
	sigaction(FLEXSC_SIG, &sa, NULL);
}

static void call_lock(struct executor *ex)
{
	/* Acquire: the critical sections of executor and signaller are ordered. */
	while (atomic_exchange_explicit(&ex->call_lock, 1, memory_order_acquire))
		__builtin_ia32_pause();
}

static void call_unlock(struct executor *ex)
{
	atomic_store_explicit(&ex->call_lock, 0, memory_order_release);
}

/*
 * Interrupt ex's call if it is entry idx's (idx < 0: whatever call it is in).
 * Sent under call_lock, which the executor takes when its call has returned:
 * so every signal is sent while its call is in the kernel or about to return,
 * and the executor waits for its delivery before the next call (end_call), so
 * a late cancel can never interrupt another entry's call. Returns 1 if sent.
 */
static int signal_call(struct executor *ex, int idx)
{
	int sent = 0;

	call_lock(ex);
	if (atomic_load(&ex->in_call) && (idx < 0 || atomic_load(&ex->current) == idx)) {
		union sigval v = { .sival_ptr = ex };

		if (pthread_sigqueue(ex->thread, FLEXSC_SIG, v) == 0) {
			atomic_fetch_add(&ex->sigs_sent, 1);
			sent = 1;
		}
	}
	call_unlock(ex);
	return sent;
}

/* The call of ex returned: no signal can target it any more; consume those sent for it. */
static void end_call(struct executor *ex)
{
	call_lock(ex);
	atomic_store(&ex->in_call, 0);
	atomic_store(&ex->current, -1);
	uint64_t sent = atomic_load(&ex->sigs_sent);
	call_unlock(ex);
	/* A signal pending on this thread is handled when the next system call returns. */
	while (atomic_load(&ex->sigs_seen) < sent)
		sched_yield();
}

/* Publish completions: bump done_seq and wake completion waiters if any. */
static void publish_done(struct flexsc_group *gr)
{
	/*
	 * The seq_cst add orders the DONE stores before it (release) against the
	 * load of done_waiters after it (full barrier): pairs with the waiter's
	 * add to done_waiters followed by its load of the entry status. Either we
	 * see its registration and wake it, or it sees DONE and does not sleep.
	 */
	atomic_fetch_add((_Atomic uint32_t *)&gr->done_seq, 1);
	if (atomic_load((_Atomic uint32_t *)&gr->done_waiters) != 0)
		flexsc_futex_wake(&gr->done_seq, INT_MAX);
}

static void execute_entry(struct flexsc_st *st, struct executor *ex, struct flexsc_group *gr,
			  struct flexsc_entry *e, int idx, int may_block)
{
	(void)st;
	uint32_t nr = e->sysnr;
	uint64_t a[FLEXSC_ARGS];
	/* Plain loads: the CAS SUBMITTED->BUSY (acquire) ordered them after the
	 * submitter's stores of sysnr and args. Read once, into locals. */
	memcpy(a, e->args, sizeof(a));
	long r;
	if (!flexsc_call_allowed(nr, NULL)) {
		r = -ENOSYS;
		atomic_fetch_add((_Atomic uint64_t *)&gr->stat_refused, 1);
	} else {
		if (ex) {
			atomic_store(&ex->current, idx);
			atomic_store(&ex->in_call, 1);
		}
		/*
		 * Never retried: EINTR can only come from a FLEXSC_SIG sent for this
		 * very call (cancel or stop; signal_call and end_call keep a late one
		 * off the next call), and a call such as close, renameat2 or connect
		 * may have taken effect before it was interrupted.
		 */
		r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r == -1)
			r = -errno;
		if (ex)
			end_call(ex);
		atomic_fetch_add((_Atomic uint64_t *)&gr->stat_executed, 1);
	}
	(void)may_block;
	e->ret = r;
	/* Release: the ret store above is visible before DONE; pairs with the
	 * owner's acquire load of status. */
	atomic_store_explicit((_Atomic uint32_t *)&e->status, FLEXSC_DONE, memory_order_release);
}

/* Claim one entry: the CAS SUBMITTED->BUSY (acquire) is what makes it ours. */
static int claim_entry(struct flexsc_entry *e)
{
	uint32_t expect = FLEXSC_SUBMITTED;
	return atomic_compare_exchange_strong_explicit((_Atomic uint32_t *)&e->status, &expect,
						       FLEXSC_BUSY, memory_order_acquire,
						       memory_order_relaxed);
}

static int any_submitted(struct flexsc_st *st, struct flexsc_group *gr)
{
	int words = (st->entries + 63) / 64;
	for (int w = 0; w < words; w++)
		if (atomic_load_explicit((_Atomic uint64_t *)&gr->submit_bits[w], memory_order_relaxed))
			return 1;
	return 0;
}

static void *executor_main(void *arg);

/* Start one more executor for group g (lock held). 0 or -errno. */
static int spawn_executor(struct flexsc_st *st, int g, int limit)
{
	struct group_state *gs = &st->gs[g];
	struct flexsc_group *gr = grp(st, g);
	if ((int)atomic_load((_Atomic uint32_t *)&gr->executors) >= limit)
		return -EAGAIN;
	struct executor *ex = calloc(1, sizeof(*ex));
	if (!ex)
		return -ENOMEM;
	ex->st = st;
	ex->group = g;
	ex->current = -1;
	/* Counted as running from birth: it scans before it may sleep. */
	atomic_fetch_add((_Atomic uint32_t *)&gr->running, 1);
	atomic_fetch_add((_Atomic uint32_t *)&gr->executors, 1);
	atomic_fetch_add(&st->threads, 1);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	int rc = pthread_create(&ex->thread, &attr, executor_main, ex);
	pthread_attr_destroy(&attr);
	if (rc) {
		atomic_fetch_sub((_Atomic uint32_t *)&gr->running, 1);
		atomic_fetch_sub((_Atomic uint32_t *)&gr->executors, 1);
		atomic_fetch_sub(&st->threads, 1);
		free(ex);
		return -rc;
	}
	ex->next = gs->executors;
	gs->executors = ex;
	return 0;
}

/*
 * An executor is about to run a call that may block without bound. It stops
 * counting as `running` (so an idle executor that becomes the last one arms
 * NEED_WAKEUP) and makes sure some executor watches the group: a watcher is an
 * idle executor in timed sleep that takes over pending entries if the group
 * makes no progress while nobody is running (CMWQ's job, done lazily: a call
 * that returns quickly, like a write to /dev/null, costs a few atomics and no
 * wake-up). Only when no watcher exists is one woken, or started.
 */
static void enter_blocking(struct flexsc_st *st, int g)
{
	struct flexsc_group *gr = grp(st, g);
	struct group_state *gs = &st->gs[g];
	atomic_fetch_add_explicit(&gs->blocking_calls, 1, memory_order_relaxed);
	atomic_fetch_add(&gs->blocked, 1);
	int still_running = (int)atomic_fetch_sub((_Atomic uint32_t *)&gr->running, 1) - 1;
	if (atomic_load(&gs->watching) > 0)
		return;
	if (atomic_load(&gs->idle) > 0) {
		/* A sleeper without a timeout: wake it; it sees `blocked` and watches. */
		atomic_fetch_add((_Atomic uint32_t *)&gr->wake_seq, 1);
		flexsc_futex_wake(&gr->wake_seq, 1);
	} else if (still_running == 0) {
		pthread_mutex_lock(&gs->lock);
		if (atomic_load(&gs->idle) == 0 && !atomic_load(&st->stopping))
			spawn_executor(st, g, st->pool_max);
		pthread_mutex_unlock(&gs->lock);
	}
}

static void leave_blocking(struct flexsc_st *st, int g)
{
	atomic_fetch_add((_Atomic uint32_t *)&grp(st, g)->running, 1);
	atomic_fetch_sub(&st->gs[g].blocked, 1);
}

/*
 * Claim and run every entry whose bit is set. A whole bitmap word is taken at
 * once (one atomic per up to 64 entries); before a call that may block, the
 * rest of the word is handed back so another executor can take it.
 *
 * Fairness: scans start at the group's cursor (the entry after the last one
 * run) and wrap around, words and bits alike, and a pass ends after a call
 * that may block (whose word's other bits were handed back), so the next pass
 * resumes right after it: entries are served in turn. Always starting at bit
 * 0 starved the higher entries of a word: each pass ran one entry that may
 * block per word and handed the rest back, and the owner of a low entry
 * resubmitted into the same low entry at once, so the entries above it waited
 * for seconds (found from a bench row at 256 writers; PoolWakeupStressTest).
 * Returns the number executed.
 */
static int run_pending(struct flexsc_st *st, struct executor *ex, int g)
{
	struct flexsc_group *gr = grp(st, g);
	struct group_state *gs = &st->gs[g];
	int words = (st->entries + 63) / 64, done = 0;
	/* Relaxed: the cursor is a hint for fairness, never for correctness. */
	int start = atomic_load_explicit(&gs->cursor, memory_order_relaxed);
	if (start < 0 || start >= st->entries)
		start = 0;
	int w0 = start / 64;
	for (int k = 0; k <= words; k++) {
		/* k == words revisits the first word for its bits below the cursor. */
		int w = (w0 + k) % words;
		uint64_t first_mask = k == 0 ? ~0ULL << (start % 64) : k == words ? ~(~0ULL << (start % 64)) : ~0ULL;
		if (k == words && !first_mask)
			break;
		_Atomic uint64_t *word = (_Atomic uint64_t *)&gr->submit_bits[w];
		if (!(atomic_load_explicit(word, memory_order_relaxed) & first_mask))
			continue;
		/* Acquire: the bits we take were set after their entries' SUBMITTED
		 * stores; the CAS on each entry re-checks its status anyway. Only the
		 * bits in this pass's range are taken (the others stay for later). */
		uint64_t bits = atomic_fetch_and_explicit(word, ~first_mask, memory_order_acquire) & first_mask;
		if (!bits)
			continue;
		atomic_fetch_add((_Atomic uint64_t *)&gr->stat_batches, 1);
		int ran = 0;
		if (ex) {
			ex->rest_word = w;
			/* Release: rest_word is visible to a monitor that takes these bits. */
			atomic_store_explicit(&ex->rest, bits, memory_order_release);
		}
		while (bits) {
			int b = __builtin_ctzll(bits);
			if (ex) {
				/* Take the bit from rest; if the stall monitor handed the rest
				 * back (another executor runs it now), stop. */
				uint64_t old = atomic_fetch_and(&ex->rest, ~(1ULL << b));
				if (!(old & (1ULL << b)))
					break;
				bits = old & ~(1ULL << b);
			} else {
				bits &= bits - 1;
			}
			int idx = w * 64 + b;
			if (idx >= st->entries)
				continue; /* scribbled bit beyond the group: ignore */
			struct flexsc_entry *e = entry_at(st, g, idx);
			if (!claim_entry(e))
				continue; /* not SUBMITTED: stale or hostile bit */
			atomic_store_explicit(&gs->cursor, idx + 1 < st->entries ? idx + 1 : 0, memory_order_relaxed);
			int may_block = 0;
			flexsc_call_allowed(e->sysnr, &may_block);
			if (may_block && ex) {
				uint64_t back = atomic_exchange(&ex->rest, 0);
				if (back) {
					/* seq_cst: the handed-back bits are visible before we
					 * drop out of `running`. */
					atomic_fetch_or(word, back);
				}
				bits = 0;
				/* Completions so far are published at the end of the word,
				 * or by a watcher if this call really blocks (it sees no
				 * progress): no futex wake per call here. */
				enter_blocking(st, g);
				execute_entry(st, ex, gr, e, idx, 1);
				leave_blocking(st, g);
				done++;
				/* End the pass: the next one starts at the cursor, right after
				 * this entry, so every submitted entry is reached in turn. */
				publish_done(gr);
				return done;
			}
			execute_entry(st, ex, gr, e, idx, may_block);
			done++;
			ran++;
		}
		if (ran)
			publish_done(gr);
	}
	return done;
}

int flexsc_st_cancel(struct flexsc_st *st, int g, int idx)
{
	if (!st || g < 0 || g >= st->groups)
		return -EINVAL;
	int found = 0;
	struct group_state *gs = &st->gs[g];
	if (idx < 0)
		return -EINVAL;
	pthread_mutex_lock(&gs->lock);
	for (struct executor *ex = gs->executors; ex; ex = ex->next)
		found |= signal_call(ex, idx);
	pthread_mutex_unlock(&gs->lock);
	return found;
}

long flexsc_nop(long x)
{
	return x + 1;
}

long flexsc_raw(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long r = syscall(nr, a0, a1, a2, a3, a4, a5);
	return r == -1 ? -errno : r;
}

long flexsc_rw_nowait(long write, long fd, long buf, long len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = (size_t)len };
	/* pos_l = -1, pos_h = 0: the kernel reads this as position -1, "at the
	 * file position, and move it", as read(2) and write(2) do. 8 = RWF_NOWAIT. */
	long r = syscall(write ? SYS_pwritev2 : SYS_preadv2, fd, &iov, 1L, -1L, 0L, 8L);
	if (r == -1)
		return -errno;
	if (!write && r > 0 && r < len) {
		/* RWF_NOWAIT stops a buffered read of a regular file (or block device)
		 * at the first page not in the page cache, where read(2) goes on to the
		 * end of the range or of the file. On those a read never waits without
		 * bound (only for the disk), so finish it with a plain read. A short
		 * read of a pipe, socket or tty is what read(2) returns too. */
		struct stat st;
		if (fstat((int)fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
			long done = r;
			while (done < len) {
				long n = read((int)fd, (char *)buf + done, (size_t)(len - done));
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					break; /* end of file, or an error after a partial read: the count */
				done += n;
			}
			return done;
		}
	}
	return r;
}

int flexsc_st_execute_pending(struct flexsc_st *st, int g)
{
	if (!st || g < 0 || g >= st->groups)
		return -EINVAL;
	return run_pending(st, NULL, g);
}

/*
 * Sleep until woken (NEED_WAKEUP protocol) or, in watcher mode, for one tick.
 * Returns 1 if this executor should run the group now (woken, or a watcher
 * that found pending work with no progress and nobody running), 0 to sleep again.
 */
static int executor_sleep(struct flexsc_st *st, int g, int *quiet_ticks, uint64_t *seen_calls,
			  uint32_t *seen_done)
{
	struct flexsc_group *gr = grp(st, g);
	struct group_state *gs = &st->gs[g];
	/* Snapshot before announcing: a wake that bumps wake_seq after this
	 * load makes the futex_wait below return at once. */
	uint32_t seq = atomic_load_explicit((_Atomic uint32_t *)&gr->wake_seq, memory_order_acquire);
	int last = atomic_fetch_sub((_Atomic uint32_t *)&gr->running, 1) == 1;
	/* seq_cst load after our seq_cst decrement: an executor that entered a
	 * blocking call (blocked++ then running--) before our decrement is seen. */
	int blocked_now = atomic_load(&gs->blocked) > 0;
	uint64_t calls = atomic_load_explicit(&gs->blocking_calls, memory_order_relaxed);
	if (blocked_now || calls != *seen_calls)
		*quiet_ticks = 0;
	*seen_calls = calls;
	int watch = *quiet_ticks < WATCH_QUIET_TICKS;
	/*
	 * The last executor to stop running arms NEED_WAKEUP, except a watcher
	 * while another executor is inside a call that may block: the tick covers
	 * that case, and arming the flag then would make every submission pay a
	 * wake-up while the active executor runs short "blocking" calls (writes).
	 */
	if (last && !(watch && blocked_now)) {
		/* seq_cst RMW then loads of submit_bits: pairs with the submitter's
		 * OR into submit_bits (seq_cst) then load of flags. One of us sees
		 * the other: no lost wake-up. */
		atomic_fetch_or((_Atomic uint32_t *)&gr->flags, FLEXSC_GROUP_NEED_WAKEUP);
	}
	int run = 1;
	atomic_fetch_add(&gs->idle, 1);
	if (watch)
		atomic_fetch_add(&gs->watching, 1);
	if (!any_submitted(st, gr) && !atomic_load(&st->stopping)) {
		atomic_fetch_add((_Atomic uint64_t *)&gr->stat_sleeps, 1);
		int r = flexsc_futex_wait(&gr->wake_seq, seq, watch ? WATCH_TICK_NS : -1);
		if (r == -ETIMEDOUT) {
			(*quiet_ticks)++;
			/* No progress since the last tick while a call may block: publish
			 * the completions the blocked executor could not (its earlier
			 * entries are DONE already), and take over if work waits and
			 * nobody runs. */
			uint32_t done = atomic_load((_Atomic uint32_t *)&gr->done_seq);
			int stalled = done == *seen_done && atomic_load(&gs->blocked) > 0;
			if (stalled)
				publish_done(gr);
			run = stalled && atomic_load((_Atomic uint32_t *)&gr->running) == 0 && any_submitted(st, gr);
			*seen_done = atomic_load((_Atomic uint32_t *)&gr->done_seq);
		}
	}
	if (watch)
		atomic_fetch_sub(&gs->watching, 1);
	atomic_fetch_sub(&gs->idle, 1);
	atomic_fetch_add((_Atomic uint32_t *)&gr->running, 1);
	return run;
}

static void *executor_main(void *arg)
{
	struct executor *ex = arg;
	struct flexsc_st *st = ex->st;
	int g = ex->group;
	struct flexsc_group *gr = grp(st, g);
	sigset_t set;

	/* Only FLEXSC_SIG reaches executors; every other signal goes to JVM threads. */
	sigfillset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, FLEXSC_SIG);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	flexsc_pin_self(st->gs[g].cpu);
	/* Named so that tools (and the bench harness) can find syscall threads. */
	pthread_setname_np(pthread_self(), "flexsc-exec");

	int quiet_ticks = WATCH_QUIET_TICKS, spin = 0; /* a new (spare) executor does not spin first */
	uint64_t seen_calls = 0;
	uint32_t seen_done = 0;
	while (!atomic_load_explicit(&st->stopping, memory_order_acquire)) {
		if (run_pending(st, ex, g)) {
			spin = 1;
			continue;
		}
		int found = 0;
		for (int i = 0; spin && i < st->spin_iters && !found; i++) {
			__builtin_ia32_pause();
			found = any_submitted(st, gr) || atomic_load_explicit(&st->stopping, memory_order_relaxed);
		}
		if (found)
			continue;
		/* A watcher tick that found nothing to take over goes back to sleep
		 * without spinning: watching must not burn the syscall CPU. */
		while (!executor_sleep(st, g, &quiet_ticks, &seen_calls, &seen_done))
			if (atomic_load_explicit(&st->stopping, memory_order_acquire))
				break;
		spin = 0;
	}
	atomic_fetch_sub((_Atomic uint32_t *)&gr->running, 1);
	atomic_store(&ex->exited, 1);
	return NULL;
}

/*
 * One group's tick of the stall monitor: see STALL_TICK_NS. Returns 1 if the
 * group has calls in flight or waiting (the monitor keeps ticking fast).
 */
static int monitor_group(struct flexsc_st *st, int g)
{
	struct flexsc_group *gr = grp(st, g);
	struct group_state *gs = &st->gs[g];
	int in_call = 0, stranded = 0, n = 0;

	pthread_mutex_lock(&gs->lock);
	for (struct executor *ex = gs->executors; ex; ex = ex->next) {
		n++;
		in_call |= atomic_load_explicit(&ex->in_call, memory_order_relaxed);
		stranded |= atomic_load_explicit(&ex->rest, memory_order_relaxed) != 0;
	}
	pthread_mutex_unlock(&gs->lock);
	int waiting = stranded || any_submitted(st, gr);
	/* Acquire: pairs with publish_done's add (progress is judged by it alone). */
	uint32_t done = atomic_load_explicit((_Atomic uint32_t *)&gr->done_seq, memory_order_acquire);
	if (!waiting || done != gs->mon_done_seq) {
		gs->mon_done_seq = done;
		gs->mon_quiet_ticks = 0;
		return in_call || waiting;
	}
	if (++gs->mon_quiet_ticks < STALL_TICKS)
		return 1;
	gs->mon_quiet_ticks = 0;
	/* Stalled. The stuck executors' unrun bits go back to the group... */
	pthread_mutex_lock(&gs->lock);
	for (struct executor *ex = gs->executors; ex; ex = ex->next) {
		/* acq_rel: rest_word (stored before rest, release) is read after. */
		uint64_t back = atomic_exchange(&ex->rest, 0);
		if (back)
			atomic_fetch_or((_Atomic uint64_t *)&gr->submit_bits[ex->rest_word], back);
	}
	/* ...and another executor runs them: a sleeping one, or a new one. */
	if (atomic_load(&gs->idle) > 0) {
		atomic_fetch_add((_Atomic uint32_t *)&gr->wake_seq, 1);
		flexsc_futex_wake(&gr->wake_seq, 1);
	} else if (!atomic_load(&st->stopping) && spawn_executor(st, g, st->pool_hard_max) == -EAGAIN &&
		   !gs->mon_warned) {
		gs->mon_warned = 1;
		fprintf(stderr, "libflexsc: SYSCALL_THREADS group %d: all %d executors are inside calls that have not"
			" returned for %lld ms and the pool is at its cap (%d = %d x poolThreads, at most %d); the calls"
			" waiting behind them run when one of those returns\n", g, n,
			STALL_TICK_NS * STALL_TICKS / 1000000, st->pool_hard_max, STALL_POOL_FACTOR, STALL_POOL_MAX);
	}
	pthread_mutex_unlock(&gs->lock);
	return 1;
}

static void *monitor_main(void *arg)
{
	struct flexsc_st *st = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_setname_np(pthread_self(), "flexsc-watch");
	int busy = 0;
	while (!atomic_load_explicit(&st->stopping, memory_order_acquire)) {
		uint32_t seq = atomic_load((_Atomic uint32_t *)&st->monitor_seq);
		flexsc_futex_wait(&st->monitor_seq, seq, busy ? STALL_TICK_NS : STALL_IDLE_TICK_NS);
		busy = 0;
		for (int g = 0; g < st->groups; g++)
			busy |= monitor_group(st, g);
	}
	return NULL;
}

struct flexsc_st *flexsc_st_create(int groups, const int *cpus, int pages,
				   int pool_max, int spin_iters, int *err)
{
	if (groups < 1 || groups > (int)FLEXSC_MAX_GROUPS || pages < 1 ||
	    pages > (int)FLEXSC_MAX_PAGES || pool_max < 1 || pool_max > 1024 || spin_iters < 0 || !cpus) {
		*err = EINVAL;
		return NULL;
	}
	pthread_once(&sig_once, install_sig);
	struct flexsc_st *st = calloc(1, sizeof(*st));
	if (!st) {
		*err = ENOMEM;
		return NULL;
	}
	st->groups = groups;
	st->pages = pages;
	st->entries = pages * (int)FLEXSC_ENTRIES_PER_PAGE;
	st->pool_max = pool_max;
	st->pool_hard_max = pool_max * STALL_POOL_FACTOR < STALL_POOL_MAX ? pool_max * STALL_POOL_FACTOR : STALL_POOL_MAX;
	if (st->pool_hard_max < pool_max)
		st->pool_hard_max = pool_max;
	st->spin_iters = spin_iters;
	st->size = FLEXSC_MAPPING_SIZE(groups, pages);
	st->base = mmap(NULL, st->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	st->gs = calloc(groups, sizeof(*st->gs));
	if (st->base == MAP_FAILED || !st->gs) {
		*err = st->base == MAP_FAILED ? errno : ENOMEM;
		if (st->base != MAP_FAILED)
			munmap(st->base, st->size);
		free(st->gs);
		free(st);
		return NULL;
	}
	struct flexsc_ctrl *c = ctrl(st);
	c->magic = FLEXSC_MAGIC;
	c->abi_version = FLEXSC_ABI_VERSION;
	c->groups = groups;
	c->pages = pages;
	c->entries = st->entries;
	for (int g = 0; g < groups; g++) {
		pthread_mutex_init(&st->gs[g].lock, NULL);
		st->gs[g].cpu = cpus[g];
	}
	for (int g = 0; g < groups; g++) {
		pthread_mutex_lock(&st->gs[g].lock);
		int rc = spawn_executor(st, g, st->pool_max);
		pthread_mutex_unlock(&st->gs[g].lock);
		if (rc) {
			flexsc_st_stop(st, 1000000000LL);
			flexsc_st_free(st);
			*err = -rc;
			return NULL;
		}
	}
	int rc = pthread_create(&st->monitor, NULL, monitor_main, st);
	if (rc) {
		flexsc_st_stop(st, 1000000000LL);
		flexsc_st_free(st);
		*err = rc;
		return NULL;
	}
	st->monitor_started = 1;
	return st;
}

void *flexsc_st_base(struct flexsc_st *st) { return st->base; }
uint64_t flexsc_st_mapping_size(struct flexsc_st *st) { return st->size; }
int flexsc_st_threads(struct flexsc_st *st) { return atomic_load(&st->threads); }

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int flexsc_st_stop(struct flexsc_st *st, int64_t timeout_ns)
{
	int64_t deadline = now_ns() + timeout_ns;
	/* Release: executors and the monitor that acquire-load `stopping` leave their loop. */
	atomic_store_explicit(&st->stopping, 1, memory_order_release);
	if (st->monitor_started) {
		atomic_fetch_add((_Atomic uint32_t *)&st->monitor_seq, 1);
		flexsc_futex_wake(&st->monitor_seq, 1);
		/* It ticks at most STALL_IDLE_TICK_NS and takes no lock an executor holds long. */
		pthread_join(st->monitor, NULL);
		st->monitor_started = 0;
	}
	for (int g = 0; g < st->groups; g++) {
		struct flexsc_group *gr = grp(st, g);
		atomic_fetch_or((_Atomic uint32_t *)&gr->flags, FLEXSC_GROUP_STOPPING);
		atomic_fetch_add((_Atomic uint32_t *)&gr->wake_seq, 1);
		flexsc_futex_wake(&gr->wake_seq, INT_MAX);
	}
	int stuck = 0;
	for (int g = 0; g < st->groups; g++) {
		struct group_state *gs = &st->gs[g];
		/* Snapshot the list: spawning checks `stopping` under the lock, so
		 * none is added after this; waiting must not hold the lock, since an
		 * executor handing over takes it. */
		pthread_mutex_lock(&gs->lock);
		struct executor *head = gs->executors;
		pthread_mutex_unlock(&gs->lock);
		for (struct executor *ex = head; ex; ex = ex->next) {
			/* A call may be blocked without bound: signal until the executor
			 * leaves its loop. Repeat, since a signal that lands just before
			 * the call starts is not seen by it. */
			while (!atomic_load(&ex->exited) && now_ns() < deadline) {
				signal_call(ex, -1);
				struct flexsc_group *gr = grp(st, g);
				atomic_fetch_add((_Atomic uint32_t *)&gr->wake_seq, 1);
				flexsc_futex_wake(&gr->wake_seq, INT_MAX);
				struct timespec ts = { 0, 200000 };
				nanosleep(&ts, NULL);
			}
			if (atomic_load(&ex->exited)) {
				pthread_join(ex->thread, NULL);
				atomic_fetch_sub(&st->threads, 1);
				atomic_fetch_sub((_Atomic uint32_t *)&grp(st, g)->executors, 1);
			} else {
				pthread_detach(ex->thread);
				stuck++;
			}
		}
	}
	/* Wake completion waiters: they see the engine closed. */
	for (int g = 0; g < st->groups; g++)
		publish_done(grp(st, g));
	return stuck ? -ETIMEDOUT : 0;
}

void flexsc_st_free(struct flexsc_st *st)
{
	if (!st)
		return;
	for (int g = 0; g < st->groups; g++) {
		struct executor *ex = st->gs[g].executors;
		while (ex) {
			struct executor *n = ex->next;
			free(ex);
			ex = n;
		}
		pthread_mutex_destroy(&st->gs[g].lock);
	}
	munmap(st->base, st->size);
	free(st->gs);
	free(st);
}

int flexsc_abi_describe(char *buf, int len)
{
	int n = 0;
#define D(name, val) n += snprintf(buf + n, n < len ? len - n : 0, "%s=%lld\n", name, (long long)(val))
	D("ABI_VERSION", FLEXSC_ABI_VERSION);
	D("MAGIC", FLEXSC_MAGIC);
	D("PAGE_SIZE", FLEXSC_PAGE_SIZE);
	D("ENTRY_SIZE", sizeof(struct flexsc_entry));
	D("ENTRY_ALIGN", _Alignof(struct flexsc_entry));
	D("ENTRIES_PER_PAGE", FLEXSC_ENTRIES_PER_PAGE);
	D("MAX_PAGES", FLEXSC_MAX_PAGES);
	D("MAX_GROUPS", FLEXSC_MAX_GROUPS);
	D("BITMAP_WORDS", FLEXSC_BITMAP_WORDS);
	D("ARGS", FLEXSC_ARGS);
	D("ENTRY_STATUS", offsetof(struct flexsc_entry, status));
	D("ENTRY_SYSNR", offsetof(struct flexsc_entry, sysnr));
	D("ENTRY_RET", offsetof(struct flexsc_entry, ret));
	D("ENTRY_ARGS", offsetof(struct flexsc_entry, args));
	D("STATUS_FREE", FLEXSC_FREE);
	D("STATUS_SUBMITTED", FLEXSC_SUBMITTED);
	D("STATUS_BUSY", FLEXSC_BUSY);
	D("STATUS_DONE", FLEXSC_DONE);
	D("GROUP_NEED_WAKEUP", FLEXSC_GROUP_NEED_WAKEUP);
	D("GROUP_STOPPING", FLEXSC_GROUP_STOPPING);
	D("GROUP_SIZE", sizeof(struct flexsc_group));
	D("GROUP_SUBMIT_BITS", offsetof(struct flexsc_group, submit_bits));
	D("GROUP_FLAGS", offsetof(struct flexsc_group, flags));
	D("GROUP_WAKE_SEQ", offsetof(struct flexsc_group, wake_seq));
	D("GROUP_RUNNING", offsetof(struct flexsc_group, running));
	D("GROUP_EXECUTORS", offsetof(struct flexsc_group, executors));
	D("GROUP_DONE_SEQ", offsetof(struct flexsc_group, done_seq));
	D("GROUP_DONE_WAITERS", offsetof(struct flexsc_group, done_waiters));
	D("GROUP_STAT_EXECUTED", offsetof(struct flexsc_group, stat_executed));
	D("GROUP_STAT_REFUSED", offsetof(struct flexsc_group, stat_refused));
	D("GROUP_STAT_SLEEPS", offsetof(struct flexsc_group, stat_sleeps));
	D("GROUP_STAT_BATCHES", offsetof(struct flexsc_group, stat_batches));
	D("CTRL_HEADER_SIZE", sizeof(struct flexsc_ctrl));
	D("CTRL_MAGIC", offsetof(struct flexsc_ctrl, magic));
	D("CTRL_ABI_VERSION", offsetof(struct flexsc_ctrl, abi_version));
	D("CTRL_GROUPS", offsetof(struct flexsc_ctrl, groups));
	D("CTRL_PAGES", offsetof(struct flexsc_ctrl, pages));
	D("CTRL_ENTRIES", offsetof(struct flexsc_ctrl, entries));
	D("CTRL_STOP_REASON", offsetof(struct flexsc_ctrl, stop_reason));
	D("STOP_NONE", FLEXSC_STOP_NONE);
	D("STOP_IOCTL", FLEXSC_STOP_IOCTL);
	D("STOP_CLOSE", FLEXSC_STOP_CLOSE);
	D("STOP_SECCOMP", FLEXSC_STOP_SECCOMP);
	D("STOP_AUDIT", FLEXSC_STOP_AUDIT);
	D("CTRL_GROUP0", offsetof(struct flexsc_ctrl, group));
	D("CTRL_SIZE_1", FLEXSC_CTRL_SIZE(1));
	D("CTRL_SIZE_60", FLEXSC_CTRL_SIZE(60));
	D("MAPPING_SIZE_3_5", FLEXSC_MAPPING_SIZE(3, 5));
	D("GROUP_PAGES_OFFSET_3_5_2", FLEXSC_GROUP_PAGES_OFFSET(3, 5, 2));
	D("REGISTER_SIZE", sizeof(struct flexsc_register));
	D("WAIT_SIZE", sizeof(struct flexsc_wait));
	D("WAIT_GROUP", offsetof(struct flexsc_wait, group));
	D("WAIT_FLAGS", offsetof(struct flexsc_wait, flags));
	D("WAIT_TIMEOUT_NS", offsetof(struct flexsc_wait, timeout_ns));
	D("WAIT_DONE_SEQ", offsetof(struct flexsc_wait, done_seq));
	D("WAIT_EXECUTED", offsetof(struct flexsc_wait, executed));
	D("WAIT_EXECUTE", FLEXSC_WAIT_EXECUTE);
	D("IOC_REGISTER", FLEXSC_IOC_REGISTER);
	D("IOC_SERVE", FLEXSC_IOC_SERVE);
	D("IOC_WAIT", FLEXSC_IOC_WAIT);
	D("IOC_WAKE", FLEXSC_IOC_WAKE);
	D("IOC_STOP", FLEXSC_IOC_STOP);
	D("CANCEL_SIZE", sizeof(struct flexsc_cancel));
	D("CANCEL_GROUP", offsetof(struct flexsc_cancel, group));
	D("CANCEL_INDEX", offsetof(struct flexsc_cancel, index));
	D("IOC_CANCEL", FLEXSC_IOC_CANCEL);
	D("IOC_WAKE_WAITERS", FLEXSC_IOC_WAKE_WAITERS);
#undef D
	return n;
}

int flexsc_calls_describe(char *buf, int len)
{
	int n = 0;
#define FLEXSC_DESCRIBE(nr, name, flags) \
	n += snprintf(buf + n, n < len ? len - n : 0, "%d %s %u\n", nr, #name, (unsigned)(flags));
	FLEXSC_CALL_TABLE(FLEXSC_DESCRIBE)
#undef FLEXSC_DESCRIBE
	return n;
}
