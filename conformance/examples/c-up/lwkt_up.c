/*
 * lwkt_up.c: the uniprocessor LWKT scheduler of DragonFly BSD
 * sys/kern/lwkt_thread.c rev 1.71 (April 2005), as a program that speaks
 * version 1 of the lwkt-conformance line protocol (spec/protocol.md).
 *
 * It claims the `up-scheduling` profile of spec/profiles.ts: one CPU, no
 * options SMP, options INVARIANTS, and the calls lwkt_create, lwkt_schedule,
 * lwkt_deschedule, lwkt_schedule_self, lwkt_deschedule_self, lwkt_switch,
 * lwkt_yield, lwkt_setpri, lwkt_setpri_self, lwkt_checkpri_self and one
 * iteration of cpu_idle.  Seed lines are cited as lwkt_thread.c:NNN.
 *
 *   build:  cc -std=c11 -O2 -Wall -Wextra -o lwkt_up lwkt_up.c
 *   check:  npx lwkt-conformance check --exec ./lwkt_up --profile up-scheduling
 *
 * Switching.  The kernel switches stacks in td_switch.  This program runs
 * every thread on its own single stack, so a thread switched out in the
 * middle of a call records the rest of that call as frames, innermost first.
 * After the step's call returns, the step loop runs the frames of the new
 * current thread.  When its last frame has run, that thread's suspended call
 * is finished, and the step result lists it under `completed`.  In this
 * profile only lwkt_switch switches, reached from the lwkt_switch, lwkt_yield
 * and cpu_idle steps, and a new thread starts with the single frame
 * cpu_kthread_restore.
 *
 * Not supported (answered with an `unsupported` error): lwkt.untimely_switch,
 * under which crit_exit may switch; preemptable threads (lwkt_preempt); more
 * than one CPU; options SMP; kernels built without INVARIANTS.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sys/sys/thread.h rev 1.62 and sys/sys/globaldata.h rev 1.35. */
#define TDPRI_KERN_DAEMON       12
#define TDPRI_MAX               31
#define TDPRI_MASK              31
#define TDPRI_CRIT              32      /* one critical-section level in td_pri */
#define NQS                     32      /* run queues per CPU */

#define TDF_RUNNING             0x0001u
#define TDF_RUNQ                0x0002u
#define TDF_IDLE_NOHLT          0x0010u
#define TDF_MIGRATING           0x0020u
#define TDF_SYSTHREAD           0x0100u
#define TDF_ALLOCATED_THREAD    0x0200u
#define TDF_ALLOCATED_STACK     0x0400u
#define TDF_VERBOSE             0x0800u
#define TDF_STOPREQ             0x2000u
#define TDF_INTTHREAD           0x00010000u
#define TDF_NORESCHED           0x00020000u
#define LWKT_CREATE_FLAGS_ALLOWED \
    (TDF_STOPREQ | TDF_INTTHREAD | TDF_NORESCHED | TDF_SYSTHREAD)

#define RQF_IPIQ                0x01u
#define RQF_INTPEND             0x02u
#define RQF_AST_LWKT_RESCHED    0x20u
#define RQF_IDLECHECK_MASK      (RQF_IPIQ | RQF_INTPEND)

#define LWKT_THREAD_STACK       12288   /* UPAGES * PAGE_SIZE on i386 */
#define MAXCOMLEN               16

/* Limits of the conformance model (spec/constants.ts) and of this program. */
#define THREADS_MAX             256     /* thread structures per run, idle thread included */
#define TD_MAXFRAMES            4       /* this profile needs at most 2 */
#define PRI_ARG_MAX             (1 << 24)   /* |pri| bound that keeps td_pri from overflowing */
#define REQUEST_MAX_BYTES       (1 << 20)
#define JSON_MAX_DEPTH          32
#define JSON_INTEGER_LIMIT      100000000000000000ULL   /* 1e17: larger integers are rejected */
#define PROTOCOL_VERSION        1

/* ------------------------------------------------------------------ */
/* Threads, CPU and machine state                                      */

/* The rest of a call a switched-out thread still has to run. */
enum frame {
    FRAME_LWKT_SWITCH,          /* lwkt_switch {stage:'switch'}: crit_exit_quick(td) */
    FRAME_LWKT_YIELD,           /* lwkt_yield {stage:'switch'}: return */
    FRAME_CPU_IDLE,             /* cpu_idle {stage:'switch'}: halt test, then splz */
    FRAME_CPU_KTHREAD_RESTORE   /* first run of a new thread: td_pri -= TDPRI_CRIT */
};

struct thread {
    int td_id;
    struct thread *td_rqnext;           /* td_threadq: run queue links */
    struct thread *td_rqprev;
    struct thread *td_allqnext;         /* td_allq: link on gd_tdallq */
    int td_pri;                         /* bits 0-4 priority, above: crit count */
    uint32_t td_flags;
    uint16_t td_comm[MAXCOMLEN];        /* UTF-16 code units, as JSON carries them */
    int td_comm_len;
    enum frame td_frames[TD_MAXFRAMES]; /* continuation, innermost first */
    int td_nframes;
    const char *td_call;                /* step call in progress, NULL at a boundary */
};

struct tdqueue {
    struct thread *tq_first;
    struct thread *tq_last;
};

struct globaldata {
    struct thread *gd_curthread;
    struct thread *gd_idlethread;
    uint32_t gd_runqmask;               /* stale bits are cleared by lwkt_switch */
    struct tdqueue gd_tdrunq[NQS];
    uint32_t gd_reqflags;
    struct thread *gd_tdallq_first;
    struct thread *gd_tdallq_last;
};

static struct globaldata globaldata0;
#define mycpu           (&globaldata0)
#define curthread       (mycpu->gd_curthread)

static struct thread thread_zone[THREADS_MAX];  /* indexed by id, never reused */
static int nthreads;
static uint64_t switch_count;
static bool panic_on_cscount;          /* read only by SMP code, but echoed in snapshots */
static bool booted;

/* A panic or model limit stops the machine until the next reset. */
static const char *panic_id;
static const char *panic_site;
static const char *limit_id;
static jmp_buf stop_jmp;
enum { STOP_PANIC = 1, STOP_LIMIT, STOP_INTERNAL };

/* ------------------------------------------------------------------ */
/* Panics and critical sections (sys/sys/thread2.h rev 1.17)           */

static _Noreturn void
kpanic(const char *id, const char *site)
{
    panic_id = id;
    panic_site = site;
    longjmp(stop_jmp, STOP_PANIC);
}

/* This program only runs INVARIANTS kernels, so KASSERT and KKASSERT are live. */
#define KASSERT(cond, id, site) \
    do { if (!(cond)) kpanic((id), (site)); } while (0)

static _Noreturn void
model_limit(const char *id)
{
    limit_id = id;
    longjmp(stop_jmp, STOP_LIMIT);
}

/* lwkt_thread.c:1297 */
static _Noreturn void
crit_panic(struct thread *td)
{
    td->td_pri = 0;
    kpanic("crit_panic.negative", "lwkt_thread.c:1303");
}

/*
 * splz() with nothing to deliver: no interrupt or IPI source exists in this
 * profile, so it only drops RQF_INTPEND (ipl.s rev 1.17).
 */
