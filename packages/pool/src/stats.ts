import type { Slot } from './key-state.js';

/** Counters and gauges of a pool; see `LeasePool.stats()`. */
export interface LeasePoolStats {
  /** Resources up or going down (ready + stopping). */
  readonly resources: number;
  readonly starting: number;
  /** Leases held now. */
  readonly leases: number;
  /** Ready resources that nobody leases. */
  readonly idle: number;
  /** Acquires waiting for a start, a stop or capacity. */
  readonly waiting: number;
  readonly started: number;
  readonly stopped: number;
  readonly failedStarts: number;
  readonly lost: number;
  readonly leaked: number;
}

/** The gauges of a pool's keys now; a doomed start still counts as starting. */
export function gauges(slots: Iterable<Slot<unknown>>): Pick<LeasePoolStats, 'resources' | 'starting' | 'leases' | 'idle'> {
  let resources = 0;
  let starting = 0;
  let leases = 0;
  let idle = 0;
  for (const slot of slots) {
    const { state } = slot.state;
    if (state === 'ready' || state === 'stopping') resources++;
    else starting++;
    if (state === 'ready' && slot.leases === 0) idle++;
    leases += slot.leases;
  }
  return { resources, starting, leases, idle };
}
