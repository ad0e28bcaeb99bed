import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';

/** A port of 127.0.0.1 that was free a moment ago (bound, then closed): for a server to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The lowest port the kernel hands out for `listen(0)` and outgoing connections (Linux's ip_local_port_range; 32768 elsewhere). */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * A port of 127.0.0.1 that refuses connections and stays refused: below the ephemeral range, so no
 * `listen(0)` of another test (or of this one) can be given it, and checked with a connect now. A port
 * from {@link freePort} is the wrong choice for "nothing listens there": the kernel may hand it to the
 * next `listen(0)` (CI once gave it to this file's own TLS stand-in).
 */
export async function refusedPort(): Promise<number> {
  const high = Math.min(ephemeralLow(), 32768) - 1;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * (high - 20_000));
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('no refused port of 127.0.0.1 found in 100 tries');
}
