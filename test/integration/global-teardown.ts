export default async function globalTeardown(): Promise<void> {
  const aws = globalThis.__ringPortabilityLocalAws;
  globalThis.__ringPortabilityLocalAws = undefined;
  await aws?.stop();
}
