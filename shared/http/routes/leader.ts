import * as z from '#shared/zod.ts';
import {
  LeaseAbdicateBodySchema,
  LeaseClaimBodySchema,
  LeaseDictSchema,
  LeaseRenewBodySchema,
  RequeueBodySchema,
} from '../../api/schemas.ts';
import { API_PREFIX } from '../../api/shapes.ts';
import { loadOnce } from '../../load-once.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { errorResponse as err } from './responses.ts';

// The use cases (and the store) load with the first request that needs them, not at init.
const leaderApi = loadOnce(() => import('../../api/leader.ts'));

const LEADER = `${API_PREFIX}/leader`;

/** The lease operations for orchestrator instances (the `leader` function). */
export const leaderRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: LEADER,
    operationId: 'getLease',
    summary: 'The lease as the database sees it (holder, epoch, expiry, active)',
    tag: 'leader',
    policy: 'physical_provisioner:read_lease',
    responses: {
      200: { description: 'The lease', schema: LeaseDictSchema },
      404: err('Nobody ever claimed it'),
    },
    async handle({ deps }) {
      const { currentLease } = await leaderApi();
      return { status: 200, body: await currentLease(deps) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${LEADER}/claim`,
    operationId: 'claimLease',
    summary: 'Claim the lease (or refresh it when held); `held` says who won',
    tag: 'leader',
    policy: 'physical_provisioner:hold_lease',
    body: LeaseClaimBodySchema,
    responses: {
      200: { description: 'The lease after the claim', schema: LeaseDictSchema },
      400: err('Bad body'),
    },
    async handle({ deps, body }) {
      const { claimLeaderLease } = await leaderApi();
      return { status: 200, body: await claimLeaderLease(deps, body) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${LEADER}/renew`,
    operationId: 'renewLease',
    summary: "Extend the holder's lease",
    tag: 'leader',
    policy: 'physical_provisioner:hold_lease',
    body: LeaseRenewBodySchema,
    responses: {
      200: { description: 'The renewed lease', schema: LeaseDictSchema },
      400: err('Bad body'),
      412: err('The lease lapsed or another instance holds it'),
    },
    async handle({ deps, body }) {
      const { renewLeaderLease } = await leaderApi();
      return { status: 200, body: await renewLeaderLease(deps, body) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${LEADER}/abdicate`,
    operationId: 'abdicateLease',
    summary: 'Give the lease up now',
    tag: 'leader',
    policy: 'physical_provisioner:hold_lease',
    body: LeaseAbdicateBodySchema,
    responses: {
      204: { description: 'Given up' },
      400: err('Bad body'),
      412: err('Not the holder at that epoch'),
    },
    async handle({ deps, body }) {
      const { abdicateLeaderLease } = await leaderApi();
      await abdicateLeaderLease(deps, body);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${LEADER}/requeue`,
    operationId: 'requeueStranded',
    summary:
      "The holder recovers dead epochs' work (after a takeover): their running top-level tasks requeued, their other unfinished tasks terminated",
    tag: 'leader',
    policy: 'physical_provisioner:hold_lease',
    body: RequeueBodySchema,
    responses: {
      200: {
        description: 'Counts; more = call again',
        schema: z.lazySchema(() =>
          z.object({ requeued: z.int(), terminated: z.int(), more: z.boolean() }),
        ),
      },
      400: err('Bad body'),
      412: err('Not the holder at that epoch'),
    },
    async handle({ deps, body }) {
      const { requeueStranded } = await leaderApi();
      return { status: 200, body: await requeueStranded(deps, body) };
    },
  }),
];
