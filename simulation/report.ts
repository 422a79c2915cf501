import type { Results } from './results';

/** One series of a chart: its name (legend), colour and values. */
interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
}

/** A horizontal (or, for `vertical`, upright) reference line: a capacity, an ideal. */
interface Marker {
  readonly label: string;
  readonly color: string;
  readonly value: number;
}

const WIDTH = 960;
const HEIGHT = 280;
const PAD = { left: 56, right: 16, top: 28, bottom: 36 };
const COLORS = { created: '#2f6fb0', fault: '#e0a030', limited: '#c62828', refused: '#8e8e8e', completed: '#3a9a5b', line: '#222', ideal: '#3a9a5b', bound: '#c62828' };

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (value: number, digits = 2) => (Number.isInteger(value) ? String(value) : value.toFixed(digits));

/** A "nice" upper bound for an axis and its tick step. */
function axis(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

function frame(title: string, body: string, legend: { name: string; color: string }[], yLabel: string, xLabel: string): string {
  let x = PAD.left;
  const items = legend
    .map((item) => {
      const entry = `<g transform="translate(${x},${HEIGHT - 6})"><rect width="10" height="10" y="-9" fill="${item.color}"/><text x="14" font-size="11">${escape(item.name)}</text></g>`;
      x += 34 + item.name.length * 6.2;
      return entry;
    })
    .join('');
  return `<figure><figcaption>${escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT + 18}" width="100%" role="img" aria-label="${escape(title)}" font-family="system-ui, sans-serif">
<text x="12" y="${PAD.top - 10}" font-size="11" fill="#555">${escape(yLabel)}</text><text x="${WIDTH - PAD.right}" y="${HEIGHT - PAD.bottom + 30}" font-size="11" fill="#555" text-anchor="end">${escape(xLabel)}</text>
${body}${items}</svg></figure>`;
}

function legendOf(options: { series: Series[]; markers?: Marker[] }): { name: string; color: string }[] {
  return [...options.series, ...(options.markers ?? []).map((marker) => ({ name: marker.label, color: marker.color }))];
}

function yGrid(top: number, step: number, plotHeight: number): string {
  const lines: string[] = [];
  for (let value = 0; value <= top + step / 2; value += step) {
    const y = PAD.top + plotHeight - (value / top) * plotHeight;
    lines.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}" stroke="#e4e4e4"/><text x="${PAD.left - 6}" y="${y + 4}" font-size="10" text-anchor="end" fill="#555">${fmt(value)}</text>`);
  }
  return lines.join('');
}

/** Stacked bars, one per x, with horizontal markers. */
function barChart(options: { title: string; series: Series[]; markers?: Marker[]; xLabels: (i: number) => string | undefined; yLabel: string; xLabel: string }): string {
  const count = Math.max(...options.series.map((series) => series.values.length), 1);
  const totals = Array.from({ length: count }, (_, i) => options.series.reduce((sum, series) => sum + (series.values[i] ?? 0), 0));
  const { top, step } = axis(Math.max(...totals, ...(options.markers ?? []).map((marker) => marker.value)) * 1.05);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const barWidth = plotWidth / count;
  const scale = (value: number) => (value / top) * plotHeight;
  const bars: string[] = [];
  for (let i = 0; i < count; i++) {
    let y = PAD.top + plotHeight;
    for (const series of options.series) {
      const value = series.values[i] ?? 0;
      if (value <= 0) continue;
      const h = scale(value);
      y -= h;
      bars.push(`<rect x="${(PAD.left + i * barWidth).toFixed(2)}" y="${y.toFixed(2)}" width="${Math.max(0.6, barWidth - (barWidth > 4 ? 1 : 0)).toFixed(2)}" height="${h.toFixed(2)}" fill="${series.color}"><title>${escape(`${series.name}: ${fmt(value)} (${options.xLabels(i) ?? i})`)}</title></rect>`);
    }
    const label = options.xLabels(i);
    if (label !== undefined) bars.push(`<text x="${(PAD.left + (i + 0.5) * barWidth).toFixed(2)}" y="${PAD.top + plotHeight + 14}" font-size="10" text-anchor="middle" fill="#555">${escape(label)}</text>`);
  }
  const markers = (options.markers ?? []).map((marker) => {
    const y = PAD.top + plotHeight - scale(marker.value);
    return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}" stroke="${marker.color}" stroke-width="1.5" stroke-dasharray="6 3"/><text x="${WIDTH - PAD.right - 4}" y="${y - 4}" font-size="11" text-anchor="end" fill="${marker.color}">${escape(`${marker.label} ${fmt(marker.value)}`)}</text>`;
  });
  return frame(options.title, yGrid(top, step, plotHeight) + bars.join('') + markers.join(''), legendOf(options), options.yLabel, options.xLabel);
}