static void
splz(void)
{
    mycpu->gd_reqflags &= ~RQF_INTPEND;
}

/*
 * lwkt_thread.c:794.  td_nest_count is always 0 here, and the untimely switch
 * of lwkt_thread.c:822 needs lwkt.untimely_switch, which this program rejects.
 * So leaving a critical section never switches threads.
 */
static void
lwkt_yield_quick(void)
{
    if (mycpu->gd_reqflags != 0)
        splz();
}

static void
crit_enter_quick(struct thread *td)
{
    td->td_pri += TDPRI_CRIT;
}

static void
crit_enter(void)
{
    struct thread *td = curthread;

    td->td_pri += TDPRI_CRIT;
    if (td->td_pri < 0)
        crit_panic(td);
}

/* Leaving the outermost section with a request pending calls lwkt_yield_quick. */
static void
crit_exit_yield(struct thread *td)
{
    if (mycpu->gd_reqflags != 0 && td->td_pri < TDPRI_CRIT)
        lwkt_yield_quick();
}

/* Unlike crit_exit, crit_exit_quick has no negative check. */
static void
crit_exit_quick(struct thread *td)
{
    td->td_pri -= TDPRI_CRIT;
    crit_exit_yield(td);
}

static void
crit_exit(void)
{
    struct thread *td = curthread;

    td->td_pri -= TDPRI_CRIT;
    if (td->td_pri < 0)
        crit_panic(td);
    crit_exit_yield(td);
}

static void
crit_enter_gd(struct globaldata *gd)
{
    crit_enter_quick(gd->gd_curthread);
}

static void
crit_exit_gd(struct globaldata *gd)
{
    crit_exit_quick(gd->gd_curthread);
}

/* ------------------------------------------------------------------ */
/* Run queues (lwkt_thread.c:126-150)                                  */

static void
tdq_insert_tail(struct tdqueue *q, struct thread *td)
{
    td->td_rqnext = NULL;
    td->td_rqprev = q->tq_last;
    if (q->tq_last != NULL)
        q->tq_last->td_rqnext = td;
    else
        q->tq_first = td;
    q->tq_last = td;
}

static void
tdq_remove(struct tdqueue *q, struct thread *td)
{
    if (td->td_rqprev != NULL)
        td->td_rqprev->td_rqnext = td->td_rqnext;
    else
        q->tq_first = td->td_rqnext;
    if (td->td_rqnext != NULL)
        td->td_rqnext->td_rqprev = td->td_rqprev;
    else
        q->tq_last = td->td_rqprev;
    td->td_rqnext = td->td_rqprev = NULL;
}

/* Index of the highest set bit of a non-zero mask. */
static int
bsrl(uint32_t mask)
{
    int nq = 31;

    while ((mask & (1u << nq)) == 0)
        --nq;
    return nq;
}

/* lwkt_thread.c:126: the gd_runqmask bit stays set until lwkt_switch finds the queue empty. */
static void
_lwkt_dequeue(struct thread *td)
{
    if (td->td_flags & TDF_RUNQ) {
        td->td_flags &= ~TDF_RUNQ;
        tdq_remove(&mycpu->gd_tdrunq[td->td_pri & TDPRI_MASK], td);
    }
}

/* lwkt_thread.c:140 */
static void
_lwkt_enqueue(struct thread *td)
{
    if ((td->td_flags & (TDF_RUNQ | TDF_MIGRATING)) == 0) {
        int nq = td->td_pri & TDPRI_MASK;

        td->td_flags |= TDF_RUNQ;
        tdq_insert_tail(&mycpu->gd_tdrunq[nq], td);
        mycpu->gd_runqmask |= 1u << nq;
    }
}

static void
need_lwkt_resched(void)
{
    mycpu->gd_reqflags |= RQF_AST_LWKT_RESCHED;
}

static void
clear_lwkt_resched(void)
{
    mycpu->gd_reqflags &= ~RQF_AST_LWKT_RESCHED;
}

/* ------------------------------------------------------------------ */
/* Scheduling (lwkt_thread.c:160-185, 866-1084)                        */

static bool
is_idle_thread(const struct thread *td)
{
    return td == mycpu->gd_idlethread;
}

/* lwkt_thread.c:160, without the td_wait and process checks: no thread here has either. */
static void
lwkt_schedule_self(struct thread *td)
{
    crit_enter_quick(td);
    KASSERT(!is_idle_thread(td), "schedule_self.idle-thread", "lwkt_thread.c:164");
    _lwkt_enqueue(td);
    crit_exit_quick(td);
}

/* lwkt_thread.c:179 */
static void
lwkt_deschedule_self(struct thread *td)
{
    crit_enter_quick(td);
    _lwkt_dequeue(td);
    crit_exit_quick(td);
}

/*
 * lwkt_thread.c:866.  No thread is preemptable here, so this only requests a
 * reschedule when the new thread outranks the current one.
 */
static void
_lwkt_schedule_post(struct thread *ntd)
{
    if ((ntd->td_flags & TDF_NORESCHED) == 0 &&
        (ntd->td_pri & TDPRI_MASK) > (curthread->td_pri & TDPRI_MASK))
        need_lwkt_resched();
}

/* lwkt_thread.c:878, without the wait-queue path (td_wait is always NULL). */
static void
lwkt_schedule(struct thread *td)
{
    KASSERT(!is_idle_thread(td), "schedule.idle-thread", "lwkt_thread.c:883");

    crit_enter_gd(mycpu);
    if (td == curthread) {
        _lwkt_enqueue(td);
    } else {
        _lwkt_enqueue(td);
        _lwkt_schedule_post(td);
    }
    crit_exit_gd(mycpu);
}

/* lwkt_thread.c:999: every thread belongs to this CPU, so no IPI is sent. */
static void
lwkt_deschedule(struct thread *td)
{
    crit_enter();
    _lwkt_dequeue(td);
    crit_exit();
}

/* Sets the priority bits of td_pri, keeping its critical-section count, and requeues td if it is on a run queue. */
static void
set_priority_bits(struct thread *td, int pri)
{
    if (td->td_flags & TDF_RUNQ) {
        _lwkt_dequeue(td);
        td->td_pri = (td->td_pri & ~TDPRI_MASK) + pri;
        _lwkt_enqueue(td);
    } else {
        td->td_pri = (td->td_pri & ~TDPRI_MASK) + pri;
    }
}

/* lwkt_thread.c:1028: no upper bound, so pri >= 32 adds critical sections. */
static void
lwkt_setpri(struct thread *td, int pri)
{
    KASSERT(pri >= 0, "setpri.negative", "lwkt_thread.c:1030");
    crit_enter();
    set_priority_bits(td, pri);
    crit_exit();
}

/* lwkt_thread.c:1044 */
static void
lwkt_setpri_self(int pri)
{
    KASSERT(pri >= 0 && pri <= TDPRI_MAX, "setpri_self.out-of-range", "lwkt_thread.c:1048");
    crit_enter();
    set_priority_bits(curthread, pri);
    crit_exit();
}

/*
 * lwkt_thread.c:1072.  The bound (2 << nq) - 1 is computed unsigned: at
 * nq = 31 it is 0xffffffff and the loop ends, as on i386.
 */
