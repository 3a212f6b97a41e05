import type { Config } from './config.js';
import type { ContentStore } from './content/store.js';
import type { Logger } from './log.js';
import type { SubmissionQueue } from './queue/submissions.js';
import type { Registry } from './registry/registry.js';

/** What a transaction needs from the running gateway. */
export interface GatewayContext {
  config: Config;
  registry: Registry;
  content: ContentStore;
  queue: SubmissionQueue;
  logger: Logger;
}
