#!/usr/bin/env bash
# test-kernel.sh - build flexsc.ko and its C suite, boot the pinned Debian
# kernel in a QEMU guest (TCG), load the module and run the suites.
#
#   kernel-module/test-kernel.sh                 run the suites on every pinned kernel series (6.1, 6.12);
#                                                last line "N passed, N failed, N skipped"
#   kernel-module/test-kernel.sh --if-tools      the same, or one line per series saying what is missing
#   kernel-module/test-kernel.sh --kernel 6.12   only that series (repeatable; 6.1 or 6.12)
#   kernel-module/test-kernel.sh --java-on-all   the Java engine tests on every series, not only the first
#   kernel-module/test-kernel.sh --fuzz SECONDS  t_fuzz runs that long (default 6) and longer guest limits
#   kernel-module/test-kernel.sh -- CMD ARGS...  boot with the module loaded and the host's / shared
#                                                read-only over 9p; run CMD there (java runs under
#                                                taskset 1); print its output, exit with its status
#                                                (first series, or the one --kernel names)
#
# Environment: FLEXSC_GUEST_TIMEOUT (seconds, default 280 for the suites,
# 900 with the Java tests, 600 for a command), FLEXSC_GUEST_PIN=0|1 (taskset 1
# for the command; default: only when it is a java launcher), FLEXSC_KEEP_LOG=path,
# FLEXSC_KERNELS (the series, default from versions.env), FLEXSC_FUZZ_SECONDS,
# FLEXSC_GUEST_JAVA_CLASSES (the JUnit classes run in the guest).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
CACHE=$HERE/.cache
INCLUDE=$ROOT/include

if_tools=0
java=1
java_on_all=0
kernels=()
fuzz_s=${FLEXSC_FUZZ_SECONDS:-}
cmd=()
while [ $# -gt 0 ]; do
  case "$1" in
    --if-tools) if_tools=1; shift ;;
    --kernel) kernels+=("${2:?--kernel needs a series: 6.1 or 6.12}"); shift 2 ;;
    --no-java) java=0; shift ;;
    --java-on-all) java_on_all=1; shift ;;
    --fuzz) fuzz_s=${2:?--fuzz needs seconds}; shift 2 ;;
    --) shift; cmd=("$@"); break ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-kernel.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#kernels[@]} -gt 0 ] || read -r -a kernels <<<"${FLEXSC_KERNELS:-6.1 6.12}"

say() { echo "test-kernel: $*" >&2; }
die() { echo "test-kernel: $*" >&2; exit 1; }

# Several series: run this script once per series, the Java tests on the first only
# (they test the engine, which the 6.1 run covers; the module runs the same C suites on
# each), then add up. A series' result lines other than the first's read "PASS k6.12:...".
if [ ${#cmd[@]} -eq 0 ] && [ ${#kernels[@]} -gt 1 ]; then
  tp=0; tf=0; ts=0; first=1; rc=0
  for k in "${kernels[@]}"; do
    args=(--kernel "$k")
    [ $if_tools = 1 ] && args+=(--if-tools)
    [ -n "$fuzz_s" ] && args+=(--fuzz "$fuzz_s")
    { [ $java = 0 ] || { [ $first = 0 ] && [ $java_on_all = 0 ]; }; } && args+=(--no-java)
    out=$CACHE/result-$k.txt
    mkdir -p "$CACHE"
    set +e
    "$0" "${args[@]}" >"$out"
    krc=$?
    set -e
    [ $krc = 0 ] || rc=1
    if [ $first = 1 ]; then grep -v -E '^[0-9]+ passed, ' "$out" || true
    else grep -v -E '^[0-9]+ passed, ' "$out" | sed -E "s/^(PASS|FAIL|SKIP) /\1 k$k:/; s/^(kernel-module suite skipped: )/SKIP k$k: \1/" || true
    fi
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1 || true)
    if [ -n "$line" ]; then
      read -r p _ f _ s _ <<<"$(tr -d ',' <<<"$line")"
      tp=$((tp + p)); tf=$((tf + f)); ts=$((ts + s))
      say "$k: $line"
    elif grep -q '^kernel-module suite skipped' "$out"; then
      ts=$((ts + 1)); say "$k: skipped ($(head -1 "$out"))"
    else
      tf=$((tf + 1)); say "$k: no result line (exit $krc)"
    fi
    first=0
  done
  echo "$tp passed, $tf failed, $ts skipped"
  [ "$tf" = 0 ] && exit 0
  exit 1
fi

SERIES=${kernels[0]}
case $SERIES in
  6.1) KVER=$FLEXSC_KVER; KPKG_VERSION=$FLEXSC_KPKG_VERSION ;;
  6.12) KVER=$FLEXSC_KVER_612; KPKG_VERSION=$FLEXSC_KPKG_VERSION_612 ;;
  *) die "unknown kernel series '$SERIES' (6.1 or 6.12, pinned in kernel-module/versions.env)" ;;