static int
lwkt_checkpri_self(void)
{
    int nq = curthread->td_pri & TDPRI_MASK;

    while (mycpu->gd_runqmask > (2u << nq) - 1u) {
        if (mycpu->gd_tdrunq[nq + 1].tq_first != NULL)
            return 1;
        ++nq;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Switching (lwkt_thread.c:445-638, 849-853; machdep.c rev 1.72)      */

enum flow { FLOW_RETURNED, FLOW_SWITCHED };

static void
push_frame(struct thread *td, enum frame frame)
{
    if (td->td_nframes == TD_MAXFRAMES)
        longjmp(stop_jmp, STOP_INTERNAL);
    td->td_frames[td->td_nframes++] = frame;
}

/* cpu_lwkt_switch (swtch.s rev 1.37): TDF_RUNNING moves with the CPU. */
static void
td_switch(struct thread *td, struct thread *ntd)
{
    mycpu->gd_curthread = ntd;
    td->td_flags &= ~TDF_RUNNING;
    ntd->td_flags |= TDF_RUNNING;
}

/* lwkt_thread.c:559-614 without SMP: highest queue first, round robin inside it. */
static struct thread *
lwkt_choose_next(struct globaldata *gd)
{
    while (gd->gd_runqmask != 0) {
        int nq = bsrl(gd->gd_runqmask);
        struct tdqueue *q = &gd->gd_tdrunq[nq];
        struct thread *ntd = q->tq_first;

        if (ntd == NULL) {
            gd->gd_runqmask &= ~(1u << nq);
            continue;
        }
        tdq_remove(q, ntd);
        tdq_insert_tail(q, ntd);
        return ntd;
    }

    if (gd->gd_reqflags & RQF_IDLECHECK_MASK)
        gd->gd_idlethread->td_flags |= TDF_IDLE_NOHLT;
    return gd->gd_idlethread;
}

/*
 * lwkt_thread.c:445.  No fast interrupt nests and no thread has a td_release
 * hook or a td_preempted thread here, so the switcher goes straight from its
 * critical section to the run queues.
 */
static enum flow
lwkt_switch(void)
{
    struct globaldata *gd = mycpu;
    struct thread *td = gd->gd_curthread;
    struct thread *ntd;

    crit_enter_gd(gd);
    clear_lwkt_resched();
    ntd = lwkt_choose_next(gd);
    KASSERT(ntd->td_pri >= TDPRI_CRIT, "switch.target-pri-below-crit", "lwkt_thread.c:616");

    /* lwkt_thread.c:632-635: td keeps this critical section until it runs again. */
    if (td != ntd) {
        ++switch_count;
        td_switch(td, ntd);
        push_frame(td, FRAME_LWKT_SWITCH);
        return FLOW_SWITCHED;
    }

    crit_exit_quick(td);
    return FLOW_RETURNED;
}

/* lwkt_thread.c:849: also yields to threads of equal priority. */
static enum flow
lwkt_yield(void)
{
    struct thread *td = curthread;

    lwkt_schedule_self(td);
    if (lwkt_switch() == FLOW_SWITCHED) {
        push_frame(td, FRAME_LWKT_YIELD);
        return FLOW_SWITCHED;
    }
    return FLOW_RETURNED;
}

/* The idle loop after its lwkt_switch: the halt itself is not modelled. */
static void
cpu_idle_after_switch(struct thread *td)
{
    if (mycpu->gd_runqmask != 0 || (td->td_flags & TDF_IDLE_NOHLT) != 0)
        td->td_flags &= ~TDF_IDLE_NOHLT;
    splz();
}

/* One iteration of cpu_idle() with machdep.cpu_idle_hlt set. */
static enum flow
cpu_idle(void)
{
    struct thread *td = curthread;

    if (lwkt_switch() == FLOW_SWITCHED) {
        push_frame(td, FRAME_CPU_IDLE);
        return FLOW_SWITCHED;
    }
    cpu_idle_after_switch(td);
    return FLOW_RETURNED;
}

/* Runs td's frames, innermost first.  No rest switches again, because crit_exit never switches here. */
static void
thread_resume(struct thread *td)
{
    for (int i = 0; i < td->td_nframes; ++i) {
        switch (td->td_frames[i]) {
        case FRAME_LWKT_SWITCH:
            crit_exit_quick(td);            /* lwkt_thread.c:637 */
            break;
        case FRAME_LWKT_YIELD:
            break;
        case FRAME_CPU_IDLE:
            cpu_idle_after_switch(td);
            break;
        case FRAME_CPU_KTHREAD_RESTORE:
            td->td_pri -= TDPRI_CRIT;       /* leave the section lwkt_init_thread set */
            break;
        }
    }
    td->td_nframes = 0;
}

/* ------------------------------------------------------------------ */
/* Thread creation (lwkt_thread.c:195-345, 1230-1261)                  */

static void
tdallq_insert_tail(struct globaldata *gd, struct thread *td)
{
    td->td_allqnext = NULL;
    if (gd->gd_tdallq_last != NULL)
        gd->gd_tdallq_last->td_allqnext = td;
    else
        gd->gd_tdallq_first = td;
    gd->gd_tdallq_last = td;
}

/* lwkt_thread.c:312: every new thread starts inside one critical section. */
static void
lwkt_init_thread(struct thread *td, uint32_t flags, struct globaldata *gd)
{
    int id = td->td_id;

    memset(td, 0, sizeof(*td));
    td->td_id = id;
    td->td_flags |= flags;
    td->td_pri = TDPRI_KERN_DAEMON + TDPRI_CRIT;
    td->td_frames[0] = FRAME_CPU_KTHREAD_RESTORE;
    td->td_nframes = 1;
    td->td_call = "cpu_kthread_restore";

    crit_enter_gd(mycpu);
    tdallq_insert_tail(gd, td);
    crit_exit_gd(mycpu);
}

/*
 * lwkt_thread.c:230 with td == NULL.  Nothing in this profile frees a thread,
 * so the free cache of lwkt_thread.c:238-245 is always empty and every thread
 * is a fresh structure with a fresh stack.
 */
static struct thread *
lwkt_alloc_thread(void)
{
    struct thread *td;

    crit_enter_gd(mycpu);
    crit_exit_gd(mycpu);
    if (nthreads >= THREADS_MAX)
        model_limit("threads-max");
    td = &thread_zone[nthreads];
    td->td_id = nthreads++;
    lwkt_init_thread(td, TDF_ALLOCATED_THREAD | TDF_ALLOCATED_STACK, mycpu);
    return td;
}

/* lwkt_thread.c:1230.  Returns the new thread's id, which the step result carries in place of 0. */
static int
lwkt_create(uint32_t tdflags, const uint16_t *comm, int comm_len)
{
    struct thread *td = lwkt_alloc_thread();

    td->td_flags |= TDF_VERBOSE | tdflags;
    td->td_comm_len = comm_len < MAXCOMLEN ? comm_len : MAXCOMLEN;
    memcpy(td->td_comm, comm, (size_t)td->td_comm_len * sizeof(uint16_t));

    if ((td->td_flags & TDF_STOPREQ) == 0)
        lwkt_schedule(td);
    else
        td->td_flags &= ~TDF_STOPREQ;
    return td->td_id;
}

/*
 * Boot state: lwkt_gdinit, then the idle thread set up by lwkt_init_thread
 * and already out of its critical section, as cpu_idle leaves it.
 */
static void
boot(void)
{
    struct thread *idle = &thread_zone[0];

    memset(&globaldata0, 0, sizeof(globaldata0));
    memset(thread_zone, 0, sizeof(thread_zone));
    nthreads = 1;
    switch_count = 0;
    panic_id = panic_site = limit_id = NULL;

    mycpu->gd_curthread = idle;
    mycpu->gd_idlethread = idle;
    lwkt_init_thread(idle, 0, mycpu);
    idle->td_pri = TDPRI_KERN_DAEMON;
    idle->td_flags |= TDF_RUNNING;
    idle->td_nframes = 0;
    idle->td_call = NULL;
    booted = true;
}

/* ------------------------------------------------------------------ */
/* Steps (spec/semantics.md 2.2 and 2.3)                               */

enum call {
    CALL_LWKT_CREATE, CALL_LWKT_SCHEDULE, CALL_LWKT_DESCHEDULE,
    CALL_LWKT_SCHEDULE_SELF, CALL_LWKT_DESCHEDULE_SELF, CALL_LWKT_SWITCH,
    CALL_LWKT_YIELD, CALL_LWKT_SETPRI, CALL_LWKT_SETPRI_SELF,
    CALL_LWKT_CHECKPRI_SELF, CALL_CPU_IDLE, NCALLS
};

/* Step arguments besides cpu and call. */
enum { ARG_TD = 1, ARG_PRI = 2, ARG_TARGET = 4, ARG_TDFLAGS = 8, ARG_PREEMPTABLE = 16, ARG_COMM = 32 };

static const struct {
    const char *name;
    unsigned args;
} calls[NCALLS] = {
    [CALL_LWKT_CREATE] = { "lwkt_create", ARG_TARGET | ARG_TDFLAGS | ARG_PREEMPTABLE | ARG_COMM },
    [CALL_LWKT_SCHEDULE] = { "lwkt_schedule", ARG_TD },
    [CALL_LWKT_DESCHEDULE] = { "lwkt_deschedule", ARG_TD },
    [CALL_LWKT_SCHEDULE_SELF] = { "lwkt_schedule_self", 0 },
    [CALL_LWKT_DESCHEDULE_SELF] = { "lwkt_deschedule_self", 0 },
    [CALL_LWKT_SWITCH] = { "lwkt_switch", 0 },
    [CALL_LWKT_YIELD] = { "lwkt_yield", 0 },
    [CALL_LWKT_SETPRI] = { "lwkt_setpri", ARG_TD | ARG_PRI },
    [CALL_LWKT_SETPRI_SELF] = { "lwkt_setpri_self", ARG_PRI },
    [CALL_LWKT_CHECKPRI_SELF] = { "lwkt_checkpri_self", 0 },
    [CALL_CPU_IDLE] = { "cpu_idle", 0 },
};

struct step {
    enum call call;
    int td;
    int pri;
    uint32_t tdflags;
    uint16_t comm[MAXCOMLEN];
    int comm_len;
};

struct completion {
    int td;
    const char *call;
};

/* The step's StepResult; a "returned" result carries ret, null unless ret_is_int. */
static struct {
    const char *status;
    bool ret_is_int;
    int ret;
    struct completion completed[THREADS_MAX];
    int ncompleted;
} result;

/* Runs the call of one step on the current thread. */
static enum flow
dispatch(const struct step *s)
{
    struct thread *td = curthread;

    switch (s->call) {
    case CALL_LWKT_CREATE:
        result.ret_is_int = true;
        result.ret = lwkt_create(s->tdflags, s->comm, s->comm_len);
        return FLOW_RETURNED;
    case CALL_LWKT_SCHEDULE:
        lwkt_schedule(&thread_zone[s->td]);
        return FLOW_RETURNED;
    case CALL_LWKT_DESCHEDULE:
        lwkt_deschedule(&thread_zone[s->td]);
        return FLOW_RETURNED;
    case CALL_LWKT_SCHEDULE_SELF:
        lwkt_schedule_self(td);
        return FLOW_RETURNED;
    case CALL_LWKT_DESCHEDULE_SELF:
        lwkt_deschedule_self(td);
        return FLOW_RETURNED;
    case CALL_LWKT_SWITCH:
        return lwkt_switch();
    case CALL_LWKT_YIELD:
        return lwkt_yield();
    case CALL_LWKT_SETPRI:
        lwkt_setpri(&thread_zone[s->td], s->pri);
        return FLOW_RETURNED;
    case CALL_LWKT_SETPRI_SELF:
        lwkt_setpri_self(s->pri);
        return FLOW_RETURNED;
    case CALL_LWKT_CHECKPRI_SELF:
        result.ret_is_int = true;
        result.ret = lwkt_checkpri_self();
        return FLOW_RETURNED;
    case CALL_CPU_IDLE:
        return cpu_idle();
    case NCALLS:
        break;
    }
    longjmp(stop_jmp, STOP_INTERNAL);
}

/*
 * Runs one valid step.  The caller is always at a call boundary here, since
 * a step ends only when the current thread has no frames left.  Returns false
 * on an internal failure of this program.
 */
static bool
run_step(const struct step *s)
{
    struct thread *caller = curthread;
    struct thread *td;
    int stop;

    memset(&result, 0, sizeof(result));
    caller->td_call = calls[s->call].name;

    stop = setjmp(stop_jmp);
    if (stop == STOP_INTERNAL)
        return false;
    if (stop != 0) {
        result.status = stop == STOP_PANIC ? "panic" : "limit";
        return true;
    }

    if (dispatch(s) == FLOW_RETURNED) {
        caller->td_call = NULL;
        result.status = "returned";
        return true;
    }

    /*
     * The caller was switched out.  Its switch target cannot be the caller
     * itself, and no rest switches again, so one resumption ends the step.
     */
    td = curthread;
    if (td->td_nframes > 0) {
        result.completed[result.ncompleted].td = td->td_id;
        result.completed[result.ncompleted].call = td->td_call;
        result.ncompleted++;
        thread_resume(td);
        td->td_call = NULL;
    }
    result.status = "suspended";
    return true;
}

/* ------------------------------------------------------------------ */
/* Output buffer and JSON writer                                       */

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

static void
buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (data == NULL) {
        fprintf(stderr, "lwkt_up: out of memory for a %zu-byte buffer\n", cap);
        exit(1);
    }
    b->data = data;
    b->cap = cap;
}

static void
buf_putc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
}

