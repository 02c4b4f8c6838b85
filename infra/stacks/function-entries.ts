// Apart from the stacks, so the bench and the bundle tests read the entries without loading CDK.

/** The Lambda entry points, relative to the repository root. */
export const FUNCTION_ENTRIES = {
  tasks: 'functions/tasks.ts',
  messages: 'functions/messages.ts',
  buildData: 'functions/build-data.ts',
  leader: 'functions/leader.ts',
  migrate: 'functions/migrate.ts',
  health: 'functions/health.ts',
  design: 'functions/design.ts',
  bootActions: 'functions/boot-actions.ts',
  bootActionNodes: 'functions/boot-action-nodes.ts',
} as const;

/** The Keystone REQUEST authoriser's entry; it exists only when the stage takes Keystone tokens. */
export const KEYSTONE_AUTHORIZER_ENTRY = 'functions/keystone-authorizer.ts';
