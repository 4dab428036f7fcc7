#!/bin/busybox sh
# /init of the test guest (copied into the initramfs by test-kernel.sh).
# Loads flexsc.ko, then runs the suites or the command in /cmd, then powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
# Loopback up: the guest has no NIC, but socket tests connect over 127.0.0.1.
ifconfig lo 127.0.0.1 up 2>/dev/null || ip link set lo up 2>/dev/null
echo 0 > /proc/sys/kernel/printk_ratelimit 2>/dev/null

done_() { sync; poweroff -f; sleep 5; }

# Watchdog: shortly before the host kills QEMU (test-kernel.sh writes that deadline to
# /watchdog), dump every task's state and kernel stack into the log, so that a hang in
# CI says where it hangs instead of only "did not finish".
echo 1 > /proc/sys/kernel/sysrq 2>/dev/null
if [ -s /watchdog ]; then
  ( sleep "$(cat /watchdog)"
    echo "FLEXSC-WATCHDOG: the guest is still running after $(cat /watchdog)s; tasks and stacks follow"
    ps -o pid,stat,args 2>/dev/null | grep -v ' \[.*\]$'   # user tasks; kernel threads show in 'w'
    # Blocked (D) tasks, then every CPU's backtrace, read back from the kernel log.
    dmesg -c >/dev/null
    echo w > /proc/sysrq-trigger; echo l > /proc/sysrq-trigger; sleep 2
    dmesg | tail -250
    echo "FLEXSC-WATCHDOG-END" ) &
fi

# The memory cgroup keys, enabled now, before flexsc.ko loads and before any result: the
# first memory cgroup patches kernel text (memcg_kmem_online_key, and memcg_sockets_enabled_key
# while one exists), and under TCG a stale translation of a patched site can oops on its int3
# (seen once in kfree during t_memory; test-kernel.sh boots again for it, but that costs a
# whole run). The cgroup stays, so t_memory's own cgroup patches nothing. A process charged
# inside it uses the keys once.
mkdir -p /sys/fs/cgroup
if mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null && echo +memory > /sys/fs/cgroup/cgroup.subtree_control \
   && mkdir /sys/fs/cgroup/flexsc_keys; then
  sh -c 'echo $$ > /sys/fs/cgroup/flexsc_keys/cgroup.procs && cat /proc/self/status >/dev/null' \
    && echo "# memory cgroup keys enabled at boot (cgroup flexsc_keys)"
else
  echo "# no memory cgroup at boot: its static keys are enabled later, by t_memory"
fi

if ! insmod /flexsc.ko; then
  echo "FAIL module.insmod: insmod /flexsc.ko failed"; dmesg | tail -5
  echo FLEXSC-SUITES-DONE; echo "FLEXSC-CMD-BEGIN"; echo "FLEXSC-CMD-END status=125"; done_
fi

H=/mnt/host
mount_host() {  # the host's / read-only over 9p, with fresh /proc /sys /dev /tmp
  for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "insmod $m failed"; done
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot $H || echo "mount 9p failed"
  for d in proc sys dev tmp run; do [ -d $H/$d ] || continue; done
  mount -t proc proc $H/proc
  mount -t sysfs sysfs $H/sys
  mount -t devtmpfs devtmpfs $H/dev
  mount -t tmpfs tmpfs $H/tmp
  [ -d $H/run ] && mount -t tmpfs tmpfs $H/run
}

if [ "$(cat /mode)" = cmd ]; then
  mount_host
  pin=""; [ "$(cat /cmd.pin)" = 1 ] && pin="taskset 1"
  echo; echo "FLEXSC-CMD-BEGIN"
  HOME=/tmp PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin $pin chroot $H /bin/bash -c "$(cat /cmd)" </dev/console
  rc=$?
  echo "FLEXSC-CMD-END status=$rc"
  done_
fi

# ---------------------------------------------------------------- suites
cd /tmp
run() {  # run TIMEOUT PROGRAM ARGS...
  t=$1; shift
  start=$(date +%s)
  timeout -s KILL "$t" "$@"
  rc=$?
  case $rc in
    0|1|77) ;;
    137) echo "FAIL $(basename $1)${2:+.$2}: killed after ${t}s (hang)";;
    *) echo "FAIL $(basename $1)${2:+.$2}: exited with status $rc (crash?)";;
  esac
  echo "# $(basename $1) $2: rc=$rc, $(( $(date +%s) - start ))s" >&2
}
leakcheck() {  # no registration may outlive its file (flexsc_alloc_map's vmap)
  n=$(grep -c '\[flexsc\]' /proc/vmallocinfo)
  if [ "$n" = 0 ]; then echo "PASS leak.$1: no flexsc mapping left in /proc/vmallocinfo"
  else echo "FAIL leak.$1: $n flexsc mappings left in /proc/vmallocinfo"; grep flexsc /proc/vmallocinfo | head -3; fi
}

