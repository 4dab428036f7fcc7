// SPDX-License-Identifier: GPL-2.0
/*
 * flexsc.c - exception-less system calls for Linux (FlexSC, OSDI 2010).
 *
 * /dev/flexsc lets a process register shared syscall pages (flexsc_abi.h),
 * then park some of its own threads in the kernel (FLEXSC_IOC_SERVE) as
 * syscall threads that execute the entries its other threads submit. Because
 * a syscall thread is a thread of the submitting process, every call runs
 * with the process's pid, memory, files and credentials, exactly as if the
 * process had made it. FLEXSC_IOC_WAIT runs pending entries in the caller's
 * own context (one kernel entry per batch) and sleeps for completions.
 *
 * The shared pages are hostile: every value read from them is read once into
 * a local and validated; the kernel's own state (run token, executor counts,
 * stop flag) lives only in kernel memory and is mirrored to the page for
 * information.
 *
 * See docs/kernel-module.md for the design, the pool, and the security model.
 */
#define pr_fmt(fmt) "flexsc: " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/mm.h>
#include <linux/kprobes.h>
#include <linux/irq_work.h>
#include <linux/preempt.h>
#include <linux/nospec.h>
#include <linux/ktime.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <linux/task_work.h>
#include <linux/version.h>
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/sched/user.h>
#include <linux/file.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/cpufeature.h>

#include "flexsc/flexsc_abi.h"
#include "flexsc/flexsc_calls.h"

#define CREATE_TRACE_POINTS
#include "flexsc_trace.h"

#ifndef CONFIG_X86_64
#error "flexsc.ko executes x86-64 system call numbers: build it for x86-64"
#endif

/* ------------------------------------------------------------------------ */
/* Module parameters                                                        */

#ifdef CONFIG_PREEMPT_NOTIFIERS
static int takeover = 1;
#else
static int takeover;
#endif
module_param(takeover, int, 0444);
MODULE_PARM_DESC(takeover,
	"when a spare syscall thread takes over a group: 1 = when the active one sleeps inside a call (preempt notifier), 0 = before every FLEXSC_MAY_BLOCK call");

static unsigned int idle_spin_ns = 2000;
module_param(idle_spin_ns, uint, 0644);
MODULE_PARM_DESC(idle_spin_ns, "how long an idle syscall thread polls submit_bits before it sleeps");

/* ------------------------------------------------------------------------ */
/* The allow-list, from the one table in flexsc_calls.h                     */

#define FLEXSC_ALLOWED 0x80u

static const u8 flexsc_call_flags[FLEXSC_NR_LIMIT] = {
#define FLEXSC_FLAGS_ENTRY(nr, name, flags) [nr] = FLEXSC_ALLOWED | (flags),
	FLEXSC_CALL_TABLE(FLEXSC_FLAGS_ENTRY)
#undef FLEXSC_FLAGS_ENTRY
};

/* ------------------------------------------------------------------------ */
/* Kernel symbols that are not exported, found through kallsyms              */

typedef long (*flexsc_sys_call_fn)(const struct pt_regs *regs);
typedef long (*flexsc_x64_sys_call_fn)(const struct pt_regs *regs, unsigned int nr);

static flexsc_x64_sys_call_fn flexsc_x64_sys_call;   /* 6.9+, and 6.1.85+ stable */
static const flexsc_sys_call_fn *flexsc_sys_call_table;
static void (*flexsc_task_work_run)(void);
static int (*flexsc_wake_up_state)(struct task_struct *p, unsigned int state);
static const int *flexsc_audit_n_rules;                 /* a variable, read only; NULL without AUDITSYSCALL */

static unsigned long (*flexsc_kallsyms_lookup_name)(const char *name);

static int flexsc_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int ret;

	/* kallsyms_lookup_name is not exported since 5.7; a kprobe resolves it. */
	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("register_kprobe(kallsyms_lookup_name) failed: %d (the kernel needs CONFIG_KPROBES and CONFIG_KALLSYMS)\n", ret);
		return ret;
	}
	flexsc_kallsyms_lookup_name = (void *)kp.addr;
	unregister_kprobe(&kp);
	return flexsc_kallsyms_lookup_name ? 0 : -ENOENT;
}

/*
 * The module calls kallsyms_lookup_name (its address from a kprobe, which
 * points past the ENDBR on IBT kernels), x64_sys_call, task_work_run and
 * wake_up_state through addresses found in kallsyms. Where Intel IBT is
 * enforced those targets have no ENDBR (objtool seals functions whose address
 * is never taken) and the first call raises #CP; with clang kCFI the call
 * sites check a type hash the targets were not built for. Refuse to load on
 * such kernels rather than oops at the first call.
 */
static int flexsc_check_indirect_calls(void)
{
	if (IS_ENABLED(CONFIG_CFI_CLANG)) {
		pr_err("refusing to load: the kernel enforces kCFI (CONFIG_CFI_CLANG), which traps the module's calls through kallsyms addresses; use the IO_URING or SYSCALL_THREADS engine\n");
		return -EOPNOTSUPP;
	}
#ifdef CONFIG_X86_KERNEL_IBT
	if (cpu_feature_enabled(X86_FEATURE_IBT)) {
		pr_err("refusing to load: Intel IBT is enforced (CONFIG_X86_KERNEL_IBT on a CPU with IBT), which traps the module's calls through kallsyms addresses; boot with ibt=off, or use the IO_URING or SYSCALL_THREADS engine\n");
		return -EOPNOTSUPP;
	}
#endif
	return 0;
}

