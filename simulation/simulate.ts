import { computeResults, type Results } from './results';
import { buildWorld, type SimulationOptions } from './world';

/**
 * Runs one simulation: builds the world, connects every customer at the start, then lets
 * virtual time run to the end, event by event. Returns the results (results.ts).
 */
export async function simulate(options: SimulationOptions): Promise<Results> {
  const started = performance.now();
  const world = await buildWorld(options);
  try {
    await world.start();
    const setupSeconds = (performance.now() - started) / 1000;
    options.progress?.(`${options.connections} connections created in ${setupSeconds.toFixed(1)} s`);
    await world.engine.runUntil(world.end);
    return computeResults(world, { wallSeconds: (performance.now() - started) / 1000, setupSeconds });
  } finally {
    await world.stop();
  }
}
