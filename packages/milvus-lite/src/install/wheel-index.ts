import { MilvusLiteInstallError } from '../errors.js';
import { httpGet, type HttpOptions } from './http.js';
import { describePlatform, platformTagFits, type PlatformInfo } from './platform.js';
import { kDefaultIndexUrl, parseWheelName } from './wheel-name.js';

export { kDefaultIndexUrl, parseWheelName } from './wheel-name.js';

/** One wheel a simple index links to. */
export interface WheelLink {
  /** The file name, e.g. `milvus_lite-2.5.1-py3-none-manylinux2014_x86_64.whl`. */
  readonly filename: string;
  /** Absolute URL, without its `#sha256=` fragment. */
  readonly url: string;
  /** The index's sha256 (hex) from the link's `#sha256=` fragment, when it gives one (PEP 503 makes it optional). */
  readonly sha256?: string | undefined;
  readonly version: string;
  /** The platform tags of the file name (`manylinux2014_x86_64`, or several joined by dots). */
  readonly platformTags: readonly string[];
}

/**
 * Every milvus-lite wheel the PEP 503 simple index at `indexUrl` lists (`<index>/milvus-lite/`):
 * the anchors of its HTML page, relative links resolved against the page. Throws a
 * `MilvusLiteInstallError` when the page cannot be fetched (after retries) or lists no wheel.
 */
export async function listWheels(indexUrl: string, http: HttpOptions): Promise<WheelLink[]> {
  const page = `${indexUrl.replace(/\/+$/, '')}/milvus-lite/`;
  const response = await httpGet(page, http, 'text/html');
  const html = await response.body.text();
  const wheels: WheelLink[] = [];
  for (const match of html.matchAll(/<a\s[^>]*href\s*=\s*["']([^"']+)["']/gi)) {
    const href = decodeEntities(match[1]!);
    const absolute = new URL(href, page);
    const filename = decodeURIComponent(absolute.pathname.split('/').at(-1) ?? '');
    const parsed = parseWheelName(filename);
    if (parsed === undefined || parsed.name.toLowerCase().replace(/[-_.]+/g, '_') !== 'milvus_lite') continue;
    const sha256 = /(?:^|&)sha256=([0-9a-f]{64})/i.exec(absolute.hash.slice(1))?.[1]?.toLowerCase();
    absolute.hash = '';
    wheels.push({ filename, url: absolute.href, sha256, version: parsed.version, platformTags: parsed.platformTags });
  }
  if (wheels.length === 0) throw new MilvusLiteInstallError(`${page} lists no milvus-lite wheel; check PIP_INDEX_URL (a PEP 503 simple index such as ${kDefaultIndexUrl})`);
  return wheels;
}

/**
 * The wheel of `version` for `platform`, among `wheels`. Throws a `MilvusLiteInstallError` naming
 * the platforms that have one when this one does not, or the versions there are when the version is missing.
 */
export function pickWheel(wheels: readonly WheelLink[], version: string, platform: PlatformInfo, where: string): WheelLink {
  const ofVersion = wheels.filter((w) => w.version === version);
  if (ofVersion.length === 0) {
    const versions = [...new Set(wheels.map((w) => w.version))].filter((v) => /^2\.[45]\./.test(v));
    throw new MilvusLiteInstallError(`${where} has no milvus-lite ${version} wheel (native-engine versions there: ${versions.join(', ') || 'none'}); pass one of them as --version, or check the index`);
  }
  const fits = ofVersion.find((w) => w.platformTags.some((tag) => platformTagFits(tag, platform)));
  if (fits !== undefined) return fits;
  const tags = [...new Set(ofVersion.flatMap((w) => w.platformTags))].sort();
  throw new MilvusLiteInstallError(
    `milvus-lite ${version} has no wheel for ${describePlatform(platform)} in ${where}; it has wheels for ${tags.join(', ')}. ` +
      'Run on one of those platforms (a glibc Linux on x86_64/aarch64, or macOS), or connect to a Milvus server instead',
  );
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16))).replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)));
}