esac
KPKG=linux-image-$KVER
HEADERS=/usr/src/linux-headers-$KVER

# ---------------------------------------------------------------- tools
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=("qemu-system-x86_64 (apt-get install qemu-system-x86)")
BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ] && file -L "$b" 2>/dev/null | grep -q 'statically linked'; then BUSYBOX=$b; break; fi
  if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi
done
[ -n "$BUSYBOX" ] || missing+=("a static busybox (apt-get install busybox-static)")
[ -d "$HEADERS" ] || missing+=("linux-headers-$KVER (apt-get install linux-headers-$KVER)")
# 6.12's kbuild generates module BTF with pahole
[ "$SERIES" = 6.1 ] || command -v pahole >/dev/null || missing+=("pahole (apt-get install dwarves)")
command -v cpio >/dev/null || missing+=("cpio (apt-get install cpio)")
command -v gcc >/dev/null || missing+=("gcc")
command -v xz >/dev/null || missing+=("xz (apt-get install xz-utils)")
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=("libc.a for static tests (apt-get install libc6-dev)")

# The kernel image package: cached, or downloadable from the mirror.
DEB=$CACHE/debs/${KPKG}_${KPKG_VERSION}_amd64.deb
fetch_kernel() {
  [ -s "$DEB" ] && return 0
  mkdir -p "$CACHE/debs"
  local tmp; tmp=$(mktemp -d "$CACHE/debs/dl.XXXXXX")
  chmod 755 "$tmp"
  if ! (cd "$tmp" && timeout 300 apt-get download -o Acquire::Retries=2 -o Acquire::http::Timeout=30 \
          "$KPKG=$KPKG_VERSION" >"$tmp/log" 2>&1); then
    FETCH_ERR="apt-get download $KPKG=$KPKG_VERSION failed: $(grep -E '^(E|W):' "$tmp/log" | head -2 | tr '\n' ' ')(the mirror may have dropped this ABI: update FLEXSC_KVER/FLEXSC_KPKG_VERSION in kernel-module/versions.env; try apt-get update)"
    rm -rf "$tmp"
    return 1
  fi
  mv "$tmp"/*.deb "$DEB" && rm -rf "$tmp"
}
if [ ${#missing[@]} -eq 0 ]; then
  FETCH_ERR=""
  fetch_kernel || missing+=("the kernel image package: $FETCH_ERR")
fi
if [ ${#missing[@]} -gt 0 ]; then
  what="missing $(IFS=';'; echo "${missing[*]}") (run kernel-module/ci-deps.sh)"
  if [ $if_tools = 1 ]; then echo "kernel-module suite skipped: $SERIES: $what"; exit 0; fi
  die "cannot run the kernel-module suite: $what"
fi

# ---------------------------------------------------------------- kernel
KDIR=$CACHE/kernel-$KVER-$KPKG_VERSION
if [ ! -s "$KDIR/vmlinux" ] || [ ! -f "$KDIR/modules/modules.dep" ]; then
  say "extracting $KPKG $KPKG_VERSION"
  rm -rf "$KDIR.tmp" && mkdir -p "$KDIR.tmp"
  dpkg-deb -x "$DEB" "$KDIR.tmp/pkg" || die "dpkg-deb -x $DEB failed (corrupt download? remove it and rerun)"
  vmlinuz="$KDIR.tmp/pkg/boot/vmlinuz-$KVER"
  [ -f "$vmlinuz" ] || die "$DEB has no boot/vmlinuz-$KVER"
  # The bzImage carries a compressed ELF vmlinux: find the xz, zstd or gzip stream and unpack it.
  found=0
  for m in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
    tool=${m%%:*}; magic=${m#*:}
    for off in $(LC_ALL=C grep -obUaP "$magic" "$vmlinuz" | cut -d: -f1 | head -5); do
      case $tool in
        xz) tail -c +$((off + 1)) "$vmlinuz" | xz -dc --single-stream >"$KDIR.tmp/vmlinux" 2>/dev/null || true ;;
        zstd) tail -c +$((off + 1)) "$vmlinuz" | zstd -dcq >"$KDIR.tmp/vmlinux" 2>/dev/null || true ;;
        gzip) tail -c +$((off + 1)) "$vmlinuz" | gzip -dc >"$KDIR.tmp/vmlinux" 2>/dev/null || true ;;
      esac
      if [ "$(head -c 4 "$KDIR.tmp/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then found=1; break 2; fi
    done
  done
  [ $found = 1 ] || die "could not find a compressed ELF vmlinux in $vmlinuz"
  mkdir -p "$KDIR.tmp/modules"
  # The package ships no modules.dep (its postinst runs depmod): make it here.
  /sbin/depmod -b "$KDIR.tmp/pkg" "$KVER" || die "depmod for $KVER failed (apt-get install kmod)"
  mv "$KDIR.tmp/pkg/lib/modules/$KVER/kernel" "$KDIR.tmp/pkg/lib/modules/$KVER/modules.dep" "$KDIR.tmp/modules/"
  rm -rf "$KDIR.tmp/pkg" "$KDIR" && mv "$KDIR.tmp" "$KDIR"
fi

# ---------------------------------------------------------------- build
say "building flexsc.ko against $HEADERS"
# Clean first: the previous build may have been for the other series.
make -s -C "$HERE" KVER="$KVER" clean >/dev/null 2>&1 || true
make -s -C "$HERE" KVER="$KVER" >"$CACHE/build.log" 2>&1 || { cat "$CACHE/build.log" >&2; die "building flexsc.ko failed"; }
grep -E 'warning|error' "$CACHE/build.log" >&2 || true

BIN=$CACHE/bin
mkdir -p "$BIN"
for src in "$HERE"/tests/*.c; do
  t=$(basename "$src" .c)
  if [ ! -x "$BIN/$t" ] || [ "$src" -nt "$BIN/$t" ] || [ "$HERE/tests/ft.h" -nt "$BIN/$t" ] \
     || [ "$INCLUDE/flexsc/flexsc_abi.h" -nt "$BIN/$t" ] || [ "$INCLUDE/flexsc/flexsc_calls.h" -nt "$BIN/$t" ]; then
    gcc -static -O2 -g -Wall -Wextra -Wno-unused-result -pthread -I"$INCLUDE" -o "$BIN/$t" "$src" \
      || die "gcc -static $src failed"
  fi
done

# ---------------------------------------------------------------- Java engine tests
# The suites run also run the foundation's engine tests (JUnit, precompiled by
# mvn install) against KERNEL_MODULE in the guest, through the JUnit console
# launcher; without the classes, a JDK or the launcher they are one SKIP line.
JAVA_CLASSES=${FLEXSC_GUEST_JAVA_CLASSES:-"DifferentialTest ErrorsTest ConcurrencyTest KernelModuleEngineTest BatchTest PolicyTest"}
# The scheduler's tests that need the module: green threads calling through KERNEL_MODULE
# carrier-locally (dev.flexsc.threads; FLEXSC_GUEST_THREADS_CLASSES, empty for none).
THREADS_CLASSES=${FLEXSC_GUEST_THREADS_CLASSES-"ModuleCarrierTest"}
JUNIT_VERSION=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' "$ROOT/pom.xml")
PLATFORM_VERSION=1.${JUNIT_VERSION#5.}   # JUnit 5.x.y ships platform 1.x.y
JUNIT_JAR=$CACHE/java/junit-platform-console-standalone-$PLATFORM_VERSION.jar
java_skip=""
prepare_java() {
  local jdk=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
  JAVA=$jdk/bin/java
  [ -x "$JAVA" ] || { java_skip="no JDK at $jdk (set JAVA_HOME)"; return; }
  [ -f "$ROOT/flexsc-native/target/test-classes/dev/flexsc/nativeimpl/KernelModuleEngineTest.class" ] \
    || { java_skip="no compiled test classes (run mvn install first)"; return; }
  command -v mvn >/dev/null || { java_skip="mvn is missing (it fetches the JUnit console launcher)"; return; }
  mkdir -p "$CACHE/java"
  if [ ! -s "$JUNIT_JAR" ]; then
    (cd "$ROOT" && JAVA_HOME=$jdk mvn -B -ntp -q -N org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact=org.junit.platform:junit-platform-console-standalone:$PLATFORM_VERSION \
      -DoutputDirectory="$CACHE/java" >"$CACHE/java/fetch.log" 2>&1) \
      || { java_skip="fetching $(basename "$JUNIT_JAR") with Maven failed (see $CACHE/java/fetch.log)"; return; }
  fi
  (cd "$ROOT" && JAVA_HOME=$jdk mvn -B -ntp -q -pl flexsc-native org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.excludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian \
    -Dmdep.outputFile="$CACHE/java/cp.txt" -Dmdep.regenerateFile=true >"$CACHE/java/cp.log" 2>&1) \
    || { java_skip="mvn dependency:build-classpath failed (see $CACHE/java/cp.log)"; return; }
  # The scheduler's own dependencies (jctools), for flexsc-threads' tests; the project's
  # modules come from their target/ folders below (a second flexsc-native test jar would
  # bring a second junit-platform.properties, whose warning the log check reads as a kernel's).
  (cd "$ROOT" && JAVA_HOME=$jdk mvn -B -ntp -q -pl flexsc-threads org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -DexcludeGroupIds=dev.flexsc,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian \
    -Dmdep.outputFile="$CACHE/java/cp-threads.txt" -Dmdep.regenerateFile=true >>"$CACHE/java/cp.log" 2>&1) \
    || { java_skip="mvn dependency:build-classpath of flexsc-threads failed (see $CACHE/java/cp.log)"; return; }
  # Stage the classes and jars in the initramfs (/java): the guest sees the host's root
  # filesystem over 9p, but not other mounts, and a clone under /tmp (a tmpfs here) is one.
  local g=$IR/java cp="" i=0 e
  mkdir -p "$g"
  cp -r "$ROOT/flexsc-native/target/test-classes" "$g/native-test-classes"
  cp -r "$ROOT/flexsc-native/target/classes" "$g/native-classes"
  cp -r "$ROOT/flexsc-core/target/classes" "$g/core-classes"
  cp -r "$ROOT/flexsc-threads/target/classes" "$g/threads-classes"
  if [ -d "$ROOT/flexsc-threads/target/test-classes" ]; then
    cp -r "$ROOT/flexsc-threads/target/test-classes" "$g/threads-test-classes"
  else
    mkdir -p "$g/threads-test-classes"
  fi
  cp "$JUNIT_JAR" "$g/junit-console.jar"
  # guest-init copies /java into the chroot's /tmp before running the JVM
  cp=/tmp/java/native-test-classes:/tmp/java/native-classes:/tmp/java/core-classes
  cp+=:/tmp/java/threads-test-classes:/tmp/java/threads-classes
  for e in $( (tr ':' '\n' <"$CACHE/java/cp.txt"; echo; tr ':' '\n' <"$CACHE/java/cp-threads.txt") | awk 'NF && !seen[$0]++'); do
    i=$((i + 1)); cp "$e" "$g/dep$i.jar"; cp+=":/tmp/java/dep$i.jar"
  done
  local sel=""
  for c in $JAVA_CLASSES; do sel+=" --select-class dev.flexsc.nativeimpl.$c"; done
  for c in $THREADS_CLASSES; do sel+=" --select-class dev.flexsc.threads.$c"; done
  # Under TCG: 10% of the long loops (10k submit-after-idle calls, 8 x 10k lseeks, 100
  # open/close cycles) and a short caller spin (PAUSE is slow there). testfeed lines
  # become PASS/FAIL/SKIP lines; everything else is kept as a comment, unbuffered, so the
  # log of a hang ends with the test that started last.
  # C1 only and the serial collector: under TCG, C2's compilations took a third of the run
  # (one run each on a loaded host: 82 s -> 53 s). The same Java code runs under C2 on the host
  # against the other page engine; what only the guest can test is the module.
  JAVA_CMD="$JAVA --enable-native-access=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED -Xss1m ${FLEXSC_GUEST_JVM_OPTS--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"
  JAVA_CMD+=" -Dflexsc.test.engine=KERNEL_MODULE"
  JAVA_CMD+=" -Dflexsc.test.engineRequired=true -Dflexsc.test.scalePercent=10 -Dflexsc.test.callerSpin=20"
  JAVA_CMD+=" -jar /tmp/java/junit-console.jar execute --disable-banner --disable-ansi-colors --details=testfeed -cp $cp$sel 2>&1"
  JAVA_CMD+=" | sed -u -e 's/^JUnit Jupiter > \\(.*\\) > \\(.*\\) :: SUCCESSFUL\$/PASS java.\\1.\\2/'"
  JAVA_CMD+=" -e 's/^JUnit Jupiter > \\(.*\\) > \\(.*\\) :: FAILED\$/FAIL java.\\1.\\2: see the guest log/'"
  JAVA_CMD+=" -e 's/^JUnit Jupiter > \\(.*\\) > \\(.*\\) :: \\(ABORTED\\|SKIPPED\\)\$/SKIP java.\\1.\\2: \\3/'"
  JAVA_CMD+=" -e '/^\\(PASS\\|FAIL\\|SKIP\\) /!s/^/#j /'"
}

# ---------------------------------------------------------------- initramfs
IR=$CACHE/initramfs
rm -rf "$IR" && mkdir -p "$IR"/{bin,dev,proc,sys,tmp,mnt/host,tests,lib/modules}
cp "$BUSYBOX" "$IR/bin/busybox"
cp "$HERE/flexsc.ko" "$IR/flexsc.ko"
cp "$BIN"/* "$IR/tests/"
cp "$HERE/guest-init.sh" "$IR/init"
chmod 755 "$IR/init"
if [ ${#cmd[@]} -eq 0 ] && [ $java = 1 ]; then
  prepare_java
  if [ -z "$java_skip" ]; then printf '%s\n' "$JAVA_CMD" >"$IR/java.cmd"; fi
fi
[ -n "$fuzz_s" ] && echo "$fuzz_s" >"$IR/fuzz_seconds"
if [ ${#cmd[@]} -gt 0 ] || [ -f "$IR/java.cmd" ]; then
  # virtio-pci and 9p with their dependencies, in load order, from the package's modules.dep
  # (what is built in, like 6.12's virtio, is not there and needs no loading).
  [ -f "$KDIR/modules/modules.dep" ] || die "$KDIR has no modules.dep: remove $KDIR and rerun"
  declare -A loaded=()
  load_order() {  # load_order kernel/PATH.ko[.xz|.zst]: its dependencies first, then itself
    local m=$1 d
    [ -n "${loaded[$m]:-}" ] && return 0
    loaded[$m]=1
    for d in $(sed -n "s|^$m: *||p" "$KDIR/modules/modules.dep" | tr ' ' '\n' | tac); do load_order "$d"; done
    local f=$KDIR/modules/$m out
    [ -f "$f" ] || die "$KPKG has no $m (needed for the 9p root share)"
    out=$(basename "$m"); out=${out%.xz}; out=${out%.zst}
    case $f in *.xz) xz -dc "$f" >"$IR/lib/modules/$out";; *.zst) zstd -dcq "$f" >"$IR/lib/modules/$out";; *) cp "$f" "$IR/lib/modules/$out";; esac
    echo "$out" >>"$IR/lib/modules/order"
  }
  for want in drivers/virtio/virtio_pci net/9p/9pnet_virtio fs/9p/9p; do
    m=$(grep -oE "^kernel/$want\.ko(\.xz|\.zst)?:" "$KDIR/modules/modules.dep" | tr -d : || true)
    if [ -z "$m" ]; then
      [ "$want" = drivers/virtio/virtio_pci ] && continue   # built in
      die "$KPKG has no $want module (needed for the 9p root share)"
    fi
    load_order "$m"
  done
fi
if [ ${#cmd[@]} -gt 0 ]; then
  pin=${FLEXSC_GUEST_PIN:-auto}
  if [ "$pin" = auto ]; then
    case $(basename "${cmd[0]}") in java|javac|jshell|jar) pin=1;; *) pin=0;; esac
  fi
  printf '%q ' "${cmd[@]}" >"$IR/cmd"
  echo "$pin" >"$IR/cmd.pin"
  mode=cmd
  timeout_s=${FLEXSC_GUEST_TIMEOUT:-600}
else
  mode=suites
  # About 70 s here (135-160 s with QEMU confined to one host CPU); the limit leaves room for
# a CI host that is several times slower.
timeout_s=${FLEXSC_GUEST_TIMEOUT:-$(( $([ -f "$IR/java.cmd" ] && echo 900 || echo 280) + ${fuzz_s:-0} * 2 ))}
fi
echo "$mode" >"$IR/mode"
# The guest's watchdog dumps its blocked tasks and CPUs 40 s before QEMU is killed.
[ "$timeout_s" -gt 60 ] && echo $((timeout_s - 40)) >"$IR/watchdog"
(cd "$IR" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$CACHE/initramfs.cpio"

# ---------------------------------------------------------------- boot
# no_timer_check: the kernel's boot check that the timer interrupt reaches the IO-APIC
# busy-waits a few ticks; TCG on a loaded host can be too slow to deliver them, and 6.1 then
# panics with "IO-APIC + timer doesn't work!" before anything ran (seen at load 25). QEMU's
# timer works; the check only measures the emulator's speed.
qemu=(qemu-system-x86_64 -accel tcg -M pc -cpu max -smp 2 -m 2G -nographic -no-reboot -nic none
      -kernel "$KDIR/vmlinux" -initrd "$CACHE/initramfs.cpio"
      -append "console=ttyS0 panic=-1 oops=panic panic_on_warn=1 loglevel=4 rdinit=/init tsc=reliable no_timer_check")
if [ $mode = cmd ] || [ -f "$IR/java.cmd" ]; then
  qemu+=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
fi
LOG=$CACHE/guest-$SERIES.log
say "booting $KVER ($SERIES) under TCG (timeout ${timeout_s}s)"
start=$(date +%s)
# A boot is tried again once, and only for one signature: an int3 oops whose RIP is in the
# kernel's own text, not in flexsc.ko. Linux reaches such an int3 only through its own text
# patching (static keys, static calls: text_poke_bp puts an int3 over the site while it
# rewrites it); under multi-threaded TCG another vCPU can still run a stale translation of
# the patched code after the kernel's sync finished (hardware serialises it). Seen on 6.12
# on a loaded host: while flexsc.ko loaded (its init enables the preempt-notifier key), at
# boot before it was ever loaded (sched_clock_cpu), and in kfree during t_memory (the first
# memory cgroup enables the memcg keys; guest-init now enables them before the module
# loads, so that one moves to boot, before any result). Single-threaded TCG would avoid it
# but runs the vCPUs in turns, and the race suites then never see two CPUs at once. An
# int3 inside the module, any other oops, and a second int3 oops fail the run.
int3_in_kernel_text() {  # int3_in_kernel_text LOG: the first int3 oops' RIP is not in flexsc.ko
  awk '/Oops: int3/ { oops = 1 } oops && /RIP: 0010:/ { found = 1; bad = /\[flexsc\]/; exit }
       END { exit !(found && !bad) }' "$1"
}
for attempt in 1 2; do
  set +e
  timeout --foreground -k 5 "$timeout_s" "${qemu[@]}" </dev/null >"$LOG" 2>&1
  qrc=$?
  set -e
  tr -d '\r' <"$LOG" >"$LOG.txt"
  if [ $attempt = 1 ] && grep -q 'Oops: int3' "$LOG.txt" && int3_in_kernel_text "$LOG.txt"; then
    cp "$LOG.txt" "$LOG.int3-oops.txt"
    say "the guest oopsed on an int3 in the kernel's own text (TCG code-patching race; log: $LOG.int3-oops.txt): booting once more"
    continue
  fi
  break
done
elapsed=$(( $(date +%s) - start ))
[ -n "${FLEXSC_KEEP_LOG:-}" ] && cp "$LOG.txt" "$FLEXSC_KEEP_LOG"

kernel_trouble() {
  grep -nE 'Kernel panic|BUG:|Oops|WARNING:|general protection|Call Trace|soft lockup|hung_task|blocked for more than|rcu.*detected stall|self-detected stall' "$LOG.txt" | head -40
}

if [ $mode = cmd ]; then
  # The command's output sits between the markers; its status follows.
  sed -n '/^FLEXSC-CMD-BEGIN$/,/^FLEXSC-CMD-END /p' "$LOG.txt" | sed '1d;$d'
  status=$(sed -n 's/^FLEXSC-CMD-END status=\([0-9]*\)$/\1/p' "$LOG.txt" | tail -1)
  if [ -z "$status" ]; then
    [ $qrc = 124 ] && say "the guest did not finish in ${timeout_s}s (hang?)"
    sed -n '/^FLEXSC-WATCHDOG:/,/^FLEXSC-WATCHDOG-END$/p' "$LOG.txt" | head -200 >&2
    kernel_trouble >&2 || true
    tail -30 "$LOG.txt" >&2
    die "the command did not complete in the guest (qemu exit $qrc); full log: $LOG.txt"
  fi
  if trouble=$(kernel_trouble) && [ -n "$trouble" ]; then echo "$trouble" >&2; die "kernel trouble in the guest; full log: $LOG.txt"; fi
  exit "$status"
fi

# Suites: print every result line, then the summary.
[ -n "$java_skip" ] && echo "SKIP java: the KERNEL_MODULE JUnit tests did not run: $java_skip" >>"$LOG.txt"
grep -E '^(PASS|FAIL|SKIP) ' "$LOG.txt" || true
# A Java run that reported nothing (launcher or classes not found in the guest, a crash
# before the first test) must not pass as "the C suites passed".
if [ -z "$java_skip" ] && [ -f "$IR/java.cmd" ] && ! grep -qE '^(PASS|FAIL|SKIP) java\.' "$LOG.txt"; then
  echo "FAIL java: the KERNEL_MODULE JUnit run in the guest reported no results; its output:" >>"$LOG.txt"
  grep '^#j ' "$LOG.txt" | tail -5 >>"$LOG.txt" || true
fi
passed=$(grep -c '^PASS ' "$LOG.txt" || true)
failed=$(grep -c '^FAIL ' "$LOG.txt" || true)
skipped=$(grep -c '^SKIP ' "$LOG.txt" || true)
if ! grep -q '^FLEXSC-SUITES-DONE$' "$LOG.txt"; then
  if [ $qrc = 124 ] || [ $qrc = 137 ]; then
    echo "FAIL guest: did not finish within ${timeout_s}s (hang); last lines:"
    # How long each suite took (slow progress or a hang?), then what the guest's watchdog
    # saw: its ps, blocked tasks and CPU backtraces.
    grep -E '^# .*(rc=[0-9]+, [0-9]+s|took [0-9]+s)' "$LOG.txt" || true
    sed -n '/^FLEXSC-WATCHDOG:/,/^FLEXSC-WATCHDOG-END$/p' "$LOG.txt" | head -200
  else
    echo "FAIL guest: ended before the suites finished (qemu exit $qrc); last lines:"
  fi
  tail -25 "$LOG.txt"
  failed=$((failed + 1))
fi
if trouble=$(kernel_trouble) && [ -n "$trouble" ]; then
  echo "FAIL kernel: oops, warning or lockup in the guest log:"
  echo "$trouble"
  failed=$((failed + 1))
fi
# Each suite's duration on one line: how fast this host runs the guest.
say "suite times: $(sed -n 's/^# \([a-z_]*\) \{1,2\}\([a-z]*\): rc=[0-9]*, \([0-9]*s\)$/\1 \2 \3/p; s/^# java: KERNEL_MODULE JUnit tests took \([0-9]*s\)$/java \1/p' "$LOG.txt" | tr -s ' ' | paste -sd, - | sed 's/,/, /g')"
say "guest run took ${elapsed}s; full log: $LOG.txt"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