static void
buf_puts(struct buf *b, const char *s)
{
    size_t n = strlen(s);

    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* One UTF-16 code unit inside a JSON string; non-ASCII goes out as \uXXXX. */
static void
buf_put_unit(struct buf *b, unsigned u)
{
    if (u == '"' || u == '\\')
        buf_printf(b, "\\%c", (char)u);
    else if (u >= 0x20 && u < 0x7f)
        buf_putc(b, (char)u);
    else
        buf_printf(b, "\\u%04x", u);
}

static void
buf_put_units(struct buf *b, const uint16_t *units, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; ++i)
        buf_put_unit(b, units[i]);
    buf_putc(b, '"');
}

static void
buf_put_string(struct buf *b, const char *s)
{
    buf_putc(b, '"');
    for (; *s != '\0'; ++s)
        buf_put_unit(b, (unsigned char)*s);
    buf_putc(b, '"');
}

static void
buf_put_frame(struct buf *b, enum frame frame)
{
    static const char *const text[] = {
        [FRAME_LWKT_SWITCH] = "{\"fn\":\"lwkt_switch\",\"stage\":\"switch\"}",
        [FRAME_LWKT_YIELD] = "{\"fn\":\"lwkt_yield\",\"stage\":\"switch\"}",
        [FRAME_CPU_IDLE] = "{\"fn\":\"cpu_idle\",\"stage\":\"switch\"}",
        [FRAME_CPU_KTHREAD_RESTORE] = "{\"fn\":\"cpu_kthread_restore\"}",
    };
    buf_puts(b, text[frame]);
}

