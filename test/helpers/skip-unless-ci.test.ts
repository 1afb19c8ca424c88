import { afterEach, describe, expect, it } from 'vitest';
import { skipUnlessCi } from './skip-unless-ci.js';

describe('skipUnlessCi', () => {
  const saved = process.env.CI;
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });

  it('never skips when nothing is missing, with or without CI', () => {
    for (const ci of ['true', 'false']) {
      process.env.CI = ci;
      expect(skipUnlessCi(undefined, '.ci/run installs it')).toBe(false);
    }
  });

  it('outside CI a missing piece skips', () => {
    delete process.env.CI;
    expect(skipUnlessCi('gcc is not installed', '.ci/run installs build-essential')).toBe(true);
  });

  it('under CI=true a missing piece throws with what is missing and how .ci/run provides it', () => {
    process.env.CI = 'true';
    expect(() => skipUnlessCi('gcc is not installed', '.ci/run installs build-essential'))
      .toThrow('gcc is not installed; under CI=true this test must run, not skip (.ci/run installs build-essential)');
  });
});
