import { ErrorBodySchema } from '../../api/schemas.ts';

/** An error status in a route's OpenAPI responses: every error answers the one error body. */
export const errorResponse = (description: string) => ({ description, schema: ErrorBodySchema });
