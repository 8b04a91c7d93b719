/** The terminal picker behind `portcullis approve` with no names: one checkbox list, grouped by rule. */
import checkbox, { Separator } from '@inquirer/checkbox';
import { APPROVE_FORMS, type ReviewEntry } from '@portcullis/core';

/** Asks which entries to approve; undefined when the user cancelled (Ctrl-C). */
export type Picker = (entries: readonly ReviewEntry[]) => Promise<ReviewEntry[] | undefined>;

const LABEL_RUNS = 90;

/** One line per entry: what it is and the first thing it would run (or why it waits). */
export function choiceLabel(entry: ReviewEntry): string {
  if (entry.form === 'publisher') return `${entry.package} — pin the publisher of ${entry.package}@${entry.version}`;
  if (entry.form === 'cooldown') return `${entry.package}@${entry.version} — ${entry.facts.find((f) => f.startsWith('published:')) ?? 'too new for the cooldown'}`;
  const [first = 'install scripts', ...rest] = entry.runs;
  // The whole command line is in the listing above and under the cursor: one row per choice here.
  const shown = first.length > LABEL_RUNS ? `${first.slice(0, LABEL_RUNS - 1)}…` : first;
  return `${entry.approves.join(' + ')} — ${shown}${rest.length > 0 ? ` (+${rest.length} more)` : ''}`;
}

/** The picker on a real terminal (space toggles, enter confirms; nothing is chosen until the user chooses it). */
export const terminalPicker: Picker = async (entries) => {
  const choices: Array<Separator | { value: string; name: string; short: string; description: string; checked: boolean }> = [];
  for (const { form, heading } of APPROVE_FORMS) {
    const group = entries.filter((e) => e.form === form);
    if (group.length === 0) continue;
    choices.push(new Separator(`— ${heading}`));
    for (const entry of group) choices.push({ value: entry.key, name: choiceLabel(entry), short: `${entry.package}@${entry.version}`, description: [...entry.runs.map((r) => `runs ${r}`), ...entry.facts].join('\n'), checked: false });
  }
  try {
    const keys = await checkbox<string>({
      message: 'Approve which packages? (space toggles, enter confirms; nothing is approved unless chosen)',
      choices,
      pageSize: Math.max(5, Math.min(20, (process.stdout.rows ?? 24) - 12)),
      loop: false,
      required: false,
    });
    return entries.filter((e) => keys.includes(e.key));
  } catch (error) {
    // Ctrl-C (or the terminal closing) ends the prompt with ExitPromptError: nothing is chosen.
    if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) return undefined;
    throw error;
  }
};
