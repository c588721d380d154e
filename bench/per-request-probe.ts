/**
 * `node --require build/bench/per-request-probe.js build/bench/servers.js <kind>` with an IPC channel: for the
 * per-request measurement (bench/per-request.ts), never in the timed runs. Between a start and a stop message
 * it counts, in this server process:
 * - the bytes allocated: V8's sampling heap profiler (one sample per 4 KiB on average, scaled by V8 to an
 *   estimate of all bytes allocated), keeping the samples of objects the GC has collected since, so it counts
 *   what was allocated, not what survived;
 * - the promises created: an async hook's `init` of PROMISE resources (the hook slows every promise, so it is
 *   measured in its own window, apart from the allocation).
 */
import { createHook } from 'node:async_hooks';
import { Session } from 'node:inspector/promises';

interface SamplingNode {
  selfSize: number;
  children: SamplingNode[];
}

export type ProbeCommand = 'start allocation' | 'stop allocation' | 'start promises' | 'stop promises';
export interface ProbeAnswer {
  command: ProbeCommand;
  /** Bytes allocated (stop allocation) or promises created (stop promises) since the start. */
  count?: number;
}

const totalSize = (node: SamplingNode): number =>
  node.children.reduce((sum, child) => sum + totalSize(child), node.selfSize);

let promises = 0;
const promiseCounter = createHook({
  init(_id, type) {
    if (type === 'PROMISE') promises += 1;
  },
});
const inspector = new Session();
inspector.connect();

async function allocation(command: 'start allocation' | 'stop allocation'): Promise<number | undefined> {
  if (command === 'start allocation') {
    await inspector.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return undefined;
  }
  const { profile } = (await inspector.post('HeapProfiler.stopSampling')) as {
    profile: { head: SamplingNode };
  };
  return totalSize(profile.head);
}

const answer = (command: ProbeCommand, count?: number) =>
  process.send!({ command, count } satisfies ProbeAnswer);

process.on('message', (command: ProbeCommand) => {
  // synchronous, so that no promise of the probe's own falls inside the counting window
  if (command === 'start promises') {
    promises = 0;
    promiseCounter.enable();
    answer(command);
  } else if (command === 'stop promises') {
    promiseCounter.disable();
    answer(command, promises);
  } else {
    void allocation(command).then((count) => answer(command, count));
  }
});