static int flexsc_resolve_symbols(void)
{
	int ret = flexsc_find_kallsyms();

	if (ret)
		return ret;
	flexsc_x64_sys_call = (void *)flexsc_kallsyms_lookup_name("x64_sys_call");
	if (!flexsc_x64_sys_call)
		flexsc_sys_call_table = (void *)flexsc_kallsyms_lookup_name("sys_call_table");
	flexsc_task_work_run = (void *)flexsc_kallsyms_lookup_name("task_work_run");
	flexsc_audit_n_rules = (const int *)flexsc_kallsyms_lookup_name("audit_n_rules");
	flexsc_wake_up_state = (void *)flexsc_kallsyms_lookup_name("wake_up_state");
	if (!flexsc_x64_sys_call && !flexsc_sys_call_table) {
		pr_err("neither x64_sys_call nor sys_call_table is in kallsyms: cannot reach the system call implementations\n");
		return -ENOENT;
	}
	if (!flexsc_task_work_run || !flexsc_wake_up_state) {
		pr_err("task_work_run or wake_up_state is not in kallsyms\n");
		return -ENOENT;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* State                                                                    */

struct flexsc_ctx;

/* Kernel-private state of one group; pg/entries point into the shared mapping. */
struct flexsc_grp {
	struct flexsc_ctx *ctx;
	struct flexsc_group *pg;        /* shared control block: hostile */
	struct flexsc_entry *entries;   /* shared entries: hostile */
	atomic_t active;                /* SERVE threads holding the run token: 0 or 1 */
	atomic_t executors;             /* SERVE threads in this group */
	atomic_t waiters;               /* threads sleeping in WAIT */
	wait_queue_head_t exec_wq;      /* idle and spare SERVE threads */
	wait_queue_head_t done_wq;      /* WAIT sleepers */
};

/* One registration: one per open file, bound to the registering process. */
struct flexsc_ctx {
	struct mutex reg_lock;          /* serialises REGISTER */
	bool registered;                /* published with release after all below */
	bool stopped;                   /* STOP, close or release: never cleared */
	struct mm_struct *mm;           /* the owner's mm (mmgrab'ed: stable address) */
	struct pid *tgid;               /* the owner's thread group */
	u32 stop_reason;                /* FLEXSC_STOP_*, the first one (lock) */
	u32 groups, pages, entries;
	void *map;                      /* vmap of pages[], FLEXSC_MAPPING_SIZE bytes */
	size_t map_size;
	struct page **page;             /* the mapping's pages, charged to the owner's memcg */
	unsigned long npages;
	const struct cred *cred;        /* the registering task's: keeps cred->user for unaccounting */
	unsigned long locked_pages;     /* charged to cred->user->locked_vm (0 with CAP_IPC_LOCK) */
	struct flexsc_grp *grp;
	spinlock_t lock;                /* protects execs, and stopped against attach */
	struct list_head execs;         /* threads inside SERVE or WAIT(EXECUTE) */
};

/* A thread executing entries: a SERVE thread, or a WAIT caller. On its stack. */
struct flexsc_exec {
	struct list_head node;
	struct task_struct *task;
	struct flexsc_grp *g;
	bool serve;                     /* pool member (SERVE), may hold the token */
	bool token;                     /* holds g->active; written only by this task */
	bool in_call;                   /* inside a system call implementation */
	unsigned int rest_word;         /* submit_bits word of rest_bits */
	u64 rest_bits;                  /* claimed from submit_bits, not yet executed */
	u64 executed, refused, batches; /* statistics, flushed to the page per batch */
	spinlock_t call_lock;           /* orders CANCEL against the start and end of a call */
	int call_idx;                   /* entry inside a call, -1 none (call_lock) */
	bool cancelled;                 /* CANCEL interrupted call_idx (call_lock) */
#ifdef CONFIG_PREEMPT_NOTIFIERS
	bool use_notifier;
	bool handoff;                   /* sched_out queued a hand-over (iw) */
	struct preempt_notifier pn;
	struct irq_work iw;
#endif
};

static inline atomic_t *flexsc_flags(struct flexsc_grp *g)
{
	return (atomic_t *)&g->pg->flags;
}

static bool flexsc_bits_pending(struct flexsc_grp *g)
{
	unsigned int w;

	for (w = 0; w < FLEXSC_BITMAP_WORDS; w++)
		if (READ_ONCE(g->pg->submit_bits[w]))
			return true;
	return false;
}

/* ------------------------------------------------------------------------ */
/* The run token: one active SERVE thread per group                         */

/*
 * Invariant (what submitters rely on): NEED_WAKEUP is set in the page
 * whenever no SERVE thread holds the token, so a submitter that finds it set
 * after publishing its bit calls WAKE.
 */
static bool flexsc_take_token(struct flexsc_grp *g, struct flexsc_exec *e)
{
	/* Fully ordered on success: the token is ours before we clear NEED_WAKEUP. */
	if (atomic_cmpxchg(&g->active, 0, 1) != 0)
		return false;
	e->token = true;
	/*
	 * A submitter that still sees NEED_WAKEUP calls a WAKE we do not need;
	 * one that sees it clear relies on us: we rescan submit_bits after
	 * setting the flag again before we sleep (flexsc_release_token).
	 */
	atomic_andnot(FLEXSC_GROUP_NEED_WAKEUP, flexsc_flags(g));
	WRITE_ONCE(g->pg->running, 1);
	return true;
}

/* Also called from hard-irq context (the irq_work of a hand-over). */
static void flexsc_release_token(struct flexsc_grp *g, struct flexsc_exec *e)
{
	e->token = false;
	WRITE_ONCE(g->pg->running, 0);
	atomic_set(&g->active, 0);
	/*
	 * Orders the token release (active = 0) before the NEED_WAKEUP store:
	 * a sleeper woken by a submitter that saw the flag must see the token
	 * free when it re-evaluates its wait condition.
	 */
	smp_mb__before_atomic();
	atomic_or(FLEXSC_GROUP_NEED_WAKEUP, flexsc_flags(g));
	/*
	 * Orders the NEED_WAKEUP store before the submit_bits loads below;
	 * pairs with the submitter's full barrier between its OR into
	 * submit_bits and its load of flags. Either we see its bit here, or
	 * it sees NEED_WAKEUP and calls WAKE: no submission is lost.
	 */
	smp_mb__after_atomic();
	if (flexsc_bits_pending(g))
		wake_up(&g->exec_wq);
}

/* Return claimed-but-unexecuted bits to the group, for another executor. */
static void flexsc_give_back(struct flexsc_grp *g, unsigned int word, u64 bits)
{
	if (!bits)
		return;
	/* Fully ordered (returns a value): the bits are visible before any wake-up. */
	atomic64_fetch_or(bits, (atomic64_t *)&g->pg->submit_bits[word]);
}

#ifdef CONFIG_PREEMPT_NOTIFIERS
/*
 * The CMWQ idea: when the active SERVE thread goes to sleep inside a call
 * (an empty pipe, a page fault, a disk wait), a spare takes the group over.
 * sched_out runs under the runqueue lock, where nothing may be woken, so the
 * hand-over itself runs from an irq_work right after the context switch.
 */
static void flexsc_handoff_irq_work(struct irq_work *iw)
{
	struct flexsc_exec *e = container_of(iw, struct flexsc_exec, iw);

	flexsc_give_back(e->g, e->rest_word, e->rest_bits);
	flexsc_release_token(e->g, e);
}

static void flexsc_sched_in(struct preempt_notifier *pn, int cpu)
{
}

static void flexsc_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	struct flexsc_exec *e = container_of(pn, struct flexsc_exec, pn);

	/* Runs in e's own task (prev == current): no race on e's fields. */
	if (READ_ONCE(e->in_call) && e->token && !e->handoff && !task_is_running(current)) {
		e->handoff = true;
		irq_work_queue(&e->iw);
	}
}

static struct preempt_ops flexsc_preempt_ops = {
	.sched_in = flexsc_sched_in,
	.sched_out = flexsc_sched_out,
};
#endif

/* ------------------------------------------------------------------------ */
/* Who may execute entries: seccomp and audit                               */

/*
 * Entries are not system call entries: a seccomp filter never sees them, and
 * syscall audit would fold every entry into the audit context of the one long
 * ioctl (getname() reuses an earlier call's struct filename found by the same
 * user pointer through audit_reusename(), and names pile up until the ioctl
 * returns). So the module executes entries only in a thread that has no
 * seccomp filter and whose ioctl is not audited.
 */
static bool flexsc_filtered(void)
{
#ifdef CONFIG_SECCOMP
	return READ_ONCE(current->seccomp.mode) != SECCOMP_MODE_DISABLED;
#else
	return false;
#endif
}

/*
 * Whether this ioctl collects audit names. The audit context's "dummy" flag is
 * set at the ioctl's own syscall entry (no audit rule applies) and does not
 * change until it returns, so the answer at the start of SERVE or
 * WAIT(EXECUTE) holds for the whole ioctl. While audit is disabled the syscall
 * entry leaves the context unused (nothing is collected) and does not refresh
 * the flag, which may then be stale: hence audit_enabled first, as io_uring's
 * audit_uring_entry() does.
 */
static bool flexsc_audited(void)
{
	return audit_enabled && !audit_dummy_context();
}

/*
 * Whether audit rules appeared while this ioctl runs: its audit context stays
 * dummy until it returns, so the calls it executes would escape the new rules.
 * An executor that finds rules (and an audit context: a task without one is
 * never audited) stops the registration, as for a seccomp filter.
 */
static bool flexsc_audit_began(void)
{
	return flexsc_audit_n_rules && audit_context() && audit_enabled && READ_ONCE(*flexsc_audit_n_rules);
}

/* FLEXSC_STOP_NONE, or why the calling thread may not execute entries. */
static u32 flexsc_unguarded(void)
{
	if (flexsc_filtered())
		return FLEXSC_STOP_SECCOMP;
	if (flexsc_audited())
		return FLEXSC_STOP_AUDIT;
	return FLEXSC_STOP_NONE;
}

/* The errno of a refusal: EPERM for seccomp, EOPNOTSUPP for audit. */
static long flexsc_refusal(const char *what, u32 why)
{
	if (why == FLEXSC_STOP_SECCOMP) {
		pr_warn_ratelimited("%s refused (pid %d, tid %d): the thread runs under a seccomp filter, which calls executed through /dev/flexsc would bypass; run without the filter, or use the SYSCALL_THREADS engine (its calls are real system calls the filter sees)\n",
				    what, task_tgid_nr(current), task_pid_nr(current));
		return -EPERM;
	}
	pr_warn_ratelimited("%s refused (pid %d, tid %d): syscall audit rules apply to the thread, and calls executed through /dev/flexsc are not audited as system calls (inside one ioctl they would share its audit context: getname() reuse across calls); remove the rules (auditctl -D), exclude the process from auditing, or use the IO_URING or SYSCALL_THREADS engine\n",
			    what, task_tgid_nr(current), task_pid_nr(current));
	return -EOPNOTSUPP;
}

static void flexsc_stop(struct flexsc_ctx *c, u32 reason);

/* ------------------------------------------------------------------------ */
/* Executing one entry                                                      */

static long flexsc_invoke(unsigned int nr, const u64 *args)
{
	struct pt_regs regs = {};

	/* The x86-64 syscall ABI: the __x64_sys_* wrappers read these fields. */
	regs.di = args[0];
	regs.si = args[1];
	regs.dx = args[2];
	regs.r10 = args[3];
	regs.r8 = args[4];
	regs.r9 = args[5];
	regs.orig_ax = nr;
	regs.ax = -ENOSYS;
	regs.cs = __USER_CS;
	regs.ss = __USER_DS;
	if (flexsc_x64_sys_call)
		return flexsc_x64_sys_call(&regs, nr);
	return flexsc_sys_call_table[nr](&regs);
}

/* Restart codes never reach user space: the entry cannot be restarted. */
static long flexsc_fix_restart(long ret)
{
	switch (ret) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return -EINTR;
	}
	return ret;
}

