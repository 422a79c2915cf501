import { escapeHtml } from './http';
import type { Brand } from './state';

const BRAND_NAMES: Record<Brand, string> = { ring: 'Ring', blink: 'Blink' };

function layout(brand: Brand, title: string, body: string): string {
  const name = BRAND_NAMES[brand];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – ${name} (sandbox)</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f4f6f8; margin: 0; }
  main { max-width: 420px; margin: 48px auto; background: #fff; padding: 32px; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.1); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  .brand { color: #1998d5; font-weight: 700; letter-spacing: .02em; }
  label { display: block; margin: 16px 0 6px; font-weight: 600; }
  input[type=email], input[type=password], input[type=date], select { width: 100%; padding: 8px; box-sizing: border-box; }
  .check { display: flex; gap: 8px; align-items: flex-start; margin: 20px 0; font-weight: 400; }
  .buttons { display: flex; gap: 12px; margin-top: 24px; }
  button { flex: 1; padding: 10px; font-size: 1rem; border-radius: 4px; border: 1px solid #1998d5; cursor: pointer; }
  button.primary { background: #1998d5; color: #fff; }
  button.secondary { background: #fff; color: #1998d5; }
  .error { color: #b00020; }
  .sandbox { color: #888; font-size: .8rem; margin-top: 24px; }
</style>
</head>
<body>
<main>
<div class="brand">${name}</div>
${body}
<p class="sandbox">Sandbox: not the real ${name} service.</p>
</main>
</body>
</html>`;
}

const hidden = (txn: string): string => `<input type="hidden" name="txn" value="${escapeHtml(txn)}">`;
const problem = (message?: string): string => (message ? `<p class="error" id="error" role="alert">${escapeHtml(message)}</p>` : '');

export function signInPage(brand: Brand, txn: string, action: string, error?: string): string {
  return layout(
    brand,
    'Sign in',
    `<h1>Sign in</h1>
${problem(error)}
<form method="post" action="${escapeHtml(action)}">
${hidden(txn)}
<label for="email">Email</label>
<input type="email" id="email" name="email" autocomplete="username" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="buttons">
<button type="submit" class="primary" id="sign-in" name="action" value="sign-in">Sign in</button>
<button type="submit" class="secondary" id="cancel" name="action" value="cancel" formnovalidate>Cancel</button>
</div>
</form>`,
  );
}

export function authorizationPage(brand: Brand, txn: string, action: string, appName: string, scope: string): string {
  return layout(
    brand,
    'Authorization',
    `<h1>Authorization</h1>
<p><strong>${escapeHtml(appName)}</strong> asks to import your ${BRAND_NAMES[brand]} data.</p>
<p>Data Portability scope: <code id="scope">${escapeHtml(scope)}</code></p>
<form method="post" action="${escapeHtml(action)}">
${hidden(txn)}
<div class="buttons">
<button type="submit" class="primary" id="confirm" name="action" value="confirm">Confirm</button>
<button type="submit" class="secondary" id="cancel" name="action" value="cancel">Cancel</button>
</div>
</form>`,
  );
}

export function preferencesPage(brand: Brand, txn: string, action: string, appName: string, error?: string): string {
  return layout(
    brand,
    'User Transfer Preferences',
    `<h1>User Transfer Preferences</h1>
${problem(error)}
<form method="post" action="${escapeHtml(action)}">
${hidden(txn)}
<label for="history">How much data to transfer?</label>
<select id="history" name="history">
<option value="5d">5 days ago</option>
<option value="30d" selected>30 days ago</option>
<option value="60d">60 days ago</option>
<option value="1y">1 year ago</option>
<option value="since">Since date</option>
</select>
<label for="since">Since date (when "Since date" is chosen)</label>
<input type="date" id="since" name="since">
<label for="duration">For how long do you authorize the transfer?</label>
<select id="duration" name="duration">
<option value="once">One time transfer</option>
<option value="30d">For the next 30 days</option>
<option value="90d" selected>For the next 90 days</option>
<option value="180d">For the next 180 days</option>
<option value="1y">For the next 1 year</option>
</select>
<p>Your data will be handled subject to the privacy practices and policies of <strong>${escapeHtml(appName)}</strong>.</p>
<label class="check" for="authorize-eu-data"><input type="checkbox" id="authorize-eu-data" name="authorizeEuData" value="yes"> I authorize the third party to receive my EU data</label>
<div class="buttons">
<button type="submit" class="primary" id="authorize" name="action" value="authorize">Authorize</button>
<button type="submit" class="secondary" id="cancel" name="action" value="cancel">Cancel</button>
</div>
</form>`,
  );
}

export function errorPage(brand: Brand, title: string, message: string): string {
  return layout(brand, title, `<h1>${escapeHtml(title)}</h1><p class="error" id="error">${escapeHtml(message)}</p>`);
}
