import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INVARIANTS } from '../../spec/catalogue.js';
import {
  CACHE_NTHREADS,
  TDF_MIGRATING,
  TDF_PREEMPT_LOCK,
  TDF_RUNNING,
  TDF_RUNQ,
  TDPRI_CRIT,
} from '../../spec/constants.js';
import type { AbstractState } from '../../spec/schema.js';
import { checkInvariants, INVARIANT_PREDICATES } from '../invariants.js';
import {
  addThread,
  addWait,
  block,
  bootState,
  busyState,
  cacheThread,
  cpu,
  enqueue,
  preemptionState,
  runOn,
  runq,
  thread,
} from './abstract-state-fixtures.js';

function failingIds(state: AbstractState): string[] {
  return checkInvariants(state).map((f) => f.id);
}

function messageOf(state: AbstractState, id: string): string {
  return checkInvariants(state).find((f) => f.id === id)?.message ?? '';
}

describe('invariant predicates', () => {
  it('cover every catalogue invariant exactly once', () => {
    expect(Object.keys(INVARIANT_PREDICATES).sort()).toEqual(INVARIANTS.map((i) => i.id).sort());
  });
});

describe('valid states', () => {
  it.each([1, 2, 3, 4])('boot state with %i cpus reports nothing', (ncpus) => {
    expect(checkInvariants(bootState(ncpus))).toEqual([]);
  });

  it('uniprocessor boot state without SMP reports nothing', () => {
    expect(checkInvariants(bootState(1, { smp: false }))).toEqual([]);
  });

  it('busy two-cpu state reports nothing', () => {
    expect(checkInvariants(busyState())).toEqual([]);
  });

  it('preemption chain reports nothing', () => {
    expect(checkInvariants(preemptionState())).toEqual([]);
  });

  it('stale runqmask bit of an empty queue is allowed', () => {
    const state = bootState(1);
    cpu(state, 0).gd_runqmask = 0x80000000;
    expect(checkInvariants(state)).toEqual([]);
  });

  it('migrating thread may sit on another gd_tdallq', () => {
    const state = bootState(2);
    const td = addThread(state, 0, 12, { td_flags: TDF_MIGRATING });
    cpu(state, 0).gd_tdallq.pop();
    cpu(state, 1).gd_tdallq.push(td);
    expect(checkInvariants(state)).toEqual([]);
  });

  it('thread with td_mpcount runs without the MP lock when SMP is off', () => {
    const state = bootState(1, { smp: false });
    thread(state, 0).td_mpcount = 1;
    expect(checkInvariants(state)).toEqual([]);
  });

  it('zone-freed thread with broken counts is ignored', () => {
    const state = busyState();
    const freed = thread(state, 8);
    freed.td_refs = -1;
    freed.td_mpcount = -1;
    freed.td_pri = -5;
    freed.td_flags |= TDF_RUNNING;
    expect(checkInvariants(state)).toEqual([]);
  });
});

interface Corruption {
  id: string;
  case: string;
  build: () => AbstractState;
  /** Other ids that the corruption necessarily breaks too. */
  alsoBreaks?: string[];
  /** A fragment the failure message must contain. */
  mentions: string;
}

