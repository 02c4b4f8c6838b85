/**
 * What the process writes to stdout while `work` runs, still written through: the text, and
 * its JSON lines parsed (the structured logs of the Powertools logger and the local server).
 */
export async function stdoutOf(
  work: () => Promise<void>,
): Promise<{ text: string; records: Record<string, unknown>[] }> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(String(chunk));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await work();
  } finally {
    process.stdout.write = write;
  }
  const text = chunks.join('');
  const records = text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { text, records };
}
