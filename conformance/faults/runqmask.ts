// Fault: _lwkt_enqueue (lwkt_thread.c:140) links the thread into a run queue
// that was empty but leaves that queue's gd_runqmask bit clear, so lwkt_switch
// never looks at the queue and the thread never runs.
import { NQS, TDF_MIGRATING, TDF_RUNQ, TDPRI_MASK } from '../../spec/constants.js';
import { LwktImpl } from '../../impl/index.js';

export class RunqmaskNotSetOnEmptyQueue extends LwktImpl {
  override readonly name = 'fault-runqmask-empty';

  protected override _lwkt_enqueue(td: number): void {
    const gd = this.td_gd[td]!;
    const nq = this.td_pri[td]! & TDPRI_MASK;
    const bit = (1 << nq) >>> 0;
    const enqueues = (this.td_flags[td]! & (TDF_RUNQ | TDF_MIGRATING)) === 0;
    const firstOnQueue = enqueues && this.runq.isEmpty(gd * NQS + nq) && (this.gd_runqmask[gd]! & bit) === 0;
    super._lwkt_enqueue(td);
    if (firstOnQueue) this.gd_runqmask[gd] = (this.gd_runqmask[gd]! & ~bit) >>> 0;
  }
}
