import type uPlot from 'uplot';
import type { ReportData } from './data.js';

/**
 * The report page's script: draws the four charts from the embedded data. It runs in the
 * browser, inlined by its source text (`drawReportCharts.toString()`), so it must use nothing
 * but its arguments and the browser's globals — no imports, no module-level helpers.
 */
export function drawReportCharts(UPlot: typeof uPlot, data: ReportData, doc: Document): void {
  const charts: uPlot[] = [];
  const pxRatio = (): number => window.devicePixelRatio || 1;

  const clock = (seconds: number): string => {
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    return data.durationSeconds >= 3600 && sec === 0
      ? `${h}:${String(m).padStart(2, '0')}`
      : `${h > 0 ? `${h}:${String(m).padStart(2, '0')}` : String(m)}:${String(sec).padStart(2, '0')}`;
  };
  const number = (v: number | null | undefined, digits = 3): string => {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    const a = Math.abs(v);
    if (a >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
    if (a >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
    if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
    return v.toPrecision(digits);
  };

  /** Red dashed lines at the failures, over a light band as long as the recovery target. */
  const failureMarkers: uPlot.Plugin = {
    hooks: {
      draw: [
        (u: uPlot) => {
          const { ctx } = u;
          const { left, top, width, height } = u.bbox;
          const r = pxRatio();
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, height);
          ctx.clip();
          for (const tf of data.failures) {
            const x0 = u.valToPos(tf, 'x', true);
            const x1 = u.valToPos(tf + data.slo.recoveryTimeSeconds, 'x', true);
            ctx.fillStyle = 'rgba(214, 39, 40, 0.08)';
            ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
            ctx.strokeStyle = data.colors.failure;
            ctx.lineWidth = 2 * r;
            ctx.setLineDash([6 * r, 4 * r]);
            ctx.beginPath();
            ctx.moveTo(Math.round(x0), top);
            ctx.lineTo(Math.round(x0), top + height);
            ctx.stroke();
            ctx.setLineDash([]);
            ctx.fillStyle = data.colors.failure;
            ctx.font = `${11 * r}px system-ui, sans-serif`;
            ctx.fillText('failure', Math.round(x0) + 4 * r, top + 12 * r);
          }
          ctx.restore();
        },
      ],
    },
  };

  const xAxis: uPlot.Axis = {
    label: `time since start (${data.durationSeconds >= 3600 ? 'h:mm' : 'm:ss'})`,
    values: (_u, splits) => splits.map((s) => clock(s)),
    incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400],
  };

  const stepped = UPlot.paths.stepped ? UPlot.paths.stepped({ align: 1 }) : undefined;

  const make = (
    id: string,
    yLabel: string,
    series: uPlot.Series[],
    values: number[][],
    yScale: uPlot.Scale = {},
  ): void => {
    const host = doc.getElementById(id);
    if (!host) throw new Error(`no element #${id}`);
    const options: uPlot.Options = {
      width: Math.max(400, host.clientWidth),
      height: 260,
      cursor: { sync: { key: 'phoebe-report' } },
      scales: { x: { time: false }, y: yScale },
      axes: [xAxis, { label: yLabel, size: 70, values: (_u, splits) => splits.map((v) => number(v)) }],
      series: [{ label: 'time', value: (_u, v) => (v === null ? '–' : clock(v)) }, ...series],
      plugins: [failureMarkers],
    };
    const chart = new UPlot(options, [data.x, ...values] as uPlot.AlignedData, host);
    host.dataset.series = JSON.stringify(series.map((s) => s.stroke));
    charts.push(chart);
  };

  const policyLines = (pick: (p: ReportData['policies'][number]) => number[], unit: string): { series: uPlot.Series[]; values: number[][] } => ({
    series: data.policies.map((p) => ({
      label: p.name,
      stroke: p.color,
      width: 1.5,
      value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${number(v)}${unit}`),
      ...(unit === '' && stepped ? { paths: stepped } : {}),
    })),
    values: data.policies.map(pick),
  });

  make('chart-arrival', 'records/s', [
    { label: 'arrival rate', stroke: data.colors.arrivalRate, width: 1.5, fill: 'rgba(31, 59, 115, 0.08)', value: (_u, v) => (v === null ? '–' : `${number(v)} /s`) },
  ], [data.arrivalRate], { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] });

  const parallelism = policyLines((p) => p.parallelism, '');
  make('chart-parallelism', 'parallelism', [
    { label: 'lower bound p*(t)', stroke: data.colors.lowerBound, width: 2, dash: [6, 4], ...(stepped ? { paths: stepped } : {}) },
    ...parallelism.series,
  ], [data.lowerBound, ...parallelism.values], { range: (_u, _min, max) => [0, Math.max(1, max) + 1] });

  const latency = policyLines((p) => p.latencySeconds, ' s');
  const sloLine = data.x.map(() => data.slo.latencySeconds);
  make('chart-latency', 'seconds (log)', [
    { label: `latency SLO (${number(data.slo.latencySeconds)} s)`, stroke: data.colors.slo, width: 2, dash: [6, 4] },
    ...latency.series,
  ], [sloLine, ...latency.values], { distr: 3, log: 10 });

  const lag = policyLines((p) => p.lag, '');
  make('chart-lag', 'records', lag.series, lag.values, { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] });

  let resizeTimer: number | undefined;
  window.addEventListener('resize', () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      for (const chart of charts) {
        const host = chart.root.parentElement;
        if (host) chart.setSize({ width: Math.max(400, host.clientWidth), height: 260 });
      }
    }, 100);
  });
  // For inspection from the console (and the report's browser test).
  (window as unknown as { phoebeReportCharts: uPlot[] }).phoebeReportCharts = charts;
  doc.body.dataset.chartsReady = String(charts.length);
}
