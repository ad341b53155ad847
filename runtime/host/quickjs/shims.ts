// Imported first by the bundle entry: installs every global that openpgp, otplib, ink and
// React expect from a browser or Node, before any of them evaluates. QuickJS 2021-03-27
// has none of these; each is installed only when missing, so a newer engine keeps its own.
import { atobShim, btoaShim } from "./base64.ts";
import { ConsoleShim } from "./console-class.ts";
import { installPolyfills } from "./polyfills.ts";
import { createProcess } from "./process.ts";
import { SegmenterShim } from "./segmenter.ts";
import { TextDecoderShim, TextEncoderShim } from "./text-codec.ts";
import { clearTimerShim, queueMicrotaskShim, setIntervalShim, setTimeoutShim } from "./timers.ts";
import { getRandomValues, randomUUID, subtle } from "./web-crypto.ts";

const g = globalThis as Record<string, unknown>;

function provide(name: string, value: unknown): void {
  if (g[name] === undefined) g[name] = value;
}

installPolyfills();
// openpgp looks for `self` to find the Web Crypto object.
provide("self", globalThis);
// CommonJS-era packages (signal-exit 3) reach the global object as `global`.
provide("global", globalThis);
provide("TextEncoder", TextEncoderShim);
provide("TextDecoder", TextDecoderShim);
provide("atob", atobShim);
provide("btoa", btoaShim);
provide("queueMicrotask", queueMicrotaskShim);
provide("setTimeout", setTimeoutShim);
provide("clearTimeout", clearTimerShim);
provide("setInterval", setIntervalShim);
provide("clearInterval", clearTimerShim);
// ink's unmount settles its exit promise with setImmediate (a Node global).
provide("setImmediate", (callback: (...args: unknown[]) => void, ...args: unknown[]) => setTimeoutShim(callback, 0, ...args));
provide("clearImmediate", clearTimerShim);
provide("crypto", { getRandomValues, randomUUID, subtle });
// ink times each render with performance.now(); QuickJS 2021 has no finer clock than Date.
const timeOrigin = Date.now();
provide("performance", { timeOrigin, now: () => Date.now() - timeOrigin });
provide("Intl", {});
const intl = g.Intl as Record<string, unknown>;
if (intl.Segmenter === undefined) intl.Segmenter = SegmenterShim;

// process needs TextEncoder and queueMicrotask, so it comes after them.
provide("process", createProcess());

const consoleObject = g.console as Record<string, unknown> | undefined;
if (consoleObject && consoleObject.Console === undefined) consoleObject.Console = ConsoleShim;
if (consoleObject) {
  // QuickJS's console has only log; libraries also call warn/error/info/debug.
  const out = (g.process as { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } });
  const fallback = new ConsoleShim(out.stdout, out.stderr) as unknown as Record<string, unknown>;
  for (const method of ["warn", "error", "info", "debug", "trace", "dir", "assert", "group", "groupEnd", "time", "timeEnd", "count", "table"]) {
    if (typeof consoleObject[method] !== "function") consoleObject[method] = fallback[method];
  }
}
