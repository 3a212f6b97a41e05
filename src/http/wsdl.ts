import { readFileSync } from 'node:fs';
import type { Request, Response } from 'express';

const WSDL_DIR = new URL('../../schemas/wsdl/', import.meta.url);

/** Which WSDL describes which endpoint. */
const WSDL_FOR: Record<string, string> = {
  '/xds/iti41': 'DocumentRepository.wsdl',
  '/xds/iti43': 'DocumentRepository.wsdl',
  '/xds/iti42': 'DocumentRegistry.wsdl',
  '/xds/iti57': 'DocumentRegistryUpdate.wsdl',
  '/xds/iti62': 'DocumentRegistryUpdate.wsdl',
  '/xds/iti18': 'DocumentRegistry.wsdl',
  '/xds': 'DocumentRepository.wsdl',
};

const cache = new Map<string, string>();

/** `GET <endpoint>?wsdl`: the WSDL with the address of this gateway as the client reached it. */
export function wsdlHandler(path: string) {
  return (req: Request, res: Response): void => {
    if (!('wsdl' in req.query)) {
      res.status(405).set('Allow', 'POST').json({ error: 'method_not_allowed', message: `POST a SOAP 1.2 request to ${path}, or GET ${path}?wsdl` });
      return;
    }
    const file = WSDL_FOR[path]!;
    let text = cache.get(file);
    if (text === undefined) {
      text = readFileSync(new URL(file, WSDL_DIR), 'utf8');
      cache.set(file, text);
    }
    const host = req.get('host') ?? 'localhost';
    const base = `${req.protocol}://${/^[\w.:[\]-]+$/.test(host) ? host : 'localhost'}`;
    res.type('text/xml; charset=utf-8').send(text.replaceAll('{{BASE_URL}}', base));
  };
}
