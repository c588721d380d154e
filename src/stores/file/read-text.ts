import { close, open, read } from 'node:fs';

/** A session file of a usual size fits in one read. */
const firstReadBytes = 16 * 1024;
/** First-read buffers free for the next read: the text is copied out of them, so they are used again. */
const spareBuffers: Buffer[] = [];
const sparesKept = 16;

/**
 * Reads a file as UTF-8 with open, read and close: `readFile` stats the file first, one call more per read.
 * A read shorter than asked is taken as the end of the file (what a regular file gives); a caller that finds
 * the text cut short reads it again with `readFile`.
 */
export function readText(
  path: string,
  then: (error: NodeJS.ErrnoException | null, text?: string) => void,
): void {
  open(path, 'r', (openError, fd) => {
    if (openError) return then(openError);
    const first = spareBuffers.pop() ?? Buffer.allocUnsafe(firstReadBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (readError: NodeJS.ErrnoException | null) =>
      close(fd, (closeError) => {
        if (readError || closeError) return then(readError ?? closeError);
        const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
        const text = whole.toString('utf8', 0, total);
        if (spareBuffers.length < sparesKept) spareBuffers.push(first);
        then(null, text);
      });
    const readChunk = (size: number) => {
      const buffer = size === firstReadBytes ? first : Buffer.allocUnsafe(size);
      read(fd, buffer, 0, size, null, (readError, bytes) => {
        if (readError) return finish(readError);
        chunks.push(buffer.subarray(0, bytes));
        total += bytes;
        if (bytes === size) readChunk(size * 4);
        else finish(null);
      });
    };
    readChunk(firstReadBytes);
  });
}
