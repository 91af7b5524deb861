// Fault: lwkt_schedule of a thread owned by another CPU links it into that
// CPU's run queue directly instead of sending lwkt_schedule by IPI to the owner
// (lwkt_thread.c:948-953), touching another CPU's queues without its lock.
import { TDPRI_CRIT } from '../../spec/constants.js';
import { LwktImpl } from '../../impl/index.js';
import { OK } from '../../impl/state.js';

const NIL = -1;

export class RemoteScheduleDoneLocally extends LwktImpl {
  override readonly name = 'fault-remote-schedule-local';

  protected override lwkt_schedule(td: number): number {
    const mygd = this.mycpu;
    const remote = this.smp && this.td_gd[td] !== mygd && td !== this.curthread(mygd) && this.td_wait[td] === NIL;
    if (!remote) return super.lwkt_schedule(td);

    this.crit_enter_gd(mygd);
    this._lwkt_enqueue(td);
    // lwkt_preempt refuses a thread of another cpu, so the post never switches here.
    const post = this._lwkt_schedule_post(mygd, td, TDPRI_CRIT);
    if (post !== OK) return post;
    return this.crit_exit_gd(mygd);
  }
}
