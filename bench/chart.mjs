// Hand-written SVG bar chart of bench/results.json (no dependencies).
//   node bench/chart.mjs [results.json] [out.svg]     (run.mjs calls renderChart itself)
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const escapeXml = (text) =>
  String(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

function niceStep(max, ticks) {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10;
  return unit * power;
}

/** Bars: rps per scenario, labelled with rps and ratio to baseline; dashed lines: the budgets. */
export function renderChart(results) {
  const scenarios = results.scenarios.filter((s) => Number.isFinite(s.rps));
  const baseline = scenarios.find((s) => s.name === "baseline");
  const width = 960;
  const height = 520;
  const margin = { top: 70, right: 30, bottom: 120, left: 80 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const maxRps = Math.max(...scenarios.map((s) => s.rps), baseline?.rps ?? 0) * 1.12 || 1;
  const step = niceStep(maxRps, 6);
  const top = Math.ceil(maxRps / step) * step;
  const y = (rps) => margin.top + plotH - (rps / top) * plotH;
  const slot = plotW / scenarios.length;
  const barW = Math.min(64, slot * 0.6);
  const meta = results.meta ?? {};
  const parts = [];

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">${escapeXml(
      `edge-posts-api requests per second by scenario: ${scenarios.map((s) => `${s.name} ${Math.round(s.rps)}`).join(", ")}`,
    )}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="17" font-weight="600">${escapeXml("edge-posts-api: requests per second by scenario")}</text>`,
    `<text x="${width / 2}" y="46" text-anchor="middle" fill="#555">${escapeXml(
      `${meta.connections ?? "?"} connections, ${meta.duration_s ?? "?"} s per scenario after ${meta.warmup_s ?? "?"} s warm-up, ${meta.harness_short ?? "workerd"}, ${String(meta.date ?? "").slice(0, 10)}`,
    )}</text>`,
  );

  // Grid and y axis.
  for (let value = 0; value <= top + 1e-9; value += step) {
    const yy = y(value).toFixed(1);
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 8}" y="${Number(yy) + 4}" text-anchor="end" fill="#555">${Math.round(value).toLocaleString("en-US")}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(22 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">requests / s</text>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#999"/>`,
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#999"/>`,
  );

  // Baseline reference across the plot.
  if (baseline) {
    const yy = y(baseline.rps).toFixed(1);
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" stroke="#6b7280" stroke-width="1" stroke-dasharray="2 3"/>`,
      `<text x="${width - margin.right}" y="${Number(yy) - 4}" text-anchor="end" fill="#6b7280" font-size="11">baseline ${Math.round(baseline.rps).toLocaleString("en-US")} rps = 1.00×</text>`,
    );
  }

  scenarios.forEach((s, i) => {
    const cx = margin.left + slot * i + slot / 2;
    const x = cx - barW / 2;
    const yy = y(s.rps);
    const color = s.budget == null ? "#94a3b8" : s.budget_met ? "#16a34a" : "#dc2626";
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${barW.toFixed(1)}" height="${(margin.top + plotH - yy).toFixed(1)}" fill="${color}" rx="2"><title>${escapeXml(
        `${s.name}: ${Math.round(s.rps)} rps, p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms, errors ${s.errors}`,
      )}</title></rect>`,
      `<text x="${cx}" y="${(yy - 20).toFixed(1)}" text-anchor="middle" font-weight="600">${Math.round(s.rps).toLocaleString("en-US")}</text>`,
      `<text x="${cx}" y="${(yy - 6).toFixed(1)}" text-anchor="middle" fill="#333">${s.ratio_vs_baseline == null ? "" : `${s.ratio_vs_baseline.toFixed(2)}×`}</text>`,
      `<text transform="translate(${cx} ${margin.top + plotH + 14}) rotate(-30)" text-anchor="end" fill="#111">${escapeXml(s.name)}</text>`,
    );
    if (s.budget != null && baseline) {
      const by = y(s.budget * baseline.rps).toFixed(1);
      parts.push(
        `<line x1="${(cx - slot * 0.45).toFixed(1)}" x2="${(cx + slot * 0.45).toFixed(1)}" y1="${by}" y2="${by}" stroke="#111" stroke-width="1.5" stroke-dasharray="5 3"/>`,
        `<text x="${(cx + slot * 0.45).toFixed(1)}" y="${Number(by) + 12}" text-anchor="end" fill="#111" font-size="10">≥${s.budget}</text>`,
      );
    }
  });

  // Legend.
  const lx = 20;
  const ly = height - 22;
  parts.push(
    `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="#16a34a"/><text x="${lx + 18}" y="${ly}">budget met</text>`,
    `<rect x="${lx + 100}" y="${ly - 10}" width="12" height="12" fill="#dc2626"/><text x="${lx + 118}" y="${ly}">budget missed</text>`,
    `<rect x="${lx + 218}" y="${ly - 10}" width="12" height="12" fill="#94a3b8"/><text x="${lx + 236}" y="${ly}">no budget</text>`,
    `<line x1="${lx + 312}" x2="${lx + 342}" y1="${ly - 4}" y2="${ly - 4}" stroke="#111" stroke-width="1.5" stroke-dasharray="5 3"/><text x="${lx + 348}" y="${ly}">budget: minimum rps as a share of baseline; bar labels: rps, ratio to baseline</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const here = dirname(fileURLToPath(import.meta.url));
  const input = process.argv[2] ?? join(here, "results.json");
  const output = process.argv[3] ?? join(here, "results.svg");
  writeFileSync(output, renderChart(JSON.parse(readFileSync(input, "utf8"))));
  console.log(`wrote ${output}`);
}