static bool flexsc_must_leave(struct flexsc_exec *e)
{
	return READ_ONCE(e->g->ctx->stopped) || signal_pending(current);
}

static void flexsc_complete(struct flexsc_grp *g, struct flexsc_entry *ent, long ret)
{
	WRITE_ONCE(ent->ret, ret);
	/*
	 * Orders the ret store before the DONE store; pairs with the owner's
	 * load-acquire of status == DONE before it reads ret.
	 */
	smp_store_release(&ent->status, FLEXSC_DONE);
	/*
	 * Fully ordered increment: (1) the DONE store above is visible before
	 * the new done_seq, so a waiter that loads the new done_seq with acquire
	 * and then loads statuses sees DONE; (2) the increment is visible
	 * before the waitqueue_active() load below, pairing with the barrier in
	 * set_current_state() of a WAIT sleeper, which precedes its load of
	 * done_seq: either it sees the new value or we see it queued.
	 */
	atomic_inc_return((atomic_t *)&g->pg->done_seq);
	if (waitqueue_active(&g->done_wq))
		wake_up_all(&g->done_wq);
}

/*
 * The call of e ended: no CANCEL can target it any more. If one did, consume
 * the TIF_NOTIFY_SIGNAL it set, so that it cannot interrupt the next call.
 * The flag is tested and cleared with a fully ordered RMW: if STOP had set it
 * too, its store of ctx->stopped (made before its own fully ordered set) is
 * visible to the flexsc_must_leave() that follows, so a stop is never lost.
 */
