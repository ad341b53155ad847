// `node:assert`: the plain form, for libraries that guard their invariants with it.
function assert(value: unknown, message?: string): asserts value {
  if (!value) throw new Error(message ?? "Assertion failed");
}
assert.ok = assert;
assert.strictEqual = (actual: unknown, expected: unknown, message?: string): void => {
  if (actual !== expected) throw new Error(message ?? `Expected ${String(expected)}, got ${String(actual)}`);
};
export default assert;
