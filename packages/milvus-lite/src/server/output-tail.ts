import type { Readable } from 'node:stream';

/** Keeps the last `limit` bytes written to the given streams, for error messages. */
export class OutputTail {
  #chunks: string[] = [];
  #size = 0;
  readonly #limit: number;

  constructor(limit = 4096) {
    this.#limit = limit;
  }

  follow(stream: Readable | null | undefined): void {
    stream?.on('data', (chunk: Buffer | string) => this.push(String(chunk)));
  }

  push(text: string): void {
    this.#chunks.push(text);
    this.#size += text.length;
    while (this.#size > this.#limit && this.#chunks.length > 1) this.#size -= this.#chunks.shift()!.length;
  }

  toString(): string {
    const text = this.#chunks.join('');
    return text.length > this.#limit ? text.slice(-this.#limit) : text;
  }
}
