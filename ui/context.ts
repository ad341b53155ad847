// What every component may need from the session around it: whether colour is on, and
// where its keys come from (none when rendered to a string).
import { createContext, useContext, useLayoutEffect, useRef, useState } from "react";
import type { Key } from "./keys.ts";

export interface KeySource {
  /** Delivers keys to `handler` until the returned function is called. */
  subscribe(handler: (key: Key) => void): () => void;
}

export interface UiSettings {
  /** False on a monochrome console: components then carry meaning by text and inverse video only. */
  color: boolean;
  keys: KeySource | null;
}

export const UiContext = createContext<UiSettings>({ color: true, keys: null });

export function useUi(): UiSettings {
  return useContext(UiContext);
}

/** One step of a keyboard-driven component: its next state and, when finished, the result. */
export type Step<S, R> = { state: S } | { state: S; done: true; result: R };

/**
 * Drives `step` with the session's keys. The state lives in a ref, not only in React state,
 * because several keys can arrive in one read and each must see the previous one's effect.
 * After the result is reported, further keys are ignored.
 */
export function useKeyMachine<S, R>(initial: () => S, step: (state: S, key: Key) => Step<S, R>, onDone: (result: R) => void): S {
  const { keys } = useUi();
  const stateRef = useRef<{ value: S } | null>(null);
  if (stateRef.current === null) stateRef.current = { value: initial() };
  const finished = useRef(false);
  const latest = useRef({ step, onDone });
  latest.current = { step, onDone };
  const [, setVersion] = useState(0);

  // A layout effect subscribes during the commit, before the frame reaches the terminal,
  // so a key typed in answer to what is on screen is never lost.
  useLayoutEffect(() => {
    if (!keys) return undefined;
    return keys.subscribe((key) => {
      if (finished.current) return;
      const next = latest.current.step(stateRef.current!.value, key);
      if (next.state !== stateRef.current!.value) {
        stateRef.current = { value: next.state };
        setVersion((v) => v + 1);
      }
      if ("done" in next) {
        finished.current = true;
        latest.current.onDone(next.result);
      }
    });
  }, [keys]);

  return stateRef.current.value;
}
