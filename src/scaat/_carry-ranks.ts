/**
 * Carries a cached saliency map across the training augmentation (internal to scaat/).
 *
 * The cheap variants ('previous-visit', 'train-backward') cache each sample's pixel ranks
 * (attacks/masks.ts `saliencyRanks`) as computed on the augmented view the sample had at that
 * visit. With random crop/flip augmentation the next visit shows another view of the same image,
 * so the ranks are re-indexed from the old view to the new one: the inverse of the old view's
 * crop/flip, then the new view's (datasets/transforms.ts `viewCorrespondence`).
 *
 *   pixel p of the new view shows original pixel o = src_new[p]   (−1: zero padding)
 *   the old view showed o at pixel q with src_old[q] = o            (none: cropped out then)
 *
 * Pixels whose score is unknown (zero padding now, or not in the old view) rank lowest, in flat
 * index order, so they are the first to enter the mask; the known pixels follow in their old
 * order. The result is the ranks a map with the old scores moved along with the image and −∞ on
 * the unknown pixels would give (tested against `saliencyRanks` of exactly that map). The same
 * draw twice is the same view: the ranks are reused as they are (padding pixels included).
 */
import type { AugmentDraw } from '../datasets/transforms.js';
import { viewCorrespondence } from '../datasets/transforms.js';

/** Re-indexes ranks between views; scratch buffers sized for one H×W image, reused across calls. */
export class RankCarrier {
  /** Old pixel showing each new pixel's content (−1: none). */
  private readonly from: Int32Array;
  private readonly scratch: Int32Array;
  /** New pixel holding each old rank (−1: that pixel left the view). */
  private readonly byRank: Int32Array;

  constructor(
    private readonly h: number,
    private readonly w: number,
  ) {
    const n = h * w;
    this.from = new Int32Array(n);
    this.scratch = new Int32Array(3 * n);
    this.byRank = new Int32Array(n);
  }

  /**
   * Writes into `out` (length H·W) the ranks of the view drawn by `to`, from `ranks` (length H·W)
   * made on the view drawn by `from`. Identical draws copy the ranks unchanged.
   */
  carry(ranks: ArrayLike<number>, from: AugmentDraw, to: AugmentDraw, out: Uint16Array | Uint32Array): void {
    const n = this.h * this.w;
    if (from.dy === to.dy && from.dx === to.dx && from.flip === to.flip) {
      for (let p = 0; p < n; p++) out[p] = ranks[p]!;
      return;
    }
    viewCorrespondence(from, to, this.h, this.w, this.from, this.scratch);
    // unknown pixels first, by flat index; then the known ones by their old rank
    this.byRank.fill(-1);
    let next = 0;
    for (let p = 0; p < n; p++) {
      const q = this.from[p]!;
      if (q < 0) out[p] = next++;
      else this.byRank[ranks[q]!] = p;
    }
    for (let r = 0; r < n; r++) {
      const p = this.byRank[r]!;
      if (p >= 0) out[p] = next++;
    }
  }
}
