// setTimeout and friends over os.setTimeout: QuickJS keeps timers in its `os` module only.
import * as os from "os";

type Callback = (...args: unknown[]) => void;

interface TimerHandle {
  id: number;
  timer: os.Timer | null;
  ref(): TimerHandle;
  unref(): TimerHandle;
  hasRef(): boolean;
}

let nextId = 1;
const live = new Map<number, TimerHandle>();

function handleOf(value: unknown): TimerHandle | undefined {
  if (typeof value === "number") return live.get(value);
  if (value && typeof value === "object" && "id" in value) return live.get((value as TimerHandle).id);
  return undefined;
}

function makeHandle(): TimerHandle {
  const handle: TimerHandle = {
    id: nextId++,
    timer: null,
    // Node's ref/unref have no counterpart in QuickJS's loop; callers only chain them.
    ref: () => handle,
    unref: () => handle,
    hasRef: () => true,
  };
  Object.defineProperty(handle, Symbol.toPrimitive, { value: () => handle.id });
  return handle;
}

export function setTimeoutShim(callback: Callback, ms = 0, ...args: unknown[]): TimerHandle {
  const handle = makeHandle();
  live.set(handle.id, handle);
  handle.timer = os.setTimeout(() => {
    live.delete(handle.id);
    callback(...args);
  }, Math.max(0, Number(ms) || 0));
  return handle;
}

export function setIntervalShim(callback: Callback, ms = 0, ...args: unknown[]): TimerHandle {
  const handle = makeHandle();
  const period = Math.max(1, Number(ms) || 0);
  const arm = () => {
    handle.timer = os.setTimeout(() => {
      if (!live.has(handle.id)) return;
      arm();
      callback(...args);
    }, period);
  };
  live.set(handle.id, handle);
  arm();
  return handle;
}

export function clearTimerShim(value: unknown): void {
  const handle = handleOf(value);
  if (!handle) return;
  live.delete(handle.id);
  if (handle.timer !== null) os.clearTimeout(handle.timer);
  handle.timer = null;
}

export function queueMicrotaskShim(callback: () => void): void {
  Promise.resolve()
    .then(callback)
    .catch((error: unknown) => {
      // A throwing microtask must surface, as it would in a browser or Node, not vanish.
      setTimeoutShim(() => {
        throw error;
      });
    });
}
