import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderOpenApi } from './openapi';

const target = path.join(__dirname, '..', 'docs', 'openapi.json');
writeFileSync(target, renderOpenApi());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