static void flexsc_call_ended(struct flexsc_exec *e)
{
	bool cancelled;

	spin_lock(&e->call_lock);
	e->call_idx = -1;
	cancelled = e->cancelled;
	e->cancelled = false;
	spin_unlock(&e->call_lock);
	if (cancelled)
		test_and_clear_thread_flag(TIF_NOTIFY_SIGNAL);
}

/*
 * Claim and execute entry idx. Returns 1 if the entry was completed (DONE
 * written), 0 if it was not ours to run (not SUBMITTED).
 */
static int flexsc_execute_entry(struct flexsc_grp *g, struct flexsc_exec *e, unsigned int idx)
{
	struct flexsc_entry *ent = &g->entries[idx];
	u64 args[FLEXSC_ARGS];
	unsigned int nr, i;
	u8 cflags;
	long ret;

	/*
	 * Claim SUBMITTED -> BUSY. Acquire: the sysnr/args loads below are not
	 * satisfied before the claim; pairs with the owner's store-release of
	 * SUBMITTED, made after it wrote sysnr and args.
	 */
	if (cmpxchg_acquire(&ent->status, FLEXSC_SUBMITTED, FLEXSC_BUSY) != FLEXSC_SUBMITTED) {
		e->refused++;           /* stale or forged bit: leave the entry alone */
		return 0;
	}
	/* Read once into locals: the page may change under us from now on. */
	nr = READ_ONCE(ent->sysnr);
	for (i = 0; i < FLEXSC_ARGS; i++)
		args[i] = READ_ONCE(ent->args[i]);

	if (nr >= FLEXSC_NR_LIMIT) {
		e->refused++;
		flexsc_complete(g, ent, -ENOSYS);
		return 1;
	}
	nr = array_index_nospec(nr, FLEXSC_NR_LIMIT);
	cflags = flexsc_call_flags[nr];
	if (!(cflags & FLEXSC_ALLOWED)) {
		e->refused++;
		flexsc_complete(g, ent, -ENOSYS);
		return 1;
	}

	if (e->serve && e->token && (cflags & FLEXSC_MAY_BLOCK) &&
#ifdef CONFIG_PREEMPT_NOTIFIERS
	    !e->use_notifier &&
#endif
	    true) {
		/* Flag mode: hand the group to a spare before a call that may block. */
		flexsc_give_back(g, e->rest_word, e->rest_bits);
		e->rest_bits = 0;
		flexsc_release_token(g, e);
	}

	spin_lock(&e->call_lock);
	e->call_idx = idx;      /* from now on CANCEL(idx) may interrupt this call */
	spin_unlock(&e->call_lock);
	WRITE_ONCE(e->in_call, true);
	barrier();              /* in_call is seen by sched_out in this task only */
	ret = flexsc_invoke(nr, args);
	barrier();
	WRITE_ONCE(e->in_call, false);
	flexsc_call_ended(e);
#ifdef CONFIG_PREEMPT_NOTIFIERS
	if (e->handoff) {
		/* The hand-over gave rest_bits back and released the token. */
		irq_work_sync(&e->iw);
		e->handoff = false;
		e->rest_bits = 0;
	}
#endif
	/* Deferred work of the call (the final fput of a close) runs now, not at SERVE's return. */
	if (task_work_pending(current))
		flexsc_task_work_run();

	e->executed++;
	ret = flexsc_fix_restart(ret);
	trace_flexsc_call(g - g->ctx->grp, idx, nr, args, ret);
	flexsc_complete(g, ent, ret);
	return 1;
}

static void flexsc_flush_stats(struct flexsc_grp *g, struct flexsc_exec *e)
{
	if (e->executed)
		atomic64_add(e->executed, (atomic64_t *)&g->pg->stat_executed);
	if (e->refused)
		atomic64_add(e->refused, (atomic64_t *)&g->pg->stat_refused);
	if (e->batches)
		atomic64_add(e->batches, (atomic64_t *)&g->pg->stat_batches);
	e->executed = e->refused = e->batches = 0;
}

/*
 * One pass over submit_bits: claim each non-empty word whole and execute its
 * entries. A SERVE thread stops early when it loses the token (the rest was
 * given back). A WAIT caller leaves FLEXSC_MAY_BLOCK entries to the group's
 * SERVE threads when it has some, so a batch never blocks its caller behind
 * an empty pipe. Returns the number of entries completed.
 */
static unsigned int flexsc_run_pending(struct flexsc_grp *g, struct flexsc_exec *e)
{
	unsigned int w, done = 0, routed = 0;
	u32 why;

	for (w = 0; w < FLEXSC_BITMAP_WORDS; w++) {
		u64 bits;

		if (!READ_ONCE(g->pg->submit_bits[w]))
			continue;
		/*
		 * Claim the word. xchg is fully ordered: it orders our claim
		 * before the status loads of the claimed entries; pairs with
		 * the submitter's store-release of SUBMITTED followed by its
		 * atomic OR of the bit.
		 */
		bits = xchg(&g->pg->submit_bits[w], 0);
		if (!bits)
			continue;
		/*
		 * A seccomp filter (TSYNC) installed before a submitter set one
		 * of these bits is visible now: the xchg above is fully ordered
		 * after that submitter's OR, which followed its filter install
		 * in program order. Audit rules added since this ioctl began
		 * would not see the calls either. Fail closed: the entries stay
		 * SUBMITTED for their owners, who see STOPPING and stop_reason.
		 */
		why = unlikely(flexsc_filtered()) ? FLEXSC_STOP_SECCOMP :
		      unlikely(flexsc_audit_began()) ? FLEXSC_STOP_AUDIT : FLEXSC_STOP_NONE;
		if (why) {
			flexsc_give_back(g, w, bits);
			flexsc_refusal("executing entries", why);
			flexsc_stop(g->ctx, why);
			goto out;
		}
		e->batches++;
		while (bits) {
			unsigned int b = __ffs64(bits);
			unsigned int idx = w * 64 + b;

			bits &= bits - 1;
			if (flexsc_must_leave(e)) {
				flexsc_give_back(g, w, bits | BIT_ULL(b));
				goto out;
			}
			if (idx >= g->ctx->entries) {
				e->refused++;   /* a bit past the group's entries */
				continue;
			}
			if (!e->serve && atomic_read(&g->executors) > 0) {
				struct flexsc_entry *ent = &g->entries[idx];
				/* Routing hint only; the authoritative read follows the claim. */
				u32 nr = READ_ONCE(ent->sysnr);

				if (nr < FLEXSC_NR_LIMIT &&
				    (flexsc_call_flags[array_index_nospec(nr, FLEXSC_NR_LIMIT)] & FLEXSC_MAY_BLOCK)) {
					flexsc_give_back(g, w, BIT_ULL(b));
					routed++;
					continue;
				}
			}
			e->rest_word = w;
			e->rest_bits = bits;
			done += flexsc_execute_entry(g, e, idx);
			bits = e->rest_bits;    /* 0 if a hand-over gave it back */
			if (e->serve && !e->token)
				goto out;
			cond_resched();
		}
	}
out:
	e->rest_bits = 0;
	flexsc_flush_stats(g, e);
	if (routed)
		wake_up(&g->exec_wq);   /* the pool takes the calls that may block */
	return done;
}

