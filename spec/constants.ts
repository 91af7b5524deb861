// Constants of the modelled kernel and the model's own limits.
//
// Kernel values are those of DragonFly BSD at the time of sys/kern/lwkt_thread.c
// rev 1.71 (April 2005): sys/sys/thread.h rev 1.62, sys/sys/globaldata.h rev 1.35,
// sys/i386/include/param.h rev 1.7, sys/kern/lwkt_token.c rev 1.13 and
// sys/kern/lwkt_ipiq.c rev 1.10. Both model/ and impl/ import from here and from
// nowhere else in the project.

/** Scheduling priorities (low 5 bits of td_pri). */
export const TDPRI_IDLE_THREAD = 0;
export const TDPRI_USER_IDLE = 4;
export const TDPRI_USER_NORM = 6;
export const TDPRI_USER_REAL = 8;
export const TDPRI_KERN_LPSCHED = 9;
export const TDPRI_KERN_USER = 10;
export const TDPRI_KERN_DAEMON = 12;
export const TDPRI_SOFT_NORM = 14;
export const TDPRI_SOFT_TIMER = 16;
export const TDPRI_EXITING = 19;
export const TDPRI_INT_SUPPORT = 20;
export const TDPRI_INT_LOW = 27;
export const TDPRI_INT_MED = 28;
export const TDPRI_INT_HIGH = 29;
export const TDPRI_MAX = 31;
export const TDPRI_MASK = 31;

/** One critical-section nesting unit, kept in the bits of td_pri above TDPRI_MASK. */
export const TDPRI_CRIT = 32;

/** Number of run queues per CPU (gd_tdrunq), one per priority. */
export const NQS = 32;

/** td_flags bits. */
export const TDF_RUNNING = 0x0001;
export const TDF_RUNQ = 0x0002;
export const TDF_PREEMPT_LOCK = 0x0004;
export const TDF_PREEMPT_DONE = 0x0008;
export const TDF_IDLE_NOHLT = 0x0010;
export const TDF_MIGRATING = 0x0020;
export const TDF_SINTR = 0x0040;
export const TDF_SYSTHREAD = 0x0100;
export const TDF_ALLOCATED_THREAD = 0x0200;
export const TDF_ALLOCATED_STACK = 0x0400;
export const TDF_VERBOSE = 0x0800;
export const TDF_DEADLKTREAT = 0x1000;
export const TDF_STOPREQ = 0x2000;
export const TDF_WAKEREQ = 0x4000;
export const TDF_TIMEOUT = 0x8000;
export const TDF_INTTHREAD = 0x00010000;
export const TDF_NORESCHED = 0x00020000;
export const TDF_BLOCKED = 0x00040000;

/** Flags a caller may pass to lwkt_create as tdflags in a step. */
export const LWKT_CREATE_FLAGS_ALLOWED =
  TDF_STOPREQ | TDF_INTTHREAD | TDF_NORESCHED | TDF_SYSTHREAD;

/** gd_reqflags bits. */
export const RQF_IPIQ = 0x01;
export const RQF_INTPEND = 0x02;
export const RQF_AST_OWEUPC = 0x04;
export const RQF_AST_SIGNAL = 0x08;
export const RQF_AST_USER_RESCHED = 0x10;
export const RQF_AST_LWKT_RESCHED = 0x20;
export const RQF_AST_UPCALL = 0x40;
export const RQF_IDLECHECK_MASK = RQF_IPIQ | RQF_INTPEND;

/** Maximum number of thread structures kept in a CPU's free cache by lwkt_free_thread. */
export const CACHE_NTHREADS = 6;

/** Kernel stack size of lwkt_create threads and of idle threads: UPAGES (3) * PAGE_SIZE (4096). */
export const LWKT_THREAD_STACK = 12288;

/** Length of td_comm without the terminating NUL (MAXCOMLEN). */
export const MAXCOMLEN = 16;

/** Slots in each per-pair IPI FIFO. */
export const MAXCPUFIFO = 16;

/** lwkt_send_ipiq waits for the target to drain once the FIFO contains more than this many messages. */
export const IPIQ_SEND_WAIT_FILL = MAXCPUFIFO / 2;

/** lwkt_send_ipiq_nowait returns ENOENT once the FIFO contains this many messages (MAXCPUFIFO * 2 / 3 in lwkt_ipiq.c rev 1.10). */
export const IPIQ_NOWAIT_LIMIT = Math.floor((MAXCPUFIFO * 2) / 3);

/** Non-zero return of lwkt_send_ipiq_nowait when the FIFO is too full. */
export const ENOENT = 2;

/** tr_magic values of a token reference. */
export const LWKT_TOKREF_MAGIC1 = 0x544f4b52;
export const LWKT_TOKREF_MAGIC2 = 0x544f4b53;

/** mp_lock value when no CPU owns the MP lock. */
export const MP_FREE_LOCK = -1;

/** Process states (p_stat) as numbered in sys/proc.h of the time. */
export const SIDL = 1;
export const SRUN = 2;
export const SSLEEP = 3;
export const SSTOP = 4;
export const SZOMB = 5;

// ---------------------------------------------------------------------------
// Limits of the model itself. They are not kernel constants: each one bounds
// something the kernel leaves unbounded, and exceeding one ends the step with a
// `limit` result instead of running forever or growing without end.

/** Supported CPU counts. */
export const CPUS_MIN = 1;
export const CPUS_MAX = 4;

/** Maximum number of thread structures ever allocated in one run, idle threads included. */
export const THREADS_MAX = 256;

/** Maximum number of wait queues (and so of tokens) created in one run. */
export const WAITS_MAX = 64;

/** Maximum number of lwkt_switch and lwkt_preempt invocations within one step. */
export const STEP_SWITCH_BUDGET = 256;

/** Schema identifier of the abstract state, steps and results described in spec/schema.ts. */
export const SCHEMA_VERSION = 1;
export const STATE_SCHEMA_ID = `lwkt-state/${SCHEMA_VERSION}`;
export const TRACE_SCHEMA_ID = `lwkt-trace/${SCHEMA_VERSION}`;