/* Fields outside the scheduling state keep the values every thread of this profile has. */
static void
write_thread(struct buf *b, const struct thread *td)
{
    buf_printf(b, "{\"id\":%d,\"zfreed\":false,\"td_gd\":0,\"td_pri\":%d,\"td_flags\":%u,"
        "\"td_mpcount\":0,\"td_cscount\":0,\"td_refs\":0,\"td_nest_count\":0,"
        "\"td_wait\":null,\"td_wmesg\":null,\"td_preempted\":null,\"td_toks\":[],"
        "\"td_proc\":null,\"td_release\":false,\"td_preemptable\":false,\"td_comm\":",
        td->td_id, td->td_pri, (unsigned)td->td_flags);
    buf_put_units(b, td->td_comm, (size_t)td->td_comm_len);
    buf_printf(b, ",\"td_kstack\":true,\"td_kstack_size\":%d,\"frames\":[", LWKT_THREAD_STACK);
    for (int i = 0; i < td->td_nframes; ++i) {
        if (i > 0)
            buf_putc(b, ',');
        buf_put_frame(b, td->td_frames[i]);
    }
    buf_puts(b, "],\"call\":");
    if (td->td_call != NULL)
        buf_put_string(b, td->td_call);
    else
        buf_puts(b, "null");
    buf_putc(b, '}');
}

static void
write_cpu(struct buf *b, const struct globaldata *gd)
{
    const struct thread *td;

    buf_printf(b, "{\"cpuid\":0,\"gd_curthread\":%d,\"gd_idlethread\":%d,\"gd_runqmask\":%u,\"gd_tdrunq\":[",
        gd->gd_curthread->td_id, gd->gd_idlethread->td_id, (unsigned)gd->gd_runqmask);
    for (int nq = 0; nq < NQS; ++nq) {
        buf_puts(b, nq > 0 ? ",[" : "[");
        for (td = gd->gd_tdrunq[nq].tq_first; td != NULL; td = td->td_rqnext)
            buf_printf(b, "%s%d", td == gd->gd_tdrunq[nq].tq_first ? "" : ",", td->td_id);
        buf_putc(b, ']');
    }
    buf_printf(b, "],\"gd_reqflags\":%u,\"gd_intr_nesting_level\":0,\"gd_tdallq\":[", (unsigned)gd->gd_reqflags);
    for (td = gd->gd_tdallq_first; td != NULL; td = td->td_allqnext)
        buf_printf(b, "%s%d", td == gd->gd_tdallq_first ? "" : ",", td->td_id);
    buf_puts(b, "],\"gd_tdfreeq\":[],\"gd_tdfreecount\":0,\"gd_ipending\":[],\"gd_fpending\":false,"
        "\"gd_tokreqbase\":[],\"gd_ipiq\":[[]]}");
}

/* The AbstractState of spec/schema.ts. */
static void
write_snapshot(struct buf *b)
{
    buf_printf(b, "{\"schema\":\"lwkt-state/1\",\"config\":{\"ncpus\":1,\"smp\":false,\"invariants\":true,"
        "\"untimelySwitch\":false,\"panicOnCscount\":%s},\"panicked\":",
        panic_on_cscount ? "true" : "false");
    if (panic_id != NULL) {
        buf_puts(b, "{\"id\":");
        buf_put_string(b, panic_id);
        buf_puts(b, ",\"site\":");
        buf_put_string(b, panic_site);
        buf_putc(b, '}');
    } else {
        buf_puts(b, "null");
    }
    buf_printf(b, ",\"mp_lock\":-1,\"counters\":{\"switch_count\":%llu,\"preempt_hit\":0,"
        "\"preempt_miss\":0,\"preempt_weird\":0},\"cpus\":[", (unsigned long long)switch_count);
    write_cpu(b, mycpu);
    buf_puts(b, "],\"threads\":[");
    for (int i = 0; i < nthreads; ++i) {
        if (i > 0)
            buf_putc(b, ',');
        write_thread(b, &thread_zone[i]);
    }
    buf_puts(b, "],\"waits\":[],\"tokens\":[],\"tokrefs\":[]}");
}

/* The StepResult of spec/schema.ts; panicIds is false, so a panic names no id. */
static void
write_result(struct buf *b)
{
    buf_printf(b, "{\"status\":\"%s\"", result.status);
    if (strcmp(result.status, "returned") == 0 && result.ret_is_int)
        buf_printf(b, ",\"ret\":%d", result.ret);
    else if (strcmp(result.status, "returned") == 0)
        buf_puts(b, ",\"ret\":null");
    if (limit_id != NULL)
        buf_printf(b, ",\"limit\":\"%s\"", limit_id);
    buf_puts(b, ",\"completed\":[");
    for (int i = 0; i < result.ncompleted; ++i) {
        buf_printf(b, "%s{\"td\":%d,\"call\":", i > 0 ? "," : "", result.completed[i].td);
        buf_put_string(b, result.completed[i].call);
        buf_puts(b, ",\"ret\":null}");
    }
    buf_puts(b, "],\"printed\":[]}");
}

/* ------------------------------------------------------------------ */
/* JSON reader: requests are small, so each line becomes a tree of nodes */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    bool boolean;
    bool is_integer;            /* no fraction or exponent, magnitude below JSON_INTEGER_LIMIT */
    long long integer;
    const uint16_t *str;        /* JSON_STRING: UTF-16 code units */
    size_t len;
    const uint16_t *key;        /* member name, for a member of an object */
    size_t keylen;
    struct json *child;         /* first element or member */
    struct json *next;
};

/* Every value and every code unit takes at least one byte of input, which sizes both arrays. */
struct json_parser {
    const unsigned char *p;
    const unsigned char *end;
    struct json *nodes;
    size_t nnodes;
    uint16_t *units;
    size_t nunits;
    const char *error;
};

static bool
json_fail(struct json_parser *jp, const char *error)
{
    jp->error = error;
    return false;
}

static bool
json_peek(const struct json_parser *jp, unsigned char c)
{
    return jp->p < jp->end && *jp->p == c;
}

static bool
json_peek_digit(const struct json_parser *jp)
{
    return jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9';
}

static void
json_skip_ws(struct json_parser *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        ++jp->p;
}

