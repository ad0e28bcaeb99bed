import type { Outcome, OutcomeKind, Target } from './outcome.js';

/** One target's recorded run (what suite.ts writes to results/<target>.json). */
export interface RecordedResults {
  readonly target: Target;
  readonly version: string;
  readonly outcomes: Record<string, Outcome>;
}
export declare const kTargetOrder: readonly Target[];
export declare const kReadme: string;
export declare const kStart: string;
export declare const kEnd: string;
export declare function readResults(): RecordedResults[];
export declare function countKinds(results: readonly RecordedResults[]): Record<Target, Partial<Record<OutcomeKind, number>>>;
export declare function renderTable(results: readonly RecordedResults[]): string;
export declare function withTable(readme: string, table: string): string;
