// Fault: rel_mplock (mplock.s) frees the MP lock on every release instead of
// only when the thread's td_mpcount drops to 0, so a nested get_mplock and
// rel_mplock pair leaves the thread running without the lock.
import { LwktImpl } from '../../impl/index.js';

export class RelMplockReleasesEarly extends LwktImpl {
  override readonly name = 'fault-rel-mplock-early';

  protected override rel_mplock(): void {
    if (!this.smp) return;
    const td = this.curthread(this.mycpu);
    if (this.invariants && this.td_mpcount[td] === 0) this.panic('rel_mplock.count-zero');
    --this.td_mpcount[td]!;
    if (this.MP_LOCK_HELD()) this.cpu_rel_mplock();
  }
}
