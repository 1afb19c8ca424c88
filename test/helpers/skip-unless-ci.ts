// Tests that need something of the machine (a compiler, a header, linux-source, root, hugetlb
// pages) skip without it on a developer's machine. Under CI=true they must run: .ci/run runs as
// root with the apt packages it installs, so a missing piece there is a broken lane that has to
// fail, not a reason to skip (the unbuilt shim in test/shim/loader.test.ts is the same rule).

/**
 * Whether to skip: `missing` says what this machine lacks (undefined when nothing). Outside CI a
 * lack means skip; under CI=true it throws instead, which fails the test file with what is missing
 * and how .ci/run provides it (`ciProvides`). Call it at module level, where a throw fails the
 * whole file: `describe.skipIf(skipUnlessCi(...))`.
 */
export function skipUnlessCi(missing: string | undefined, ciProvides: string): boolean {
  if (missing === undefined) return false;
  if (process.env.CI !== 'true') return true;
  throw new Error(`${missing}; under CI=true this test must run, not skip (${ciProvides})`);
}
