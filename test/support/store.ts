/**
 * The store's operation modules as one namespace, for tests that call many of them
 * (`import * as store from '#test/support/store.ts'`): one import line instead of a list of names
 * per module, and a call reads as what it is (`store.createTask`). The store modules export no
 * name twice, so nothing here is ambiguous.
 */
export * from '#shared/store/boot-actions.ts';
export * from '#shared/store/build-data.ts';
export * from '#shared/store/health.ts';
export * from '#shared/store/lease.ts';
export * from '#shared/store/messages.ts';
export * from '#shared/store/outbox.ts';
export * from '#shared/store/queue.ts';
export * from '#shared/store/retention.ts';
export * from '#shared/store/run.ts';
export * from '#shared/store/tasks.ts';
export * from '#shared/store/wait.ts';