static int
hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one UTF-8 sequence; returns -1 for overlong, surrogate or truncated input. */
static long
utf8_decode(struct json_parser *jp)
{
    unsigned char c = *jp->p++;
    long cp, min;
    int more;

    if (c < 0x80)
        return c;
    if (c >= 0xc2 && c <= 0xdf) {
        cp = c & 0x1f, more = 1, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        cp = c & 0x0f, more = 2, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        cp = c & 0x07, more = 3, min = 0x10000;
    } else {
        return -1;
    }
    for (; more > 0; --more) {
        if (jp->p >= jp->end || (*jp->p & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (*jp->p++ & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    return cp;
}

/* Decodes the escape after a backslash into one code unit; lone surrogates pass, as in JSON.parse. */
static bool
json_parse_escape(struct json_parser *jp, uint16_t *unit)
{
    static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
    unsigned u = 0;

    if (jp->p >= jp->end)
        return json_fail(jp, "unterminated escape");
    unsigned char c = *jp->p++;
    if (c != 'u') {
        for (const char *e = simple; *e != '\0'; e += 2) {
            if ((unsigned char)e[0] == c) {
                *unit = (unsigned char)e[1];
                return true;
            }
        }
        return json_fail(jp, "invalid escape in a string");
    }
    for (int i = 0; i < 4; ++i) {
        int h = jp->p < jp->end ? hex_value(*jp->p++) : -1;
        if (h < 0)
            return json_fail(jp, "invalid \\u escape");
        u = u * 16 + (unsigned)h;
    }
    *unit = (uint16_t)u;
    return true;
}

/* Parses a string after its opening quote into UTF-16 code units. */
static bool
json_parse_string(struct json_parser *jp, const uint16_t **str, size_t *len)
{
    uint16_t *out = jp->units + jp->nunits;
    size_t n = 0;

    while (!json_peek(jp, '"')) {
        if (jp->p >= jp->end)
            return json_fail(jp, "unterminated string");
        if (*jp->p < 0x20)
            return json_fail(jp, "control character in a string");
        if (*jp->p == '\\') {
            ++jp->p;
            if (!json_parse_escape(jp, &out[n++]))
                return false;
            continue;
        }
        long cp = utf8_decode(jp);
        if (cp < 0)
            return json_fail(jp, "invalid UTF-8 in a string");
        if (cp >= 0x10000) {
            out[n++] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
            out[n++] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
        } else {
            out[n++] = (uint16_t)cp;
        }
    }
    ++jp->p;
    jp->nunits += n;
    *str = out;
    *len = n;
    return true;
}

static bool
json_parse_number(struct json_parser *jp, struct json *v)
{
    bool negative = false, overflow = false, integral = true;
    unsigned long long magnitude = 0;

    if (json_peek(jp, '-')) {
        negative = true;
        ++jp->p;
    }
    if (!json_peek_digit(jp))
        return json_fail(jp, "invalid number");
    if (*jp->p == '0' && jp->p + 1 < jp->end && jp->p[1] >= '0' && jp->p[1] <= '9')
        return json_fail(jp, "invalid number with a leading zero");
    for (; json_peek_digit(jp); ++jp->p) {
        if (magnitude >= JSON_INTEGER_LIMIT)
            overflow = true;
        else
            magnitude = magnitude * 10 + (unsigned)(*jp->p - '0');
    }
    if (json_peek(jp, '.')) {
        integral = false;
        ++jp->p;
        if (!json_peek_digit(jp))
            return json_fail(jp, "invalid number: no digit after the decimal point");
        while (json_peek_digit(jp))
            ++jp->p;
    }
    if (json_peek(jp, 'e') || json_peek(jp, 'E')) {
        integral = false;
        ++jp->p;
        if (json_peek(jp, '+') || json_peek(jp, '-'))
            ++jp->p;
        if (!json_peek_digit(jp))
            return json_fail(jp, "invalid number: no digit in the exponent");
        while (json_peek_digit(jp))
            ++jp->p;
    }
    v->type = JSON_NUMBER;
    v->is_integer = integral && !overflow;
    v->integer = negative ? -(long long)magnitude : (long long)magnitude;
    return true;
}

static bool json_parse_value(struct json_parser *jp, int depth, struct json **out);

/* Parses the elements of an array or the members of an object after its opening bracket. */
static bool
json_parse_container(struct json_parser *jp, struct json *v, int depth)
{
    bool object = v->type == JSON_OBJECT;
    unsigned char close = object ? '}' : ']';
    struct json **link = &v->child;
    struct json *item;

    json_skip_ws(jp);
    if (json_peek(jp, close)) {
        ++jp->p;
        return true;
    }
    for (;;) {
        const uint16_t *key = NULL;
        size_t keylen = 0;

        if (object) {
            json_skip_ws(jp);
            if (!json_peek(jp, '"'))
                return json_fail(jp, "expected a member name");
            ++jp->p;
            if (!json_parse_string(jp, &key, &keylen))
                return false;
            json_skip_ws(jp);
            if (!json_peek(jp, ':'))
                return json_fail(jp, "expected ':' after a member name");
            ++jp->p;
        }
        if (!json_parse_value(jp, depth + 1, &item))
            return false;
        item->key = key;
        item->keylen = keylen;
        *link = item;
        link = &item->next;

        json_skip_ws(jp);
        if (json_peek(jp, close)) {
            ++jp->p;
            return true;
        }
        if (!json_peek(jp, ','))
            return json_fail(jp, object ? "expected ',' or '}'" : "expected ',' or ']'");
        ++jp->p;
    }
}

static bool
json_match_literal(struct json_parser *jp, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
        return false;
    jp->p += n;
    return true;
}

static bool
json_parse_value(struct json_parser *jp, int depth, struct json **out)
{
    struct json *v;

    if (depth > JSON_MAX_DEPTH)
        return json_fail(jp, "nesting deeper than 32 levels");
    json_skip_ws(jp);
    if (jp->p >= jp->end)
        return json_fail(jp, "unexpected end of line");
    v = *out = &jp->nodes[jp->nnodes++];
    memset(v, 0, sizeof(*v));

    unsigned char c = *jp->p;
    if (c == '{' || c == '[') {
        ++jp->p;
        v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
        return json_parse_container(jp, v, depth);
    }
    if (c == '"') {
        ++jp->p;
        v->type = JSON_STRING;
        return json_parse_string(jp, &v->str, &v->len);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return json_parse_number(jp, v);
    v->type = JSON_BOOL;
    if (json_match_literal(jp, "true"))
        return v->boolean = true;
    if (json_match_literal(jp, "false"))
        return true;
    v->type = JSON_NULL;
    if (json_match_literal(jp, "null"))
        return true;
    return json_fail(jp, "unexpected character");
}

static bool
units_equal(const uint16_t *units, size_t n, const char *ascii)
{
    size_t i;

    for (i = 0; i < n && ascii[i] != '\0'; ++i)
        if (units[i] != (unsigned char)ascii[i])
            return false;
    return i == n && ascii[i] == '\0';
}

/* The last member named `name`, as JSON.parse keeps the last of duplicate names. */
static const struct json *
json_get(const struct json *object, const char *name)
{
    const struct json *found = NULL;

    for (const struct json *m = object->child; m != NULL; m = m->next)
        if (units_equal(m->key, m->keylen, name))
            found = m;
    return found;
}

/* ------------------------------------------------------------------ */
/* Requests and responses (spec/protocol.md)                           */

struct reply {
    const char *code;           /* error code of a rejected request */
    char message[200];
};

/* Copies a short name for an error message; non-ASCII units become '?'. */
static const char *
units_to_ascii(const uint16_t *units, size_t n, char *out, size_t size)
{
    size_t i;

    for (i = 0; i < n && i + 1 < size; ++i)
        out[i] = units[i] >= 0x20 && units[i] < 0x7f ? (char)units[i] : '?';
    out[i] = '\0';
    return out;
}

static bool
reject(struct reply *r, const char *code, const char *fmt, ...)
{
    va_list ap;

    r->code = code;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    return false;
}

/* Checks that every member of `object` is named in the NULL-terminated list `names`. */
static bool
only_members(const struct json *object, const char *const *names, const char *what, struct reply *r)
{
    for (const struct json *m = object->child; m != NULL; m = m->next) {
        bool known = false;
        for (const char *const *n = names; *n != NULL && !known; ++n)
            known = units_equal(m->key, m->keylen, *n);
        if (!known)
            return reject(r, "invalid-request", "%s has a member it does not define; remove it", what);
    }
    return true;
}

static bool
get_integer(const struct json *object, const char *name, long long min, long long max,
    long long *out, struct reply *r)
{
    const struct json *v = json_get(object, name);

    if (v == NULL)
        return reject(r, "invalid-request", "missing member '%s'", name);
    if (v->type != JSON_NUMBER || !v->is_integer || v->integer < min || v->integer > max)
        return reject(r, "invalid-request", "member '%s' must be an integer in %lld..%lld", name, min, max);
    *out = v->integer;
    return true;
}

static bool
get_bool(const struct json *object, const char *name, bool *out, struct reply *r)
{
    const struct json *v = json_get(object, name);

    if (v == NULL || v->type != JSON_BOOL)
        return reject(r, "invalid-request", "member '%s' must be true or false", name);
    *out = v->boolean;
    return true;
}

/* Reads the arguments of the step's call, with the ranges that are valid on this machine. */
static bool
parse_step_args(const struct json *j, unsigned args, struct step *s, struct reply *r)
{
    long long value;
    bool preemptable = false;

    if ((args & ARG_TD) != 0) {
        if (!get_integer(j, "td", 0, nthreads - 1, &value, r))
            return false;
        s->td = (int)value;
    }
    if ((args & ARG_PRI) != 0) {
        if (!get_integer(j, "pri", -(long long)JSON_INTEGER_LIMIT, JSON_INTEGER_LIMIT, &value, r))
            return false;
        /* NOTE: the schema allows any integer, but the C int td_pri would overflow beyond this. */
        if (value < -PRI_ARG_MAX || value > PRI_ARG_MAX)
            return reject(r, "unsupported", "member 'pri' beyond +-%d would overflow td_pri", PRI_ARG_MAX);
        s->pri = (int)value;
    }
    if ((args & ARG_TARGET) != 0 && !get_integer(j, "target", -1, 0, &value, r))
        return false;
    if ((args & ARG_TDFLAGS) != 0) {
        if (!get_integer(j, "tdflags", 0, 0xffffffffLL, &value, r))
            return false;
        if (((uint32_t)value & ~LWKT_CREATE_FLAGS_ALLOWED) != 0)
            return reject(r, "invalid-request", "tdflags 0x%llx has bits outside LWKT_CREATE_FLAGS_ALLOWED (0x%x)",
                value, LWKT_CREATE_FLAGS_ALLOWED);
        s->tdflags = (uint32_t)value;
    }
    if ((args & ARG_PREEMPTABLE) != 0) {
        if (!get_bool(j, "preemptable", &preemptable, r))
            return false;
        if (preemptable)
            return reject(r, "unsupported", "preemptable threads (lwkt_preempt) are outside up-scheduling");
    }
    if ((args & ARG_COMM) != 0) {
        const struct json *comm = json_get(j, "comm");
        if (comm == NULL || comm->type != JSON_STRING)
            return reject(r, "invalid-request", "member 'comm' must be a string");
        s->comm_len = comm->len < MAXCOMLEN ? (int)comm->len : MAXCOMLEN;
        memcpy(s->comm, comm->str, (size_t)s->comm_len * sizeof(uint16_t));
    }
    return true;
}

/* Decodes a Step of this profile and checks it against the current state. */
static bool
parse_step(const struct json *j, struct step *s, struct reply *r)
{
    static const struct { unsigned arg; const char *name; } arg_names[] = {
        { ARG_TD, "td" }, { ARG_PRI, "pri" }, { ARG_TARGET, "target" },
        { ARG_TDFLAGS, "tdflags" }, { ARG_PREEMPTABLE, "preemptable" }, { ARG_COMM, "comm" },
    };
    const struct json *call = j->type == JSON_OBJECT ? json_get(j, "call") : NULL;
    const char *names[8] = { "cpu", "call" };
    int nnames = 2, c;
    long long cpu;
    char name[40];

    if (call == NULL || call->type != JSON_STRING)
        return reject(r, "invalid-request", "the step must be an object with a string member 'call'");
    for (c = 0; c < NCALLS && !units_equal(call->str, call->len, calls[c].name); ++c)
        continue;
    if (c == NCALLS)
        return reject(r, "unsupported", "call '%s' is outside the up-scheduling profile",
            units_to_ascii(call->str, call->len, name, sizeof(name)));
    s->call = (enum call)c;

    for (size_t i = 0; i < sizeof(arg_names) / sizeof(arg_names[0]); ++i)
        if ((calls[c].args & arg_names[i].arg) != 0)
            names[nnames++] = arg_names[i].name;
    names[nnames] = NULL;
    if (!only_members(j, names, "the step", r))
        return false;
    if (!get_integer(j, "cpu", 0, 0, &cpu, r))
        return reject(r, "invalid-request", "member 'cpu' must be 0, the only cpu");
    return parse_step_args(j, calls[c].args, s, r);
}

/*
 * The op handlers.  Each checks its request and, when it accepts it, appends
 * the members that follow "ok":true to out; on rejection it writes nothing.
 */
static bool
handle_hello(const struct json *req, struct buf *out, struct reply *r)
{
    static const char *const names[] = { "id", "op", "protocol", NULL };
    long long protocol;

    if (!only_members(req, names, "hello", r) ||
        !get_integer(req, "protocol", 0, JSON_INTEGER_LIMIT, &protocol, r))
        return false;
    if (protocol != PROTOCOL_VERSION)
        return reject(r, "unsupported", "this program speaks protocol %d only", PROTOCOL_VERSION);
    buf_printf(out, ",\"protocol\":%d,\"name\":\"lwkt-up-c\",\"capabilities\":{\"snapshot\":true,"
        "\"panicIds\":false,\"profiles\":[\"up-scheduling\"],\"cpus\":[1],\"smp\":[false],"
        "\"invariants\":[true]}", PROTOCOL_VERSION);
    return true;
}

static bool
handle_reset(const struct json *req, struct buf *out, struct reply *r)
{
    static const char *const names[] = { "id", "op", "config", NULL };
    static const char *const config_names[] = {
        "ncpus", "smp", "invariants", "untimelySwitch", "panicOnCscount", NULL
    };
    const struct json *c = json_get(req, "config");
    long long ncpus;
    bool smp = false, invariants = false, untimely = false, cscount = false;

    (void)out;
    if (!only_members(req, names, "reset", r))
        return false;
    if (c == NULL || c->type != JSON_OBJECT)
        return reject(r, "invalid-request", "reset needs an object member 'config'");
    if (!only_members(c, config_names, "the config", r) || !get_integer(c, "ncpus", 1, 4, &ncpus, r) ||
        !get_bool(c, "smp", &smp, r) || !get_bool(c, "invariants", &invariants, r) ||
        !get_bool(c, "untimelySwitch", &untimely, r) || !get_bool(c, "panicOnCscount", &cscount, r))
        return false;
    if (ncpus != 1 || smp)
        return reject(r, "unsupported", "only 1 cpu without SMP is supported");
    if (!invariants)
        return reject(r, "unsupported", "only kernels built with INVARIANTS are supported");
    if (untimely)
        return reject(r, "unsupported", "lwkt.untimely_switch is not supported");
    panic_on_cscount = cscount;
    boot();
    return true;
}

static bool
handle_step(const struct json *req, struct buf *out, struct reply *r)
{
    static const char *const names[] = { "id", "op", "step", NULL };
    const struct json *j = json_get(req, "step");
    struct step s;

    memset(&s, 0, sizeof(s));
    if (!only_members(req, names, "step", r))
        return false;
    if (j == NULL)
        return reject(r, "invalid-request", "missing member 'step'");
    if (!booted)
        return reject(r, "invalid-request", "no machine yet; send reset before the first step");
    if (panic_id != NULL || limit_id != NULL)
        return reject(r, "invalid-request", "the machine stopped at a panic or limit; send reset");
    if (!parse_step(j, &s, r))
        return false;
    if (!run_step(&s))
        return reject(r, "internal", "a thread needed more than %d frames", TD_MAXFRAMES);

    buf_puts(out, ",\"result\":");
    write_result(out);
    buf_printf(out, ",\"running\":[%d]", curthread->td_id);
    return true;
}

static bool
handle_snapshot(const struct json *req, struct buf *out, struct reply *r)
{
    static const char *const names[] = { "id", "op", NULL };

    if (!only_members(req, names, "snapshot", r))
        return false;
    if (!booted)
        return reject(r, "invalid-request", "no machine yet; send reset before the first snapshot");
    buf_puts(out, ",\"state\":");
    write_snapshot(out);
    return true;
}

static bool
handle_quit(const struct json *req, struct buf *out, struct reply *r)
{
    static const char *const names[] = { "id", "op", NULL };

    (void)out;
    return only_members(req, names, "quit", r);
}

static const struct {
    const char *name;
    bool (*handle)(const struct json *req, struct buf *out, struct reply *r);
} ops[] = {
    { "hello", handle_hello }, { "reset", handle_reset }, { "step", handle_step },
    { "snapshot", handle_snapshot }, { "quit", handle_quit },
};

static void
write_error(struct buf *out, long long id, const struct reply *r)
{
    if (id > 0)
        buf_printf(out, "{\"id\":%lld,\"ok\":false,\"error\":{\"code\":\"%s\",\"message\":", id, r->code);
    else
        buf_printf(out, "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"%s\",\"message\":", r->code);
    buf_put_string(out, r->message);
    buf_puts(out, "}}");
}

/* Parses one request line and dispatches it to its op handler. */
static bool
dispatch_request(struct json_parser *jp, struct buf *out, long long *id, bool *quit, struct reply *r)
{
    struct json *req;
    const struct json *idv, *op;
    char name[40];

    if (!json_parse_value(jp, 0, &req))
        return reject(r, "invalid-request", "the line is not valid JSON: %s", jp->error);
    json_skip_ws(jp);
    if (jp->p != jp->end)
        return reject(r, "invalid-request", "the line has text after the JSON value");
    if (req->type != JSON_OBJECT)
        return reject(r, "invalid-request", "a request must be a JSON object");
    idv = json_get(req, "id");
    if (idv == NULL || idv->type != JSON_NUMBER || !idv->is_integer || idv->integer < 1)
        return reject(r, "invalid-request", "member 'id' must be an integer of at least 1");
    *id = idv->integer;

    op = json_get(req, "op");
    if (op == NULL || op->type != JSON_STRING)
        return reject(r, "invalid-request", "member 'op' must be a string");
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); ++i) {
        if (units_equal(op->str, op->len, ops[i].name)) {
            buf_printf(out, "{\"id\":%lld,\"ok\":true", *id);
            if (!ops[i].handle(req, out, r))
                return false;
            buf_putc(out, '}');
            *quit = ops[i].handle == handle_quit;
            return true;
        }
    }
    return reject(r, "unsupported", "unknown op '%s'; use hello, reset, step, snapshot or quit",
        units_to_ascii(op->str, op->len, name, sizeof(name)));
}

/* Handles one request line and appends its response, without the newline, to out. Returns true for quit. */
static bool
handle_request(const unsigned char *line, size_t len, struct buf *out)
{
    struct json_parser jp = { line, line + len, NULL, 0, NULL, 0, NULL };
    struct reply r = { NULL, "" };
    size_t start = out->len;
    long long id = 0;
    bool ok, quit = false;

    jp.nodes = malloc((len + 1) * sizeof(*jp.nodes));
    jp.units = malloc((len + 1) * sizeof(*jp.units));
    if (jp.nodes == NULL || jp.units == NULL)
        ok = reject(&r, "internal", "out of memory for a %zu-byte request", len);
    else
        ok = dispatch_request(&jp, out, &id, &quit, &r);
    if (!ok) {
        out->len = start;
        write_error(out, id, &r);
    }
    free(jp.nodes);
    free(jp.units);
    return quit;
}

/* Reads one line without its newline, or returns false at end of input. A line cut at the maximum sets *too_long. */
static bool
read_line(struct buf *line, bool *too_long)
{
    int c;

    line->len = 0;
    *too_long = false;
    while ((c = getchar()) != EOF && c != '\n') {
        if (line->len < REQUEST_MAX_BYTES)
            buf_putc(line, (char)c);
        else
            *too_long = true;
    }
    return c != EOF || line->len > 0;
}

int
main(void)
{
    struct buf line = { NULL, 0, 0 }, out = { NULL, 0, 0 };
    bool too_long, quit = false;

    while (!quit && read_line(&line, &too_long)) {
        out.len = 0;
        if (too_long)
            buf_printf(&out, "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"invalid-request\","
                "\"message\":\"request longer than %d bytes\"}}", REQUEST_MAX_BYTES);
        else
            quit = handle_request((const unsigned char *)line.data, line.len, &out);
        buf_putc(&out, '\n');
        if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
            fprintf(stderr, "lwkt_up: cannot write a response to standard output\n");
            return 1;
        }
    }
    free(line.data);
    free(out.data);
    return 0;
}
