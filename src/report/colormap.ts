/**
 * Colormaps for saliency maps, shared by the report (heatmap.ts) and the browser page (web/), so a
 * map looks the same in both. Pure; no dependencies (safe to bundle for the browser).
 */

/** The colormaps the report offers. 'inferno' (perceptually uniform, dark = not salient) is the default. */
export type Colormap = 'inferno' | 'gray';

/** matplotlib's inferno sampled at 0, 1/8, …, 1 (sRGB); linear interpolation between the stops. */
const INFERNO: readonly (readonly [number, number, number])[] = [
  [0, 0, 4],
  [31, 12, 72],
  [85, 15, 109],
  [136, 34, 106],
  [186, 54, 85],
  [227, 89, 51],
  [249, 140, 10],
  [249, 201, 50],
  [252, 255, 164],
];

/** The RGB colour of `v` in [0, 255] (clamped) under `colormap`. */
export function colormapRgb(v: number, colormap: Colormap = 'inferno'): [number, number, number] {
  const t = Math.min(Math.max(v, 0), 255) / 255;
  if (colormap === 'gray') {
    const g = Math.round(t * 255);
    return [g, g, g];
  }
  const pos = t * (INFERNO.length - 1);
  const i = Math.min(Math.floor(pos), INFERNO.length - 2);
  const f = pos - i;
  const a = INFERNO[i]!;
  const b = INFERNO[i + 1]!;
  return [
    Math.round(a[0] + f * (b[0] - a[0])),
    Math.round(a[1] + f * (b[1] - a[1])),
    Math.round(a[2] + f * (b[2] - a[2])),
  ];
}

/** RGB bytes of a 1-channel 8-bit map under `colormap`. */
export function colorize(map: ArrayLike<number>, colormap: Colormap = 'inferno'): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (let v = 0; v < 256; v++) lut.set(colormapRgb(v, colormap), v * 3);
  const rgb = new Uint8Array(map.length * 3);
  for (let i = 0; i < map.length; i++) {
    const o = Math.min(Math.max(Math.round(map[i]!), 0), 255) * 3;
    rgb[i * 3] = lut[o]!;
    rgb[i * 3 + 1] = lut[o + 1]!;
    rgb[i * 3 + 2] = lut[o + 2]!;
  }
  return rgb;
}
