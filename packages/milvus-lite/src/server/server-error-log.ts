import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

// glog's line prefix: severity, date, time, thread, file:line; milvus-lite then tags [SERVER][<RPC>].
const kLine = /^[EF]\d{8} [\d:.]+\s+\d+ [^\]]*\] (.*)$/;
const kMaxRead = 64 * 1024;

/**
 * The native server's ERROR log, read where glog writes it (`milvus.ERROR` in the server's private
 * socket directory, its `TMPDIR`). Lines are flushed before the server answers the call they are
 * about, so reading them when the answer arrives is exact.
 */
export class ServerErrorLog {
  readonly #file: string;

  constructor(dir: string) {
    this.#file = join(dir, 'milvus.ERROR');
  }

  /** Where the log ends now (bytes); 0 while there is none. */
  mark(): number {
    try {
      return statSync(this.#file).size;
    } catch {
      return 0;
    }
  }

  /**
   * The ERROR lines written after `mark`, without glog's prefix; only those of the RPC `method`
   * when given (milvus-lite tags each line `[SERVER][Method]`). At most the first 64 KiB.
   */
  since(mark: number, method?: string): string[] {
    let fd: number;
    try {
      fd = openSync(this.#file, 'r');
    } catch {
      return [];
    }
    try {
      const buffer = Buffer.alloc(kMaxRead);
      const read = readSync(fd, buffer, 0, kMaxRead, mark);
      const tag = method === undefined ? undefined : `[SERVER][${method}]`;
      return buffer
        .toString('utf8', 0, read)
        .split('\n')
        .flatMap((line) => {
          const message = kLine.exec(line)?.[1];
          return message !== undefined && (tag === undefined || message.startsWith(tag)) ? [message] : [];
        });
    } finally {
      closeSync(fd);
    }
  }
}
