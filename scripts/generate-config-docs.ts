import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderConfigurationDocs } from './config-docs';

const target = path.join(__dirname, '..', 'docs', 'configuration.md');
writeFileSync(target, renderConfigurationDocs());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
