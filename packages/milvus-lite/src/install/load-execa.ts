import type { execa } from 'execa';

let loading: Promise<typeof execa> | undefined;

/**
 * execa, imported on first need instead of with the package: its ~110 ms of module loading is paid
 * by a process that spawns something, and a local start begins it before its file-system steps, so
 * the two overlap. Every spawn site shares this one import.
 */
export function loadExeca(): Promise<typeof execa> {
  const loaded = (loading ??= import('execa').then((module) => module.execa));
  loaded.catch(() => {
    if (loading === loaded) loading = undefined;
  });
  return loaded;
}