/* ------------------------------------------------------------------------ */
/* Attach, detach, stop                                                     */

static bool flexsc_attach(struct flexsc_ctx *c, struct flexsc_exec *e)
{
	bool ok;

	spin_lock(&c->lock);
	ok = !c->stopped;
	if (ok)
		list_add(&e->node, &c->execs);
	spin_unlock(&c->lock);
	return ok;
}

static void flexsc_detach(struct flexsc_ctx *c, struct flexsc_exec *e)
{
	spin_lock(&c->lock);
	list_del(&e->node);
	spin_unlock(&c->lock);
}

/*
 * Stop the registration: every SERVE thread returns 0, every WAIT returns.
 * A thread blocked inside a call (a read on an empty pipe) is interrupted
 * the way io_uring interrupts its workers: TIF_NOTIFY_SIGNAL makes
 * signal_pending() true, so interruptible sleeps end (the call completes
 * with -EINTR); the flag is consumed on the way back to user space.
 */
static void flexsc_stop(struct flexsc_ctx *c, u32 reason)
{
	struct flexsc_exec *e;
	u32 i;

	spin_lock(&c->lock);
	if (!c->stop_reason)
		c->stop_reason = reason;        /* the first reason wins */
	reason = c->stop_reason;
	WRITE_ONCE(c->stopped, true);
	list_for_each_entry(e, &c->execs, node) {
		if (!test_and_set_tsk_thread_flag(e->task, TIF_NOTIFY_SIGNAL) &&
		    !flexsc_wake_up_state(e->task, TASK_INTERRUPTIBLE))
			kick_process(e->task);
	}
	spin_unlock(&c->lock);
	if (!smp_load_acquire(&c->registered))
		return;
	WRITE_ONCE(((struct flexsc_ctrl *)c->map)->stop_reason, reason);
	/*
	 * Orders the stop_reason store before the STOPPING stores; pairs with
	 * the owner's acquire load of flags that sees STOPPING before it reads
	 * stop_reason.
	 */
	smp_mb__before_atomic();
	for (i = 0; i < c->groups; i++) {
		atomic_or(FLEXSC_GROUP_STOPPING, flexsc_flags(&c->grp[i]));
		wake_up_all(&c->grp[i].exec_wq);
		wake_up_all(&c->grp[i].done_wq);
	}
}

/* ------------------------------------------------------------------------ */
/* SERVE                                                                    */

/* Wait condition of idle and spare SERVE threads. */
static bool flexsc_serve_wakeup(struct flexsc_grp *g)
{
	return READ_ONCE(g->ctx->stopped) ||
	       (atomic_read(&g->active) == 0 && flexsc_bits_pending(g));
}

/* Poll briefly before sleeping: a submission within idle_spin_ns costs no wake-up. */
static bool flexsc_idle_spin(struct flexsc_grp *g, struct flexsc_exec *e)
{
	u64 end = ktime_get_ns() + READ_ONCE(idle_spin_ns);

	do {
		if (flexsc_bits_pending(g))
			return true;
		if (need_resched() || flexsc_must_leave(e))
			return false;
		cpu_relax();
	} while (ktime_get_ns() < end);
	return false;
}

