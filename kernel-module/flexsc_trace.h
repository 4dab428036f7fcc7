/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flexsc_trace.h - the module's tracepoint: one event per executed entry.
 *
 * Calls made through /dev/flexsc pass no system call entry, so the
 * raw_syscalls and syscalls tracepoints never see them; flexsc:flexsc_call
 * does, with the executing thread as the event's pid:
 *   echo 1 > /sys/kernel/tracing/events/flexsc/flexsc_call/enable
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM flexsc

#if !defined(_FLEXSC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _FLEXSC_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(flexsc_call,
	TP_PROTO(unsigned int group, unsigned int index, unsigned int nr, const u64 *args, long ret),
	TP_ARGS(group, index, nr, args, ret),
	TP_STRUCT__entry(
		__field(unsigned int, group)
		__field(unsigned int, index)
		__field(unsigned int, nr)
		__array(u64, args, 6)
		__field(long, ret)
	),
	TP_fast_assign(
		__entry->group = group;
		__entry->index = index;
		__entry->nr = nr;
		memcpy(__entry->args, args, sizeof(__entry->args));
		__entry->ret = ret;
	),
	TP_printk("group=%u index=%u nr=%u args=(%llx, %llx, %llx, %llx, %llx, %llx) ret=%ld",
		  __entry->group, __entry->index, __entry->nr,
		  __entry->args[0], __entry->args[1], __entry->args[2],
		  __entry->args[3], __entry->args[4], __entry->args[5], __entry->ret)
);

#endif /* _FLEXSC_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE flexsc_trace
#include <trace/define_trace.h>
