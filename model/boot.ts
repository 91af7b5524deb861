// Boot state (spec/semantics.md 1.1): per CPU, lwkt_gdinit, then the idle
// thread, initialised by lwkt_init_thread and already out of the critical
// section it starts in, as cpu_idle leaves it on its first run.
// Seed lines cite DragonFly BSD sys/kern/lwkt_thread.c rev 1.71.
import { LWKT_THREAD_STACK, TDF_RUNNING, TDPRI_KERN_DAEMON } from '../spec/constants.js';
import type { Config } from '../spec/schema.js';
import { Machine, SUSPEND } from './machine.js';
import { lwkt_gdinit, lwkt_init_thread } from './thread.js';

export function boot(config: Config): Machine {
  const m = new Machine(config);

  for (let cpu = 0; cpu < config.ncpus; cpu += 1) {
    m.addCpu(cpu, config.ncpus);
    lwkt_gdinit(m, cpu);

    // The idle thread's id is its CPU's id; it is gd_curthread from the start.
    const idle = m.allocThreadStructure(cpu);
    if (lwkt_init_thread(m, cpu, idle, true, LWKT_THREAD_STACK, 0, cpu) === SUSPEND) {
      throw new Error('internal error: boot switched threads');
    }

    // cpu_idle's first crit_exit.
    idle.td_pri = TDPRI_KERN_DAEMON;
    idle.td_flags |= TDF_RUNNING;
    idle.frames = [];
    idle.td_call = null;
  }

  // Boot counts one call each of lwkt_gdinit and lwkt_init_thread per CPU.
  for (const fn of Object.keys(m.functionCalls)) m.functionCalls[fn] = 0;
  m.functionCalls['lwkt_gdinit'] = config.ncpus;
  m.functionCalls['lwkt_init_thread'] = config.ncpus;
  return m;
}
