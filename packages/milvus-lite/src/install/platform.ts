/**
 * Which milvus-lite wheel fits this machine, and whether its C library can run it. Pure functions
 * of a `PlatformInfo`, so tests inject another platform or libc.
 */

/** What the wheel choice depends on. `libc` comes from `process.report` (Linux only). */
export interface PlatformInfo {
  /** `process.platform`: `'linux'`, `'darwin'`, … */
  readonly os: string;
  /** `process.arch`: `'x64'`, `'arm64'`, … */
  readonly arch: string;
  /** Linux: `{ family: 'glibc', version: '2.36' }` or `{ family: 'musl' }`; elsewhere `undefined`. */
  readonly libc?: { readonly family: 'glibc' | 'musl'; readonly version?: string } | undefined;
}

/** The oldest glibc the 2.4/2.5 binary runs on: it calls `statx` and `fcntl64` (verified on 2.5.1), although the wheel is tagged manylinux2014 (glibc 2.17). */
export const kMinGlibc = '2.28';

/** This process's platform; the C library from `process.report` (its `header.glibcVersionRuntime`, absent on musl). */
export function currentPlatform(): PlatformInfo {
  if (process.platform !== 'linux') return { os: process.platform, arch: process.arch };
  const report = process.report.getReport() as unknown as { header?: { glibcVersionRuntime?: string }; sharedObjects?: string[] };
  const glibc = report.header?.glibcVersionRuntime;
  if (glibc !== undefined) return { os: 'linux', arch: process.arch, libc: { family: 'glibc', version: glibc } };
  const musl = (report.sharedObjects ?? []).some((path) => /ld-musl|libc\.musl/.test(path));
  return { os: 'linux', arch: process.arch, libc: musl ? { family: 'musl' } : undefined };
}

/** `linux-x64 (glibc 2.36)`, for messages and `doctor`. */
export function describePlatform(platform: PlatformInfo): string {
  const libc = platform.libc === undefined ? '' : ` (${platform.libc.family}${platform.libc.version === undefined ? '' : ` ${platform.libc.version}`})`;
  return `${platform.os}-${platform.arch}${libc}`;
}

/**
 * Whether a wheel's platform tag (`manylinux2014_x86_64`, `macosx_11_0_arm64`, …) runs here.
 * milvus-lite ships manylinux2014 x86_64/aarch64 and macOS x86_64/arm64 wheels; no musllinux, no Windows.
 */
export function platformTagFits(tag: string, platform: PlatformInfo): boolean {
  const machine = { x64: 'x86_64', arm64: platform.os === 'darwin' ? 'arm64' : 'aarch64' }[platform.arch];
  if (machine === undefined) return false;
  if (platform.os === 'linux') {
    if (platform.libc?.family === 'musl') return tag.startsWith('musllinux_') && tag.endsWith(`_${machine}`);
    return /^(manylinux1|manylinux2010|manylinux2014|manylinux_\d+_\d+|linux)_/.test(tag) && tag.endsWith(`_${machine}`);
  }
  if (platform.os === 'darwin') return tag.startsWith('macosx_') && (tag.endsWith(`_${machine}`) || tag.endsWith('_universal2'));
  return false;
}

/**
 * Why this platform cannot run the native binary, or `undefined` when it can (as far as we can
 * tell before running it): musl has no wheel; a glibc older than 2.28 lacks symbols the binary needs.
 */
export function libcProblem(platform: PlatformInfo): string | undefined {
  if (platform.os !== 'linux' || platform.libc === undefined) return undefined;
  if (platform.libc.family === 'musl') {
    return 'this Linux uses musl (Alpine?): milvus-lite publishes no musl wheel, and its glibc binary does not run here; use a glibc-based image (e.g. node:20-slim, Debian/Ubuntu), or connect to a Milvus server instead';
  }
  const version = platform.libc.version;
  if (version !== undefined && compareVersions(version, kMinGlibc) < 0) {
    return `glibc ${version} is older than ${kMinGlibc}, which the milvus-lite binary needs (it calls statx and fcntl64); use a newer distribution (Debian 10+, Ubuntu 18.10+, RHEL 8+), or connect to a Milvus server instead`;
  }
  return undefined;
}

/** Numeric dotted comparison: `compareVersions('2.17', '2.28') < 0`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
