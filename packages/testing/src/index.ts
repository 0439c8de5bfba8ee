export { createTestKit } from './test-kit';
export type { TestKit, TestClientOptions } from './test-kit';
export { ManualClock } from './manual-clock';
export { Faults } from './faults';
export type { RestartOptions } from './faults';
export { TestKitError } from './errors';
export type { TestKitErrorCode } from './errors';
export { inProcessRequest } from './request';