static long flexsc_serve(struct flexsc_ctx *c, struct flexsc_grp *g)
{
	struct flexsc_exec e = { .task = current, .g = g, .serve = true, .call_idx = -1 };
	u32 why = flexsc_unguarded();
	long ret;

	spin_lock_init(&e.call_lock);
	if (why) {
		ret = flexsc_refusal("FLEXSC_IOC_SERVE", why);
		flexsc_stop(c, why);
		return ret;
	}
	if (!flexsc_attach(c, &e))
		return 0;               /* already stopped: the thread just ends */
	WRITE_ONCE(g->pg->executors, atomic_inc_return(&g->executors));
#ifdef CONFIG_PREEMPT_NOTIFIERS
	e.use_notifier = takeover != 0;
	if (e.use_notifier) {
		init_irq_work(&e.iw, flexsc_handoff_irq_work);
		preempt_notifier_init(&e.pn, &flexsc_preempt_ops);
		/* The scheduler walks current's notifier list: no preemption mid-insert. */
		preempt_disable();
		preempt_notifier_register(&e.pn);
		preempt_enable();
	}
#endif
	for (;;) {
		if (READ_ONCE(c->stopped)) {
			ret = 0;
			break;
		}
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (!e.token && !flexsc_take_token(g, &e)) {
			/* A spare: sleep until the token is free with work pending. */
			wait_event_interruptible_exclusive(g->exec_wq, flexsc_serve_wakeup(g));
			continue;
		}
		if (flexsc_run_pending(g, &e) || !e.token)
			continue;
		if (flexsc_idle_spin(g, &e))
			continue;
		/* Idle: NEED_WAKEUP, full barrier, rescan (in release_token), sleep. */
		flexsc_release_token(g, &e);
		if (flexsc_serve_wakeup(g))
			continue;       /* work arrived in the window: no sleep */
		atomic64_inc((atomic64_t *)&g->pg->stat_sleeps);
		wait_event_interruptible_exclusive(g->exec_wq, flexsc_serve_wakeup(g));
	}
	if (e.token)
		flexsc_release_token(g, &e);
#ifdef CONFIG_PREEMPT_NOTIFIERS
	if (e.use_notifier) {
		preempt_disable();
		preempt_notifier_unregister(&e.pn);
		preempt_enable();
		irq_work_sync(&e.iw);   /* e is on our stack */
	}
#endif
	WRITE_ONCE(g->pg->executors, atomic_dec_return(&g->executors));
	flexsc_detach(c, &e);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* WAIT                                                                     */

static bool flexsc_done_changed(struct flexsc_grp *g, u32 seen)
{
	return READ_ONCE(g->pg->done_seq) != seen || READ_ONCE(g->ctx->stopped);
}

static long flexsc_wait(struct file *file, struct flexsc_ctx *c, struct flexsc_wait __user *uw)
{
	struct flexsc_wait w;
	struct flexsc_grp *g;
	bool held = false;
	long ret = 0;

	if (copy_from_user(&w, uw, sizeof(w)))
		return -EFAULT;
	if (w.group >= c->groups || (w.flags & ~FLEXSC_WAIT_EXECUTE))
		return -EINVAL;
	g = &c->grp[array_index_nospec(w.group, c->groups)];
	w.executed = 0;
	if (READ_ONCE(c->stopped))
		return -ESHUTDOWN;

	if (w.flags & FLEXSC_WAIT_EXECUTE) {
		struct flexsc_exec e = { .task = current, .g = g, .call_idx = -1 };
		u32 why = flexsc_unguarded();

		if (why) {
			ret = flexsc_refusal("FLEXSC_IOC_WAIT(EXECUTE)", why);
			flexsc_stop(c, why);
			return ret;
		}
		spin_lock_init(&e.call_lock);
		if (!flexsc_attach(c, &e))
			return -ESHUTDOWN;
		/* Our own reference, as SERVE's (see flexsc_ioctl): an executed close() must not free c. */
		get_file(file);
		held = true;
		w.executed = flexsc_run_pending(g, &e);
		flexsc_detach(c, &e);
	}

	if (!w.executed && w.timeout_ns != 0 && !flexsc_done_changed(g, w.done_seq)) {
		long r;

		WRITE_ONCE(g->pg->done_waiters, atomic_inc_return(&g->waiters));
		if (w.timeout_ns < 0)
			r = wait_event_interruptible(g->done_wq, flexsc_done_changed(g, w.done_seq));
		else
			r = wait_event_interruptible_hrtimeout(g->done_wq,
					flexsc_done_changed(g, w.done_seq), ns_to_ktime(w.timeout_ns));
		WRITE_ONCE(g->pg->done_waiters, atomic_dec_return(&g->waiters));
		if (r == -ERESTARTSYS)
			ret = -EINTR;
		else if (r == -ETIME)
			ret = -ETIMEDOUT;
		if (!ret && READ_ONCE(c->stopped) && READ_ONCE(g->pg->done_seq) == w.done_seq)
			ret = -ESHUTDOWN;
	}
	if (put_user(w.executed, &uw->executed))
		ret = -EFAULT;
	if (held)
		fput(file);     /* if it was the last reference, release runs on return to user */
	return ret;
}

/*
 * WAKE_WAITERS: end every WAIT sleep of group g, from any thread of the
 * owner (a carrier that sleeps in WAIT(EXECUTE) on its own group is woken
 * this way when another thread gives it work). The same fully ordered
 * increment as a completion (flexsc_complete): a WAIT caller whose done_seq
 * was read before it sees the group changed and returns at once, and one
 * already queued is woken. done_seq is a counter user space compares for
 * equality only; an increment without a DONE is a spurious wake-up.
 */
static void flexsc_wake_waiters(struct flexsc_grp *g)
{
	/* Pairs with the barrier in set_current_state() of a WAIT sleeper, as in flexsc_complete. */
	atomic_inc_return((atomic_t *)&g->pg->done_seq);
	if (waitqueue_active(&g->done_wq))
		wake_up_all(&g->done_wq);
}

/* ------------------------------------------------------------------------ */
/* CANCEL                                                                   */

/*
 * Interrupt the call of entry `index` of group `group` if a thread of the
 * registration is executing it now: the same TIF_NOTIFY_SIGNAL as STOP, so an
 * interruptible sleep ends and the entry completes with -EINTR; the executor
 * consumes the flag when the call returns (flexsc_call_ended) and goes on.
 * Returns 1 if a call was interrupted, 0 if the entry is not inside a call
 * (not claimed yet, already DONE, or executing between two sleeps).
 */
static long flexsc_cancel(struct flexsc_ctx *c, struct flexsc_cancel __user *uc)
{
	struct flexsc_cancel a;
	struct flexsc_grp *g;
	struct flexsc_exec *e;
	long n = 0;

	if (copy_from_user(&a, uc, sizeof(a)))
		return -EFAULT;
	if (a.group >= c->groups || a.index >= c->entries)
		return -EINVAL;
	g = &c->grp[array_index_nospec(a.group, c->groups)];
	spin_lock(&c->lock);
	list_for_each_entry(e, &c->execs, node) {
		if (e->g != g)
			continue;
		/* call_lock: the call cannot end (and consume the flag) between check and set. */
		spin_lock(&e->call_lock);
		if (e->call_idx == (int)a.index) {
			e->cancelled = true;
			if (!test_and_set_tsk_thread_flag(e->task, TIF_NOTIFY_SIGNAL) &&
			    !flexsc_wake_up_state(e->task, TASK_INTERRUPTIBLE))
				kick_process(e->task);
			n = 1;
		}
		spin_unlock(&e->call_lock);
	}
	spin_unlock(&c->lock);
	return n;
}

/* ------------------------------------------------------------------------ */
/* REGISTER                                                                 */

/*
 * Charge npages to the registering user's locked memory, as io_uring charges
 * its rings: the pages are pinned in the kernel for the registration's life,
 * so they count against RLIMIT_MEMLOCK unless the caller has CAP_IPC_LOCK.
 * c->cred holds the user_struct until release unaccounts it.
 */
static long flexsc_account(struct flexsc_ctx *c, unsigned long npages)
{
	struct user_struct *user = c->cred->user;
	unsigned long limit, cur, next;

	if (capable(CAP_IPC_LOCK))
		return 0;
	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	cur = atomic_long_read(&user->locked_vm);
	do {
		next = cur + npages;
		if (next > limit) {
			pr_info_ratelimited("FLEXSC_IOC_REGISTER refused (pid %d): %lu KiB of syscall pages would exceed RLIMIT_MEMLOCK (%lu KiB, %lu KiB already locked by this user); raise the limit (ulimit -l), register fewer groups or pages, or grant CAP_IPC_LOCK\n",
					    task_tgid_nr(current), npages << (PAGE_SHIFT - 10),
					    limit << (PAGE_SHIFT - 10), cur << (PAGE_SHIFT - 10));
			return -ENOMEM;
		}
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, next));
	c->locked_pages = npages;
	return 0;
}

