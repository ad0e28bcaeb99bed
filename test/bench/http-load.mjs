// The HTTP load the openMilvus benchmarks share: a loopback server around a handler, and a bounded load generator.
import { createServer, Agent, request } from 'node:http';

/** A bounded loopback load generator: `connections` loops, each one request at a time, for `ms`. */
export async function load(port, connections, ms) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const deadline = performance.now() + ms;
  let done = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        await one();
        done++;
      }
    }),
  );
  const rps = done / ((performance.now() - t0) / 1000);
  agent.destroy();
  return rps;
}

export async function serve(handler) {
  const server = createServer((req, res) => {
    handler().then(
      () => res.end('ok'),
      (error) => {
        res.statusCode = 500;
        res.end(String(error));
      },
    );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
}
