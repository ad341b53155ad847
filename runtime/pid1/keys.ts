// Waiting for one of a few keys on the console, in raw mode. The full UI (ink) replaces
// this for menus; PID 1's last-resort screen keeps using it because it must work when the UI cannot.
import type { Sys } from "../host/sys.ts";

export function waitForChoice(sys: Sys, keys: string[]): Promise<string> {
  return new Promise((resolve) => {
    sys.console.setRaw(true);
    const stop = sys.console.onKeys((bytes) => {
      for (const byte of bytes) {
        const key = String.fromCharCode(byte).toLowerCase();
        if (keys.includes(key)) {
          stop();
          sys.console.setRaw(false);
          resolve(key);
          return;
        }
      }
    });
  });
}
