/** Small SVG charts drawn here (no chart library to ship); every chart has a title and a table-like summary for screen readers. */

export interface Series {
  name: string;
  color: string;
  values: number[];
}

const W = 720;
const H = 180;
const PAD = { left: 44, right: 8, top: 10, bottom: 24 };

/**
 * Stacked bars, one per point (`labels`), each series a colour; with `slots`, the chart has room for
 * that many and the points fill it from the right (the latest at the right edge).
 */
export function StackedBars({
  title,
  labels,
  series,
  slots = labels.length,
  ends,
}: {
  title: string;
  labels: string[];
  series: Series[];
  slots?: number;
  /** What the two ends of the time axis say (default: the first and last labels). */
  ends?: [string, string];
}) {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const room = Math.max(1, slots, labels.length);
  const width = (W - PAD.left - PAD.right) / room;
  const first = room - labels.length;
  const y = (v: number): number => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  return (
    <figure>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title}: ${series.map((s) => `${s.name} ${s.values.reduce((a, b) => a + b, 0)}`).join(', ')}`}
      >
        <Axis max={max} y={y} />
        {labels.map((label, i) => {
          let base = 0;
          return (
            <g key={label}>
              {series.map((s) => {
                const v = s.values[i] ?? 0;
                const top = y(base + v);
                const rect = (
                  <rect key={s.name} x={PAD.left + (first + i) * width + 0.5} y={top} width={Math.max(1, width - 1)} height={y(base) - top} fill={s.color} />
                );
                base += v;
                return rect;
              })}
            </g>
          );
        })}
        {labels.length > 0 ? (
          <>
            <text x={ends ? PAD.left : PAD.left + first * width} y={H - 6}>
              {ends ? ends[0] : labels[0]}
            </text>
            <text x={W - PAD.right} y={H - 6} text-anchor="end">
              {ends ? ends[1] : labels[labels.length - 1]}
            </text>
          </>
        ) : null}
      </svg>
      <Legend series={series} />
      <figcaption class="muted">{title}</figcaption>
    </figure>
  );
}

/** Horizontal bars: one per step (a funnel). */
export function Funnel({ title, steps }: { title: string; steps: Array<{ name: string; value: number; color: string }> }) {
  const max = Math.max(1, ...steps.map((s) => s.value));
  const rowH = 28;
  return (
    <figure>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${steps.length * rowH + 8}`}
        role="img"
        aria-label={`${title}: ${steps.map((s) => `${s.name} ${s.value}`).join(', ')}`}
      >
        {steps.map((s, i) => (
          <g key={s.name}>
            <text x={0} y={i * rowH + 19} style={{ fontSize: '13px' }}>
              {s.name}
            </text>
            <rect x={110} y={i * rowH + 4} width={Math.max(1, ((W - 180) * s.value) / max)} height={rowH - 8} fill={s.color} />
            <text x={116 + ((W - 180) * s.value) / max} y={i * rowH + 19} style={{ fontSize: '13px' }}>
              {s.value}
            </text>
          </g>
        ))}
      </svg>
      <figcaption class="muted">{title}</figcaption>
    </figure>
  );
}

/** Lines over points (`labels`), each series against its own axis maximum when `ownScale`. */
export function Lines({ title, labels, series, unit }: { title: string; labels: string[]; series: Series[]; unit: string }) {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const step = (W - PAD.left - PAD.right) / Math.max(1, labels.length - 1);
  const y = (v: number): number => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / max);
  return (
    <figure>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title} (${unit}): ${series.map((s) => `${s.name} latest ${s.values[s.values.length - 1] ?? 0}`).join(', ')}`}
      >
        <Axis max={max} y={y} />
        {series.map((s) => (
          <polyline key={s.name} fill="none" stroke={s.color} stroke-width={2} points={s.values.map((v, i) => `${PAD.left + i * step},${y(v)}`).join(' ')} />
        ))}
        {labels.length > 0 ? (
          <>
            <text x={PAD.left} y={H - 6}>
              {labels[0]}
            </text>
            <text x={W - PAD.right} y={H - 6} text-anchor="end">
              {labels[labels.length - 1]}
            </text>
          </>
        ) : null}
      </svg>
      <Legend series={series} />
      <figcaption class="muted">
        {title} ({unit})
      </figcaption>
    </figure>
  );
}

function Axis({ max, y }: { max: number; y: (v: number) => number }) {
  return (
    <g>
      <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} stroke="#7b8794" />
      <text x={PAD.left - 4} y={y(max) + 4} text-anchor="end">
        {max}
      </text>
      <text x={PAD.left - 4} y={y(0)} text-anchor="end">
        0
      </text>
    </g>
  );
}

function Legend({ series }: { series: Series[] }) {
  return (
    <div class="legend" aria-hidden="true">
      {series.map((s) => (
        <span key={s.name}>
          <span class="swatch" style={{ background: s.color }} />
          {s.name}
        </span>
      ))}
    </div>
  );
}
