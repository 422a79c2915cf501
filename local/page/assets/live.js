/* global document, fetch, setTimeout, Node */
/**
 * The live page's script (local/page/live-page.ts): polls /demo/state.json every second and
 * draws connections, imports and change events. Every piece of data goes in through
 * textContent or an attribute, never as HTML: customer ids, dataset names and reasons come from
 * data, and the CSP forbids inline script besides.
 */
'use strict';

const EVERY_MS = 1000;
const numbers = new Intl.NumberFormat('en-US');

/** Builds an element: `el('td', {class: 'num', 'data-field': 'rejected'}, '12')`. */
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  for (const child of children) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

const fmt = (value) => numbers.format(value || 0);
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString('en-GB') : '');

function badgeClass(status) {
  if (status === 'ACTIVE' || status === 'DONE') return 'badge ok';
  if (status === 'FAILED' || status === 'RELINK_REQUIRED' || status === 'REVOKED' || status === 'CANCELED') return 'badge bad';
  if (status === 'ON_HOLD') return 'badge warn';
  return 'badge busy';
}

function bar(label, kind, done, of) {
  const share = of > 0 ? Math.min(1, done / of) : 0;
  const fill = el('span');
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  return [
    el('span', {}, label),
    el('div', { class: `bar ${kind}`, role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': of, 'aria-valuenow': done }, fill),
    el('span', { class: 'num', 'data-field': kind === 'loaded' ? 'files-loaded-of' : 'files-fetched-of' }, `${fmt(done)} / ${fmt(of)}`),
  ];
}

const COLUMNS = [
  ['files', 'Files'],
  ['recordsNew', 'New'],
  ['recordsUnchanged', 'Unchanged'],
  ['rejected', 'Rejected'],
];

function countCells(row, total) {
  return COLUMNS.map(([key, label]) => {
    const text = key === 'files' ? `${fmt(row.filesLoaded)}/${fmt(row.files)}` : fmt(row[key]);
    return el('td', { 'data-label': label, 'data-field': total ? key : undefined }, text);
  });
}

function datasetTable(imp) {
  if (imp.datasets.length === 0) return el('p', { class: 'muted' }, imp.status === 'REQUESTED' || imp.status === 'COMPLETED' ? 'Waiting for Ring to list the files…' : 'No files.');
  const head = el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Dataset'), ...COLUMNS.map(([, label]) => el('th', { scope: 'col' }, label))));
  const body = el('tbody', {}, ...imp.datasets.map((row) => el('tr', { 'data-dataset': row.dataset }, el('td', {}, row.dataset), ...countCells(row, false))));
  const totals = { ...imp.totals, files: imp.filesListed };
  const foot = el('tfoot', {}, el('tr', { 'data-totals': '' }, el('td', {}, 'Total'), ...countCells(totals, true)));
  return el('table', {}, head, body, foot);
}

function importView(imp) {
  const ended = imp.doneAt || imp.failedAt;
  const head = el(
    'div',
    { class: 'import-head' },
    el('span', { class: badgeClass(imp.status), 'data-field': 'import-status' }, imp.status),
    el('span', { class: 'query-id' }, `query ${imp.queryId}`),
    el('span', { class: 'muted' }, ended ? `${time(imp.createdAt)} → ${time(ended)}` : `since ${time(imp.createdAt)}`),
  );
  const bars = el('div', { class: 'bars' }, ...bar('fetched', 'fetched', imp.totals.filesFetched, imp.filesListed), ...bar('loaded', 'loaded', imp.totals.filesLoaded, imp.filesListed));
  const reason = imp.statusReason ? el('p', { class: 'error' }, imp.statusReason) : undefined;
  const records = el('p', { class: 'muted' }, `${fmt(imp.totals.records)} records seen · ${fmt(imp.totals.duplicates)} repeats · ${(imp.totals.bytes / 1048576).toFixed(1)} MiB fetched · ${Math.round(imp.progress * 100)} % loaded`);
  return el('div', { class: 'import', 'data-query-id': imp.queryId, 'data-status': imp.status }, head, reason, bars, datasetTable(imp), records);
}

function connectionView(connection) {
  const head = el('div', { class: 'connection-head' }, el('h3', {}, connection.customerId), el('span', { class: badgeClass(connection.status), 'data-field': 'connection-status' }, connection.status));
  const meta = el(
    'div',
    { class: 'meta muted' },
    el('span', { 'data-field': 'brand' }, `brand ${connection.brand}`),
    el('span', { 'data-field': 'region' }, `region ${connection.region}`),
    el('span', {}, `connected ${time(connection.connectedAt)}`),
  );
  const reason = connection.statusReason ? el('p', { class: 'muted' }, connection.statusReason) : undefined;
  const imports = connection.imports.length > 0 ? connection.imports.map(importView) : [el('p', { class: 'muted' }, 'No import yet.')];
  return el('article', { class: 'card connection', 'data-customer-id': connection.customerId }, head, meta, reason, ...imports);
}

function eventView(event) {
  return el(
    'li',
    { 'data-event-id': event.id },
    el('time', { datetime: event.time }, time(event.time)),
    el('span', { class: 'what' }, `${event.type} · ${event.customerId}`),
    el('span', { class: 'detail' }, event.summary),
  );
}

function render(state) {
  const connections = document.getElementById('connections');
  const list = state.connections.map(connectionView);
  if (list.length === 0) list.push(el('p', { class: 'muted' }, 'No connection yet: connect a customer above.'));
  if (state.moreConnections) list.push(el('p', { class: 'muted' }, 'More connections exist than this page shows.'));
  connections.replaceChildren(...list);
  const events = document.getElementById('events');
  events.replaceChildren(...(state.events.length > 0 ? state.events.map(eventView) : [el('li', { class: 'muted' }, 'No change event yet.')]));
  document.getElementById('refreshed').textContent = `updated ${time(state.generatedAt)}`;
}

async function refresh() {
  const status = document.getElementById('refreshed');
  try {
    const response = await fetch('/demo/state.json', { cache: 'no-store' });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    render(body);
    status.classList.remove('error');
  } catch (error) {
    status.textContent = `could not refresh (${error.message}); trying again`;
    status.classList.add('error');
  } finally {
    setTimeout(refresh, EVERY_MS);
  }
}

refresh();
