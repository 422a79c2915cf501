#!/usr/bin/env node
import { ConfigurationError } from '../lambdas/core/errors';
import { buildApp } from '../lib/app';

try {
  buildApp().app.synth();
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  // A settings error is the integrator's to fix: show the message, not a stack trace.
  console.error(error.message);
  process.exitCode = 1;
}
