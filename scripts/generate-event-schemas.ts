import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderEventSchemas } from './event-schemas';

for (const [file, text] of Object.entries(renderEventSchemas())) {
  const target = path.join(__dirname, '..', 'docs', 'events', file);
  writeFileSync(target, text);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}