const corruptions: Corruption[] = [
  {
    id: 'runq.flag-matches-membership',
    case: 'queued thread without TDF_RUNQ',
    build: () => {
      const s = busyState();
      thread(s, 2).td_flags &= ~TDF_RUNQ;
      return s;
    },
    mentions: 'thread 2 is on cpu 0 run queue 20 but has no TDF_RUNQ',
  },
  {
    id: 'runq.flag-matches-membership',
    case: 'TDF_RUNQ without queue',
    build: () => {
      const s = busyState();
      // Thread 7 sits in the free cache, so it is on no run queue.
      thread(s, 7).td_flags |= TDF_RUNQ;
      return s;
    },
    mentions: 'thread 7 has TDF_RUNQ but is not on cpu 1 run queue 12',
  },
  {
    id: 'runq.flag-matches-membership',
    case: 'priority changed behind the queue',
    build: () => {
      const s = busyState();
      thread(s, 3).td_pri = 21 + TDPRI_CRIT;
      return s;
    },
    mentions: 'thread 3 is on cpu 0 run queue 20, but td_gd 0 and td_pri 53 place it on cpu 0 run queue 21',
  },
  {
    id: 'runq.no-duplicates',
    case: 'thread queued twice',
    build: () => {
      const s = busyState();
      runq(s, 0, 20).push(2);
      return s;
    },
    mentions: 'thread 2 appears 2 times on the run queues',
  },
  {
    id: 'threadq.single-link',
    case: 'structure freed twice into the cache',
    build: () => {
      const s = busyState();
      cpu(s, 1).gd_tdfreeq.push(7);
      cpu(s, 1).gd_tdfreecount += 1;
      return s;
    },
    mentions: 'thread 7 is linked through td_threadq on 2 lists: cpu 1 free cache, cpu 1 free cache',
  },
  {
    id: 'threadq.single-link',
    case: 'cached thread also queued',
    build: () => {
      const s = busyState();
      thread(s, 7).td_pri = 12;
      enqueue(s, 7);
      return s;
    },
    mentions: 'cpu 1 run queue 12, cpu 1 free cache',
  },
  {
    id: 'runqmask.covers-nonempty',
    case: 'bit of a non-empty queue cleared',
    build: () => {
      const s = busyState();
      cpu(s, 0).gd_runqmask &= ~(1 << 20);
      return s;
    },
    mentions: 'cpu 0 run queue 20 is not empty but bit 20 of gd_runqmask 0x00000000 is clear',
  },
  {
    id: 'allq.single',
    case: 'thread twice on gd_tdallq',
    build: () => {
      const s = busyState();
      cpu(s, 0).gd_tdallq.push(2);
      return s;
    },
    mentions: 'thread 2 appears 2 times on gd_tdallq: cpus 0, 0',
  },
  {
    id: 'waitq.count-matches',
    case: 'wa_count off by one',
    build: () => {
      const s = busyState();
      const w = s.waits[0];
      if (w !== undefined) w.wa_count += 1;
      return s;
    },
    mentions: 'wait queue 0 has wa_count 3 but 2 threads on wa_waitq',
  },
  {
    id: 'waitq.td-wait-matches',
    case: 'td_wait set off the queue',
    build: () => {
      const s = busyState();
      thread(s, 3).td_wait = 0;
      return s;
    },
    mentions: 'thread 3 has td_wait 0 but is not on wait queue 0',
  },
  {
    id: 'freeq.count-matches',
    case: 'gd_tdfreecount off by one',
    build: () => {
      const s = busyState();
      cpu(s, 1).gd_tdfreecount = 2;
      return s;
    },
    mentions: 'cpu 1 has gd_tdfreecount 2 but 1 threads on gd_tdfreeq',
  },
  {
    id: 'curthread.running',
    case: 'current thread without TDF_RUNNING',
    build: () => {
      const s = busyState();
      thread(s, 4).td_flags &= ~TDF_RUNNING;
      return s;
    },
    mentions: 'thread 4 is gd_curthread of cpu 1 but has no TDF_RUNNING',
  },
  {
    id: 'curthread.running',
    case: 'TDF_RUNNING off cpu',
    build: () => {
      const s = busyState();
      thread(s, 3).td_flags |= TDF_RUNNING;
      return s;
    },
    mentions: 'thread 3 has TDF_RUNNING but is gd_curthread of no cpu',
  },
  {
    id: 'preempt.chain-acyclic',
    case: 'two threads preempting each other',
    build: () => {
      const s = busyState();
      for (const [id, other] of [
        [2, 3],
        [3, 2],
      ] as const) {
        thread(s, id).td_preempted = other;
        thread(s, id).td_flags |= TDF_PREEMPT_LOCK;
      }
      return s;
    },
    mentions: 'the td_preempted chain of thread 2 returns to it: 2 -> 3 -> 2',
  },
  {
    id: 'preempt.chain-locked',
    case: 'preempted thread without TDF_PREEMPT_LOCK',
    build: () => {
      const s = preemptionState();
      thread(s, 1).td_flags &= ~TDF_PREEMPT_LOCK;
      return s;
    },
    mentions: 'thread 1 is preempted by thread 2 but has no TDF_PREEMPT_LOCK',
  },
  {
    id: 'tokref.single-holder',
    case: 'tokref on two threads',
    build: () => {
      const s = busyState();
      thread(s, 3).td_toks = [0];
      return s;
    },
    mentions: 'tokref 0 appears 2 times on td_toks: threads 3, 5',
  },
  {
    id: 'idle.never-on-runq',
    case: 'idle thread queued',
    build: () => {
      const s = busyState();
      enqueue(s, 0);
      return s;
    },
    mentions: 'idle thread 0 of cpu 0 is on cpu 0 run queue 12',
  },
  {
    id: 'crit.count-nonnegative',
    case: 'critical section left twice',
    build: () => {
      const s = busyState();
      thread(s, 1).td_pri = 12 - TDPRI_CRIT;
      return s;
    },
    mentions: 'thread 1 has td_pri -20, a critical-section count (td_pri >> 5) of -1',
  },
  {
    id: 'waitq.not-runnable',
    case: 'waiter also on a run queue',
    build: () => {
      const s = busyState();
      enqueue(s, 5);
      return s;
    },
    // A C thread cannot be on two td_threadq lists, so this always breaks the link too.
    alsoBreaks: ['threadq.single-link'],
    mentions: 'thread 5 is on wait queue 0 and has TDF_RUNQ',
  },
  {
    id: 'waitq.not-runnable',
    case: 'waiter running on a cpu',
    build: () => {
      const s = busyState();
      // The idle thread of cpu 0 took thread 5's place on the wait queue and returned from lwkt_block.
      const w = s.waits[0];
      if (w === undefined) throw new Error('busyState has wait queue 0');
      w.wa_waitq = w.wa_waitq.map((td) => (td === 5 ? 0 : td));
      thread(s, 0).td_wait = 0;
      thread(s, 5).td_wait = null;
      thread(s, 5).td_wmesg = null;
      thread(s, 5).frames = [];
      return s;
    },
    mentions: 'thread 0 is on wait queue 0 and is running',
  },
  {
    id: 'block.waiting-thread-reachable',
    case: 'waiter unlinked by lwkt_schedule',
    build: () => {
      // lwkt_schedule takes a waiter off the queue but leaves td_wmesg set (lwkt_thread.c:922-924).
      const s = busyState();
      const w = s.waits[0];
      if (w !== undefined) {
        w.wa_waitq = w.wa_waitq.filter((x) => x !== 5);
        w.wa_count -= 1;
      }
      thread(s, 5).td_wait = null;
      return s;
    },
    mentions: 'thread 5 waits in lwkt_block on wait queue 0 with td_wmesg "wait5", but its td_wait is null',
  },
  {
    id: 'mplock.owner-valid',
    case: 'mp_lock beyond the last cpu',
    build: () => {
      const s = busyState();
      s.mp_lock = 2;
      return s;
    },
    mentions: 'mp_lock is 2, which is neither -1 nor a cpu id in 0..1',
  },
  {
    id: 'mplock.held-by-runner',
    case: 'runner with td_mpcount and no lock',
    build: () => {
      const s = busyState();
      thread(s, 4).td_mpcount = 1;
      return s;
    },
    mentions: 'thread 4 runs on cpu 1 with td_mpcount 1 but mp_lock is -1',
  },
  {
    id: 'mpcount.conservation',
    case: 'preempted count changed',
    build: () => {
      const s = preemptionState();
      thread(s, 1).td_mpcount = 2;
      return s;
    },
    mentions: 'thread 1 has td_mpcount 2, but it was 1 when thread 2 preempted it',
  },
  {
    id: 'mpcount.conservation',
    case: 'preemptor dropped the inherited count',
    build: () => {
      const s = preemptionState();
      thread(s, 2).td_mpcount = 0;
      return s;
    },
    mentions: "thread 2 preempts thread 1 with td_mpcount 0, less than the preempted thread's 1",
  },
  {
    id: 'mpcount.nonnegative',
    case: 'negative td_mpcount',
    build: () => {
      const s = busyState();
      thread(s, 3).td_mpcount = -1;
      return s;
    },
    mentions: 'thread 3 has td_mpcount -1',
  },
  {
    id: 'freeq.bounded',
    case: 'lwkt_exit overfills the cache',
    build: () => {
      const s = bootState(1);
      for (let i = 0; i <= CACHE_NTHREADS; i++) cacheThread(s, addThread(s, 0, 12, { frames: [] }));
      return s;
    },
    mentions: `cpu 0 has gd_tdfreecount 7, above CACHE_NTHREADS (${CACHE_NTHREADS})`,
  },
  {
    id: 'refs.nonnegative',
    case: 'lwkt_rele without lwkt_hold',
    build: () => {
      const s = busyState();
      thread(s, 2).td_refs = -1;
      return s;
    },
    mentions: 'thread 2 has td_refs -1',
  },
  {
    id: 'running.matches-td-gd',
    case: 'thread of cpu 0 running on cpu 1',
    build: () => {
      const s = busyState();
      thread(s, 4).td_flags &= ~(TDF_RUNNING | TDF_RUNQ);
      runq(s, 1, 6).length = 0;
      const t = thread(s, 3);
      t.td_flags |= TDF_RUNNING;
      t.td_mpcount = 0;
      cpu(s, 1).gd_curthread = 3;
      return s;
    },
    mentions: 'thread 3 runs on cpu 1 but its td_gd is 0',
  },
  {
    id: 'allq.matches-td-gd',
    case: 'thread on the wrong gd_tdallq',
    build: () => {
      const s = busyState();
      cpu(s, 0).gd_tdallq = cpu(s, 0).gd_tdallq.filter((x) => x !== 2);
      cpu(s, 1).gd_tdallq.push(2);
      return s;
    },
    mentions: 'thread 2 is on cpu 1 gd_tdallq but its td_gd is 0 and it has no TDF_MIGRATING',
  },
  {
    id: 'nesting.zero-between-steps',
    case: 'interrupt nesting left raised',
    build: () => {
      const s = busyState();
      cpu(s, 1).gd_intr_nesting_level = 1;
      return s;
    },
    mentions: 'cpu 1 has gd_intr_nesting_level 1 between steps',
  },
];

