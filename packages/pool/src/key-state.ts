import type { Waiter } from './cold-acquire.js';
import { PoolClosedError, StartError } from './errors.js';
import type { Unlock } from './key-lock.js';
import type { StopReason } from './options.js';

// The life of one key in a pool, as a tagged union with its transitions beside it (the shape of
// Effect's RcMap): each state holds only what is meaningful in it, and a state changes only here.
//
//   starting ──resource──▶ ready ──stop──▶ stopping ──stopped──▶ (gone)
//      │                                      ▲
//      └──evict/lost/abandoned/close/failed──▶ doomed ──resource──┘ or ──failed──▶ (gone)

/** `start` runs for these waiters. */
export interface Starting {
  readonly state: 'starting';
  readonly waiters: Set<Waiter>;
}

/**
 * A start that will not be used: its resource is stopped (for `reason`) as soon as it arrives, or
 * its start has failed. An acquire waits for it to go (`after`) and then starts afresh.
 */
export interface Doomed {
  readonly state: 'doomed';
  /** Waiters of the start not yet rejected; they are when the start settles. */
  readonly waiters: Set<Waiter>;
  readonly reason: StopReason;
  readonly cause: unknown;
  /** Acquires that arrived meanwhile; they go again once it has gone. */
  after: Waiter[] | undefined;
}

/** The resource is up. Only this state is leased and only its raw keys are in the hot map. */
export interface Ready<R> {
  readonly state: 'ready';
  readonly resource: R;
  /** When it was last leased, on the pool's clock: the least recently used idle one goes first at capacity. */
  lastUsed: number;
  /** Armed while nobody leases it and `idleTimeoutMs` is finite and not 0. */
  idleTimer: NodeJS.Timeout | undefined;
  /** Raw keys that reach it on the hot path: the first one inline (kNoAlias until then), any others in a set. */
  alias: unknown;
  aliases: Set<unknown> | undefined;
}

/** `stop` runs; the key is not to be started again until it has gone. */
export interface Stopping {
  readonly state: 'stopping';
  /** Acquires that arrived meanwhile; they go again once it has gone. */
  after: Waiter[] | undefined;
}

export type KeyState<R> = Starting | Doomed | Ready<R> | Stopping;

/**
 * One key from its start to its end: what outlives a change of state. Leases point at it.
 * Its signal (the start's, then every lease's) is made only when first read.
 */
export interface Slot<R> {
  readonly key: string;
  state: KeyState<R>;
  /** Leases held, released or not yet collected, through 'ready' and 'stopping'. */
  leases: number;
  controller: AbortController | undefined;
  /** Set once the signal must be aborted, with the reason, whether or not it exists yet. */
  revoked: { readonly reason: unknown } | undefined;
  /** The cross-process lock, from the start until the resource has stopped. */
  unlock: Unlock | undefined;
  /** Made when somebody (evict, close) waits for the slot to go. */
  settled: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined;
}

// A ready key's first raw key before it has one. Not `undefined`: that is a raw key too (acquire(undefined)
// with normalizeKey: String), and a stop must then drop it from the hot map like any other.
const kNoAlias = Symbol('no alias');

/** A new key, starting for its first waiter. */
export function starting<R>(key: string, first: Waiter): Slot<R> {
  const slot: Slot<R> = {
    key,
    state: { state: 'starting', waiters: new Set<Waiter>().add(first) },
    leases: 0,
    controller: undefined,
    revoked: undefined,
    unlock: undefined,
    settled: undefined,
  };
  first.at = slot;
  return slot;
}

/** starting → doomed; a doomed start keeps its first reason. */
export function doom<R>(slot: Slot<R>, reason: StopReason, cause: unknown): Doomed {
  const current = slot.state as Starting | Doomed;
  if (current.state === 'doomed') return current;
  return (slot.state = { state: 'doomed', waiters: current.waiters, reason, cause, after: undefined });
}

/** starting → ready, with the resource its start returned. */
export function ready<R>(slot: Slot<R>, resource: R): Ready<R> {
  return (slot.state = { state: 'ready', resource, lastUsed: 0, idleTimer: undefined, alias: kNoAlias, aliases: undefined });
}

/** ready or doomed → stopping, keeping the acquires that wait for the key to go. */
export function stopping<R>(slot: Slot<R>, after: Waiter[] | undefined): Stopping {
  return (slot.state = { state: 'stopping', after });
}

/** A ready slot is reached on the hot path by `raw` too (the hot map is the pool's: raw key → ready slot). */
export function alias<R>(hot: Map<unknown, Slot<R>>, slot: Slot<R>, current: Ready<R>, raw: unknown): void {
  hot.set(raw, slot);
  if (current.alias === kNoAlias) current.alias = raw;
  else if (current.alias !== raw) (current.aliases ??= new Set()).add(raw);
}

/** Takes a slot that stops off the hot path: every raw key that still leads to it. */
export function unalias<R>(hot: Map<unknown, Slot<R>>, slot: Slot<R>, current: Ready<R>): void {
  if (hot.get(current.alias) === slot) hot.delete(current.alias);
  if (current.aliases !== undefined) for (const raw of current.aliases) if (hot.get(raw) === slot) hot.delete(raw);
}

/** The slot's signal, made on first read (aborted at once if the slot is revoked already). */
export function signalOf(slot: Slot<unknown>): AbortSignal {
  let controller = slot.controller;
  if (controller === undefined) {
    controller = slot.controller = new AbortController();
    if (slot.revoked !== undefined) controller.abort(slot.revoked.reason);
  }
  return controller.signal;
}

/** Aborts the slot's signal (now, or when it is first made); the first reason stays. */
export function revoke(slot: Slot<unknown>, reason: unknown): void {
  if (slot.revoked !== undefined) return;
  slot.revoked = { reason };
  slot.controller?.abort(reason);
}

/** Resolves once the slot has gone (stopped, or its start failed and let go of its lock). */
export function whenGone(slot: Slot<unknown>): Promise<void> {
  if (slot.settled === undefined) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    slot.settled = { promise, resolve };
  }
  return slot.settled.promise;
}

/** The error a doomed start's waiters get when its resource arrives anyway, or its start fails. */
export function doomError(key: string, doomed: Doomed): Error {
  if (doomed.reason === 'close') return new PoolClosedError();
  return new StartError(key, doomed.cause ?? new Error(`the start was ${doomed.reason === 'evict' ? 'evicted' : doomed.reason}`));
}

/** How many ready slots nobody leases: the idle ones that `maxIdle` caps. */
export function idleCount<R>(slots: Iterable<Slot<R>>): number {
  let idle = 0;
  for (const slot of slots) if (slot.state.state === 'ready' && slot.leases === 0) idle++;
  return idle;
}

/** The ready slot nobody leases that was leased longest ago: the one to stop for a slot at capacity. */
export function leastRecentlyUsedIdle<R>(slots: Iterable<Slot<R>>): Slot<R> | undefined {
  let victim: Slot<R> | undefined;
  let lastUsed = Infinity;
  for (const slot of slots) {
    const current = slot.state;
    if (current.state === 'ready' && slot.leases === 0 && current.lastUsed < lastUsed) {
      victim = slot;
      lastUsed = current.lastUsed;
    }
  }
  return victim;
}
