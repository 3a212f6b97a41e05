import type { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { certificatesFromPem, signingIdentity } from './keys.js';

const cache = new WeakMap<object, Promise<X509Certificate[]>>();

/**
 * Trust anchors for verifying signatures: every PEM certificate of SIGNATURE_TRUST_DIR (.pem, .crt,
 * .cer), plus, when the gateway signs, the root of its own chain, so that its own signatures verify.
 * Read once per config object.
 */
export function trustAnchors(config: Config): Promise<X509Certificate[]> {
  let loading = cache.get(config);
  if (!loading) {
    loading = loadTrustAnchors(config);
    loading.catch(() => cache.delete(config));
    cache.set(config, loading);
  }
  return loading;
}

async function loadTrustAnchors(config: Config): Promise<X509Certificate[]> {
  const anchors: X509Certificate[] = [];
  if (config.signatureTrustDir) {
    const names = (await readdir(config.signatureTrustDir)).filter((n) => /\.(pem|crt|cer)$/i.test(n)).sort();
    for (const name of names) {
      const file = path.join(config.signatureTrustDir, name);
      anchors.push(...certificatesFromPem(await readFile(file, 'utf8'), file));
    }
  }
  if (config.signing) {
    const own = await signingIdentity(config);
    anchors.push([own.certificate, ...own.chain].at(-1)!);
  }
  return anchors;
}
