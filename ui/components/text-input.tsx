// One line of text: typing inserts at the cursor, Backspace/Delete/arrows edit, Enter submits
// (unless the validator objects, whose message then shows), Escape cancels.
import { Text } from "ink";
import { Field } from "./field.tsx";
import { useKeyMachine, type Step } from "../context.ts";
import type { Key } from "../keys.ts";
import type { Validator } from "../prompt.ts";

export interface TextInputState {
  chars: string[];
  cursor: number;
  error: string | null;
}

export function initialTextState(initial = ""): TextInputState {
  const chars = Array.from(initial);
  return { chars, cursor: chars.length, error: null };
}

export function textInputStep(validate: Validator<string> | undefined, s: TextInputState, key: Key): Step<TextInputState, string | null> {
  const edit = (chars: string[], cursor: number): Step<TextInputState, string | null> => ({ state: { chars, cursor, error: null } });
  switch (key.name) {
    case "char":
      return edit([...s.chars.slice(0, s.cursor), key.text!, ...s.chars.slice(s.cursor)], s.cursor + 1);
    case "backspace":
      return s.cursor === 0 ? { state: s } : edit([...s.chars.slice(0, s.cursor - 1), ...s.chars.slice(s.cursor)], s.cursor - 1);
    case "delete":
      return s.cursor >= s.chars.length ? { state: s } : edit([...s.chars.slice(0, s.cursor), ...s.chars.slice(s.cursor + 1)], s.cursor);
    case "left":
      return s.cursor === 0 ? { state: s } : { state: { ...s, cursor: s.cursor - 1 } };
    case "right":
      return s.cursor >= s.chars.length ? { state: s } : { state: { ...s, cursor: s.cursor + 1 } };
    case "home":
      return { state: { ...s, cursor: 0 } };
    case "end":
      return { state: { ...s, cursor: s.chars.length } };
    case "ctrl":
      // ctrl-u clears the line, as in a shell.
      return key.text === "u" ? edit([], 0) : { state: s };
    case "escape":
      return { state: s, done: true, result: null };
    case "enter": {
      const text = s.chars.join("");
      const error = validate ? validate(text) : null;
      return error ? { state: { ...s, error } } : { state: s, done: true, result: text };
    }
    default:
      return { state: s };
  }
}

export interface TextInputProps {
  title: string;
  label: string;
  initial?: string;
  validate?: Validator<string>;
  onDone?: (text: string | null) => void;
}

export function TextInput({ title, label, initial, validate, onDone }: TextInputProps) {
  const s = useKeyMachine(() => initialTextState(initial), (state, key) => textInputStep(validate, state, key), (t) => onDone?.(t));
  const before = s.chars.slice(0, s.cursor).join("");
  const at = s.chars[s.cursor] ?? " ";
  const after = s.chars.slice(s.cursor + 1).join("");
  return (
    <Field title={title} error={s.error}>
      <Text>{`${label}: ${before}`}</Text>
      <Text inverse>{at}</Text>
      <Text>{after}</Text>
    </Field>
  );
}
