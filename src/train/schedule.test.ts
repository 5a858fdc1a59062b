import { describe, expect, it } from 'vitest';
import { learningRateAt } from './schedule.js';
import type { ScheduleOptions } from './schedule.js';

const base: ScheduleOptions = { schedule: 'cosine', lr: 0.1, minLr: 0, warmupEpochs: 0, lrMilestones: [], lrGamma: 0.1 };
const at = (o: Partial<ScheduleOptions>, step: number) => learningRateAt({ ...base, ...o }, { step, stepsPerEpoch: 10, epochs: 10 });

describe('learningRateAt', () => {
  it('cosine: η at t = 0, η/2 at half-way, η_min + ½(η−η_min)(1+cos(πt/T)) in general', () => {
    expect(at({}, 0)).toBeCloseTo(0.1, 15);
    expect(at({}, 50)).toBeCloseTo(0.05, 15);
    expect(at({ minLr: 0.01 }, 25)).toBeCloseTo(0.01 + 0.5 * 0.09 * (1 + Math.cos(Math.PI / 4)), 15);
    expect(at({}, 100)).toBeCloseTo(0, 15);
  });

  it('step: multiplies by γ at each milestone epoch', () => {
    const o = { schedule: 'step' as const, lrMilestones: [3, 6] };
    expect(at(o, 29)).toBeCloseTo(0.1, 15);
    expect(at(o, 30)).toBeCloseTo(0.01, 15);
    expect(at(o, 60)).toBeCloseTo(0.001, 15);
  });

  it('warm-up: linear to η over warmupEpochs, then the schedule from its start', () => {
    const o = { schedule: 'constant' as const, warmupEpochs: 1 };
    expect(at(o, 0)).toBeCloseTo(0.01, 15);
    expect(at(o, 9)).toBeCloseTo(0.1, 15);
    expect(at({ warmupEpochs: 1 }, 10)).toBeCloseTo(0.1, 15); // cosine starts after the warm-up
  });
});
