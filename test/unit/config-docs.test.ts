import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderConfigurationDocs } from '../../scripts/config-docs';

describe('docs/configuration.md', () => {
  it('matches the settings schema (run `npm run docs:config` after changing it)', () => {
    const committed = readFileSync(path.join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
    expect(committed).toBe(renderConfigurationDocs());
  });

  it('documents every setting with a meaning', () => {
    const rows = renderConfigurationDocs()
      .split('\n')
      .filter((line) => line.startsWith('| `'));
    expect(rows.length).toBeGreaterThan(25);
    for (const row of rows) expect(row).not.toMatch(/\| \|$/);
  });
});
