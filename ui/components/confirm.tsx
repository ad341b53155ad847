// A yes/no question. Enter takes the default, which is shown; Escape means no.
import { Box, Text } from "ink";
import { useKeyMachine, type Step } from "../context.ts";
import type { Key } from "../keys.ts";

export function confirmStep(defaultYes: boolean, key: Key): Step<null, boolean> {
  if (key.name === "enter") return { state: null, done: true, result: defaultYes };
  if (key.name === "escape") return { state: null, done: true, result: false };
  if (key.name === "char" && (key.text === "y" || key.text === "Y")) return { state: null, done: true, result: true };
  if (key.name === "char" && (key.text === "n" || key.text === "N")) return { state: null, done: true, result: false };
  return { state: null };
}

export interface ConfirmProps {
  title: string;
  text: string;
  defaultYes?: boolean;
  onDone?: (yes: boolean) => void;
}

export function Confirm({ title, text, defaultYes = false, onDone }: ConfirmProps) {
  useKeyMachine(() => null, (_s, key) => confirmStep(defaultYes, key), (yes) => onDone?.(yes));
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      <Text>{text}</Text>
      <Box marginTop={1}>
        <Text>{`${defaultYes ? "[Y/n]" : "[y/N]"}  y = yes, n = no, Enter = ${defaultYes ? "yes" : "no"}`}</Text>
      </Box>
    </Box>
  );
}
