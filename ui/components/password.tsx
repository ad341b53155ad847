// A secret: shown as one * per character; the typed text never reaches React state or the
// screen. The bytes go to the caller, who zeroes them.
import { Text } from "ink";
import { Field } from "./field.tsx";
import { useRef } from "react";
import { useKeyMachine, type Step } from "../context.ts";
import type { Key } from "../keys.ts";
import type { Validator } from "../prompt.ts";
import { SecretBuffer } from "../secret-buffer.ts";

export interface PasswordState {
  /** Characters typed: all the screen learns about the secret. */
  count: number;
  error: string | null;
}

export function passwordStep(
  secret: SecretBuffer,
  validate: Validator<Uint8Array> | undefined,
  s: PasswordState,
  key: Key,
): Step<PasswordState, Uint8Array | null> {
  const counted = (): Step<PasswordState, Uint8Array | null> => ({ state: { count: secret.characters, error: null } });
  switch (key.name) {
    case "char":
      secret.append(key.text!);
      return counted();
    case "backspace":
      secret.removeLast();
      return counted();
    case "ctrl":
      if (key.text !== "u") return { state: s };
      secret.wipe();
      return counted();
    case "escape":
      secret.wipe();
      return { state: { count: 0, error: null }, done: true, result: null };
    case "enter": {
      if (validate) {
        const probe = secret.copy();
        const error = validate(probe);
        probe.fill(0);
        if (error) return { state: { ...s, error } };
      }
      const result = secret.copy();
      secret.wipe();
      return { state: { count: 0, error: null }, done: true, result };
    }
    default:
      return { state: s };
  }
}

export interface PasswordProps {
  title: string;
  label: string;
  validate?: Validator<Uint8Array>;
  onDone?: (secret: Uint8Array | null) => void;
}

export function Password({ title, label, validate, onDone }: PasswordProps) {
  const secret = useRef<SecretBuffer | null>(null);
  if (!secret.current) secret.current = new SecretBuffer();
  const s = useKeyMachine<PasswordState, Uint8Array | null>(
    () => ({ count: 0, error: null }),
    (state, key) => passwordStep(secret.current!, validate, state, key),
    (bytes) => onDone?.(bytes),
  );
  return (
    <Field title={title} error={s.error}>
      <Text>{`${label}: ${"*".repeat(s.count)}`}</Text>
      <Text inverse> </Text>
    </Field>
  );
}