static void flexsc_unaccount(struct flexsc_ctx *c)
{
	if (c->locked_pages)
		atomic_long_sub(c->locked_pages, &c->cred->user->locked_vm);
	c->locked_pages = 0;
}

/*
 * The mapping: order-0 zeroed pages charged to the caller's memory cgroup
 * (__GFP_ACCOUNT), one kernel view of them (vmap), inserted into each user
 * mapping by flexsc_mmap. /proc/vmallocinfo names this function for the
 * kernel view: the guest suite checks that none is left after the suites.
 * __GFP_RETRY_MAYFAIL: over the cgroup's memory.max REGISTER fails with
 * ENOMEM instead of invoking the memcg OOM killer on the caller.
 */
#define FLEXSC_GFP (GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)
static noinline long flexsc_alloc_map(struct flexsc_ctx *c, size_t size)
{
	unsigned long i, n = size >> PAGE_SHIFT;
	struct page **pages;

	pages = kvcalloc(n, sizeof(*pages), FLEXSC_GFP);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		pages[i] = alloc_page(FLEXSC_GFP | __GFP_ZERO);
		if (!pages[i])
			goto fail;
	}
	c->map = vmap(pages, n, VM_MAP, PAGE_KERNEL);
	if (!c->map)
		goto fail;
	c->page = pages;
	c->npages = n;
	return 0;
fail:
	while (i--)
		__free_page(pages[i]);
	kvfree(pages);
	return -ENOMEM;
}

static void flexsc_free_map(struct flexsc_ctx *c)
{
	unsigned long i;

	vunmap(c->map);
	for (i = 0; i < c->npages; i++)
		__free_page(c->page[i]);
	kvfree(c->page);
	c->map = NULL;
	c->page = NULL;
}

static long flexsc_register(struct flexsc_ctx *c, struct flexsc_register __user *ur)
{
	struct flexsc_register r;
	struct flexsc_grp *grp;
	struct flexsc_ctrl *ctrl;
	size_t size;
	u32 i, why;
	long ret;

	if (copy_from_user(&r, ur, sizeof(r)))
		return -EFAULT;
	if (r.abi_version != FLEXSC_ABI_VERSION)
		return -EPROTO;
	if (r.flags || r.groups < 1 || r.groups > FLEXSC_MAX_GROUPS ||
	    r.pages < 1 || r.pages > FLEXSC_MAX_PAGES)
		return -EINVAL;
	if (!current->mm)
		return -EINVAL;
	/* Entries would bypass the caller's seccomp filter or audit: refuse (flexsc_unguarded). */
	why = flexsc_unguarded();
	if (why)
		return flexsc_refusal("FLEXSC_IOC_REGISTER", why);
	size = FLEXSC_MAPPING_SIZE(r.groups, r.pages);
	r.mapping_size = size;

	mutex_lock(&c->reg_lock);
	ret = -EBUSY;
	if (c->registered)
		goto out;
	ret = -EFAULT;
	if (copy_to_user(ur, &r, sizeof(r)))
		goto out;
	c->cred = get_current_cred();
	ret = flexsc_account(c, size >> PAGE_SHIFT);
	if (ret)
		goto out_cred;
	ret = flexsc_alloc_map(c, size);
	if (ret)
		goto out_unaccount;
	ret = -ENOMEM;
	grp = kcalloc(r.groups, sizeof(*grp), GFP_KERNEL_ACCOUNT);
	if (!grp)
		goto out_map;
	ctrl = c->map;
	ctrl->magic = FLEXSC_MAGIC;
	ctrl->abi_version = FLEXSC_ABI_VERSION;
	ctrl->groups = r.groups;
	ctrl->pages = r.pages;
	ctrl->entries = r.pages * FLEXSC_ENTRIES_PER_PAGE;
	for (i = 0; i < r.groups; i++) {
		grp[i].ctx = c;
		grp[i].pg = &ctrl->group[i];
		grp[i].entries = c->map + FLEXSC_GROUP_PAGES_OFFSET(r.groups, r.pages, i);
		init_waitqueue_head(&grp[i].exec_wq);
		init_waitqueue_head(&grp[i].done_wq);
		/* No executor yet: submitters must call WAKE (the token invariant). */
		grp[i].pg->flags = FLEXSC_GROUP_NEED_WAKEUP;
	}
	c->groups = r.groups;
	c->pages = r.pages;
	c->entries = r.pages * FLEXSC_ENTRIES_PER_PAGE;
	c->map_size = size;
	c->grp = grp;
	c->mm = current->mm;
	mmgrab(c->mm);
	c->tgid = get_task_pid(current, PIDTYPE_TGID);
	/*
	 * Publish: every field above is written before registered; pairs with
	 * the load-acquire in flexsc_owned().
	 */
	smp_store_release(&c->registered, true);
	mutex_unlock(&c->reg_lock);
	return 0;

out_map:
	flexsc_free_map(c);
out_unaccount:
	flexsc_unaccount(c);
out_cred:
	put_cred(c->cred);
	c->cred = NULL;
out:
	mutex_unlock(&c->reg_lock);
	return ret;
}

/* The registration, if the caller is a thread of the registering process. */
static struct flexsc_ctx *flexsc_owned(struct file *file, long *err)
{
	struct flexsc_ctx *c = file->private_data;

	if (!smp_load_acquire(&c->registered)) {
		*err = -EBADFD;
		return NULL;
	}
	if (current->mm != c->mm || task_tgid(current) != c->tgid) {
		*err = -EPERM;
		return NULL;
	}
	return c;
}

static long flexsc_group_arg(struct flexsc_ctx *c, unsigned long arg, struct flexsc_grp **g)
{
	u32 gi;

	if (get_user(gi, (u32 __user *)arg))
		return -EFAULT;
	if (gi >= c->groups)
		return -EINVAL;
	*g = &c->grp[array_index_nospec(gi, c->groups)];
	return 0;
}

