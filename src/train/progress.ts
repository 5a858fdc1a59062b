/**
 * Progress display for `scaat train`: a cli-progress bar on a TTY, plain log lines otherwise
 * (CI logs, files). The loop calls these methods; the library default is no display.
 */
import cliProgress from 'cli-progress';

/** What the training loop reports to a display. */
export interface ProgressSink {
  /** A one-off message (derived quantities, checkpoints, resume). */
  message(text: string): void;
  epochStart(epoch: number, epochs: number, totalBatches: number, doneBatches: number): void;
  /** After each step: batches done in the epoch, the step's metrics and learning rate. */
  step(doneBatches: number, metrics: Readonly<Record<string, number>>, lr: number): void;
  /** After the epoch's evaluation. */
  epochEnd(summary: string): void;
  stop(): void;
}

/** A sink that shows nothing. */
export const SILENT_PROGRESS: ProgressSink = { message() {}, epochStart() {}, step() {}, epochEnd() {}, stop() {} };

/**
 * Console progress on `stream` (default stderr): a bar when it is a TTY, else a line every
 * `lineEvery` steps (default: about 10 lines per epoch).
 */
export function consoleProgress({ stream = process.stderr, lineEvery }: { stream?: NodeJS.WriteStream; lineEvery?: number } = {}): ProgressSink {
  const tty = Boolean(stream.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  let every = 1;
  let epochLabel = '';
  let total = 0;
  const fmt = (m: Readonly<Record<string, number>>) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
      .join(' ');
  return {
    message(text) {
      if (bar) bar.stop();
      bar = undefined;
      stream.write(`${text}\n`);
    },
    epochStart(epoch, epochs, totalBatches, doneBatches) {
      epochLabel = `epoch ${epoch + 1}/${epochs}`;
      total = totalBatches;
      every = lineEvery ?? Math.max(1, Math.round(totalBatches / 10));
      if (tty) {
        bar = new cliProgress.SingleBar(
          { format: `${epochLabel} |{bar}| {value}/{total} {metrics} eta {eta_formatted}`, stream, hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        );
        bar.start(totalBatches, doneBatches, { metrics: '' });
      }
    },
    step(done, metrics, lr) {
      if (bar) bar.update(done, { metrics: `${fmt(metrics)} lr ${lr.toPrecision(3)}` });
      else if (done % every === 0 || done === total) stream.write(`${epochLabel} step ${done}/${total} ${fmt(metrics)} lr ${lr.toPrecision(3)}\n`);
    },
    epochEnd(summary) {
      if (bar) bar.stop();
      bar = undefined;
      stream.write(`${epochLabel} ${summary}\n`);
    },
    stop() {
      if (bar) bar.stop();
      bar = undefined;
    },
  };
}
