import sparticuzChromium from '@sparticuz/chromium';
import { chromium, type Browser } from 'playwright-core';

// The package's flags are for Lambda. These would weaken the pages' same-origin rules under test;
// `--single-process` hangs Chromium on a busy machine (a screenshot or a new page never returns),
// which Lambda needs and a test machine does not.
const NOT_HERE = new Set(['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials', '--single-process']);
// This machine's network is closed: keep Chromium from calling home at start.
const QUIET = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * The Chromium that ships inside the `@sparticuz/chromium` npm package (nothing from apt, no
 * browser download; `CHROMIUM_PATH` overrides it), headless, driven by playwright-core.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? (await sparticuzChromium.executablePath());
  const args = [...sparticuzChromium.args.filter((arg) => !NOT_HERE.has(arg)), ...QUIET];
  return chromium.launch({ executablePath, args, headless: true });
}
