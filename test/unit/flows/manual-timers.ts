// Timers a test fires by moving a clock it holds: a flow's once-a-second re-read then happens
// when the test says so, never at the mercy of a loaded machine.
import type { Sys } from "../../../runtime/host/sys.ts";

export interface ManualTimers {
  /** `base` with its setTimer on the test's clock. */
  sys: Sys;
  /**
   * Waits until a timer is set (a flow sets its next one once the work of the last is done),
   * then moves the clock to it and fires it with any others due by then. Rejects after
   * `timeoutMs` of real time without one.
   */
  fireNext(timeoutMs?: number): Promise<void>;
  /** Timers set and neither fired nor cancelled. */
  pending(): number;
}

interface Timer {
  at: number;
  fire: () => void;
  live: boolean;
}

export function manualTimers(base: Sys): ManualTimers {
  let now = 0;
  const timers: Timer[] = [];
  let wake: (() => void) | null = null;
  const earliest = () => timers.filter((t) => t.live).sort((a, b) => a.at - b.at)[0];
  const set = (): Promise<void> =>
    earliest()
      ? Promise.resolve()
      : new Promise((resolve) => {
        wake = resolve;
      });
  return {
    sys: {
      ...base,
      setTimer(ms, fire) {
        const timer = { at: now + ms, fire, live: true };
        timers.push(timer);
        wake?.();
        wake = null;
        return () => void (timer.live = false);
      },
    },
    async fireNext(timeoutMs = 20_000) {
      let expired: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        expired = setTimeout(() => reject(new Error(`no timer was set within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([set(), late]);
      } finally {
        clearTimeout(expired);
      }
      now = earliest()!.at;
      for (let t = earliest(); t && t.at <= now; t = earliest()) {
        t.live = false;
        t.fire();
      }
    },
    pending: () => timers.filter((t) => t.live).length,
  };
}