echo
dmesg | grep 'flexsc: ready' | sed 's/^/# /'
# Intel IBT: the module must refuse to load where it is enforced (CPU feature on).
if grep -qw ibt /proc/cpuinfo; then
  echo "FAIL module.ibt_enforced_refuses: the CPU has IBT and the module loaded"
else
  echo "PASS module.loads_where_ibt_is_not_enforced: $(dmesg | sed -n 's/.*flexsc: ready: .*, IBT \(.*\)$/IBT \1/p')"
  echo "SKIP module.ibt_enforced_refuses: this CPU (QEMU TCG) has no IBT, so the refusal path cannot run here"
fi
run 60 /tests/t_register
run 120 /tests/t_calls serve
run 120 /tests/t_calls wait
run 60 /tests/t_malformed
run 60 /tests/t_block
run 60 /tests/t_cancel
run 60 /tests/t_wait
run 120 /tests/t_race
run 90 /tests/t_close
run 60 /tests/t_foreign
run 60 /tests/t_uaf
run 60 /tests/t_seccomp
run 60 /tests/t_dofork
run 60 /tests/t_memory
run 60 /tests/t_trace
# ./flexsc test: 6 s (FLEXSC_FUZZ_SECONDS or test-kernel.sh --fuzz N for longer); the seed is printed.
fs=$(cat /fuzz_seconds 2>/dev/null || echo 6)
run $((fs * 2 + 60)) /tests/t_fuzz "" "$fs"
# Last of the C suites: enabling audit once gives every later process an audit context.
run 60 /tests/t_audit
if [ -f /java.cmd ]; then
  # The Java engine tests against KERNEL_MODULE (JVM pinned: see test-kernel.sh).
  mount_host
  # The classes and jars came in the initramfs (/java); the JVM runs chrooted in the host's
  # root, whose /tmp is a fresh tmpfs: put them there.
  cp -r /java $H/tmp/java || echo "FAIL java: cannot copy the test classes into the chroot"
  start=$(date +%s)
  HOME=/tmp PATH=/usr/local/bin:/usr/bin:/bin taskset 1 chroot $H /bin/bash -c "$(cat /java.cmd)" </dev/null
  echo "# java: KERNEL_MODULE JUnit tests took $(( $(date +%s) - start ))s" >&2
fi
leakcheck after_suites
# rmmod, but a hung unload becomes a FAIL with the blocked tasks' stacks, not a silent hang.
rmmod_guarded() {  # rmmod_guarded NAME
  rmmod flexsc & p=$!
  for s in $(seq 1 60); do kill -0 $p 2>/dev/null || break; sleep 1; done
  if kill -0 $p 2>/dev/null; then
    echo "FAIL module.$1: rmmod flexsc did not return in 60s; blocked tasks:"
    echo w > /proc/sysrq-trigger; dmesg | tail -80 | sed 's/^/# /'
    return 2
  fi
  wait $p
}
if rmmod_guarded rmmod; then
  echo "PASS module.rmmod: unloads after the suites (no file, thread or mapping left)"
  # The pool's other takeover mode: hand over before FLEXSC_MAY_BLOCK calls.
  if insmod /flexsc.ko takeover=0; then
    run 60 /tests/t_block
    run 60 /tests/t_cancel
    run 120 /tests/t_calls serve
    leakcheck takeover0
    rc=0; rmmod_guarded rmmod_takeover0 || rc=$?
    case $rc in 0) echo "PASS module.rmmod_takeover0";; 2) ;; *) echo "FAIL module.rmmod_takeover0: rmmod failed";; esac
  else
    echo "FAIL module.insmod_takeover0: insmod takeover=0 failed"
  fi
elif [ $? != 2 ]; then
  echo "FAIL module.rmmod: rmmod flexsc failed (a reference is left)"
fi
echo FLEXSC-SUITES-DONE
done_
