// Long work (hashing, key generation, flashing): a bar with a percentage, or a spinner
// when the length of the work is unknown. ASCII only, so every console font has the glyphs.
import { Box, Text } from "ink";

const SPINNER = ["|", "/", "-", "\\"];

export function progressBar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const filled = Math.round(f * width);
  const percent = Math.floor(f * 100);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(percent).padStart(3)}%`;
}

export interface ProgressProps {
  label: string;
  /** 0..1, or null for work of unknown length. */
  fraction: number | null;
  detail?: string;
  /** Spinner frame; the session advances it. */
  frame?: number;
  width?: number;
}

export function Progress({ label, fraction, detail, frame = 0, width = 40 }: ProgressProps) {
  return (
    <Box flexDirection="column">
      <Text bold>{label}</Text>
      <Text>{fraction === null ? `${SPINNER[frame % SPINNER.length]} working...` : progressBar(fraction, width)}</Text>
      {detail ? <Text dimColor>{detail}</Text> : null}
    </Box>
  );
}
