// Planted faults: subclasses of the optimized implementation (impl/), each
// with one realistic bug, used to show that the harness finds each one and
// shrinks it to a short counterexample. They are registered as implementations
// named `fault-...`, so `check --impl` and `replay --impl` accept them.
import type { Config } from '../../spec/schema.js';
import type { SchedulerFactory } from '../../spec/api.js';
import { PreemptMpcountNotRestored } from './preempt-mpcount.js';
import { RelMplockReleasesEarly } from './rel-mplock.js';
import { RemoteScheduleDoneLocally } from './remote-schedule.js';
import { RunqmaskNotSetOnEmptyQueue } from './runqmask.js';
import { SetpriWithoutRequeue } from './setpri-requeue.js';

export interface Fault {
  readonly name: string;
  readonly description: string;
  readonly factory: SchedulerFactory;
}

export const FAULTS: readonly Fault[] = [
  {
    name: 'fault-runqmask-empty',
    description: '_lwkt_enqueue leaves the gd_runqmask bit clear when the queue was empty',
    factory: (config: Config) => new RunqmaskNotSetOnEmptyQueue(config),
  },
  {
    name: 'fault-preempt-mpcount',
    description: 'returning from a preemption does not take back the inherited td_mpcount',
    factory: (config: Config) => new PreemptMpcountNotRestored(config),
  },
  {
    name: 'fault-remote-schedule-local',
    description: 'lwkt_schedule of another cpu\'s thread enqueues it directly instead of by IPI',
    factory: (config: Config) => new RemoteScheduleDoneLocally(config),
  },
  {
    name: 'fault-setpri-no-requeue',
    description: 'lwkt_setpri changes td_pri without moving the thread to its new run queue',
    factory: (config: Config) => new SetpriWithoutRequeue(config),
  },
  {
    name: 'fault-rel-mplock-early',
    description: 'rel_mplock frees the MP lock before td_mpcount reaches 0',
    factory: (config: Config) => new RelMplockReleasesEarly(config),
  },
];
