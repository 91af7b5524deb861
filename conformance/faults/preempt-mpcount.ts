// Fault: when lwkt_switch returns to a preempted thread (lwkt_thread.c:506-525)
// it does not take back the MP lock count that the preempting thread inherited
// at lwkt_thread.c:746, so the preemptor's td_mpcount stays too high.
import { TDF_PREEMPT_DONE, TDF_PREEMPT_LOCK, TDPRI_MASK } from '../../spec/constants.js';
import { LwktImpl } from '../../impl/index.js';

export class PreemptMpcountNotRestored extends LwktImpl {
  override readonly name = 'fault-preempt-mpcount';

  protected override lwkt_switch_unpreempt(_td: number, ntd: number, mpheld: boolean): void {
    if (this.invariants && (this.td_flags[ntd]! & TDF_PREEMPT_LOCK) === 0) this.panic('switch.preempted-not-locked');
    if (this.smp && this.td_mpcount[ntd] !== 0 && !mpheld) this.panic('switch.mplock-not-held-on-return');
    this.td_flags[ntd]! |= TDF_PREEMPT_DONE;
    if (this.gd_runqmask[this.mycpu]! > this.maskAbove(this.td_pri[ntd]! & TDPRI_MASK)) this.need_lwkt_resched();
  }
}