/** Lines over x = 0…n-1, with horizontal markers. */
function lineChart(options: { title: string; series: Series[]; markers?: Marker[]; xLabels: (i: number) => string | undefined; yLabel: string; xLabel: string }): string {
  const count = Math.max(...options.series.map((series) => series.values.length), 2);
  const { top, step } = axis(Math.max(...options.series.flatMap((series) => series.values), ...(options.markers ?? []).map((marker) => marker.value)) * 1.05);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (i / (count - 1)) * plotWidth;
  const y = (value: number) => PAD.top + plotHeight - (value / top) * plotHeight;
  const lines = options.series.map(
    (series) =>
      `<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${series.values.map((value, i) => `${x(i).toFixed(1)},${y(value).toFixed(1)}`).join(' ')}"/>` +
      series.values.map((value, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(value).toFixed(1)}" r="2.5" fill="${series.color}"><title>${escape(`${series.name}: ${fmt(value)} (${options.xLabels(i) ?? i})`)}</title></circle>`).join(''),
  );
  const labels = Array.from({ length: count }, (_, i) => options.xLabels(i)).map((label, i) => (label === undefined ? '' : `<text x="${x(i).toFixed(1)}" y="${PAD.top + plotHeight + 14}" font-size="10" text-anchor="middle" fill="#555">${escape(label)}</text>`));
  const markers = (options.markers ?? []).map(
    // Labelled at the left, where the series (ages that grow from 0) are still below them.
    (marker) => `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(marker.value)}" y2="${y(marker.value)}" stroke="${marker.color}" stroke-width="1.5" stroke-dasharray="6 3"/><text x="${PAD.left + 4}" y="${y(marker.value) - 4}" font-size="11" fill="${marker.color}">${escape(`${marker.label} ${fmt(marker.value)}`)}</text>`,
  );
  return frame(options.title, yGrid(top, step, plotHeight) + lines.join('') + labels.join('') + markers.join(''), legendOf(options), options.yLabel, options.xLabel);
}

/** A self-contained HTML report: the checks, the numbers, and the charts as inline SVG. */
export function renderReport(results: Results): string {
  const { config, capacity, hourly, freshness, importsPerDay } = results;
  const hours = Math.max(hourly.created.length, hourly.fault.length, hourly.rateLimited.length, hourly.refused.length);
  const pad = (values: readonly number[]) => Array.from({ length: hours }, (_, i) => values[i] ?? 0);
  const everyHours = Math.max(24, Math.ceil(hours / 30 / 24) * 24);
  const perHour = barChart({
    title: 'createDataQuery calls per hour, against the capacity the limits allow',
    series: [
      { name: 'created (201)', color: COLORS.created, values: pad(hourly.created) },
      { name: 'injected 500/429', color: COLORS.fault, values: pad(hourly.fault) },
      { name: 'refused: rate limit', color: COLORS.limited, values: pad(hourly.rateLimited) },
      { name: 'refused: other', color: COLORS.refused, values: pad(hourly.refused) },
    ],
    markers: [{ label: 'capacity per hour', color: COLORS.line, value: capacity.perHour }],
    xLabels: (i) => (i % everyHours === 0 ? `d${i / 24}` : undefined),
    yLabel: 'calls / hour',
    xLabel: 'simulated day',
  });
  const bins = freshness.histogram.counts;
  const binDays = freshness.histogram.binDays;
  const labelEvery = Math.max(1, Math.ceil(bins.length / 24));
  const histogram = barChart({
    title: `Time since each connection's last successful import, at the end (${freshness.atEnd.connections} connections with a valid consent)`,
    series: [{ name: 'connections', color: COLORS.created, values: bins }],
    xLabels: (i) => (i % labelEvery === 0 ? fmt(i * binDays) : undefined),
    yLabel: 'connections',
    xLabel: `age in days (bins of ${binDays} d; ideal round robin ${fmt(freshness.idealDays)} d, bound 1.2 × = ${fmt(1.2 * freshness.idealDays)} d)`,
  });
  const samples = freshness.samples;
  const ages = lineChart({
    title: 'Age of the oldest successful import, day by day',
    series: [
      { name: 'oldest', color: COLORS.limited, values: samples.map((sample) => sample.oldestAgeDays) },
      { name: 'p95', color: COLORS.fault, values: samples.map((sample) => sample.p95AgeDays) },
      { name: 'median', color: COLORS.created, values: samples.map((sample) => sample.medianAgeDays) },
    ],
    markers: [
      { label: 'ideal', color: COLORS.ideal, value: freshness.idealDays },
      { label: '1.2 × ideal', color: COLORS.bound, value: 1.2 * freshness.idealDays },
    ],
    xLabels: (i) => `d${i + 1}`,
    yLabel: 'days',
    xLabel: 'end of simulated day',
  });
  const perDay = barChart({
    title: 'Imports per day: createDataQuery calls and queries Ring completed, against the daily capacity',
    series: [
      { name: 'completed (successful imports)', color: COLORS.completed, values: importsPerDay.days.map((day) => day.completed) },
      { name: 'other calls (faults, refusals)', color: COLORS.fault, values: importsPerDay.days.map((day) => Math.max(0, day.createCalls - day.completed)) },
    ],
    markers: [{ label: 'capacity per day', color: COLORS.line, value: capacity.perDay }],
    xLabels: (i) => `d${i}`,
    yLabel: 'per day',
    xLabel: 'simulated day (★ = backlog all day)',
  });
  const checks = results.checks.map((check) => `<tr class="${check.pass ? 'pass' : 'fail'}"><td>${check.pass ? 'PASS' : 'FAIL'}</td><td>${escape(check.name)}</td><td>${escape(check.value)}</td><td>${escape(check.expected)}</td></tr>`).join('');
  const work = Object.entries(results.work)
    .map(([name, stats]) => `<tr><td>${escape(name)}</td><td>${stats.runs}</td><td>${stats.maxOperations}</td><td>${stats.maxRingCalls}</td><td>${fmt(stats.maxVirtualSeconds)}</td><td>${escape(Object.entries(stats.maxReported).map(([key, value]) => `${key} ${fmt(value)}`).join(', '))}</td></tr>`)
    .join('');
  const days = importsPerDay.days
    .map((day) => `<tr><td>${day.day}${day.backlogAllDay ? ' ★' : ''}</td><td>${day.date}</td><td>${day.createCalls}</td><td>${day.created}</td><td>${day.injected}</td><td>${day.completed}</td><td>${day.minBacklog ?? ''}</td><td>${(day.deviation * 100).toFixed(2)} %</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ring-portability simulation: ${escape(`${String(config.connections)} connections, ${String(config.days)} days, ${String(config.limits)}`)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:14px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#f4f4f4}
tr.pass td:first-child{color:#2e7d32;font-weight:600}tr.fail td:first-child{color:#c62828;font-weight:600}
figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.3rem}code{background:#f4f4f4;padding:0 3px}
</style></head><body>
<h1>Simulation: ${escape(String(config.connections))} connections × ${escape(String(config.days))} days</h1>
<p>Limits <code>${escape(String(config.limits))}</code>, seed ${escape(String(config.seed))}, import interval ${escape(String(config.importIntervalMinutes))} min, from ${escape(String(config.start))} to ${escape(String(config.end))} (virtual time).
Capacity: ${capacity.perDay} createDataQuery a day, one every ${capacity.intervalMs} ms; ideal round robin ${fmt(capacity.idealRoundRobinDays)} days for ${capacity.connectionsWithConsent} connections with a valid consent.
Ran in ${fmt(results.process.wallSeconds, 1)} s wall (${fmt(results.process.setupSeconds, 1)} s connecting), peak RSS ${results.process.peakRssMiB} MiB.</p>
<h2>Done means</h2>
<table><tr><th></th><th>check</th><th>measured</th><th>expected</th></tr>${checks}</table>
${perHour}
${histogram}
${ages}
${perDay}
<h2>Work per invocation</h2>
<table><tr><th>handler / task</th><th>runs</th><th>max store operations</th><th>max Ring calls</th><th>max virtual seconds</th><th>max reported</th></tr>${work}</table>
<h2>Days</h2>
<table><tr><th>day</th><th>date</th><th>createDataQuery calls</th><th>created</th><th>injected faults</th><th>completed</th><th>min backlog</th><th>calls vs capacity</th></tr>${days}</table>
<h2>Everything else</h2>
<pre>${escape(JSON.stringify({ createDataQuery: results.createDataQuery, listDataQueryRecords: results.listDataQueryRecords, tokens: results.tokens, revocations: { ...results.revocations, connections: undefined }, queues: results.queues, notifications: results.notifications, sandboxQueries: results.sandboxQueries, ringCalls: results.ringCalls, productMetrics: results.productMetrics, logLines: results.logLines, failures: results.failures }, null, 2))}</pre>
</body></html>
`;
}

/** The printed summary: the checks, then the numbers behind them. */
export function summary(results: Results): string {
  const { capacity, freshness, revocations, createDataQuery, tokens, process: run } = results;
  const work = Object.entries(results.work)
    .filter(([name]) => ['dispatch-imports', 'token-keeper', 'poll-overdue', 'imports', 'notifications', 'collect'].includes(name))
    .map(([name, stats]) => `  ${name.padEnd(17)} ${String(stats.runs).padStart(7)} runs, max ${stats.maxOperations} store ops, ${stats.maxRingCalls} Ring calls${Object.keys(stats.maxReported).length ? `; max ${Object.entries(stats.maxReported).map(([key, value]) => `${key} ${Math.round(value * 100) / 100}`).join(', ')}` : ''}`);
  return [
    '',
    ...results.checks.map((check) => `${check.pass ? 'PASS' : 'FAIL'}  ${check.name}: ${check.value} (expected ${check.expected})`),
    '',
    `capacity           ${capacity.perDay} createDataQuery a day (one every ${capacity.intervalMs} ms); ideal round robin ${capacity.idealRoundRobinDays.toFixed(2)} d for ${capacity.connectionsWithConsent} connections`,
    `createDataQuery    ${createDataQuery.calls} calls, ${createDataQuery.created} created; own-pacing refusals ${createDataQuery.ownPacingRefusals}; injected faults ${createDataQuery.injected.total} (${createDataQuery.injected.retried} retried)`,
    `imports per day    on ${results.importsPerDay.backlogDays} backlog day(s): calls within ${(results.importsPerDay.maxDeviationOnBacklogDays * 100).toFixed(2)} % of capacity, completed ${(results.importsPerDay.completedShareOfCapacityOnBacklogDays * 100).toFixed(1)} % of it`,
    `freshness at end   oldest ${freshness.atEnd.oldestDays.toFixed(2)} d (${freshness.oldestToIdeal.toFixed(3)} × ideal), p95 ${freshness.atEnd.p95Days.toFixed(2)} d, median ${freshness.atEnd.medianDays.toFixed(2)} d; never imported ${freshness.neverImported}; longest gap ${freshness.maxGapDays.toFixed(2)} d`,
    `tokens             ${tokens.refreshes} refreshes; lapsed while consent valid ${tokens.lapsedWhileConsentValid}`,
    `revocations        ${revocations.revoked} revoked, ${revocations.relinked} RELINK_REQUIRED, ${revocations.notAttemptedYet} not attempted yet; ≤ ${revocations.maxCreateDataQueryCallsBeforeRelink} createDataQuery before, ${revocations.ringCallsAfterRelink} Ring calls after`,
    'work per invocation:',
    ...work,
    `process            ${run.wallSeconds.toFixed(1)} s wall (${run.setupSeconds.toFixed(1)} s connecting), peak RSS ${run.peakRssMiB} MiB`,
  ].join('\n');
}

