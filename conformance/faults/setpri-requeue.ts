// Fault: lwkt_setpri (lwkt_thread.c:1028) changes td_pri of a thread on a run
// queue without moving it to the queue of its new priority.
import { TDPRI_MASK } from '../../spec/constants.js';
import { LwktImpl } from '../../impl/index.js';

export class SetpriWithoutRequeue extends LwktImpl {
  override readonly name = 'fault-setpri-no-requeue';

  protected override lwkt_setpri(td: number, pri: number): number {
    if (this.invariants && pri < 0) this.panic('setpri.negative');
    if (this.invariants && this.td_gd[td] !== this.mycpu) this.panic('setpri.remote-thread');
    this.crit_enter();
    this.td_pri[td] = this.td_pri[td]! - (this.td_pri[td]! & TDPRI_MASK) + pri;
    return this.crit_exit();
  }
}