static long flexsc_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct flexsc_ctx *c;
	struct flexsc_grp *g;
	long err;

	if (cmd == FLEXSC_IOC_REGISTER)
		return flexsc_register(file->private_data, (void __user *)arg);
	switch (cmd) {
	case FLEXSC_IOC_SERVE:
	case FLEXSC_IOC_WAIT:
	case FLEXSC_IOC_WAKE:
	case FLEXSC_IOC_STOP:
	case FLEXSC_IOC_CANCEL:
	case FLEXSC_IOC_WAKE_WAITERS:
		break;
	default:
		return -ENOTTY;
	}
	c = flexsc_owned(file, &err);
	if (!c)
		return err;
	switch (cmd) {
	case FLEXSC_IOC_SERVE:
		err = flexsc_group_arg(c, arg, &g);
		if (err)
			return err;
		/*
		 * SERVE and WAIT(EXECUTE) hold their own reference to the file
		 * while they run entries. The ioctl's fdget() takes none when the
		 * fd table is not shared (a single-threaded process, or a thread
		 * after unshare(CLONE_FILES)), so an executed close() of this very
		 * descriptor would drop the last reference, and the task_work_run()
		 * after the call would free c under us (flexsc_release). With our
		 * reference, the final fput is queued for our return to user space.
		 */
		get_file(file);
		err = flexsc_serve(c, g);
		fput(file);
		return err;
	case FLEXSC_IOC_WAIT:
		return flexsc_wait(file, c, (void __user *)arg);
	case FLEXSC_IOC_WAKE:
		err = flexsc_group_arg(c, arg, &g);
		if (err)
			return err;
		wake_up(&g->exec_wq);   /* one sleeper: it takes the token */
		return 0;
	case FLEXSC_IOC_STOP:
		flexsc_stop(c, FLEXSC_STOP_IOCTL);
		return 0;
	case FLEXSC_IOC_CANCEL:
		return flexsc_cancel(c, (void __user *)arg);
	case FLEXSC_IOC_WAKE_WAITERS:
		err = flexsc_group_arg(c, arg, &g);
		if (err)
			return err;
		flexsc_wake_waiters(g);
		return 0;
	}
	return -ENOTTY;
}

/* ------------------------------------------------------------------------ */
/* mmap, open, flush, release                                               */

static int flexsc_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct flexsc_ctx *c;
	unsigned long n;
	long err;

	c = flexsc_owned(file, &err);
	if (!c)
		return err;
	if (vma->vm_pgoff != 0 || vma->vm_end - vma->vm_start != c->map_size)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;
	/*
	 * Not executable, and not inherited by fork: a child must not post
	 * calls that our syscall threads would run with our credentials.
	 * VM_IO makes madvise(MADV_DOFORK) fail with EINVAL, so VM_DONTCOPY
	 * cannot be cleared (directly or by a posted madvise). It also keeps
	 * get_user_pages() off the pages (ptrace peeks, process_vm_readv,
	 * O_DIRECT into them fail): nothing of the ABI needs that.
	 * VM_DONTEXPAND: mremap cannot grow it past the pages.
	 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, VM_DONTCOPY | VM_IO | VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
#else
	vma->vm_flags |= VM_DONTCOPY | VM_IO | VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_flags &= ~VM_MAYEXEC;
#endif
	n = c->npages;
	return vm_insert_pages(vma, vma->vm_start, c->page, &n);
}

static int flexsc_open(struct inode *inode, struct file *file)
{
	struct flexsc_ctx *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	mutex_init(&c->reg_lock);
	spin_lock_init(&c->lock);
	INIT_LIST_HEAD(&c->execs);
	file->private_data = c;
	return 0;
}

/*
 * close() by the owner stops the registration at once. Without this, a
 * close() while SERVE threads sit in the kernel would never reach release:
 * each in-flight ioctl holds a reference to the file.
 */
static int flexsc_flush(struct file *file, fl_owner_t id)
{
	struct flexsc_ctx *c = file->private_data;

	if (smp_load_acquire(&c->registered) && task_tgid(current) == c->tgid)
		flexsc_stop(c, FLEXSC_STOP_CLOSE);
	return 0;
}

/* Last reference: no ioctl is in flight and no mapping is left. */
static int flexsc_release(struct inode *inode, struct file *file)
{
	struct flexsc_ctx *c = file->private_data;

	flexsc_stop(c, FLEXSC_STOP_NONE);
	WARN_ON_ONCE(!list_empty(&c->execs));
	if (c->registered) {
		kfree(c->grp);
		flexsc_free_map(c);
		flexsc_unaccount(c);
		put_cred(c->cred);
		mmdrop(c->mm);
		put_pid(c->tgid);
	}
	kfree(c);
	return 0;
}

static const struct file_operations flexsc_fops = {
	.owner = THIS_MODULE,
	.open = flexsc_open,
	.flush = flexsc_flush,
	.release = flexsc_release,
	.unlocked_ioctl = flexsc_ioctl,
	.mmap = flexsc_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice flexsc_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "flexsc",
	.fops = &flexsc_fops,
	.mode = 0666,
};

static int __init flexsc_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct flexsc_entry) != FLEXSC_ENTRY_SIZE);
	BUILD_BUG_ON(sizeof(struct flexsc_group) != FLEXSC_GROUP_SIZE);
	BUILD_BUG_ON(sizeof(struct flexsc_ctrl) != FLEXSC_CTRL_HEADER_SIZE);
	BUILD_BUG_ON(FLEXSC_BITMAP_WORDS * 64 != FLEXSC_MAX_ENTRIES);
	BUILD_BUG_ON(FLEXSC_CTRL_SIZE(FLEXSC_MAX_GROUPS) > 4 * FLEXSC_PAGE_SIZE);

	ret = flexsc_check_indirect_calls();
	if (ret)
		return ret;
	ret = flexsc_resolve_symbols();
	if (ret)
		return ret;
#ifdef CONFIG_PREEMPT_NOTIFIERS
	preempt_notifier_inc();
#endif
	ret = misc_register(&flexsc_misc);
	if (ret) {
		pr_err("misc_register(/dev/flexsc) failed: %d\n", ret);
#ifdef CONFIG_PREEMPT_NOTIFIERS
		preempt_notifier_dec();
#endif
		return ret;
	}
	pr_info("ready: /dev/flexsc, ABI %u, calls via %s, takeover %s, IBT %s\n", FLEXSC_ABI_VERSION,
		flexsc_x64_sys_call ? "x64_sys_call" : "sys_call_table",
		takeover ? "on sleep (preempt notifier)" : "before FLEXSC_MAY_BLOCK calls",
		IS_ENABLED(CONFIG_X86_KERNEL_IBT) ? "built in, not enforced" : "not built in");
	return 0;
}

static void __exit flexsc_exit(void)
{
	misc_deregister(&flexsc_misc);
#ifdef CONFIG_PREEMPT_NOTIFIERS
	preempt_notifier_dec();
#endif
}

module_init(flexsc_init);
module_exit(flexsc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("FlexSC: exception-less system calls executed by syscall threads of the calling process");
