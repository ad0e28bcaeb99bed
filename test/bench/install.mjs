// The native engine's install from an empty cache, through a local PEP 503 index over 127.0.0.1
// serving the real milvus-lite 2.5.1 wheel (pip downloads it: see .ci/run, LEASEHOLD_TEST_WHEEL_DIR),
// beside its peer in the same run: `python3 -m venv` + `pip install --no-cache-dir` of the same
// wheel through the same index into a new venv (what leasehold did before: 12.1 s with the open).
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const kWheel = 'milvus_lite-2.5.1-py3-none-manylinux2014_x86_64.whl';
const cli = fileURLToPath(new URL('../../packages/milvus-lite/dist/cli.js', import.meta.url));

function serve(wheel) {
  const server = createServer((req, res) => {
    if (req.url === '/simple/milvus-lite/') res.writeHead(200, { 'content-type': 'text/html' }).end(`<a href="/files/${kWheel}">${kWheel}</a>`);
    else if (req.url === `/files/${kWheel}`) {
      res.writeHead(200, { 'content-length': statSync(wheel).size });
      createReadStream(wheel).pipe(res);
    } else res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function bench({ runs, log }) {
  const dir = process.env['LEASEHOLD_TEST_WHEEL_DIR'] || join(homedir(), '.cache', 'leasehold', 'test-wheels');
  const wheel = join(dir, kWheel);
  if (!existsSync(wheel)) throw new Error(`${wheel} is missing: pip download --no-deps --only-binary=:all: milvus-lite==2.5.1 -d ${dir}`);
  const server = await serve(wheel);
  const index = `http://127.0.0.1:${server.address().port}/simple`;
  const ours = [];
  const peer = [];
  const peerVenv = [];
  try {
    for (let run = 0; run < runs; run++) {
      const scratch = mkdtempSync(join(tmpdir(), 'lh-bench-install-'));
      try {
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, LEASEHOLD_CACHE_DIR: join(scratch, 'cache'), PIP_INDEX_URL: index };
        let t0 = performance.now();
        await execa(process.execPath, [cli, 'install'], { env, extendEnv: false });
        ours.push((performance.now() - t0) / 1000);

        const venv = join(scratch, 'venv');
        t0 = performance.now();
        await execa('python3', ['-m', 'venv', venv]);
        const venvDone = performance.now();
        // --no-deps: the local index serves milvus-lite only (its one dependency, tqdm, is not the install's cost).
        await execa(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', '--no-cache-dir', '--no-deps', '--index-url', index, 'milvus-lite==2.5.1']);
        peer.push((performance.now() - t0) / 1000);
        peerVenv.push((venvDone - t0) / 1000);
        log(`run ${run + 1}: leasehold-milvus install ${ours.at(-1).toFixed(2)} s; venv + pip install ${peer.at(-1).toFixed(2)} s (venv ${peerVenv.at(-1).toFixed(2)} s)`);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
  } finally {
    server.close();
  }
  return [
    {
      section: 'Install',
      metric: 'native engine from an empty cache through a local index (`leasehold-milvus install`: download, sha256, extract + RECORD check; a new process)',
      unit: 's',
      ours,
      peerName: '`python3 -m venv` + `pip install --no-cache-dir --no-deps` of the same wheel, same index',
      peer,
      note: `target ≤ 4 s (before: 12.1 s with the first open); the peer's venv alone: ${peerVenv.map((x) => x.toFixed(2)).join(', ')} s`,
    },
  ];
}
