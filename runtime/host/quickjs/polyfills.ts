// Library methods QuickJS 2021-03-27 lacks but openpgp, otplib, ink or React call.
// esbuild lowers syntax; it does not add methods. Each is installed only when missing,
// so newer engines (quickjs-emscripten) keep their own.

type AnyFn = (...args: never[]) => unknown;

function define(target: object, name: string, value: AnyFn): void {
  if (Object.prototype.hasOwnProperty.call(target, name)) return;
  Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
}

function relativeIndex(length: number, index: number): number {
  const n = Math.trunc(index) || 0;
  return n < 0 ? length + n : n;
}

function at(this: ArrayLike<unknown>, index: number): unknown {
  const k = relativeIndex(this.length, index);
  return k < 0 || k >= this.length ? undefined : this[k];
}

function findLast(this: ArrayLike<unknown>, predicate: (v: unknown, i: number, a: unknown) => unknown, thisArg?: unknown): unknown {
  for (let i = this.length - 1; i >= 0; i--) if (predicate.call(thisArg, this[i], i, this)) return this[i];
  return undefined;
}

function findLastIndex(this: ArrayLike<unknown>, predicate: (v: unknown, i: number, a: unknown) => unknown, thisArg?: unknown): number {
  for (let i = this.length - 1; i >= 0; i--) if (predicate.call(thisArg, this[i], i, this)) return i;
  return -1;
}

export function installPolyfills(): void {
  define(Object, "hasOwn", ((object: object, key: PropertyKey) => {
    if (object === null || object === undefined) throw new TypeError("Object.hasOwn called on null or undefined");
    return Object.prototype.hasOwnProperty.call(Object(object), key);
  }) as AnyFn);

  const TypedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;
  for (const proto of [Array.prototype, TypedArray]) {
    define(proto, "at", at as AnyFn);
    define(proto, "findLast", findLast as AnyFn);
    define(proto, "findLastIndex", findLastIndex as AnyFn);
  }
  define(String.prototype, "at", function (this: string, index: number) {
    const s = String(this);
    const k = relativeIndex(s.length, index);
    return k < 0 || k >= s.length ? undefined : s[k];
  } as AnyFn);
}
