import { Presets, SingleBar } from 'cli-progress';
import type { NativeInstallProgress } from './install-native.js';

/** What an install reports through: lines, byte progress, and a final stop. */
export interface InstallReporter {
  readonly log: (line: string) => void;
  readonly onProgress: (progress: NativeInstallProgress) => void;
  /** Ends the bar, if one is drawn. Idempotent. */
  readonly stop: () => void;
}

/**
 * On a TTY, a progress bar (cli-progress) for the download, then the extraction; lines above it.
 * Elsewhere (CI logs, pipes), only the lines: the first says what is installed, from where, to where.
 */
export function installReporter(stream: NodeJS.WriteStream = process.stderr, prefix = 'leasehold: '): InstallReporter {
  if (stream.isTTY !== true) return { log: (line) => void stream.write(`${prefix}${line}\n`), onProgress: () => {}, stop: () => {} };
  let bar: SingleBar | undefined;
  let phase: NativeInstallProgress['phase'] | undefined;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return {
    log: (line) => {
      if (bar) bar.stop();
      stream.write(`${prefix}${line}\n`);
      bar = undefined;
      phase = undefined;
    },
    onProgress: ({ phase: now, done, total }) => {
      if (now !== phase) {
        stop();
        phase = now;
        bar = new SingleBar({ format: `  ${now === 'download' ? 'download' : 'extract '} [{bar}] {percentage}% {value}/{total} MB`, hideCursor: true, stream, clearOnComplete: false }, Presets.shades_classic);
        bar.start(Math.max(1, Math.round((total ?? done) / 1e6)), 0);
      }
      bar?.update(Math.round(done / 1e6));
    },
    stop,
  };
}