describe('corrupted states', () => {
  it('include a corruption for every invariant', () => {
    const covered = new Set(corruptions.map((c) => c.id));
    expect(INVARIANTS.map((i) => i.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it.each(corruptions)('$id: $case', (c) => {
    const state = c.build();

    const ids = failingIds(state);

    expect(ids).toContain(c.id);
    expect(ids.sort()).toEqual([c.id, ...(c.alsoBreaks ?? [])].sort());
    expect(messageOf(state, c.id)).toContain(c.mentions);
  });
});

describe('dangling references', () => {
  it('report missing threads instead of throwing', () => {
    const state = bootState(1);
    runq(state, 0, 3).push(99);
    cpu(state, 0).gd_runqmask |= 1 << 3;
    thread(state, 0).td_preempted = 98;
    thread(state, 0).td_wait = 7;

    const failures = checkInvariants(state);

    expect(messageOf(state, 'runq.flag-matches-membership')).toContain('cpu 0 run queue 3 holds thread 99, which does not exist');
    expect(messageOf(state, 'preempt.chain-locked')).toContain('thread 0 has td_preempted 98, which does not exist');
    expect(messageOf(state, 'waitq.td-wait-matches')).toContain('thread 0 has td_wait 7, which names no wait queue');
    expect(failures.length).toBeGreaterThanOrEqual(3);
  });

  it('report a missing current thread', () => {
    const state = bootState(2);
    cpu(state, 1).gd_curthread = 42;
    expect(messageOf(state, 'curthread.running')).toContain('cpu 1 gd_curthread is thread 42, which does not exist');
  });
});

describe('failure messages', () => {
  it('come in catalogue order, one per id', () => {
    const state = busyState();
    state.mp_lock = 7;
    cpu(state, 0).gd_intr_nesting_level = 2;
    thread(state, 2).td_refs = -3;

    expect(failingIds(state)).toEqual(['mplock.owner-valid', 'refs.nonnegative', 'nesting.zero-between-steps']);
  });

  it('list at most eight violations', () => {
    const state = bootState(1);
    for (let i = 0; i < 12; i++) addThread(state, 0, 3, { td_refs: -1 });

    expect(messageOf(state, 'refs.nonnegative')).toMatch(/; and 4 more$/);
  });
});

// ---------------------------------------------------------------------------
// Properties over generated states.

interface ThreadPlan {
  cpu: number;
  pri: number;
  place: 'runq' | 'wait' | 'free' | 'none';
  w: number;
}

interface StatePlan {
  ncpus: number;
  smpWhenUp: boolean;
  waits: number;
  threads: ThreadPlan[];
  running: number[];
}

const statePlan: fc.Arbitrary<StatePlan> = fc.record({
  ncpus: fc.integer({ min: 1, max: 4 }),
  smpWhenUp: fc.boolean(),
  waits: fc.integer({ min: 0, max: 3 }),
  threads: fc.array(
    fc.record({
      cpu: fc.nat(3),
      pri: fc.integer({ min: 0, max: 31 }),
      place: fc.constantFrom('runq' as const, 'wait' as const, 'free' as const, 'none' as const),
      w: fc.nat(2),
    }),
    { maxLength: 14 },
  ),
  running: fc.array(fc.nat(20), { maxLength: 4 }),
});

function buildState(plan: StatePlan): AbstractState {
  const state = bootState(plan.ncpus, { smp: plan.ncpus > 1 || plan.smpWhenUp });
  for (let i = 0; i < plan.waits; i++) addWait(state);

  for (const t of plan.threads) {
    const id = addThread(state, t.cpu % plan.ncpus, t.pri);
    if (t.place === 'runq') enqueue(state, id);
    if (t.place === 'wait' && plan.waits > 0) block(state, id, t.w % plan.waits, `w${id}`);
    if (t.place === 'free' && cpu(state, t.cpu % plan.ncpus).gd_tdfreecount < CACHE_NTHREADS) cacheThread(state, id);
  }

  // Let some queued threads run; LWKT threads stay on the run queue while they run.
  for (const pick of plan.running) {
    const queued = state.threads.filter((td) => (td.td_flags & (TDF_RUNQ | TDF_RUNNING)) === TDF_RUNQ);
    const td = queued[pick % Math.max(queued.length, 1)];
    if (td !== undefined && cpu(state, td.td_gd).gd_curthread === td.td_gd) {
      td.td_mpcount = 0;
      runOn(state, td.id);
    }
  }
  return state;
}

/** Fisher-Yates with a small linear congruential generator, so fast-check controls the order through `seed`. */
function shuffle<T>(items: T[], seed: number): void {
  let x = seed >>> 0;
  for (let i = items.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = x % (i + 1);
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
}

function permuteLists(state: AbstractState, seed: number): void {
  let n = seed;
  for (const gd of state.cpus) {
    for (const queue of gd.gd_tdrunq) shuffle(queue, n++);
    shuffle(gd.gd_tdallq, n++);
    shuffle(gd.gd_tdfreeq, n++);
  }
  for (const w of state.waits) shuffle(w.wa_waitq, n++);
}

interface SingleCorruption {
  id: string;
  apply: (state: AbstractState) => void;
}

/** Every single corruption that applies to `state`, with the invariant it must break. */
function corruptionsOf(state: AbstractState): SingleCorruption[] {
  const list: SingleCorruption[] = [
    { id: 'mplock.owner-valid', apply: (s) => void (s.mp_lock = s.config.ncpus) },
    { id: 'nesting.zero-between-steps', apply: (s) => void (cpu(s, 0).gd_intr_nesting_level = 1) },
    { id: 'curthread.running', apply: (s) => void (thread(s, cpu(s, 0).gd_curthread).td_flags &= ~TDF_RUNNING) },
    { id: 'allq.single', apply: (s) => void cpu(s, 0).gd_tdallq.push(0) },
    { id: 'freeq.count-matches', apply: (s) => void (cpu(s, 0).gd_tdfreecount += 1) },
    { id: 'idle.never-on-runq', apply: (s) => enqueue(s, 0) },
    { id: 'crit.count-nonnegative', apply: (s) => void (thread(s, 0).td_pri -= 2 * TDPRI_CRIT) },
    { id: 'refs.nonnegative', apply: (s) => void (thread(s, 0).td_refs = -1) },
    { id: 'mpcount.nonnegative', apply: (s) => void (thread(s, 0).td_mpcount = -1) },
  ];

  for (const td of state.threads) {
    if (td.td_flags & TDF_RUNQ) {
      list.push({ id: 'runq.flag-matches-membership', apply: (s) => void (thread(s, td.id).td_flags &= ~TDF_RUNQ) });
      list.push({ id: 'runq.no-duplicates', apply: (s) => void runq(s, td.td_gd, td.td_pri & 31).push(td.id) });
      list.push({ id: 'runqmask.covers-nonempty', apply: (s) => void (cpu(s, td.td_gd).gd_runqmask &= ~(1 << (td.td_pri & 31))) });
    }
    if (td.td_wait !== null) {
      list.push({ id: 'waitq.td-wait-matches', apply: (s) => void (thread(s, td.id).td_wait = null) });
      list.push({ id: 'waitq.not-runnable', apply: (s) => enqueue(s, td.id) });
      list.push({ id: 'tokref.single-holder', apply: (s) => void thread(s, 0).td_toks.push(...td.td_toks) });
    }
  }
  for (const w of state.waits) {
    list.push({ id: 'waitq.count-matches', apply: (s) => void ((s.waits[w.id] ?? w).wa_count += 1) });
  }
  for (const gd of state.cpus) {
    for (const td of gd.gd_tdfreeq) {
      list.push({ id: 'threadq.single-link', apply: (s) => void cpu(s, gd.cpuid).gd_tdfreeq.push(td) });
    }
  }
  return list;
}

describe('invariant properties', () => {
  it('permuted queue contents stay valid', () => {
    fc.assert(
      fc.property(statePlan, fc.integer(), (plan, seed) => {
        const state = buildState(plan);
        permuteLists(state, seed);
        expect(checkInvariants(state)).toEqual([]);
      }),
    );
  });

  it('single corruption is detected', () => {
    fc.assert(
      fc.property(statePlan, fc.integer(), fc.nat(), (plan, seed, pick) => {
        const state = buildState(plan);
        permuteLists(state, seed);
        const choices = corruptionsOf(state);
        const corruption = choices[pick % choices.length];
        if (corruption === undefined) throw new Error('no corruption applies');

        corruption.apply(state);

        expect(failingIds(state)).toContain(corruption.id);
      }),
    );
  });
});
