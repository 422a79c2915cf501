import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The PEM file beside this module, relative to the project root. */
export const AMAZON_ROOTS_SOURCE = 'lambdas/core/notifications/trust/amazon-roots.pem';

/**
 * Amazon Trust Services' root CAs (Amazon Root CA 1-4, Starfield Services Root CA G2), which
 * SNS signing certificates chain to. Read from the file beside this module; a Lambda bundle
 * carries it beside its `index.js` (lib/stateless/query-lifecycle.ts), which is where
 * `__dirname` points once bundled. Regenerate with `npm run trust:amazon-roots`.
 */
export function amazonRootsPem(): string {
  return readFileSync(path.join(__dirname, path.basename(AMAZON_ROOTS_SOURCE)), 'utf8');
}
