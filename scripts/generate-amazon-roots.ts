import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AMAZON_ROOTS_SOURCE } from '../lambdas/core/notifications/trust/amazon-roots';
import { renderAmazonRoots } from './amazon-roots';

const target = path.join(__dirname, '..', AMAZON_ROOTS_SOURCE);
writeFileSync(target, renderAmazonRoots());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
