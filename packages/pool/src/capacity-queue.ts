import type { Waiter } from './cold-acquire.js';

/** What the capacity queue needs from its pool. */
export interface CapacityHost {
  readonly maxResources: number;
  /** Keys that hold a slot now: starting, doomed, up or stopping. */
  slots(): number;
  /** Stops under way: each will free a slot. */
  stopping(): number;
  /**
   * A queued waiter whose key has a slot takes a lease on it or joins its start (true), or stays
   * queued while that slot goes (false); undefined when its key has no slot.
   */
  place(waiter: Waiter, key: string): boolean | undefined;
  /** Starts `key` in a free slot, for `waiter` first. */
  start(key: string, waiter: Waiter): void;
  /** Stops the least recently used idle resource to free its slot; false when none is idle. */
  evictIdle(): boolean;
}

/**
 * Cold acquires that need a slot while the pool is at `maxResources`, first in first out; each one
 * leaves on its own signal or timeout (settled waiters are skipped when the queue moves).
 */
export class CapacityQueue {
  readonly #host: CapacityHost;
  #queue: Waiter[] = [];

  constructor(host: CapacityHost) {
    this.#host = host;
  }

  /** Queues a waiter whose key has no slot and the pool none free. */
  push(waiter: Waiter): void {
    this.#queue.push(waiter);
    this.pump();
  }

  /**
   * Lets the queue move, head first: a waiter whose key has started (or is up) since it queued
   * joins it; one that needs a slot takes a free one, or counts on a stop under way, or has the
   * least recently used idle resource stopped for it. The pool calls it on every transition that
   * frees a slot or leaves a resource idle.
   *
   * Not re-entrant by design, and needs no guard: the pass takes the whole queue first, and nothing
   * it calls queues a waiter synchronously (a key is routed after its normalization, a stop ends
   * after an await), so a pump from inside the pass (a synchronous `start` that releases a lease)
   * finds the queue empty.
   */
  pump(): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const host = this.#host;
    const kept: Waiter[] = [];
    // Slots that stops under way will free, each already promised to one waiter further up.
    let coming = host.stopping();
    let claimed: Set<string> | undefined;
    let victims = true;
    for (const waiter of queue) {
      if (waiter.done) continue;
      const key = waiter.key!;
      const placed = host.place(waiter, key);
      if (placed !== undefined) {
        if (!placed) kept.push(waiter); // its own key is going; the stop's end pumps again
        continue;
      }
      // A waiter of the same key further up already holds the slot this one will share.
      if (claimed?.has(key) === true) {
        kept.push(waiter);
        continue;
      }
      if (host.slots() < host.maxResources) {
        host.start(key, waiter);
        continue;
      }
      (claimed ??= new Set()).add(key);
      kept.push(waiter);
      if (coming > 0) coming--;
      else if (victims) victims = host.evictIdle();
    }
    this.#queue = kept.concat(this.#queue);
  }
}
